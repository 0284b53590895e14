/**
 * Raw-socket tools for the handshake tests: framed reads and writes (SPEC 2), hand-built
 * ClientHellos (SPEC 3.1), fake servers and RSA keys. Loopback only (127.0.0.1, port 0).
 */
import { once } from 'node:events'
import { connect as netConnect, createServer as netCreateServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { generateKeyPair, randomBytes, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { FrameDecoder, frameHeader } from '../../src/framing/frame.js'
import { clientHelloBound, encodeClientHello, encodeFinished, parseServerHello } from '../../src/handshake/messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverSecretLabel } from '../../src/handshake/keyschedule.js'
import { keyId, oaepDecrypt, oaepEncrypt, spkiDer } from '../../src/crypto/rsa.js'
import { x25519KeyPair, x25519Shared, type X25519KeyPair } from '../../src/crypto/x25519.js'
import { DIRECTION, MSG, RANDOM_LENGTH, SECRET_LENGTH, type CipherName } from '../../src/constants.js'
import { RecordProtector } from '../../src/record/protector.js'
import { createServer, type SecureServer, type ServerOptions } from '../../src/net.js'
import type { SecureStream } from '../../src/session.js'

const generate = promisify(generateKeyPair)

/** An RSA key pair as KeyObjects. */
export interface RsaPair { privateKey: KeyObject, publicKey: KeyObject }

/** Generate RSA key pairs of the given sizes in parallel (the libuv pool runs them at once). */
export async function rsaPairs(...bits: number[]): Promise<RsaPair[]> {
  return Promise.all(bits.map(b => generate('rsa', { modulusLength: b })))
}

/** Write one frame: varint length, then the body (SPEC 2.1). */
export function sendFrame(socket: Socket, body: Buffer): void {
  socket.write(Buffer.concat([frameHeader(body.length), body]))
}

/** Frame by frame reads from a socket; `next()` gives null once the peer has closed. */
export interface FrameReader { next(): Promise<Buffer | null> }

export function frameReader(socket: Socket): FrameReader {
  const decoder = new FrameDecoder({ limit: 1 << 20 })
  socket.on('data', chunk => decoder.write(chunk))
  socket.on('close', () => decoder.end())
  socket.on('error', () => {}) // a reset after the peer's close is expected here
  const frames = decoder[Symbol.asyncIterator]()
  return {
    async next() {
      const r = await frames.next()
      return r.done ? null : (r.value as Buffer)
    },
  }
}

/** A raw TCP connection to 127.0.0.1:port with a frame reader on it. */
export async function rawConnect(port: number): Promise<{ socket: Socket, frames: FrameReader }> {
  const socket = netConnect({ host: '127.0.0.1', port })
  const frames = frameReader(socket)
  await once(socket, 'connect')
  return { socket, frames }
}

/** Listen on 127.0.0.1, port 0; resolves with the port. */
export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/** Close a server and every socket it still holds. */
export async function closeServer(server: Server, sockets: Iterable<Socket> = []): Promise<void> {
  for (const s of sockets) s.destroy()
  await new Promise<void>(resolve => server.close(() => resolve()))
}

/**
 * A fake server that answers every connection with `respond(clientHelloFrame, socket)`.
 * It keeps its sockets so the test can close them.
 */
export async function fakeServer(respond: (clientHello: Buffer, socket: Socket) => void): Promise<{ port: number, close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = netCreateServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    const frames = frameReader(socket)
    void frames.next().then(hello => { if (hello) respond(hello, socket) }, () => {})
  })
  const port = await listen(server)
  return { port, close: () => closeServer(server, sockets) }
}

/** What a hand-built client keeps to finish its handshake. */
export interface HandBuiltHello { frame: Buffer, kc: Buffer, ephemeral: X25519KeyPair }

/**
 * A ClientHello built from the message pieces (SPEC 3.1): any SPKI, any encrypted secret, any
 * server key id. By default k_c is fresh and encrypted to `serverPublicKey` under the label an
 * honest client uses, and the key id names `serverPublicKey`.
 */
export function handBuiltHello(opts: { spki: Buffer, serverPublicKey: KeyObject, ciphers?: CipherName[], kc?: Buffer, encryptedSecret?: Buffer, serverKeyId?: Buffer, x25519?: Buffer }): HandBuiltHello {
  const kc = opts.kc ?? randomBytes(SECRET_LENGTH)
  const ephemeral = x25519KeyPair()
  const fields = {
    ciphers: opts.ciphers ?? ['aes-128-ccm' as CipherName],
    random: randomBytes(RANDOM_LENGTH),
    x25519: opts.x25519 ?? ephemeral.publicKey,
    serverKeyId: opts.serverKeyId ?? keyId(opts.serverPublicKey),
    spki: opts.spki,
  }
  const encryptedSecret = opts.encryptedSecret ?? oaepEncrypt(opts.serverPublicKey, kc, clientSecretLabel(clientHelloBound(fields)))
  return { frame: encodeClientHello({ ...fields, encryptedSecret }), kc, ephemeral }
}

/** SPEC 3.3: what the holder of `clientPrivateKey` reads from a ServerHello answering `clientHello`: k_s and confirm. */
export function openServerHello(clientHello: Buffer, serverHello: Buffer, clientPrivateKey: KeyObject): { ks: Buffer, confirm: Buffer } {
  const sh = parseServerHello(serverHello)
  const plain = oaepDecrypt(clientPrivateKey, sh.encryptedSecrets, serverSecretLabel(clientHello, sh.bound))
  return { ks: plain.subarray(0, SECRET_LENGTH), confirm: plain.subarray(SECRET_LENGTH) }
}

/** SPEC 4.2, 3.5: the ClientFinished a hand-built client computes from what it believes k_c and k_s are. */
export function finishedFrom(hello: HandBuiltHello, serverHello: Buffer, kc: Buffer, ks: Buffer): Buffer {
  const sh = parseServerHello(serverHello)
  const ikm = Buffer.concat([kc, ks, x25519Shared(hello.ephemeral.privateKey, sh.x25519)])
  return encodeFinished(MSG.clientFinished, clientFinishedMac(deriveKeys(hello.frame, serverHello, ikm)))
}

/**
 * A hand-built client, honest up to its keys: it sends a ClientHello on a raw connection, opens
 * the ServerHello, and derives the schedule (SPEC 3.1-4.3), but has sent no ClientFinished yet.
 * `sealer` protects client-to-server records; `finished` is the genuine ClientFinished.
 */
export async function keyedRawClient(port: number, clientKey: RsaPair, serverPublicKey: KeyObject): Promise<{ socket: Socket, frames: FrameReader, sealer: RecordProtector, finished: Buffer }> {
  const { socket, frames } = await rawConnect(port)
  const hello = handBuiltHello({ spki: spkiDer(clientKey.publicKey), serverPublicKey })
  sendFrame(socket, hello.frame)
  const serverHello = (await frames.next())!
  const sh = parseServerHello(serverHello)
  const { ks } = openServerHello(hello.frame, serverHello, clientKey.privateKey)
  const keys = deriveKeys(hello.frame, serverHello, Buffer.concat([hello.kc, ks, x25519Shared(hello.ephemeral.privateKey, sh.x25519)]))
  const sealer = new RecordProtector({ cipher: sh.cipher, secret: Buffer.from(keys.c2s), direction: DIRECTION.c2s })
  return { socket, frames, sealer, finished: encodeFinished(MSG.clientFinished, clientFinishedMac(keys)) }
}

/** A listening SecureServer with the streams it handed out and a way to close it. */
export interface TestServer {
  server: SecureServer
  port: number
  /** Streams that completed the handshake ('secureConnection'). */
  streams: SecureStream[]
  close(): Promise<void>
}

export async function testServer(opts: ServerOptions): Promise<TestServer> {
  const streams: SecureStream[] = []
  const sockets = new Set<Socket>()
  const server = createServer(opts, s => {
    s.on('error', () => {})
    streams.push(s)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const port = await listen(server)
  return { server, port, streams, close: () => closeServer(server, sockets) }
}

/** Read a stream to its end. */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Resolve once `check()` holds, polling every 5 ms; reject after `ms`. */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise(r => setTimeout(r, 5))
  }
}

export { spkiDer }
