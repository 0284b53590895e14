// The one-process example in TypeScript, against the published types (examples/tsconfig.json).
// Run: npm run build && npx tsc -p examples/tsconfig.json && node build/examples/typed.js
import { generateKeyPairSync } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'
import { connect, createServer, SecurePipeError, type ConnectOptions, type ErrorCode, type SecureStream, type ServerOptions } from 'secure-pipe'

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })
const serverKeys = rsa()
const clientKeys = rsa()
const stranger = rsa()

const serverOptions: ServerOptions = { privateKey: serverKeys.privateKey, authorizedKeys: [clientKeys.publicKey], recordSize: 16 * 1024 }
const server = createServer(serverOptions, (stream: SecureStream) => {
  let bytes = 0
  stream.on('data', (chunk: Buffer) => { bytes += chunk.length })
  stream.on('end', () => stream.end(`${bytes} bytes from ${stream.peerFingerprint === null ? 'nobody' : 'an authorized key'}`))
})
await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo

/** Send `body` with the given client key; the reply, or the error code of a failure. */
async function send(privateKey: ConnectOptions['privateKey'], body: string): Promise<string> {
  const options: ConnectOptions = { port, privateKey, serverPublicKey: serverKeys.publicKey }
  try {
    const stream = await connect(options)
    stream.end(body)
    return await text(stream)
  } catch (err) {
    if (!(err instanceof SecurePipeError)) throw err
    const code: ErrorCode = err.code
    return `refused: ${code}`
  }
}

console.log(await send(clientKeys.privateKey, 'typed hello'))
console.log(await send(stranger.privateKey, 'let me in'))
server.close()
