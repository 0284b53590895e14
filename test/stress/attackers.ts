/**
 * The hostile peers of the stress scenarios and the `server-*` e2e tests (issue 5), on 127.0.0.1:
 * raw connections that send half a ClientHello, random bytes, a huge declared length, a
 * stranger's ClientHello, or a ClientHello replayed from an honest session recorded through a
 * proxy. Each says which error code the server must log for it. Every wait is bounded.
 */
import { randomBytes, type KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'
import { ClientHandshake } from '../../src/index.js'
import { frameHeader } from '../../src/framing/frame.js'
import { payload, sendOnce, sleep, type PeerKeys } from './peers.js'

/** A raw TCP connection; `closed` resolves when the server has hung up (whatever the reason). */
export interface RawPeer { socket: Socket, localPort: number, received: () => Buffer, closed: Promise<void> }

/** A raw connection from `localAddress` (another 127.0.0.0/8 address is another source to the server). */
export async function rawPeer(port: number, localAddress = '127.0.0.1'): Promise<RawPeer> {
  // Not half-open: when the server ends its side, so does the peer, and 'close' follows.
  const socket = createConnection({ host: '127.0.0.1', port, localAddress, allowHalfOpen: false })
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => {}) // resets are expected: the server drops these peers
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  await once(socket, 'connect')
  return { socket, localPort: socket.localPort!, received: () => Buffer.concat(chunks), closed }
}

/** Frame a handshake body (SPEC 2.1). */
export function framed(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(body.length), body])
}

/** A real ClientHello frame (SPEC 3.1) for `privateKey`, as an honest client would send it. */
export function clientHelloFrame(privateKey: KeyObject, serverPK: KeyObject): Buffer {
  return framed(new ClientHandshake({ privateKey, serverPublicKey: serverPK }).clientHello)
}

/** The kinds of garbage the server must shrug off, with the error code each must be logged with. */
export type GarbageKind = 'random' | 'huge-length' | 'stranger' | 'replay-finished' | 'replay-close' | 'replay-stall' | 'half-hello' | 'hello-stall'

/**
 * What the server may report for `bytes` of random garbage followed by the end of the
 * connection (SPEC 2.2, 2.3, 3.2): a declared length over the 16 KiB handshake limit (or a
 * varint longer than the limit needs) is ERR_FRAME_TOO_LARGE; a complete frame without the
 * magic is ERR_VERSION; an incomplete one is ERR_TRUNCATED. The v2 server parses the
 * ClientHello in an async step, so when bytes follow a complete first frame the decoder may
 * fail on them first: any of the three codes then.
 */
export function expectedForRandom(bytes: Buffer): string[] {
  let length = 0
  let i = 0
  for (; i < bytes.length; i++) {
    if (i >= 3) return ['ERR_FRAME_TOO_LARGE'] // the 1 MiB record limit needs 3 varint bytes
    length += (bytes[i]! & 0x7f) * 2 ** (7 * i)
    if (!(bytes[i]! & 0x80)) break
  }
  if (i === bytes.length) return ['ERR_TRUNCATED']
  if (length > 16 * 1024) return ['ERR_FRAME_TOO_LARGE']
  if (i + 1 + length > bytes.length) return ['ERR_TRUNCATED']
  if (i + 1 + length === bytes.length) return ['ERR_VERSION']
  return ['ERR_VERSION', 'ERR_FRAME_TOO_LARGE', 'ERR_TRUNCATED']
}

/**
 * What a recorded honest session gives an attacker: its ClientHello and ClientFinished frames,
 * as they went over the wire, and the port of the server it was recorded at.
 */
export interface Recorded { clientHello: Buffer, clientFinished: Buffer, serverHello: Buffer, port: number }

/**
 * One honest transfer through a recording TCP proxy on 127.0.0.1; returns the first two
 * client-to-server frames and the first server-to-client frame, byte for byte.
 */
export async function recordHandshake(port: number, keys: PeerKeys): Promise<Recorded> {
  const up: Buffer[] = []
  const down: Buffer[] = []
  const sockets: Socket[] = []
  const proxy = createServer({ allowHalfOpen: true }, client => {
    const server = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true })
    sockets.push(client, server)
    client.on('data', (c: Buffer) => { up.push(c); server.write(c) })
    server.on('data', (c: Buffer) => { down.push(c); client.write(c) })
    client.on('end', () => server.end())
    server.on('end', () => client.end())
    for (const s of [client, server]) s.on('error', () => { client.destroy(); server.destroy() })
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  try {
    await sendOnce((proxy.address() as AddressInfo).port, keys, payload('recorded', 1000))
  } finally {
    for (const s of sockets) s.destroy()
    proxy.close()
  }
  const [clientHello, clientFinished] = splitFrames(Buffer.concat(up), 2)
  const [serverHello] = splitFrames(Buffer.concat(down), 1)
  return { clientHello: clientHello!, clientFinished: clientFinished!, serverHello: serverHello!, port }
}

/** The first `n` whole frames (header included) of a byte stream. */
export function splitFrames(wire: Buffer, n: number): Buffer[] {
  const out: Buffer[] = []
  for (let off = 0; out.length < n && off < wire.length;) {
    let len = 0
    let i = 0
    while (wire[off + i]! & 0x80) { len += (wire[off + i]! & 0x7f) * 2 ** (7 * i); i++ }
    len += wire[off + i]! * 2 ** (7 * i)
    out.push(wire.subarray(off, off + i + 1 + len))
    off += i + 1 + len
  }
  return out
}

/** A frame without its varint length. */
export function frameBody(frame: Buffer): Buffer {
  let i = 0
  while (frame[i]! & 0x80) i++
  return frame.subarray(i + 1)
}

/** A started attacker: its local port (the server logs it), what it expects the server to log, and when the server hung up. */
export interface Attack { kind: GarbageKind, peer: RawPeer, expect: string[] }

/**
 * Start one hostile connection of `kind`. `replay-*` use a recorded honest handshake. At the
 * server it was recorded at, the replayed ClientHello is refused before any RSA work and
 * without an answer (ERR_AUTH, the replay cache, issue 8.5). Elsewhere (another server with
 * the same keys) it is answered with a fresh ServerHello (SPEC 10.1), so the recorded
 * ClientFinished fails (ERR_AUTH); hanging up instead is ERR_NETWORK, and waiting is
 * ERR_TIMEOUT. `half-hello` and `replay-stall` wait for the handshake timeout.
 */
export async function attack(kind: GarbageKind, port: number, keys: PeerKeys, recorded?: Recorded, localAddress?: string): Promise<Attack> {
  if (kind.startsWith('replay') && !recorded) throw new TypeError(`${kind} needs a recorded handshake`)
  const hello = kind === 'stranger' ? clientHelloFrame(keys.other, keys.serverPK)
    : kind === 'half-hello' || kind === 'hello-stall' ? clientHelloFrame(keys.client, keys.serverPK) : recorded?.clientHello ?? Buffer.alloc(0)
  const peer = await rawPeer(port, localAddress)
  const s = peer.socket
  if (kind.startsWith('replay') && recorded!.port === port) {
    s.write(hello)
    return { kind, peer, expect: ['ERR_AUTH'] }
  }
  switch (kind) {
    case 'random': {
      const bytes = randomBytes(4096)
      s.end(bytes)
      return { kind, peer, expect: expectedForRandom(bytes) }
    }
    case 'huge-length':
      s.end(Buffer.from('ffffffff0f', 'hex')) // a 4 GiB frame, refused on its prefix (SPEC 2.2)
      return { kind, peer, expect: ['ERR_FRAME_TOO_LARGE'] }
    case 'stranger':
      s.write(hello) // SPEC 3.2: refused before any RSA work, with an alert
      return { kind, peer, expect: ['ERR_AUTH'] }
    case 'half-hello':
      s.write(hello.subarray(0, hello.length >> 1))
      return { kind, peer, expect: ['ERR_TIMEOUT'] }
    case 'hello-stall': // a whole fresh ClientHello, then silence: it holds a handshake slot (and cost one RSA decryption)
    case 'replay-stall':
      s.write(hello)
      return { kind, peer, expect: ['ERR_TIMEOUT'] }
    case 'replay-close':
      s.write(hello)
      await waitBytes(peer, recorded!.serverHello.length)
      s.end()
      return { kind, peer, expect: ['ERR_NETWORK'] }
    case 'replay-finished':
      s.write(hello)
      await waitBytes(peer, recorded!.serverHello.length)
      s.write(recorded!.clientFinished)
      return { kind, peer, expect: ['ERR_AUTH'] }
  }
}

/** Wait until `n` bytes arrived or the peer is closed (bounded). */
async function waitBytes(peer: RawPeer, n: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (peer.received().length < n && Date.now() < deadline) {
    if (await Promise.race([peer.closed.then(() => true), sleep(10).then(() => false)])) return
  }
}
