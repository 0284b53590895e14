/**
 * issue 3: `send` and `recv` moving real bytes through the real CLI over 127.0.0.1:
 * a 50 MiB file, stdin to stdout, swapped roles, both ciphers, and what goes to stderr.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { connectArgs, listenArgs, makeKeys, sha256, sha256File, spawnCli, tempDir, waitForListening, writeRandomFile } from '../helpers/cli.js'

const dir = tempDir(t)
const keys = makeKeys(join(dir))
const fpLine = /peer SHA256:[A-Za-z0-9+/]{43}/

t.test('issue 3: a 50 MiB file arrives intact (SHA-256 on both ends) and both sides exit 0', async t => {
  const src = join(dir, 'fifty.bin')
  const dst = join(dir, 'fifty.out')
  const digest = await writeRandomFile(src, 50 * 1024 * 1024)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), dst])
  const port = await waitForListening(recv)
  const send = await spawnCli(t, ['send', ...connectArgs(keys, port), src]).done
  const got = await recv.done
  t.equal(send.code, 0, send.stderr)
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(dst), digest)
  t.match(send.stderr, /^sent 1 file, 52428800 bytes .* s, [\d.]+ MB\/s, peer SHA256:\S+; receipt verified: durable on the receiver\n$/, 'one summary line (sender)')
  t.match(got.stderr, fpLine)
})

t.test('issue 3: stdin to stdout (send - | recv -)', async t => {
  const data = randomBytes(3 * 1024 * 1024 + 17)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '-'])
  const port = await waitForListening(recv)
  const send = spawnCli(t, ['send', ...connectArgs(keys, port), '-'], { stdin: 'pipe' })
  send.child.stdin!.end(data)
  const [s, r] = await Promise.all([send.done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, r.stderr)
  t.equal(sha256(r.stdout), sha256(data))
  t.equal(r.stdout.length, data.length)
})

t.test('issue 3: an empty input is a valid transfer', async t => {
  const recv = spawnCli(t, ['recv', ...listenArgs(keys)])
  const port = await waitForListening(recv)
  const send = spawnCli(t, ['send', ...connectArgs(keys, port)], { stdin: 'pipe' })
  send.child.stdin!.end()
  const [s, r] = await Promise.all([send.done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.length, 0)
  t.match(s.stderr, /^sent 0 bytes/)
})

t.test('issue 3: roles swap: send --listen, recv --connect, with aes-256-ccm', async t => {
  const src = join(dir, 'swap.bin')
  const dst = join(dir, 'swap.out')
  const digest = await writeRandomFile(src, 1024 * 1024 + 3)
  const send = spawnCli(t, ['send', ...listenArgs(keys), '--cipher', 'aes-256-ccm', src])
  const port = await waitForListening(send)
  const recv = await spawnCli(t, ['recv', ...connectArgs(keys, port), '--cipher', 'aes-256-ccm', dst]).done
  const s = await send.done
  t.equal(recv.code, 0, recv.stderr)
  t.equal(s.code, 0, s.stderr)
  t.equal(await sha256File(dst), digest)
})

t.test('issue 3: no progress output when stderr is not a TTY; --progress forces it; --quiet silences all but errors', async t => {
  const src = join(dir, 'progress.bin')
  writeFileSync(src, randomBytes(2 * 1024 * 1024))
  const run = async (sendFlags: string[], recvFlags: string[]): Promise<{ send: string, recv: string }> => {
    const recv = spawnCli(t, ['recv', ...listenArgs(keys), ...recvFlags, '-'])
    const port = await waitForListening(recv)
    const s = await spawnCli(t, ['send', ...connectArgs(keys, port), ...sendFlags, src]).done
    const r = await recv.done
    t.equal(s.code, 0, s.stderr)
    t.equal(r.code, 0, r.stderr)
    return { send: s.stderr, recv: r.stderr }
  }
  const plain = await run([], [])
  t.match(plain.send, /^sent 1 file, \d+ bytes[^\n]*\n$/, 'sender: only the summary line')
  t.match(plain.recv, /^listening on 127\.0\.0\.1:\d+\nreceived 1 file, \d+ bytes[^\n]*into stdout \(delivered, not durable\)\n$/, 'receiver: listening line and summary only')
  t.notMatch(plain.send + plain.recv, /%|\r|\x1b/, 'no bar, no escape codes')
  const forced = await run(['--progress'], ['--progress'])
  t.match(forced.send, /^send .*100% \| 2\.0 MiB \/ 2\.0 MiB/m, 'sender progress with percentage')
  t.match(forced.recv, /^recv 1 file .*100% \| 2\.0 MiB \/ 2\.0 MiB/m, 'receiver progress with the size and count from the manifest (issue 9)')
  const quiet = await run(['--quiet'], ['--quiet'])
  t.equal(quiet.send, '', 'sender prints nothing')
  t.match(quiet.recv, /^listening on 127\.0\.0\.1:\d+\n$/, 'receiver prints only the readiness line')
})

t.test('issue 3: recv into --output-dir names a nameless stream itself, and says which name', async t => {
  const out = join(dir, 'inbox')
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--output-dir', out])
  const port = await waitForListening(recv)
  const send = spawnCli(t, ['send', ...connectArgs(keys, port)], { stdin: 'pipe' })
  send.child.stdin!.end('hello inbox\n')
  const [s, r] = await Promise.all([send.done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /into .*inbox\/transfer-\S+\n$/)
})
