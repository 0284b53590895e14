/**
 * issue 3: `recv FILE` where FILE is a device or FIFO (`recv /dev/null`, a named pipe) writes
 * in place, like stdout: renaming a temporary file onto it would replace the device itself.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitForListening, writeRandomFile } from '../helpers/cli.js'

const dir = tempDir(t)
const keys = makeKeys(dir)

t.test('issue 3: recv into a FIFO writes through it and leaves it a FIFO (no --force needed)', async t => {
  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  const src = join(dir, 'in.bin')
  const digest = await writeRandomFile(src, 2 * 1024 * 1024 + 5)
  const reader = spawn('cat', [fifo])
  const hash = createHash('sha256')
  reader.stdout.on('data', (d: Buffer) => hash.update(d))
  const readerDone = new Promise<number | null>(resolve => reader.on('close', resolve))
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), fifo])
  const port = await waitForListening(recv)
  const [s, r] = await Promise.all([spawnCli(t, ['send', ...connectArgs(keys, port), src]).done, recv.done])
  t.equal(s.code, 0, s.stderr)
  t.equal(r.code, 0, r.stderr)
  t.equal(await readerDone, 0)
  t.equal(hash.digest('hex'), digest, 'the reader got every byte')
  t.ok(statSync(fifo).isFIFO(), 'still a FIFO')
})
