// A server and a client in one process, over TCP on 127.0.0.1.
// Run: npm run build && node examples/one-process.mjs
import { generateKeyPairSync } from 'node:crypto'
import { text } from 'node:stream/consumers'
import { connect, createServer } from 'secure-pipe'

// Throwaway keys; real ones come from loadPrivateKey / loadPublicKey / loadAuthorizedKeys.
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })
const serverKeys = rsa()
const clientKeys = rsa()

// The server answers each peer with what it sent, upper-cased, then ends its side. It reads
// with 'data'/'end' events: `for await` and `stream/consumers` destroy a duplex once its
// readable side ends, which would cut the reply off.
const server = createServer({ privateKey: serverKeys.privateKey, authorizedKeys: [clientKeys.publicKey] }, stream => {
  const chunks = []
  stream.on('data', chunk => chunks.push(chunk))
  // 'end' comes only after the client's authenticated close record (SPEC 6).
  stream.on('end', () => stream.end(Buffer.concat(chunks).toString().toUpperCase()))
})
server.on('handshakeError', (err, remote) => console.error('handshake from', remote, 'failed:', err.code))
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))

const stream = await connect({
  port: server.address().port,
  privateKey: clientKeys.privateKey,
  serverPublicKey: serverKeys.publicKey, // pinned: no other server is accepted
})
console.log('connected, cipher', stream.cipher)
stream.end('hello over secure-pipe')
console.log('reply:', await text(stream))
server.close()
