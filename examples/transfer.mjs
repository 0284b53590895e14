// Files and directories by name (SPEC 8), as `secure-pipe send` and `recv DIR` move them, from
// the library: listSources + sendEntries on one side, receiveEntries on the other.
// Run: npm run build && node examples/transfer.mjs
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer, listSources, receiveEntries, sendEntries } from 'secure-pipe'

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })
const serverKeys = rsa()
const clientKeys = rsa()

// Something to send: a small tree.
const work = mkdtempSync(join(tmpdir(), 'secure-pipe-example-'))
mkdirSync(join(work, 'photos', 'empty'), { recursive: true })
writeFileSync(join(work, 'photos', 'a.txt'), 'first file\n')
writeFileSync(join(work, 'notes.md'), '# notes\n')
const inbox = join(work, 'inbox')
mkdirSync(inbox)

// The receiving side: each connection's entries go under inbox/, atomically, then the receipt.
const received = new Promise((resolve, reject) => {
  const server = createServer({ privateKey: serverKeys.privateKey, authorizedKeys: [clientKeys.publicKey] }, stream => {
    receiveEntries(stream, { kind: 'directory', path: inbox }).then(resolve, reject).finally(() => server.close())
  })
  server.listen(0, '127.0.0.1', () => send(server.address().port).catch(reject))
})

// The sending side: list the paths (names are their last components), send, wait for the receipt.
async function send(port) {
  const stream = await connect({ port, privateKey: clientKeys.privateKey, serverPublicKey: serverKeys.publicKey })
  const entries = await listSources([join(work, 'photos'), join(work, 'notes.md')])
  const report = await sendEntries(stream, entries)
  console.log(`sent ${report.files} files, ${report.bytes} bytes, ${report.outcome}`)
}

const report = await received
console.log('received', report.entries.map(e => `${e.type} ${e.name}`).join(', '))
console.log('inbox/photos/a.txt:', readFileSync(join(inbox, 'photos', 'a.txt'), 'utf8').trim())
