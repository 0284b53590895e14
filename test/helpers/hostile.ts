/**
 * A hostile peer built from the library's own pieces (issue 8): the handshake state machines,
 * RecordProtector and frameHeader, on a raw socket on 127.0.0.1. It completes a genuine
 * handshake and then sends crafted records with no delay: as the server in the same write as
 * ServerFinished, as the client in the write that follows ServerFinished. Nothing here spells out
 * handshake bytes, so it follows the wire format when the protocol version changes.
 *
 * @example
 *   const peer = await clientSession(port, { privateKey, serverPublicKey }, keys => attackBytes('replay', keys))
 */
import type { KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'
import { AuthorizedKeys, ClientHandshake, FrameDecoder, ServerHandshake, type SessionKeys } from '../../src/index.js'
import { frameHeader } from '../../src/framing/frame.js'
import { RecordProtector } from '../../src/record/protector.js'
import { NONCE_LENGTH, RECORD_TAIL, RECORD_TYPE } from '../../src/constants.js'

/** What the peer sends after the handshake; `end` closes its direction right after (a cut). */
export interface Flight { bytes: Buffer, end?: boolean }

/** The attacks of issue 8 section 3, each sent at once after the handshake. */
export const ATTACKS = [
  'flip-ciphertext', 'flip-iv', 'flip-tag', 'flip-separator-1', 'flip-separator-2',
  'replay', 'reorder', 'drop', 'reflect', 'cut-before-close', 'data-after-close', 'frame-2^40',
] as const
export type Attack = typeof ATTACKS[number]

/** The error code a receiver of each attack reports (SPEC 2.2, 5.3, 5.4, 6). */
export function expectedCode(attack: Attack): string {
  if (attack === 'cut-before-close') return 'ERR_TRUNCATED'
  if (attack === 'frame-2^40') return 'ERR_FRAME_TOO_LARGE'
  return 'ERR_INTEGRITY'
}

/**
 * Small enough that two of them (6 bytes) stay under the fixed head of every SPEC 8 message (8
 * bytes for Ready, 10 for a manifest, 50 for a receipt), so the victim judges the records, not
 * what they carry.
 */
const PAYLOAD = Buffer.from('!!!')

/** One framed record sealed by `p` (SPEC 2.1, 5). */
export function sealFrame(p: RecordProtector, type: number, payload: Buffer): Buffer {
  const body = Buffer.concat(p.seal(type, payload))
  return Buffer.concat([frameHeader(body.length), body])
}

/** Flip one bit of a framed record at `offset` bytes before its end (the tail is read from the end, SPEC 5.4). */
function flipFromEnd(frame: Buffer, offset: number): Buffer {
  const out = Buffer.from(frame)
  out[out.length - offset]! ^= 0x01
  return out
}

const TAIL_OFFSETS = {
  'flip-separator-1': RECORD_TAIL,
  'flip-iv': RECORD_TAIL - 1 - NONCE_LENGTH / 2,
  'flip-separator-2': RECORD_TAIL - 1 - NONCE_LENGTH,
  'flip-tag': 1,
} as const

/**
 * The bytes of `attack`, from the hostile side's session keys (passed on unchanged: the keys'
 * shape is the machine's business). Records 0 and 1 carry data; a close record follows where
 * the attack needs one, so the only fault is the one named.
 */
export function attackBytes(attack: Attack, keys: SessionKeys): Flight {
  if (attack === 'frame-2^40') return { bytes: Buffer.concat([frameHeader(2 ** 40), Buffer.alloc(64)]) }
  const out = new RecordProtector(keys.send)
  const r0 = sealFrame(out, RECORD_TYPE.data, PAYLOAD)
  const r1 = sealFrame(out, RECORD_TYPE.data, PAYLOAD)
  const close = (): Buffer => sealFrame(out, RECORD_TYPE.close, Buffer.alloc(0))
  switch (attack) {
    case 'flip-ciphertext': return { bytes: Buffer.concat([flipFromEnd(r0, RECORD_TAIL + 1), r1, close()]) }
    case 'flip-iv': case 'flip-tag': case 'flip-separator-1': case 'flip-separator-2':
      return { bytes: Buffer.concat([flipFromEnd(r0, TAIL_OFFSETS[attack]), r1, close()]) }
    case 'replay': return { bytes: Buffer.concat([r0, r0, r1, close()]) }
    case 'reorder': return { bytes: Buffer.concat([r1, r0, close()]) }
    case 'drop': return { bytes: Buffer.concat([r1, close()]) }
    // The victim's own first record, as it would have sealed it, sent back to it.
    case 'reflect': return { bytes: Buffer.concat([sealFrame(new RecordProtector(keys.receive), RECORD_TYPE.data, PAYLOAD), close()]) }
    case 'cut-before-close': return { bytes: Buffer.concat([r0, r1]), end: true }
    case 'data-after-close': return { bytes: Buffer.concat([r0, close(), r1]) }
  }
}

/** An honest flight: `data` in records, then the close record, with the socket left open. */
export function honestBytes(keys: SessionKeys, data: Buffer): Flight {
  const out = new RecordProtector(keys.send)
  return { bytes: Buffer.concat([sealFrame(out, RECORD_TYPE.data, data), sealFrame(out, RECORD_TYPE.close, Buffer.alloc(0))]) }
}

/** Frames read from a socket, each wait bounded. */
export interface FrameSource { next(timeoutMs?: number): Promise<Buffer | null> }

function frameSource(socket: Socket): FrameSource {
  const decoder = new FrameDecoder({ limit: 2 * 1024 * 1024 })
  decoder.on('error', () => {})
  socket.on('data', (c: Buffer) => decoder.write(c))
  socket.on('close', () => decoder.end())
  socket.on('error', () => {}) // the victim hangs up on us: expected
  const frames = decoder[Symbol.asyncIterator]()
  return {
    async next(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs) })
      try {
        const r = await Promise.race([frames.next(), late])
        return r.done ? null : (r.value as Buffer)
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

async function nextFrame(frames: FrameSource, what: string): Promise<Buffer> {
  const f = await frames.next()
  if (!f) throw new Error(`the peer closed before ${what}`)
  return f
}

/** A hostile session after its handshake: the socket, the frames still to come, the keys. */
export interface HostileSession {
  socket: Socket
  frames: FrameSource
  keys: SessionKeys
  /** Resolves when the victim has ended its side of the socket (FIN, reset or close). */
  hungUp: Promise<void>
}

function send(socket: Socket, flight: Flight | undefined, before: Buffer[] = []): void {
  socket.write(Buffer.concat([...before, flight?.bytes ?? Buffer.alloc(0)]))
  if (flight?.end) socket.end()
}

function hangUp(socket: Socket): Promise<void> {
  return new Promise(resolve => {
    socket.once('end', resolve)
    socket.once('close', resolve)
  })
}

function framed(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(body.length), body])
}

/** Connect to a listening victim as an authorized client; `flight` goes out the moment ServerFinished verifies. */
export async function clientSession(port: number, opts: { privateKey: KeyObject, serverPublicKey: KeyObject }, flight?: (keys: SessionKeys) => Flight): Promise<HostileSession> {
  const socket = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true })
  const hungUp = hangUp(socket)
  const frames = frameSource(socket)
  await once(socket, 'connect')
  const machine = new ClientHandshake(opts)
  socket.write(framed(machine.clientHello))
  socket.write(framed(await machine.onServerHello(await nextFrame(frames, 'ServerHello'))))
  const keys = await machine.onServerFinished(await nextFrame(frames, 'ServerFinished'))
  send(socket, flight?.(keys))
  return { socket, frames, keys, hungUp }
}

/** A one-connection hostile server; `flight` goes out in the same write as ServerFinished. */
export interface HostileServer {
  port: number
  session: Promise<HostileSession>
  close(): void
}

export async function serverSession(opts: { privateKey: KeyObject, authorizedKeys: KeyObject[] }, flight?: (keys: SessionKeys) => Flight): Promise<HostileServer> {
  let resolveSession!: (s: HostileSession) => void
  let rejectSession!: (e: unknown) => void
  const session = new Promise<HostileSession>((resolve, reject) => { resolveSession = resolve; rejectSession = reject })
  session.catch(() => {})
  const sockets: Socket[] = []
  const server = createServer({ allowHalfOpen: true }, socket => {
    sockets.push(socket)
    server.close() // one victim
    const hungUp = hangUp(socket)
    const frames = frameSource(socket)
    const machine = new ServerHandshake({ privateKey: opts.privateKey, authorizedKeys: new AuthorizedKeys(opts.authorizedKeys) })
    void (async () => {
      socket.write(framed(await machine.onClientHello(await nextFrame(frames, 'ClientHello'))))
      const { serverFinished, keys } = await machine.onClientFinished(await nextFrame(frames, 'ClientFinished'))
      send(socket, flight?.(keys), [framed(serverFinished)])
      return { socket, frames, keys, hungUp }
    })().then(resolveSession, rejectSession)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    session,
    close() { for (const s of sockets) s.destroy(); server.close() },
  }
}

/** Open the victim's records until its close record (SPEC 6.1); null if the connection ends first. */
export async function readUntilClose(session: HostileSession, timeoutMs = 10_000, records: Buffer[] = []): Promise<Buffer | null> {
  const inbound = new RecordProtector(session.keys.receive)
  const data: Buffer[] = []
  for (;;) {
    const frame = await session.frames.next(timeoutMs)
    if (!frame) return null
    records.push(Buffer.from(frame))
    const record = inbound.open(frame)
    if (record.type === RECORD_TYPE.close) return Buffer.concat(data)
    data.push(Buffer.from(record.payload))
  }
}
