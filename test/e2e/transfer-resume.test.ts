/**
 * issue 9, SPEC 8.6: resume after a SIGKILL of either side, at about 1/4 and 3/4 of a 64 MiB
 * file (the kill comes when the receiver's partial file `.big.bin.ID.partial` reaches that
 * size). The second `send --resume` moves only the remainder: both summaries' byte counts plus
 * their "already ... (resumed)" counts add up to the size, and the file is identical. A source
 * changed under the same size and mtime, or with another mtime, restarts from 0; a complete
 * file moves 0 bytes; without resume on either side a killed sender leaves no partial file.
 */
import t from 'tap'
import { copyFileSync, mkdirSync, openSync, closeSync, writeSync, readdirSync, statSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { makeKeys, sha256File, tempDir, writeRandomFile, type CliResult } from '../helpers/cli.js'
import { cliTransfer, fileMatching, killWhen, setMtimeMs, summaryOf, type Pair } from '../helpers/transfer.js'
import type { TapTest } from '../helpers/streams.js'

t.setTimeout(480_000)

const SIZE = 64 * 1024 * 1024
const NAME = 'big.bin'
const dir = tempDir(t, 'secure-pipe-resume-')
mkdirSync(join(dir, 'keys'))
const keys = makeKeys(join(dir, 'keys'))
let runs = 0

/** A fresh source directory holding a copy of the random file; its path and SHA-256. */
let original: { path: string, sha: string } | undefined
async function source(): Promise<{ path: string, sha: string }> {
  if (original === undefined) {
    const path = join(dir, 'original.bin')
    original = { path, sha: await writeRandomFile(path, SIZE) }
  }
  const src = join(dir, `src-${++runs}`)
  mkdirSync(src)
  const path = join(src, NAME)
  copyFileSync(original.path, path)
  return { path, sha: original.sha }
}

function outDir(): string {
  const out = join(dir, `out-${++runs}`)
  mkdirSync(out)
  return out
}

const PARTIAL = /^\.big\.bin\.[0-9a-f]+\.partial$/
/** The receiver's note that this sender wrote big.bin (SPEC 8.6), kept after a transfer that asked to resume. */
const NOTE = /^\.big\.bin\.[0-9a-f]{16}\.done$/

/** The partial (temporary) file of NAME in `out`, resumable or not, with its size. */
function partialIn(out: string): { name: string, size: number } | undefined {
  return fileMatching(out, PARTIAL)
}

/** Start a transfer and SIGKILL `victim` once the receiver's partial file holds `fraction` of SIZE. */
function killAt(victim: 'send' | 'recv', fraction: number, out: string, src: string, flags: { send?: string[], recv?: string[] } = {}): Promise<Pair & { at: number }> {
  return killWhen(t, keys, victim, { dir: out, pattern: PARTIAL, threshold: Math.floor(SIZE * fraction) }, [...flags.recv ?? [], out], [...flags.send ?? ['--resume'], src])
}

/** The second run's summaries: bytes moved and resumed, per side. */
function moved(r: Pair): { sent: number, sentResumed: number, received: number, receivedResumed: number } {
  const s = summaryOf(r.send.stderr, 'sent')
  const v = summaryOf(r.recv.stderr, 'received')
  return { sent: s?.bytes ?? -1, sentResumed: s?.resumed ?? -1, received: v?.bytes ?? -1, receivedResumed: v?.resumed ?? -1 }
}

function exited(t: TapTest, r: CliResult, code: number | null, signal: NodeJS.Signals | null, what: string): void {
  t.equal(r.code, code, `${what} exit code (${r.stderr.trim().split('\n').pop()})`)
  t.equal(r.signal, signal, `${what} signal`)
}

for (const victim of ['send', 'recv'] as const) {
  for (const fraction of [0.25, 0.75]) {
    t.test(`SPEC 8.6: after a SIGKILL of the ${victim === 'send' ? 'sender' : 'receiver'} at ${fraction * 100}%, send --resume moves only the remainder`, async t => {
      const src = await source()
      const out = outDir()
      const first = await killAt(victim, fraction, out, src.path)
      exited(t, first[victim], null, 'SIGKILL', `the killed ${victim}`)
      // The survivor fails: a receiver sees the cut (ERR_TRUNCATED, 4), a sender loses its receiver (ERR_NETWORK, 5).
      if (victim === 'send') exited(t, first.recv, 4, null, 'the receiver')
      else exited(t, first.send, 5, null, 'the sender')
      const partial = partialIn(out)
      t.ok(partial, 'a resumable partial file is left')
      t.notOk(readdirSync(out).includes(NAME), 'the final name does not exist yet')
      t.ok(partial!.size >= first.at && partial!.size < SIZE, `the partial file holds ${partial!.size} bytes (killed at ${first.at})`)

      const second = await cliTransfer(t, keys, [out], ['--resume', src.path])
      t.equal(second.send.code, 0, second.send.stderr)
      t.equal(second.recv.code, 0, second.recv.stderr)
      t.equal(await sha256File(join(out, NAME)), src.sha, 'the resumed file is identical')
      t.same(readdirSync(out).filter(n => !NOTE.test(n)), [NAME], 'the partial file is gone')
      const m = moved(second)
      t.equal(m.sentResumed, partial!.size, 'the sender resumed at the partial file\'s length')
      t.equal(m.receivedResumed, partial!.size, 'the receiver resumed at the partial file\'s length')
      t.equal(m.sent + m.sentResumed, SIZE, 'sender: moved + resumed = size')
      t.equal(m.received + m.receivedResumed, SIZE, 'receiver: moved + resumed = size')
      t.ok(m.sentResumed > 0 && m.sent < SIZE, `only the remainder moved (${m.sent} of ${SIZE} bytes)`)
    })
  }
}

/** Overwrite `length` bytes of `path` at `offset` with other random bytes, keeping size and (ms) mtime. */
function changeKeepingMtime(path: string, offset: number, length: number): void {
  const mtimeMs = Math.trunc(statSync(path).mtimeMs)
  const fd = openSync(path, 'r+')
  try { writeSync(fd, randomBytes(length), 0, length, offset) } finally { closeSync(fd) }
  setMtimeMs(path, mtimeMs)
}

/** A source, and a DIR holding its resumable partial file from a sender killed at 1/4. */
async function interrupted(t: TapTest): Promise<{ src: { path: string, sha: string }, out: string }> {
  const src = await source()
  const out = outDir()
  const first = await killAt('send', 0.25, out, src.path)
  exited(t, first.send, null, 'SIGKILL', 'the killed sender')
  t.ok((partialIn(out)?.size ?? 0) >= SIZE / 4, 'a resumable partial file is left')
  return { src, out }
}

/** A second run that restarts from 0: the whole file moves, nothing is resumed, both exit 0. */
async function restarted(t: TapTest, out: string, src: string): Promise<void> {
  const second = await cliTransfer(t, keys, [out], ['--resume', src])
  t.equal(second.send.code, 0, second.send.stderr)
  t.equal(second.recv.code, 0, second.recv.stderr)
  t.same(moved(second), { sent: SIZE, sentResumed: 0, received: SIZE, receivedResumed: 0 }, 'the whole file moved again, nothing resumed')
}

t.test('SPEC 8.6: --resume refuses a source changed under the same size and mtime: the file restarts from 0 with the new content', async t => {
  const { src, out } = await interrupted(t)
  const before = statSync(src.path)
  changeKeepingMtime(src.path, 1000, 4096) // inside the prefix the receiver holds
  t.equal(statSync(src.path).size, before.size)
  t.equal(Math.trunc(statSync(src.path).mtimeMs), Math.trunc(before.mtimeMs), 'same mtime to the millisecond: the same resume identity')
  const changed = await sha256File(src.path)
  t.not(changed, src.sha)
  await restarted(t, out, src.path)
  t.equal(await sha256File(join(out, NAME)), changed, 'the file is the NEW source')
  t.same(readdirSync(out).filter(n => !NOTE.test(n)), [NAME], 'the refused partial file was replaced, not left behind')
})

t.test('SPEC 8.6: --resume with another mtime finds no partial file: the file restarts from 0', async t => {
  const { src, out } = await interrupted(t)
  setMtimeMs(src.path, Math.trunc(statSync(src.path).mtimeMs) + 5_000)
  await restarted(t, out, src.path)
  t.equal(await sha256File(join(out, NAME)), src.sha)
  t.comment(`left behind (another resume identity; SPEC 8.6): ${readdirSync(out).filter(n => n !== NAME).join(', ') || 'nothing'}`)
})

t.test('SPEC 8.6: a complete file sent again with --resume moves 0 bytes and exits 0; the file is not rewritten', async t => {
  const src = await source()
  // An mtime that utimes(ms / 1000) would set 1 ms early: the receiver must keep it exactly to know the file complete.
  setMtimeMs(src.path, 1_600_000_000_777)
  const out = outDir()
  const first = await cliTransfer(t, keys, [out], ['--resume', src.path])
  t.equal(first.send.code, 0, first.send.stderr)
  t.equal(first.recv.code, 0, first.recv.stderr)
  const before = statSync(join(out, NAME))
  const again = await cliTransfer(t, keys, [out], ['--resume', src.path])
  t.equal(again.send.code, 0, again.send.stderr)
  t.equal(again.recv.code, 0, again.recv.stderr)
  t.same(moved(again), { sent: 0, sentResumed: SIZE, received: 0, receivedResumed: SIZE }, 'already complete: 0 bytes moved')
  const after = statSync(join(out, NAME))
  t.equal(after.ino, before.ino, 'the same file (not replaced)')
  t.equal(after.mtimeMs, before.mtimeMs)
  t.equal(await sha256File(join(out, NAME)), src.sha)
  t.same(readdirSync(out).filter(n => !NOTE.test(n)), [NAME])
})

t.test('SPEC 8.6: with recv --no-resume, a killed sender leaves no partial file (whether or not it asked to resume)', async t => {
  const src = await source()
  for (const flags of [{ send: [], recv: ['--no-resume'] }, { send: ['--resume'], recv: ['--no-resume'] }]) {
    const out = outDir()
    const first = await killAt('send', 0.25, out, src.path, flags)
    exited(t, first.send, null, 'SIGKILL', 'the killed sender')
    exited(t, first.recv, 4, null, 'the receiver')
    t.match(first.recv.stderr, /\(ERR_TRUNCATED\)\n$/)
    t.same(readdirSync(out), [], `nothing left in DIR (${JSON.stringify(flags)})`)
  }
})
