import { encodeFrame, FrameType, ProtocolError, PROTOCOL_VERSION } from './frame.js'

/** The first frame of a connection: who is talking. */
export interface Hello {
  /** Stable for the client's life; with `seq` it identifies every record (duplicates are detectable). */
  clientId: string
  pid: number
  name: string
  role: string
  protocol: number
  /** Epoch ms the client started. */
  startTime: number
  /** The client's spool file: the collector reads it if the client dies with records only there. */
  spool?: string
  /** The highest sequence number the client has assigned so far (records after it are new). */
  lastSeq: number
  /** ms between the client's heartbeats; 0 or absent when it sends none. */
  heartbeatInterval?: number
  /** The client's ring file (`durability: 'ring'`): the collector drains it. */
  ring?: string
}

/** The collector's answer to a HELLO that names a ring. */
export interface RingAnswer {
  accepted: boolean
  /** Why not, when refused. */
  reason?: string
}

export interface Heartbeat {
  /** Epoch ms by which the next heartbeat will come. */
  next: number
  uptimeS: number
  rssBytes: number
  heapUsedBytes: number
  loopDelayMs: number
}

export interface Bye {
  reason: string
}

/** One record inside a LOGS frame. */
export interface WireRecord {
  seq: number
  /** Nanoseconds since the epoch. */
  timeNs: bigint
  level: number
  /** The formatted record, newline included. */
  bytes: Buffer
}

export interface Logs {
  /** Set on records sent again after a reconnect: they may be duplicates. */
  resent: boolean
  records: WireRecord[]
}

/** LOGS flags. */
const RESENT = 1
const TWO_32 = 2 ** 32
const LOGS_HEADER = 1 + 8 + 4
const RECORD_HEADER = 8 + 1 + 4

function writeU64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_32), offset)
  buffer.writeUInt32BE(value % TWO_32, offset + 4)
}

/** Above 2^53 - 1 a number no longer holds every integer: two records could share a sequence number. */
function readU64(buffer: Buffer, offset: number): number {
  const value = buffer.readUInt32BE(offset) * TWO_32 + buffer.readUInt32BE(offset + 4)
  if (value > Number.MAX_SAFE_INTEGER) throw new ProtocolError('BAD_PAYLOAD', `a sequence number above 2^53 - 1 (${buffer.subarray(offset, offset + 8).toString('hex')})`)
  return value
}

/** A LOGS frame with consecutive sequence numbers starting at `records[0].seq`. */
export function encodeLogs(records: readonly { seq: number; timeMs: number; level: number; text: string }[], resent = false): Buffer {
  const bodies = records.map((record) => Buffer.from(record.text))
  const size = LOGS_HEADER + bodies.reduce((sum, body) => sum + RECORD_HEADER + body.length, 0)
  const payload = Buffer.allocUnsafe(size)
  payload.writeUInt8(resent ? RESENT : 0, 0)
  writeU64(payload, records[0]?.seq ?? 0, 1)
  payload.writeUInt32BE(records.length, 9)
  let offset = LOGS_HEADER
  records.forEach((record, i) => {
    const body = bodies[i] as Buffer
    payload.writeBigUInt64BE(BigInt(Math.round(record.timeMs)) * 1_000_000n, offset)
    payload.writeUInt8(record.level, offset + 8)
    payload.writeUInt32BE(body.length, offset + 9)
    body.copy(payload, offset + RECORD_HEADER)
    offset += RECORD_HEADER + body.length
  })
  return encodeFrame(FrameType.LOGS, payload)
}

export function decodeLogs(payload: Buffer): Logs {
  if (payload.length < LOGS_HEADER) throw new ProtocolError('BAD_PAYLOAD', `a LOGS payload of ${payload.length} bytes is shorter than its header`)
  const resent = (payload.readUInt8(0) & RESENT) !== 0
  const first = readU64(payload, 1)
  const count = payload.readUInt32BE(9)
  if (first + count - 1 > Number.MAX_SAFE_INTEGER) throw new ProtocolError('BAD_PAYLOAD', `LOGS sequence numbers would pass 2^53 - 1`)
  const records: WireRecord[] = []
  let offset = LOGS_HEADER
  for (let i = 0; i < count; i++) {
    if (payload.length - offset < RECORD_HEADER) throw new ProtocolError('BAD_PAYLOAD', `LOGS record ${i} of ${count} is cut short`)
    const timeNs = payload.readBigUInt64BE(offset)
    const level = payload.readUInt8(offset + 8)
    const length = payload.readUInt32BE(offset + 9)
    const start = offset + RECORD_HEADER
    if (payload.length - start < length) throw new ProtocolError('BAD_PAYLOAD', `LOGS record ${i} says ${length} bytes, ${payload.length - start} are left`)
    records.push({ seq: first + i, timeNs, level, bytes: payload.subarray(start, start + length) })
    offset = start + length
  }
  if (offset !== payload.length) throw new ProtocolError('BAD_PAYLOAD', `${payload.length - offset} bytes follow the last LOGS record`)
  return { resent, records }
}

export function encodeAck(seq: number): Buffer {
  const payload = Buffer.allocUnsafe(8)
  writeU64(payload, seq, 0)
  return encodeFrame(FrameType.ACK, payload)
}

export function decodeAck(payload: Buffer): number {
  if (payload.length !== 8) throw new ProtocolError('BAD_PAYLOAD', `an ACK payload is 8 bytes, got ${payload.length}`)
  return readU64(payload, 0)
}

function encodeJson(type: FrameType, value: object): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(value)))
}

function decodeJson(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    throw new ProtocolError('BAD_PAYLOAD', `a ${what} payload is not JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError('BAD_PAYLOAD', `a ${what} payload is not an object`)
  return value as Record<string, unknown>
}

function field<T extends 'string' | 'number'>(object: Record<string, unknown>, key: string, type: T, what: string): T extends 'string' ? string : number {
  const value = object[key]
  if (typeof value !== type || (type === 'number' && !Number.isFinite(value))) throw new ProtocolError('BAD_PAYLOAD', `${what}.${key} must be a ${type}`)
  return value as T extends 'string' ? string : number
}

export function encodeHello(hello: Omit<Hello, 'protocol'>): Buffer {
  return encodeJson(FrameType.HELLO, { ...hello, protocol: PROTOCOL_VERSION })
}

export function decodeHello(payload: Buffer): Hello {
  const object = decodeJson(payload, 'HELLO')
  const spool = object['spool']
  const ring = object['ring']
  const interval = object['heartbeatInterval']
  return {
    ...(typeof interval === 'number' && Number.isFinite(interval) && interval >= 0 ? { heartbeatInterval: interval } : {}),
    clientId: field(object, 'clientId', 'string', 'HELLO'),
    pid: field(object, 'pid', 'number', 'HELLO'),
    name: field(object, 'name', 'string', 'HELLO'),
    role: field(object, 'role', 'string', 'HELLO'),
    protocol: field(object, 'protocol', 'number', 'HELLO'),
    startTime: field(object, 'startTime', 'number', 'HELLO'),
    lastSeq: field(object, 'lastSeq', 'number', 'HELLO'),
    ...(typeof spool === 'string' ? { spool } : {}),
    ...(typeof ring === 'string' ? { ring } : {}),
  }
}

export function encodeRingAnswer(answer: RingAnswer): Buffer {
  return encodeJson(FrameType.RING, answer)
}

export function decodeRingAnswer(payload: Buffer): RingAnswer {
  const object = decodeJson(payload, 'RING')
  if (typeof object['accepted'] !== 'boolean') throw new ProtocolError('BAD_PAYLOAD', 'RING.accepted must be a boolean')
  const reason = object['reason']
  return { accepted: object['accepted'], ...(typeof reason === 'string' ? { reason } : {}) }
}

export function encodeHeartbeat(heartbeat: Heartbeat): Buffer {
  return encodeJson(FrameType.HEARTBEAT, heartbeat)
}

export function decodeHeartbeat(payload: Buffer): Heartbeat {
  const object = decodeJson(payload, 'HEARTBEAT')
  return {
    next: field(object, 'next', 'number', 'HEARTBEAT'),
    uptimeS: field(object, 'uptimeS', 'number', 'HEARTBEAT'),
    rssBytes: field(object, 'rssBytes', 'number', 'HEARTBEAT'),
    heapUsedBytes: field(object, 'heapUsedBytes', 'number', 'HEARTBEAT'),
    loopDelayMs: field(object, 'loopDelayMs', 'number', 'HEARTBEAT'),
  }
}

export function encodeBye(bye: Bye): Buffer {
  return encodeJson(FrameType.BYE, bye)
}

export function decodeBye(payload: Buffer): Bye {
  const object = decodeJson(payload, 'BYE')
  return { reason: typeof object['reason'] === 'string' ? object['reason'] : 'closed' }
}
