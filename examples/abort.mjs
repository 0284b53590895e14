// Cancelling a transfer with an AbortSignal through stream.pipeline: the sender stops, its
// secure stream and socket are torn down, and the receiver sees no authenticated end (SPEC 6.2):
// an error, never a clean end, so it knows to discard what it got.
// Run: npm run build && node examples/abort.mjs
import { generateKeyPairSync } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { connect, createServer } from 'secure-pipe'

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })
const serverKeys = rsa()
const clientKeys = rsa()

let report
const received = new Promise(resolve => { report = resolve })
const server = createServer({ privateKey: serverKeys.privateKey, authorizedKeys: [clientKeys.publicKey] }, stream => {
  let bytes = 0
  stream.on('data', chunk => { bytes += chunk.length })
  stream.on('end', () => report(`receiver: clean end after ${bytes} bytes`))
  stream.on('error', err => report(`receiver: the transfer did not complete (${err.code}); nothing to keep`))
})
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))

const controller = new AbortController()
const CHUNK = 64 * 1024
let sent = 0
// A source far larger than we let it send: the abort, not the data, ends it.
async function* source() {
  for (let i = 0; i < 16_384; i++) {
    if (sent >= 1024 * 1024) controller.abort() // a user pressing Cancel, a deadline...
    sent += CHUNK
    yield Buffer.alloc(CHUNK)
  }
}

const stream = await connect({ port: server.address().port, privateKey: clientKeys.privateKey, serverPublicKey: serverKeys.publicKey })
try {
  await pipeline(source(), stream, { signal: controller.signal })
  console.log('sender: sent everything (not expected)')
} catch (err) {
  console.log(`sender: cancelled (${err.name}), the secure stream is ${stream.destroyed ? 'destroyed' : 'still open'}`)
}
console.log(await received)
server.close()
