/**
 * issue 5 (CLI part): `recv --keep-open --output-dir DIR` serves transfers until stopped, each
 * atomically into DIR under a unique name; failed peers are logged and do not stop it.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, sha256, sha256File, spawnCli, tempDir, waitFor, waitForListening } from '../helpers/cli.js'

t.test('issue 5: --keep-open takes concurrent transfers into unique files; a killed or unauthorized sender leaves nothing', async t => {
  const keys = makeKeys(tempDir(t))
  const inbox = join(tempDir(t), 'inbox')
  const server = spawnCli(t, ['recv', ...listenArgs(keys), '--keep-open', '--output-dir', inbox])
  const port = await waitForListening(server)

  const payloads = [randomBytes(1024 * 1024), randomBytes(70_000), Buffer.alloc(0)]
  const senders = payloads.map(data => {
    const s = spawnCli(t, ['send', ...connectArgs(keys, port), '-'], { stdin: 'pipe' })
    s.child.stdin!.end(data)
    return s.done
  })
  const stranger = spawnCli(t, ['send', '--connect', `127.0.0.1:${port}`, '--key', keys.other, '--server-key', keys.serverPK, '-'], { stdin: 'pipe' })
  stranger.child.stdin!.end('let me in')
  const doomed = spawnCli(t, ['send', ...connectArgs(keys, port), '-'], { stdin: 'pipe' })
  doomed.child.stdin!.on('error', () => {})
  doomed.child.stdin!.write(randomBytes(512 * 1024))

  for (const r of await Promise.all(senders)) t.equal(r.code, 0, r.stderr)
  t.equal((await stranger.done).code, 3)
  await waitFor(() => readdirSync(inbox).some(f => f.endsWith('.partial')), 'the doomed transfer to start')
  doomed.child.kill('SIGKILL')
  await waitFor(() => /transfer from .* failed/.test(server.stderr()), 'the server to log the cut transfer')

  const files = readdirSync(inbox)
  t.equal(files.filter(f => f.endsWith('.partial')).length, 0, 'no partial file')
  t.equal(files.length, 3, 'one file per completed transfer')
  const got = (await Promise.all(files.map(f => sha256File(join(inbox, f))))).sort()
  t.same(got, payloads.map(sha256).sort(), 'every completed transfer intact')
  t.equal(server.child.exitCode, null, 'still serving')

  server.child.kill('SIGTERM')
  const end = await server.done
  t.equal(end.code, 143)
  t.match(end.stderr, /handshake from 127\.0\.0\.1:\d+ failed: .*\(ERR_AUTH\)/)
})
