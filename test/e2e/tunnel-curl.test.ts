/**
 * issue 20: curl against a real HTTP server through `forward` and `serve`: a small request, a
 * 64 MiB upload and a 64 MiB download (byte for byte), and clients that half-close after their
 * request (a raw socket through `forward`, and `connect` whose stdin ends) still get the whole
 * answer. `serve` logs one line per connection with the peer's key, target, bytes and how it ended.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { createConnection, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { makeKeys, sha256, sha256File, spawnCli, tempDir, waitFor, writeRandomFile, type Teardown } from '../helpers/cli.js'
import { connectTo, skipUnless, startForward, startServe } from '../helpers/tunnel.js'

const run = promisify(execFile)
const BIG = 64 * 1024 * 1024

/** GET /download: `body`; any request with a body: the SHA-256 of what arrived. */
async function httpServer(t: Teardown, body: Buffer): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url === '/download') return void res.end(body)
    const hash = createHash('sha256')
    req.on('data', (c: Buffer) => hash.update(c))
    req.on('end', () => res.end(hash.digest('hex')))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return (server.address() as AddressInfo).port
}

t.test('curl through forward and serve: small, 64 MiB up, 64 MiB down, half-closing clients', { skip: skipUnless('curl') }, async t => {
  const dir = tempDir(t)
  const keys = makeKeys(dir)
  const body = randomBytes(BIG)
  const http = await httpServer(t, body)
  const serve = await startServe(t, keys, http)
  const forward = await startForward(t, keys, serve.port)
  const url = `http://127.0.0.1:${forward.port}`

  const small = await run('curl', ['-sS', '--fail', '--data-binary', 'hello', `${url}/`])
  t.equal(small.stdout, sha256(Buffer.from('hello')), 'a small POST arrives whole and its answer comes back')

  const upload = join(dir, 'up.bin')
  const upHash = await writeRandomFile(upload, BIG)
  const up = await run('curl', ['-sS', '--fail', '-T', upload, `${url}/upload`])
  t.equal(up.stdout, upHash, '64 MiB upload: the server hashed exactly the bytes curl sent')

  const downloaded = join(dir, 'down.bin')
  await run('curl', ['-sS', '--fail', '-o', downloaded, `${url}/download`])
  t.equal(await sha256File(downloaded), sha256(body), '64 MiB download: byte for byte')

  // A client that shuts down its write side right after the request still gets the whole answer.
  const socket = createConnection({ host: '127.0.0.1', port: forward.port, allowHalfOpen: true })
  socket.end('GET /download HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  const chunks: Buffer[] = []
  for await (const c of socket) chunks.push(c as Buffer)
  const answer = Buffer.concat(chunks)
  const split = answer.indexOf('\r\n\r\n')
  t.match(answer.subarray(0, split).toString(), /^HTTP\/1\.1 200 OK/)
  t.equal(sha256(answer.subarray(split + 4)), sha256(body), 'half-closed through forward: the whole 64 MiB answer')

  const viaConnect = spawnCli(t, connectTo(keys, serve.port), { stdin: 'pipe' })
  viaConnect.child.stdin!.end('POST /echo-hash HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello')
  const r = await viaConnect.done
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout.toString(), new RegExp(`\\r\\n\\r\\n${sha256(Buffer.from('hello'))}$`), 'connect with stdin closed: the whole answer on stdout')

  // One line per connection: the five above (curl x3, the raw socket, connect), each closed cleanly.
  await waitFor(() => (serve.proc.stderr().match(/: tunnel /g) ?? []).length >= 5, 'five tunnel log lines')
  const lines = serve.proc.stderr().split('\n').filter(l => l.includes(': tunnel '))
  t.equal(lines.length, 5, serve.proc.stderr())
  for (const l of lines) t.match(l, new RegExp(`^secure-pipe: tunnel SHA256:\\S+ from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.0\\.1:${http}: .* up, .* down, \\d+\\.\\d+ s, closed$`))
  t.ok(lines.some(l => / 64\.0 MiB up, /.test(l)), 'the upload line counts 64 MiB up')
  t.ok(lines.filter(l => / 64\.0 MiB down, /.test(l)).length === 2, 'the two download lines count 64 MiB down')
  t.notMatch(serve.proc.stderr() + forward.proc.stderr(), /ERR_/, 'no failure logged')
})
