// One server, many clients at once, each with its own key; a stranger's key is refused.
// Run: npm run build && node examples/many-clients.mjs
import { generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'
import { text } from 'node:stream/consumers'
import { connect, createServer, fingerprint } from 'secure-pipe'

const rsa = () => promisify(generateKeyPair)('rsa', { modulusLength: 2048 })
const [serverKeys, stranger, ...clients] = await Promise.all(Array.from({ length: 6 }, rsa))

// Which client is which, by the fingerprint of the key it proved it holds.
const names = new Map(clients.map((k, i) => [fingerprint(k.publicKey), `client ${i + 1}`]))

const server = createServer({ privateKey: serverKeys.privateKey, authorizedKeys: clients.map(k => k.publicKey) }, stream => {
  const chunks = []
  stream.on('data', chunk => chunks.push(chunk))
  stream.on('end', () => stream.end(`${names.get(stream.peerFingerprint)} sent ${Buffer.concat(chunks).length} bytes`))
})
server.on('handshakeError', err => console.log('server refused a peer:', err.code))
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
const port = server.address().port

async function send(keys, bytes) {
  const stream = await connect({ port, privateKey: keys.privateKey, serverPublicKey: serverKeys.publicKey })
  stream.end(Buffer.alloc(bytes, 7))
  return await text(stream)
}

// All four at once; the replies come back in order of the promises.
for (const reply of await Promise.all(clients.map((k, i) => send(k, (i + 1) * 100_000)))) console.log(reply)

try {
  await send(stranger, 10)
} catch (err) {
  console.log('the stranger was refused:', err.code)
}
server.close()
