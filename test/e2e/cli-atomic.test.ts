/**
 * issue 3: recv writes FILE atomically. A killed sender, Ctrl-C or SIGTERM leave no FILE and
 * no temporary file, and a pre-existing FILE untouched; a killed receiver makes the sender
 * exit 5 saying the receiver may not have the data (SPEC 8).
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitFor, waitForListening, type CliProcess, type Teardown } from '../helpers/cli.js'

const keys = makeKeys(tempDir(t))

/** A transfer that cannot finish: the sender's stdin stays open after 2 MiB. Waits until the receiver has written some. */
async function stalledTransfer(t: Teardown, out: string, extra: string[] = []): Promise<{ recv: CliProcess, send: CliProcess, outDir: string }> {
  const outDir = join(out, '..')
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), ...extra, out])
  const port = await waitForListening(recv)
  const send = spawnCli(t, ['send', ...connectArgs(keys, port), '-'], { stdin: 'pipe' })
  send.child.stdin!.on('error', () => {}) // EPIPE once the sender is gone
  send.child.stdin!.write(randomBytes(2 * 1024 * 1024))
  await waitFor(() => readdirSync(outDir).some(f => f.endsWith('.partial') && statSync(join(outDir, f)).size > 0), 'partial data on the receiving side')
  return { recv, send, outDir }
}

const leftovers = (dir: string): string[] => readdirSync(dir).filter(f => f.endsWith('.partial'))

t.test('issue 3: sender killed (SIGKILL) mid-transfer: no FILE, no temporary file, receiver exits 4 or 5', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'killed.out')
  const { recv, send } = await stalledTransfer(t, out)
  send.child.kill('SIGKILL')
  const r = await recv.done
  t.ok(r.code === 4 || r.code === 5, `receiver exit ${r.code}: ${r.stderr}`)
  t.match(r.stderr, /killed\.out was not written \(ERR_(TRUNCATED|NETWORK)\)\n$/)
  t.notOk(existsSync(out), 'no FILE')
  t.same(leftovers(dir), [], 'no temporary file')
})

t.test('issue 3: sender killed mid-transfer with --force: the existing FILE is unchanged', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'precious.out')
  writeFileSync(out, 'the old content\n')
  const { recv, send } = await stalledTransfer(t, out, ['--force'])
  send.child.kill('SIGKILL')
  const r = await recv.done
  t.not(r.code, 0)
  t.equal(readFileSync(out, 'utf8'), 'the old content\n', 'FILE untouched')
  t.same(leftovers(dir), [])
})

t.test('issue 3: Ctrl-C (SIGINT) on recv exits 130 and removes the partial output; the sender exits 5', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'interrupted.out')
  const { recv, send } = await stalledTransfer(t, out)
  recv.child.kill('SIGINT')
  const r = await recv.done
  t.equal(r.code, 130)
  t.match(r.stderr, /interrupted by SIGINT.*\(SIGINT\)\n$/)
  t.notOk(existsSync(out))
  t.same(leftovers(dir), [])
  const s = await send.done
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, /receiver may not have the data/)
})

t.test('issue 3: SIGTERM on recv exits 143 and removes the partial output', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'terminated.out')
  const { recv } = await stalledTransfer(t, out)
  recv.child.kill('SIGTERM')
  t.equal((await recv.done).code, 143)
  t.notOk(existsSync(out))
  t.same(leftovers(dir), [])
})

t.test('issue 3: Ctrl-C on send exits 130; the receiver writes no FILE', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'sender-interrupted.out')
  const { recv, send } = await stalledTransfer(t, out)
  send.child.kill('SIGINT')
  t.equal((await send.done).code, 130)
  t.not((await recv.done).code, 0)
  t.notOk(existsSync(out))
  t.same(leftovers(dir), [])
})

t.test('issue 3, SPEC 8: receiver killed (SIGKILL) mid-transfer: the sender exits 5 and says the data may be missing', async t => {
  const dir = tempDir(t)
  const { recv, send } = await stalledTransfer(t, join(dir, 'x.out'))
  recv.child.kill('SIGKILL')
  send.child.stdin!.end(randomBytes(1024 * 1024))
  const s = await send.done
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, /^secure-pipe: .*receiver may not have the data.*\(ERR_NETWORK\)\n$/)
})
