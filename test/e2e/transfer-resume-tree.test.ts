/**
 * issue 17 section 4, SPEC 8.6: `send --resume` over a tree in every shape, through the real
 * CLI: all complete (re-sent, and re-sent again), cut in mid-file by a SIGKILL of the sender or
 * of the receiver, one file changed. Two or more entries on the receiver used to fail every
 * retry with ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH (ERR_IO): the plan's first proof was read 44
 * bytes long. Each run checks the summaries' byte counts and the tree it leaves.
 */
import t from 'tap'
import { copyFileSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, writeSync, readdirSync, statSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { makeKeys, sha256File, tempDir, waitFor, writeRandomFile } from '../helpers/cli.js'
import { cliTransfer, fileMatching, killWhen, setMtimeMs, snapshot, startTransfer, summaryOf, type Pair } from '../helpers/transfer.js'
import type { TapTest } from '../helpers/streams.js'

t.setTimeout(480_000)

const BIG = 64 * 1024 * 1024
const MTIME = 1_600_000_000_123
/** The tree's files in manifest order (tree/, then its files by name, then tree/sub/): one big file with entries before and after it. */
const SMALL: ReadonlyArray<[string, number]> = [['a.txt', 1000], ['c.bin', 100 * 1024], ['sub/d.bin', 200 * 1024], ['sub/e.txt', 1]]
const TOTAL = BIG + SMALL.reduce((n, [, size]) => n + size, 0)
const PARTIAL = /^\.big\.bin\.[0-9a-f]+\.partial$/
/** The receiver's notes of which sender wrote a file (SPEC 8.6), kept after a transfer that asked to resume. */
const NOTE = /(^|\/)\.[^/]+\.[0-9a-f]{16}\.done$/

const dir = tempDir(t, 'secure-pipe-resume-tree-')
const keys = makeKeys(join(dir, 'keys'))
const contents = new Map(SMALL.map(([name, size]) => [name, randomBytes(size)]))
const bigPath = join(dir, 'big.orig')
const ready = writeRandomFile(bigPath, BIG)
let runs = 0

/** A fresh source `tree/` with every file dated MTIME; returns the path of `tree`. */
async function source(): Promise<string> {
  await ready
  const tree = join(dir, `src-${++runs}`, 'tree')
  mkdirSync(join(tree, 'sub'), { recursive: true })
  copyFileSync(bigPath, join(tree, 'big.bin'))
  for (const [name, data] of contents) writeFileSync(join(tree, name), data)
  for (const name of ['big.bin', ...contents.keys()]) setMtimeMs(join(tree, name), MTIME)
  return tree
}

function outDir(): string {
  const out = join(dir, `out-${++runs}`)
  mkdirSync(out)
  return out
}

/** Files of the tree by name and SHA-256 (directories' modes and mtimes are checked elsewhere). */
async function files(root: string): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {}
  for (const [name, node] of await snapshot(root)) if (node.type === 'file' && !NOTE.test(name)) out[name] = node.sha256
  return out
}

function bytesOf(r: Pair): { sent: number, sentResumed: number, received: number, receivedResumed: number } {
  const s = summaryOf(r.send.stderr, 'sent')
  const v = summaryOf(r.recv.stderr, 'received')
  return { sent: s?.bytes ?? -1, sentResumed: s?.resumed ?? -1, received: v?.bytes ?? -1, receivedResumed: v?.resumed ?? -1 }
}

async function ok(t: TapTest, r: Pair, what: string): Promise<void> {
  t.equal(r.send.code, 0, `${what}: send exits 0 (${r.send.stderr.trim()})`)
  t.equal(r.recv.code, 0, `${what}: recv exits 0 (${r.recv.stderr.trim()})`)
  t.match(r.send.stderr, /receipt verified: durable/, `${what}: the receipt is verified`)
}

/** `send --resume` of `tree` into `out` succeeds, moves `sent` bytes, resumes the rest, and leaves exactly the source tree. */
async function resumed(t: TapTest, out: string, tree: string, sent: number | ((n: number) => boolean), what: string): Promise<Pair> {
  const r = await cliTransfer(t, keys, [out], ['--resume', tree])
  await ok(t, r, what)
  const b = bytesOf(r)
  if (typeof sent === 'number') t.equal(b.sent, sent, `${what}: ${sent} bytes moved`)
  else t.ok(sent(b.sent), `${what}: ${b.sent} bytes moved`)
  t.equal(b.sent + b.sentResumed, TOTAL, `${what}: sender: moved + resumed = the tree`)
  t.equal(b.received + b.receivedResumed, TOTAL, `${what}: receiver: moved + resumed = the tree`)
  t.same(await files(join(out, 'tree')), await files(tree), `${what}: the tree on the receiver is the source`)
  t.same(readdirSync(join(out, 'tree')).filter(n => n.endsWith('.partial')), [], `${what}: no partial file is left`)
  return r
}

t.test('issue 17: a complete tree sent again with --resume, twice, moves 0 bytes and exits 0', async t => {
  const tree = await source()
  const out = outDir()
  await ok(t, await cliTransfer(t, keys, [out], ['--resume', tree]), 'the first send')
  const before = statSync(join(out, 'tree', 'c.bin')).ino
  await resumed(t, out, tree, 0, 'the first retry')
  await resumed(t, out, tree, 0, 'the second retry')
  t.equal(statSync(join(out, 'tree', 'c.bin')).ino, before, 'complete files are not rewritten')
})

for (const victim of ['send', 'recv'] as const) {
  t.test(`issue 17: a tree cut in mid-file by a SIGKILL of the ${victim === 'send' ? 'sender' : 'receiver'}: --resume moves only the rest`, async t => {
    const tree = await source()
    const out = outDir()
    const cut = await killWhen(t, keys, victim, { dir: join(out, 'tree'), pattern: PARTIAL, threshold: BIG / 4 }, [out], ['--resume', tree])
    t.equal(cut[victim].signal, 'SIGKILL', `the ${victim === 'send' ? 'sender' : 'receiver'} was killed`)
    const partial = fileMatching(join(out, 'tree'), PARTIAL)
    t.ok(partial && partial.size >= cut.at, `the partial file of big.bin is kept (${partial?.size} bytes)`)
    t.equal(statSync(join(out, 'tree', 'a.txt')).size, 1000, 'the entry before it is complete')
    const held = 1000 + partial!.size
    await resumed(t, out, tree, n => n === TOTAL - held, `the retry after the ${victim} was killed`)
    await resumed(t, out, tree, 0, 'one more retry')
  })
}

/** The note of `name` in `dir` (SPEC 8.6) and what it is: 'link' (a second name of the file itself), 'text' (naming its device and inode), or undefined. */
function noteOf(dir: string, name: string): 'link' | 'text' | undefined {
  const file = statSync(join(dir, name))
  const note = readdirSync(dir).find(n => n.startsWith(`.${name}.`) && n.endsWith('.done'))
  if (note === undefined) return undefined
  const st = statSync(join(dir, note))
  if (st.ino === file.ino && st.dev === file.dev) return 'link'
  return readFileSync(join(dir, note), 'latin1') === `${file.dev} ${file.ino}\n` ? 'text' : undefined
}

t.test('issue 18, SPEC 8.6: a plain send cut by a SIGKILL of the receiver leaves each placed file noted by a second link; --resume finds it complete and turns the note into text', async t => {
  const tree = await source()
  const out = outDir()
  const cut = await killWhen(t, keys, 'recv', { dir: join(out, 'tree'), pattern: PARTIAL, threshold: BIG / 4 }, [out], [tree])
  t.equal(cut.recv.signal, 'SIGKILL', 'the receiver was killed')
  const sub = join(out, 'tree')
  t.equal(noteOf(sub, 'a.txt'), 'link', 'a.txt, placed before the cut, is noted by a second link to it')
  t.equal(statSync(join(sub, 'a.txt')).nlink, 2, 'a.txt has two names: itself and its note')
  const held = 1000 + fileMatching(sub, PARTIAL)!.size
  // Against a receiver that stays up, so that its exit cannot be what turns the note into text.
  const p = await startTransfer(t, keys, ['--keep-open', out], ['--resume', tree], { timeoutMs: 200_000 })
  const send = await p.send.done
  t.equal(send.code, 0, `the --resume after the plain send was cut exits 0 (${send.stderr.trim()})`)
  t.equal(summaryOf(send.stderr, 'sent')?.bytes, TOTAL - held, 'it moves only what the receiver did not hold: a.txt was found complete')
  t.equal(noteOf(sub, 'a.txt'), 'text', 'the note found is now text, and kept (the resume asked for it), while the receiver still runs')
  t.equal(statSync(join(sub, 'a.txt')).nlink, 1, 'a.txt has one name again')
  p.recv.child.kill('SIGTERM')
  await p.recv.done
  t.same(await files(sub), await files(tree), 'the tree on the receiver is the source')
})

t.test('issue 18, SPEC 8.6: a plain send whose receiver is stopped by SIGTERM leaves its notes as text, never as hidden second links', async t => {
  const tree = await source()
  const out = outDir()
  const cut = await killWhen(t, keys, 'recv', { dir: join(out, 'tree'), pattern: PARTIAL, threshold: BIG / 4 }, [out], [tree], 'SIGTERM')
  t.equal(cut.recv.code, 143, `the receiver exits 143 (${cut.recv.stderr.trim()})`)
  const sub = join(out, 'tree')
  t.equal(noteOf(sub, 'a.txt'), 'text', 'the note of a.txt was turned into text on the way out')
  t.equal(statSync(join(sub, 'a.txt')).nlink, 1, 'a.txt has one name')
  const partial = fileMatching(sub, PARTIAL)
  await resumed(t, out, tree, n => n === TOTAL - 1000 - partial!.size, 'the --resume after the receiver was stopped')
})

t.test('issue 18, SPEC 8.6: a plain send cut by a SIGKILL of the sender: a receiver that stays up (--keep-open) turns the notes of the files it placed into text at once', async t => {
  const tree = await source()
  const out = outDir()
  const sub = join(out, 'tree')
  const p = await startTransfer(t, keys, ['--keep-open', out], [tree], { timeoutMs: 200_000 })
  await waitFor(() => (fileMatching(sub, PARTIAL)?.size ?? 0) >= BIG / 4, 'a quarter of big.bin', 120_000)
  p.send.child.kill('SIGKILL')
  await p.send.done
  await waitFor(() => /ERR_(TRUNCATED|NETWORK)/.test(p.recv.stderr()), 'the receiver to report the cut', 30_000)
  t.equal(noteOf(sub, 'a.txt'), 'text', 'the note of a.txt is text while the receiver still runs')
  t.equal(statSync(join(sub, 'a.txt')).nlink, 1, 'a.txt has one name')
  p.recv.child.kill('SIGTERM')
  await p.recv.done
})

t.test('issue 18, SPEC 8.6: a complete plain send leaves no note at all, and every file with one name', async t => {
  const tree = await source()
  const out = outDir()
  await ok(t, await cliTransfer(t, keys, [out], [tree]), 'the plain send')
  const sub = join(out, 'tree')
  t.same(readdirSync(sub).filter(n => n.endsWith('.done')), [], 'no note is left')
  t.same(['a.txt', 'big.bin', 'c.bin'].map(n => statSync(join(sub, n)).nlink), [1, 1, 1], 'no second link is left')
})

/** Overwrite a byte of `path` in place, keeping its size and mtime (to the millisecond). */
function changeKeepingMtime(path: string): void {
  const fd = openSync(path, 'r+')
  try { writeSync(fd, Buffer.from([~(contents.get('c.bin')![10]!) & 0xff]), 0, 1, 10) } finally { closeSync(fd) }
  setMtimeMs(path, MTIME)
}

t.test('issue 17: one file of a complete tree changed, with another mtime: refused unless recv --force, which replaces only that file', async t => {
  const tree = await source()
  const out = outDir()
  await ok(t, await cliTransfer(t, keys, [out], ['--resume', tree]), 'the first send')
  const old = await sha256File(join(out, 'tree', 'c.bin'))
  writeFileSync(join(tree, 'c.bin'), randomBytes(100 * 1024))
  const refused = await cliTransfer(t, keys, [out], ['--resume', tree])
  t.equal(refused.send.code, 2, 'send exits 2 (ERR_USAGE)')
  t.match(refused.send.stderr, /c\.bin already exists.*recv --force/, `the sender is told the receiver can allow replacing: ${refused.send.stderr.trim()}`)
  t.notMatch(refused.send.stderr, /pass --force/, 'not a flag send lacks')
  t.equal(await sha256File(join(out, 'tree', 'c.bin')), old, 'the old file stays')
  const replaced = await cliTransfer(t, keys, ['--force', out], ['--resume', tree])
  await ok(t, replaced, 'recv --force')
  t.equal(bytesOf(replaced).sent, 100 * 1024, 'only the changed file moved')
  t.same(await files(join(out, 'tree')), await files(tree), 'the receiver has the new file')
})

t.test('issue 17, SPEC 8.6: one file changed under the same size and mtime is refused, also with recv --force; its old content stays', async t => {
  const tree = await source()
  const out = outDir()
  await ok(t, await cliTransfer(t, keys, [out], ['--resume', tree]), 'the first send')
  const old = await sha256File(join(out, 'tree', 'c.bin'))
  changeKeepingMtime(join(tree, 'c.bin'))
  for (const recvFlags of [[], ['--force']]) {
    const r = await cliTransfer(t, keys, [...recvFlags, out], ['--resume', tree])
    t.equal(r.send.code, 2, `send exits 2 (recv ${recvFlags.join(' ')})`)
    t.match(r.send.stderr, /c\.bin exists with the sender's size and mtime but other content/, r.send.stderr.trim())
    t.notMatch(r.send.stderr, /receipt verified/)
    t.equal(await sha256File(join(out, 'tree', 'c.bin')), old, 'the receiver\'s file is untouched')
  }
})
