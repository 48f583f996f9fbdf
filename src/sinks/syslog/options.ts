import { isIP } from 'node:net'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { parseSize } from '../../core/units.js'
import { describeValue } from '../delivery/options.js'

/** The TLS settings a sink passes to `tls.connect()`: trust (`ca`), a client certificate, verification. */
export type TlsOptions = Pick<
  TlsConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'pfx' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity' | 'minVersion' | 'maxVersion' | 'ciphers'
>

/** A host name or IP address: required, non-empty. */
export function checkHost(value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value
  throw new TypeError(`Expected \`host\` to be a host name or IP address, got ${describeValue(value)}`)
}

/** A TCP or UDP port, or `fallback` when unset. */
export function checkPort(value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return value
  throw new TypeError(`Expected \`port\` to be an integer from 1 to 65535, got ${describeValue(value)}`)
}

/** A whole number of something (ms, frames, bytes) from `min` up, or `fallback` when unset. */
export function checkInteger(value: unknown, option: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value
  throw new TypeError(`Expected \`${option}\` to be an integer of at least ${min}, got ${describeValue(value)}`)
}

/** A size as bytes or `"10 MB"`, or `fallback` when unset. */
export function checkSize(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new TypeError(`Expected \`${option}\` to be a positive size like "10 MB" or a number of bytes, got ${describeValue(value)}`)
  }
  return parseSize(value, option)
}

export { checkChoice, checkObject } from '../delivery/options.js'

/** TLS options as given, or undefined; `servername` defaults to the host unless it is an IP address (RFC 6066 §3 forbids those). */
export function checkTls(value: unknown, host: string): TlsConnectionOptions {
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new TypeError(`Expected \`tls\` to be an object of tls.connect() options such as { ca }, got ${describeValue(value)}`)
  }
  const given = (value ?? {}) as TlsOptions
  return isIP(host) === 0 && given.servername === undefined ? { ...given, servername: host } : { ...given }
}

/** A host name or address as a file-name part. */
export function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_')
}
