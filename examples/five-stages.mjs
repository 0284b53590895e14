// The five stages composed by hand with stream.pipeline over plain TCP sockets, and a server
// that authorizes clients with its own callback. Run: npm run build && node examples/five-stages.mjs
import { generateKeyPairSync } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { PassThrough, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  ClientHandshake, DecryptStage, EncryptStage, FrameDecoder, FrameEncoder, HandshakeStage,
  HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES, ServerHandshake,
} from 'secure-pipe'

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })
const serverKeys = rsa()
const clientKeys = rsa()

/** One side: socket -> FrameDecoder -> HandshakeStage -> DecryptStage -> output, and input -> EncryptStage -> FrameEncoder -> socket. */
function secure(socket, machine, input, output) {
  const handshake = new HandshakeStage({ machine, send: socket }) // a client sends its ClientHello by itself
  return Promise.all([
    pipeline(socket, new FrameDecoder({ smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT }),
      handshake, new DecryptStage({ keys: handshake.keys }), output),
    pipeline(input, new EncryptStage({ keys: handshake.keys }), new FrameEncoder(), socket),
  ])
}

function collect(into) {
  return new Writable({ write(chunk, _enc, done) { into.push(chunk); done() } })
}

const server = createServer(socket => {
  const request = []
  const reply = new PassThrough()
  const machine = new ServerHandshake({
    privateKey: serverKeys.privateKey,
    // The application's own decision, before any RSA work: here, one known key.
    authorize: peer => { console.log('server: asked about', peer.fingerprint.slice(0, 15) + '...'); return peer.key.equals(clientKeys.publicKey) },
  })
  const output = collect(request)
  output.on('finish', () => reply.end(`you sent ${Buffer.concat(request).length} bytes`)) // after the client's close record
  secure(socket, machine, reply, output).catch(err => console.error('server:', err.code))
})
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))

const socket = connect({ host: '127.0.0.1', port: server.address().port })
const answer = []
const input = new PassThrough()
const done = secure(socket, new ClientHandshake({ privateKey: clientKeys.privateKey, serverPublicKey: serverKeys.publicKey }), input, collect(answer))
input.end(Buffer.alloc(100_000, 1))
await done
console.log('client: the server says:', Buffer.concat(answer).toString())
server.close()
