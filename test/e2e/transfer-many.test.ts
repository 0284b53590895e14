/**
 * issue 9, SPEC 8.4, 8.5: 1,000 files of 4 KiB in 10 directories through the real CLI: every
 * one arrives identical, and the receipt counts them all. Files per second is printed for the
 * issue's note, never asserted (speed lives in benchmarks/).
 */
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { makeKeys, tempDir } from '../helpers/cli.js'
import { cliTransfer, snapshot, summaryOf } from '../helpers/transfer.js'

t.setTimeout(240_000)

const DIRS = 10
const PER_DIR = 100
const SIZE = 4096

t.test('SPEC 8.4, 8.5: 1,000 files of 4 KiB in 10 directories all arrive identical', async t => {
  const dir = tempDir(t, 'secure-pipe-many-')
  mkdirSync(join(dir, 'keys'))
  const keys = makeKeys(join(dir, 'keys'))
  const tree = join(dir, 'src', 'many')
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(tree, `dir-${d}`), { recursive: true })
    for (let f = 0; f < PER_DIR; f++) writeFileSync(join(tree, `dir-${d}`, `file-${String(f).padStart(3, '0')}.bin`), randomBytes(SIZE))
  }
  const out = join(dir, 'out')
  mkdirSync(out)
  const before = await snapshot(join(dir, 'src'))
  const startedAt = performance.now()
  const { send, recv } = await cliTransfer(t, keys, [out], [tree], { timeoutMs: 200_000 })
  const seconds = (performance.now() - startedAt) / 1000
  t.equal(send.code, 0, send.stderr)
  t.equal(recv.code, 0, recv.stderr)
  const after = await snapshot(out)
  t.equal(after.size, DIRS * PER_DIR + DIRS + 1, 'every file and directory, nothing else')
  let same = 0
  for (const [name, want] of before) if (JSON.stringify(after.get(name)) === JSON.stringify(want)) same++
  t.equal(same, before.size, 'every entry identical: content (SHA-256), size, mode, mtime')
  const want = { files: DIRS * PER_DIR, directories: DIRS + 1, bytes: DIRS * PER_DIR * SIZE, resumed: 0 }
  t.same(summaryOf(send.stderr, 'sent'), want)
  t.same(summaryOf(recv.stderr, 'received'), want)
  // For information only (issue 9's note), including both process starts and the handshake.
  const own = Number(/^received .* in ([\d.]+) s,/m.exec(recv.stderr)?.[1])
  t.comment(`1,000 files of 4 KiB: ${(DIRS * PER_DIR / own).toFixed(0)} files/s by the receiver's summary (${own} s), ${(DIRS * PER_DIR / seconds).toFixed(0)} files/s wall with both process starts (${seconds.toFixed(2)} s)`)
})
