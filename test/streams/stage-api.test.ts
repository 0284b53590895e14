/**
 * The stage API as a newcomer holds it (issue 12): only the public exports of src/index.ts, the
 * five stages composed by hand with `pipeline` over plain TCP sockets (default options, no
 * allowHalfOpen, no start() call), options validated where they are passed, and the server's
 * `authorize` callback. Loopback only.
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer as netCreateServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net'
import { PassThrough, Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  ClientHandshake, DecryptStage, EncryptStage, FrameDecoder, FrameEncoder, HandshakeStage, HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES,
  ServerHandshake, SecureStream, connect, createServer, type PeerIdentity, type SecurePipeError,
} from '../../src/index.js'
import { testKeys } from '../helpers/keys.js'

const keys = await testKeys()

/** Collect a readable's bytes. */
function sink(into: Buffer[]): Writable {
  return new Writable({ write(c: Buffer, _e, cb) { into.push(c); cb() } })
}

/** One side, composed by hand: socket -> FrameDecoder -> HandshakeStage -> DecryptStage -> out; input -> EncryptStage -> FrameEncoder -> socket. */
function compose(socket: Socket, machine: ClientHandshake | ServerHandshake, input: Readable, out: Buffer[]): { handshake: HandshakeStage, done: Promise<unknown> } {
  const handshake = new HandshakeStage({ machine, send: socket })
  const inbound = pipeline(socket, new FrameDecoder({ smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT }), handshake, new DecryptStage({ keys: handshake.keys }), sink(out))
  const outbound = pipeline(input, new EncryptStage({ keys: handshake.keys }), new FrameEncoder(), socket)
  return { handshake, done: Promise.all([inbound, outbound]) }
}

t.test('issue 12: the five stages composed by hand over default TCP sockets move data both ways, with half-close', async t => {
  const server = netCreateServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const clientSocket = netConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port })
  const [serverSocket] = await accepted

  const fromServer: Buffer[] = []
  const fromClient: Buffer[] = []
  const serverInput = new PassThrough()
  const client = compose(clientSocket, new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey }), Readable.from([Buffer.from('hello from the client')]), fromServer)
  // The server's machine takes a plain list of keys, as createServer does.
  const srv = compose(serverSocket, new ServerHandshake({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey] }), serverInput, fromClient)
  const sessionKeys = await client.handshake.keys
  t.same(sessionKeys.handshakeHash, (await srv.handshake.keys).handshakeHash, 'both ends agree on the handshake hash')
  // The server answers after the client's end of stream: half-close must hold on a default socket.
  await new Promise(r => setTimeout(r, 20))
  serverInput.end('and the answer, after the client closed')
  await Promise.all([client.done, srv.done])
  t.equal(Buffer.concat(fromClient).toString(), 'hello from the client')
  t.equal(Buffer.concat(fromServer).toString(), 'and the answer, after the client closed')
})

t.test('issue 12: options are checked where they are passed, with TypeError/RangeError naming the option', async t => {
  const { server, client } = keys
  await t.rejects(connect({ port: 1 } as never), { name: 'TypeError', message: /^privateKey:/ }, 'connect without privateKey')
  await t.rejects(connect({ port: 1, privateKey: client.publicKey, serverPublicKey: server.publicKey }), { name: 'TypeError', message: /^privateKey: expected a private key/ })
  await t.rejects(connect({ port: 1, privateKey: client.privateKey, serverPublicKey: server.privateKey }), { name: 'TypeError', message: /^serverPublicKey: this is a private key/ })
  await t.rejects(connect({ port: 1, privateKey: client.privateKey, serverPublicKey: server.publicKey, ciphers: [] }), { name: 'RangeError', message: /^ciphers:/ })
  await t.rejects(connect({ port: 1, privateKey: client.privateKey, serverPublicKey: server.publicKey, ciphers: ['rot13' as never] }), { name: 'RangeError', message: /unknown cipher rot13/ })
  t.throws(() => createServer({ privateKey: server.privateKey }), { name: 'RangeError', message: /^authorizedKeys:/ }, 'a server that accepts nobody')
  t.throws(() => createServer({ privateKey: server.privateKey, authorizedKeys: [client.privateKey] }), { name: 'TypeError', message: /^authorizedKeys\[0\]: this is a private key/ })
  t.throws(() => createServer({ privateKey: server.privateKey, authorize: 'yes' as never }), { name: 'TypeError', message: /^authorize:/ })
  t.throws(() => new ServerHandshake({ privateKey: [], authorizedKeys: [client.publicKey] }), { name: 'RangeError', message: /^privateKey:/ })
  t.throws(() => new HandshakeStage({} as never), { name: 'TypeError', message: /^machine:/ })
  t.throws(() => new HandshakeStage({ machine: new ServerHandshake({ privateKey: server.privateKey, authorizedKeys: [client.publicKey] }), send: 42 as never }), { name: 'TypeError', message: /^send:/ })
  t.throws(() => new EncryptStage({} as never), { name: 'TypeError', message: /^keys:/ })
  t.throws(() => new DecryptStage({} as never), { name: 'TypeError', message: /^keys:/ })
  t.throws(() => new FrameDecoder({ limit: 0 }), { name: 'RangeError', message: /^limit:/ })
  t.throws(() => new FrameDecoder({ smallFrames: -1 }), { name: 'RangeError', message: /^smallFrames:/ })
  t.throws(() => new SecureStream({} as never, new ClientHandshake({ privateKey: client.privateKey, serverPublicKey: server.publicKey })), { name: 'TypeError', message: /^transport:/ })
})

t.test('issue 12, SPEC 3.2: authorize(peer) decides for keys not in the list; a refusal is ERR_AUTH and names the fingerprint', async t => {
  const { server, client, stranger } = keys
  const asked: PeerIdentity[] = []
  const s = createServer({
    privateKey: server.privateKey,
    // An application's own database, consulted asynchronously.
    authorize: async peer => { asked.push(peer); await new Promise(r => setTimeout(r, 5)); return peer.key.equals(client.publicKey) },
  }, stream => { stream.on('error', () => {}); stream.end('welcome') })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.teardown(() => s.close())
  const port = (s.address() as AddressInfo).port
  const c = await connect({ port, privateKey: client.privateKey, serverPublicKey: server.publicKey })
  const chunks: Buffer[] = []
  for await (const chunk of c) chunks.push(chunk as Buffer)
  t.equal(Buffer.concat(chunks).toString(), 'welcome', 'the key the callback accepts gets a session')
  t.match(asked[0]!.remoteAddress, /^127\.0\.0\.1:\d+$/, 'the callback sees the peer address')
  t.match(asked[0]!.fingerprint, /^SHA256:/)

  const refused = once(s, 'handshakeError') as Promise<[SecurePipeError, string]>
  await t.rejects(connect({ port, privateKey: stranger.privateKey, serverPublicKey: server.publicKey }), { code: 'ERR_AUTH' }, 'the stranger is refused')
  const [err] = await refused
  t.equal(err.code, 'ERR_AUTH')
  t.ok(err.message.includes(asked[1]!.fingerprint), 'the server\'s error names the refused key\'s fingerprint, so the operator knows which key to add')
})
