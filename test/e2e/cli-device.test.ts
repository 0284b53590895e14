/**
 * issue 3, issue 9, SPEC 8.7: `recv FILE` where FILE is a FIFO, a device or a symbolic link.
 * Anything that exists needs --force, decided before listening (`recv evil.fifo` must not feed an
 * attacker's reader, a dangling link must not let a whole transfer run and then fail). With
 * --force a FIFO or device is written in place (the sender hears "delivered", not "durable"),
 * and a link is replaced, never followed.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, runCli, spawnCli, tempDir, waitForListening, writeRandomFile } from '../helpers/cli.js'

const dir = tempDir(t)
const keys = makeKeys(dir)

t.test('SPEC 8.7: recv FIFO without --force is refused before listening, and the FIFO is never opened', async t => {
  const fifo = join(dir, 'evil.fifo')
  execFileSync('mkfifo', [fifo])
  const r = await runCli(t, ['recv', ...listenArgs(keys), fifo])
  t.equal(r.code, 2, r.stderr)
  t.match(r.stderr, /evil\.fifo already exists \(a FIFO\); pass --force.*\(ERR_USAGE\)\n$/)
  t.notMatch(r.stderr, /listening on/, 'refused before listening')
  t.ok(statSync(fifo).isFIFO(), 'still a FIFO')
})

t.test('SPEC 8.7: recv --force FIFO writes through it, leaves it a FIFO, and the sender hears "delivered, not durable"', async t => {
  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  const src = join(dir, 'in.bin')
  const digest = await writeRandomFile(src, 2 * 1024 * 1024 + 5)
  const reader = spawn('cat', [fifo])
  const hash = createHash('sha256')
  reader.stdout.on('data', (d: Buffer) => hash.update(d))
  const readerDone = new Promise<number | null>(resolve => reader.on('close', resolve))
  t.teardown(() => { reader.kill() })
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--force', fifo])
  const port = await waitForListening(recv)
  const [s, r] = await Promise.all([spawnCli(t, ['send', ...connectArgs(keys, port), src]).done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, r.stderr)
  t.match(s.stderr, /delivered to the receiver's output \(stdout, FIFO or device: not durable\)/)
  t.match(r.stderr, /\(delivered, not durable\)/)
  t.equal(await readerDone, 0)
  t.equal(hash.digest('hex'), digest, 'the reader got every byte')
  t.ok(statSync(fifo).isFIFO(), 'still a FIFO')
})

t.test('SPEC 8.7: a dangling symlink as FILE is refused before listening without --force; with it the link is replaced, its target never created', async t => {
  const link = join(dir, 'dangling')
  const target = join(dir, 'never-created')
  symlinkSync(target, link)
  const refused = await runCli(t, ['recv', ...listenArgs(keys), link])
  t.equal(refused.code, 2, refused.stderr)
  t.match(refused.stderr, /dangling already exists \(a symbolic link\); pass --force/)
  t.notMatch(refused.stderr, /listening on/)
  const src = join(dir, 'small.bin')
  await writeRandomFile(src, 70_000)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--force', link])
  const [s, r] = await Promise.all([spawnCli(t, ['send', ...connectArgs(keys, await waitForListening(recv)), src]).done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, r.stderr)
  t.ok(lstatSync(link).isFile(), 'the link was replaced by the file')
  t.ok(readFileSync(link).equals(readFileSync(src)))
  t.notOk(existsSync(target), 'nothing was written through the link')
})

t.test('SPEC 8.7: recv --force FIFO with no reader is refused at once (ERR_IO), not waited for', async t => {
  const fifo = join(dir, 'unread.fifo')
  execFileSync('mkfifo', [fifo])
  const src = join(dir, 'x.bin')
  await writeRandomFile(src, 1000)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), '--force', fifo])
  const [s, r] = await Promise.all([spawnCli(t, ['send', ...connectArgs(keys, await waitForListening(recv)), src]).done, recv.done])
  t.equal(r.code, 2, r.stderr)
  t.match(r.stderr, /nothing is reading the FIFO .*unread\.fifo; start its reader first \(ERR_IO\)\n$/)
  t.equal(s.code, 2, s.stderr)
  t.match(s.stderr, /the receiver refused the transfer: nothing is reading the FIFO/)
})
