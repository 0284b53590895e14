// A secure stream over a child process's stdin/stdout: any duplex transport works, the way
// people tunnel over `ssh host cmd`. The parent is the handshake client, the child the server.
// Run: npm run build && node examples/child-process.mjs
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Duplex } from 'node:stream'
import { text } from 'node:stream/consumers'
import {
  AuthorizedKeys, ClientHandshake, SecureStream, ServerHandshake,
  loadAuthorizedKeys, loadPrivateKey, loadPublicKey, writeKeyPair,
} from 'secure-pipe'

const [role, dir] = process.argv.slice(2)

if (role === 'child') {
  // stdout is the transport: anything else this process says goes to stderr.
  const transport = Duplex.from({ readable: process.stdin, writable: process.stdout })
  const machine = new ServerHandshake({
    privateKey: loadPrivateKey(join(dir, 'server.pem')),
    authorizedKeys: new AuthorizedKeys(loadAuthorizedKeys(join(dir, 'clientPK.pem'))),
  })
  const stream = new SecureStream(transport, machine)
  const hash = createHash('sha256')
  let bytes = 0
  stream.on('data', chunk => { bytes += chunk.length; hash.update(chunk) })
  stream.on('end', () => stream.end(`child received ${bytes} bytes, sha256 ${hash.digest('hex').slice(0, 16)}`))
  stream.on('error', err => { console.error('child:', err.message); process.exitCode = 1 })
} else {
  const keyDir = mkdtempSync(join(tmpdir(), 'secure-pipe-example-'))
  try {
    writeKeyPair({ dir: keyDir, name: 'server', bits: 2048 })
    writeKeyPair({ dir: keyDir, name: 'client', bits: 2048 })
    const child = spawn(process.execPath, [process.argv[1], 'child', keyDir], { stdio: ['pipe', 'pipe', 'inherit'] })
    const transport = Duplex.from({ readable: child.stdout, writable: child.stdin })
    const machine = new ClientHandshake({
      privateKey: loadPrivateKey(join(keyDir, 'client.pem')),
      serverPublicKey: loadPublicKey(join(keyDir, 'serverPK.pem')),
    })
    const stream = new SecureStream(transport, machine)
    const data = Buffer.alloc(1_000_000, 'x')
    stream.end(data) // written once the handshake completes; end() sends the close record
    console.log(await text(stream))
    console.log(`parent sent ${data.length} bytes, sha256 ${createHash('sha256').update(data).digest('hex').slice(0, 16)}`)
    const [code] = await once(child, 'exit')
    console.log(`child exited with code ${code}`)
  } finally {
    rmSync(keyDir, { recursive: true, force: true })
  }
}
