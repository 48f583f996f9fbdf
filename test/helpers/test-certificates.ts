/**
 * Throwaway TLS material for tests, made with the openssl command: a CA, a server
 * certificate it signed, and a self-signed one nobody vouches for, all for 127.0.0.1.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { removeTempDir } from './tmp.ts'

const run = promisify(execFile)

/** A server's certificate and private key, PEM. */
export interface KeyPair {
  readonly cert: string
  readonly key: string
}

export interface TestCertificates {
  /** The CA's certificate (PEM), to hand a client as `ca`. */
  readonly ca: string
  /** Signed by `ca`, for 127.0.0.1 and localhost. */
  readonly trusted: KeyPair
  /** Self-signed, for 127.0.0.1 and localhost: neither `ca` nor the system's store vouch for it. */
  readonly selfSigned: KeyPair
}

/** Why the certificates cannot be made here (no openssl), or undefined when they can. */
export async function opensslUnavailable(): Promise<string | undefined> {
  try {
    await run('openssl', ['version'])
    return undefined
  } catch (error) {
    return `openssl is not available (${(error as Error).message}): TLS peers need certificates made with it`
  }
}

/** Makes the CA and both server certificates in a temporary directory, reads them and removes it. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'blackbox-certs-'))
  const openssl = async (args: readonly string[]): Promise<void> => {
    try {
      await run('openssl', args, { cwd: dir })
    } catch (error) {
      throw new Error(`openssl ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`)
    }
  }
  try {
    // EC keys: made in milliseconds, where RSA keys take a noticeable part of a second each.
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    // An IP address in subjectAltName: the sinks connect to 127.0.0.1, and Node checks the name (RFC 6125).
    await writeFile(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    await openssl(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=blackbox lifecycle test CA'])
    await openssl(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost'])
    await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf'])
    await openssl(['req', '-x509', ...ec, '-keyout', 'self-key.pem', '-out', 'self.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
    const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8')
    return {
      ca: await read('ca.pem'),
      trusted: { cert: await read('server.pem'), key: await read('server-key.pem') },
      selfSigned: { cert: await read('self.pem'), key: await read('self-key.pem') },
    }
  } finally {
    await removeTempDir(dir)
  }
}
