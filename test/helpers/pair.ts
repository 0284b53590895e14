/**
 * Pairing tests (SPEC 14): key homes made at test time, a check that nothing was written, a
 * man in the middle that relays frames and lets a test alter them, and raw frame clients, all
 * built from the library's own framing and message functions, on 127.0.0.0/8 only.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initIdentity, keyHome, type KeyHome } from '../../src/index.js'
import { FrameChannel } from '../../src/pair/channel.js'
import { FrameDecoder, frameHeader } from '../../src/framing/frame.js'
import type { Teardown } from './cli.js'

// Identities are made once per test file (2048 bits, at test time) and copied into each new home.
const made: KeyHome[] = []

/** A fresh key home holding identity number `which` (0, 1, 2: distinct keys), removed at teardown. */
export function pairHome(t: Teardown, which = 0): KeyHome {
  const dir = mkdtempSync(join(tmpdir(), 'secure-pipe-pair-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const home = keyHome({ SECURE_PIPE_HOME: join(dir, 'home') })
  if (!made[which]) {
    const originDir = mkdtempSync(join(tmpdir(), 'secure-pipe-pair-id-'))
    process.once('exit', () => rmSync(originDir, { recursive: true, force: true }))
    const origin = keyHome({ SECURE_PIPE_HOME: join(originDir, 'home') })
    initIdentity(origin, { bits: 2048 })
    made[which] = origin
  }
  mkdirSync(home.dir, { mode: 0o700 })
  copyFileSync(made[which]!.identity, home.identity)
  chmodSync(home.identity, 0o600)
  copyFileSync(made[which]!.identityPub, home.identityPub)
  return home
}

/** Whether the home's authorized_keys or known_peers exists (pairing is their only writer here). */
export function wroteAnything(home: KeyHome): boolean {
  return existsSync(home.authorizedKeys) || existsSync(home.pins)
}

/** Which way a frame goes through the man in the middle, and its index in that direction (0-based). */
export type Direction = 's2r' | 'r2s'
export type Tamper = (dir: Direction, index: number, frame: Buffer) => Buffer

/** A relay on 127.0.0.1 between a sender and the listener at `port`, passing each frame through `tamper`. */
export async function manInTheMiddle(t: Teardown, port: number, tamper: Tamper): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, client => {
    const upstream = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true })
    relay(client, upstream, 's2r', tamper)
    relay(upstream, client, 'r2s', tamper)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return (server.address() as { port: number }).port
}

function relay(from: Socket, to: Socket, dir: Direction, tamper: Tamper): void {
  let index = 0
  const decoder = new FrameDecoder({ limit: 1 << 16 })
  decoder.on('data', (frame: Buffer) => {
    const out = tamper(dir, index++, Buffer.from(frame))
    if (to.writable) to.write(Buffer.concat([frameHeader(out.length), out]))
  })
  decoder.on('error', () => to.destroy())
  decoder.on('end', () => to.end())
  from.on('error', () => to.destroy())
  from.pipe(decoder)
}

/** Flip one bit of `frame` at `offset` from its end (a copy). */
export function flipFromEnd(frame: Buffer, offset = 1): Buffer {
  const out = Buffer.from(frame)
  out[out.length - offset]! ^= 0x01
  return out
}

/** A raw framed connection to the listener, from `localAddress` (default 127.0.0.1). */
export async function rawClient(t: Teardown, port: number, localAddress = '127.0.0.1'): Promise<FrameChannel> {
  const socket = createConnection({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true })
  socket.on('error', () => {})
  await once(socket, 'connect')
  t.teardown(() => { socket.destroy() })
  return new FrameChannel(socket, 20_000, 'test client')
}

/** Resolves when the peer has ended or reset `socket` (bounded by the caller's test timeout). */
export function ended(socket: Socket): Promise<void> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve()
  return new Promise(resolve => {
    socket.once('end', resolve)
    socket.once('close', resolve)
  })
}
