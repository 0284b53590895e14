/**
 * issue 17 section 6: a newcomer's first script. The server's handler pipes the stream into a
 * file and never ends its own side; the client pipes a file into its stream and does nothing
 * else. Both are real processes. By default the server's side ends once the client's has (as
 * `net` does with allowHalfOpen false), so the client exits on its own and the file is complete;
 * before, the client waited forever for the server's end.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { makeKeys, ROOT, sha256, sha256File, tempDir, waitFor, writeRandomFile } from '../helpers/cli.js'

const LIB = pathToFileURL(join(ROOT, 'build', 'src', 'index.js')).href

const SERVER = `import { createWriteStream } from 'node:fs'
import { createServer, loadPrivateKey, loadPublicKey } from '${LIB}'
const [key, clientPK, out] = process.argv.slice(2)
const server = createServer({ privateKey: loadPrivateKey(key), authorizedKeys: [loadPublicKey(clientPK)] }, s => s.pipe(createWriteStream(out)))
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port))
`
const CLIENT = `import { createReadStream } from 'node:fs'
import { connect, loadPrivateKey, loadPublicKey } from '${LIB}'
const [key, serverPK, port, file] = process.argv.slice(2)
const s = await connect({ port: Number(port), privateKey: loadPrivateKey(key), serverPublicKey: loadPublicKey(serverPK) })
createReadStream(file).pipe(s)
`

t.test('issue 17 s6: server handler s => s.pipe(file) that never ends: the client still exits on its own, the file complete', async t => {
  const dir = tempDir(t)
  const k = makeKeys(dir)
  writeFileSync(join(dir, 'server.mjs'), SERVER)
  writeFileSync(join(dir, 'client.mjs'), CLIENT)
  const input = join(dir, 'in.bin')
  const out = join(dir, 'out.bin')
  const hash = await writeRandomFile(input, 3 * 1024 * 1024)
  const server = spawn(process.execPath, [join(dir, 'server.mjs'), k.server, k.clientPK, out], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { server.kill('SIGKILL') })
  let said = ''
  server.stdout!.setEncoding('utf8').on('data', (c: string) => { said += c })
  await waitFor(() => /port \d+/.test(said), 'the server to listen')
  const port = /port (\d+)/.exec(said)![1]!
  const client = spawn(process.execPath, [join(dir, 'client.mjs'), k.client, k.serverPK, port, input], { stdio: 'inherit' })
  const timer = setTimeout(() => client.kill('SIGKILL'), 30_000)
  const [code, signal] = await once(client, 'exit') as [number | null, string | null]
  clearTimeout(timer)
  t.equal(signal, null, 'the client was not killed at the deadline: it ended by itself')
  t.equal(code, 0)
  await waitFor(async () => (await sha256File(out)) === hash, 'the server\'s file to be complete')
  t.equal(sha256(readFileSync(out)), hash, 'the server wrote every byte')
})
