/**
 * The honest peers of the stress scenarios and the `server-*` e2e tests (issue 5), on 127.0.0.1:
 * a sender built on the library's `connect` and `sendEntries` (SPEC 8), fast
 * payloads, and bounded waits. The hostile peers are in attackers.ts.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { Readable } from 'node:stream'
import { ClientHandshake, SecureStream, connect, loadPrivateKey, loadPublicKey, sendEntries, streamSource } from '../../src/index.js'

/** The KeyObjects of a key directory made by `makeKeys` (test/helpers/cli.ts). */
export interface PeerKeys { server: KeyObject, serverPK: KeyObject, client: KeyObject, clientPK: KeyObject, other: KeyObject }

export function loadKeys(k: { server: string, serverPK: string, client: string, clientPK: string, other: string }): PeerKeys {
  return { server: loadPrivateKey(k.server), serverPK: loadPublicKey(k.serverPK), client: loadPrivateKey(k.client), clientPK: loadPublicKey(k.clientPK), other: loadPrivateKey(k.other) }
}

/** A payload made fast: a 16-byte label unique to the transfer, then `size - 16` bytes of one shared random buffer. */
export interface Payload { size: number, chunks(): Generator<Buffer> }

const BLOCK = randomBytes(1024 * 1024)

export function payload(label: string, size: number): Payload {
  const head = Buffer.alloc(16)
  head.write(label.slice(0, 16))
  return {
    size,
    *chunks() {
      yield head.subarray(0, Math.min(16, size))
      for (let left = size - 16; left > 0; left -= BLOCK.length) yield BLOCK.subarray(0, Math.min(left, BLOCK.length))
    },
  }
}

/** SHA-256 of a payload, hex (what a file holding it hashes to). */
export function payloadDigest(p: Payload): string {
  const h = createHash('sha256')
  for (const c of p.chunks()) h.update(c)
  return h.digest('hex')
}

export interface Sent { bytes: number, digest: string }

/**
 * Send `data` on an open secure stream as one nameless stream entry (SPEC 8.1), with the
 * library's `sendEntries`: it ends the stream and checks the receipt (SPEC 8.5) against the
 * records sent. The content hash is the test's own, to compare with the files on the server's disk.
 */
export async function sendOn(stream: SecureStream, data: Payload): Promise<Sent> {
  const hash = createHash('sha256')
  function* hashed(): Generator<Buffer> {
    for (const c of data.chunks()) { hash.update(c); yield c }
  }
  await sendEntries(stream, [streamSource(Readable.from(hashed(), { objectMode: false }))])
  return { bytes: data.size, digest: hash.digest('hex') }
}

/** One honest transfer through the library's `connect`; rejects with the library's typed error on failure. */
export async function sendOnce(port: number, keys: PeerKeys, data: Payload): Promise<Sent> {
  const stream = await connect({ host: '127.0.0.1', port, privateKey: keys.client, serverPublicKey: keys.serverPK })
  try {
    return await sendOn(stream, data)
  } finally {
    stream.destroy()
  }
}

/**
 * A handshake client on a socket the caller can see (as `connect` builds it), so that the
 * server's log line, which names the client's address, can be matched by `localPort`.
 */
export async function openClient(port: number, keys: PeerKeys): Promise<{ stream: SecureStream, localPort: number }> {
  const socket = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true })
  await once(socket, 'connect')
  const stream = new SecureStream(socket, new ClientHandshake({ privateKey: keys.client, serverPublicKey: keys.serverPK }), {})
  await new Promise<void>((resolve, reject) => {
    stream.once('secure', resolve)
    stream.once('error', reject)
  })
  return { stream, localPort: socket.localPort! }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Resolve `p` or reject after `ms` with `what` in the message. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}
