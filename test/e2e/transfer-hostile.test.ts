/**
 * issue 9, SPEC 8.2, 8.4, 8.5.1, 8.7: a hostile SENDER built from the library (connect, then
 * hand-built manifests, plans and content written on the SecureStream) against the real CLI
 * `recv DIR`. Every refused name aims at a sentinel directory outside DIR, so a write through
 * any of them would show there. Each case checks the CLI's exit code, the failure receipt the
 * hostile sender reads back (takeReceipt), and that nothing was written: DIR empty, the sentinel
 * and the directory around both unchanged.
 */
import t from 'tap'
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ByteQueue, connect, encodeEntry, encodeManifest, encodePlan, loadPrivateKey, loadPublicKey, MAX_COMPONENT_BYTES, MAX_ENTRIES,
  MAX_NAME_BYTES, takeReady, takeReceipt, type Entry, type Offer, type Receipt, type SecureStream,
} from '../../src/index.js'
import { listenArgs, makeKeys, spawnCli, tempDir, waitFor, waitForListening, type CliResult, type Teardown } from '../helpers/cli.js'
import { setMtimeMs, snapshot, type DiskNode } from '../helpers/transfer.js'
import type { TapTest } from '../helpers/streams.js'

// About 12 CLI receivers one after another (each a process start and a handshake), slow on a loaded machine.
t.setTimeout(240_000)

const base = tempDir(t, 'secure-pipe-hostile-')
mkdirSync(join(base, 'keys'))
const keys = makeKeys(join(base, 'keys'))
const clientKey = loadPrivateKey(keys.client)
const serverKey = loadPublicKey(keys.serverPK)
const sentinel = join(base, 'sentinel')
mkdirSync(sentinel)
writeFileSync(join(sentinel, 'keep.txt'), 'sentinel')
mkdirSync(join(base, 'outsides'))
let sentinelBefore: Map<string, DiskNode>
let cases = 0

const file = (name: string, size = 5): Entry => ({ type: 'file', name, mode: 0o644, mtimeMs: 1_600_000_000_000, size })
const dirEntry = (name: string, size = 0): Entry => ({ type: 'directory', name, mode: 0o755, mtimeMs: 1_600_000_000_000, size })

/** What the hostile sender read back: the Ready offers (if any), then the receipt. */
interface Replies { ready: Offer[] | undefined, receipt: Receipt | undefined }

/** Parse the receiver's whole direction: Ready (SPEC 8.3) or not, then one Receipt (SPEC 8.5). */
function parseReplies(data: Buffer, entries: readonly Entry[]): Replies {
  const q = new ByteQueue()
  q.push(data)
  let ready: Offer[] | undefined
  if (data.subarray(0, 4).toString('latin1') === 'SPRY') ready = takeReady(q, entries) ?? undefined
  return { ready, receipt: takeReceipt(q) ?? undefined }
}

interface Attack {
  /** The manifest as it goes on the wire (hand-built where encodeManifest cannot express it). */
  manifest: Buffer
  /** The entries, for parsing a Ready message. */
  entries?: readonly Entry[]
  /** Sent once the receiver answered the manifest (Ready or a refusing receipt): plan and content, then the close record. */
  rest?: Buffer
}

/** What the hostile sender saw: the first answer to its manifest, then the receiver's whole direction. */
interface Played { first: Replies, replies: Replies }
interface Outcome extends Played { recv: CliResult, out: string }

/** Connect to a receiver on `port`, send the manifest, wait for its answer, send the rest and close; read to the receiver's end. */
async function play(port: number, a: Attack): Promise<Played> {
  const stream: SecureStream = await connect({ port, privateKey: clientKey, serverPublicKey: serverKey })
  const chunks: Buffer[] = []
  let ended = false
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.on('end', () => { ended = true })
  stream.on('close', () => { ended = true })
  stream.on('error', () => {})
  const answered = (): Replies => parseReplies(Buffer.concat(chunks), a.entries ?? [])
  stream.write(a.manifest)
  await waitFor(() => ended || answered().ready !== undefined || answered().receipt !== undefined, 'the answer to the manifest')
  const first = answered()
  if (a.rest) stream.write(a.rest)
  stream.end()
  await waitFor(() => ended, 'the end of the receiver\'s direction')
  stream.destroy()
  return { first, replies: answered() }
}

/** A fresh one-shot `recv DIR` (DIR prepared by `prepare`) against the hostile sender. */
async function attack(t: Teardown, a: Attack, prepare?: (out: string) => void, flags: string[] = []): Promise<Outcome> {
  const out = join(base, `out-${++cases}`)
  mkdirSync(out)
  prepare?.(out)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), ...flags, out])
  const played = await play(await waitForListening(recv), a)
  return { ...played, recv: await recv.done, out }
}

/** Nothing in DIR, the sentinel as it was, nothing new beside them. */
async function nothingWritten(t: TapTest, out: string): Promise<void> {
  t.same(readdirSync(out), [], 'DIR is empty: no file, no directory, no temporary file')
  t.same(await snapshot(sentinel), sentinelBefore, 'the sentinel directory outside DIR is untouched')
  t.same(readdirSync(base).filter(n => !/^out-\d+$/.test(n)).sort(), ['keys', 'outsides', 'sentinel'], 'nothing new beside DIR')
}

/** A refused manifest: exit 4, a failure receipt with ERR_PROTOCOL instead of Ready, nothing written. */
async function refused(t: TapTest, o: Outcome, code = 'ERR_PROTOCOL', exit = 4): Promise<void> {
  t.equal(o.recv.code, exit, o.recv.stderr)
  t.match(o.recv.stderr, new RegExp(`\\(${code}\\)\\n$`))
  t.equal(o.first.ready, undefined, 'the manifest is answered with a receipt, not Ready (SPEC 8.5.1)')
  t.equal(o.first.receipt?.error?.code, code, 'the failure receipt names the code')
  t.equal(o.first.receipt?.done, 0, 'no entry done')
  await nothingWritten(t, o.out)
}

/** A manifest of `entries`, then (after the answer) an empty plan and `size` bytes of content per file, then close. */
function eager(entries: Entry[], resume = false): Attack {
  const content = entries.map(e => Buffer.alloc(e.type === 'file' ? e.size : 0, 0x41))
  return { manifest: encodeManifest(entries, { resume }), rest: Buffer.concat([encodePlan([]), ...content]) }
}

/** A manifest with one file entry whose name bytes are exactly `name` (e.g. invalid UTF-8). */
function rawName(name: Buffer): Attack {
  const entry = encodeEntry(file('x'.repeat(name.length)))
  name.copy(entry, entry.length - name.length)
  const head = encodeManifest([], { resume: false })
  head.writeUInt32BE(1, 6)
  return { manifest: Buffer.concat([head, entry]), rest: Buffer.concat([encodePlan([]), Buffer.alloc(5)]) }
}

t.before(async () => { sentinelBefore = await snapshot(sentinel) })

let evils = 0
const evil = (): string => `evil-${++evils}`
/** Names that lead out of DIR: also tried as directory entries. */
const ESCAPES: Array<[string, () => string]> = [
  ['an absolute name', () => join(sentinel, evil())],
  ['a ".." component', () => `../sentinel/${evil()}`],
  ['"a/../b"', () => `a/../../sentinel/${evil()}`],
]
const NAMES: Array<[string, () => string]> = [
  ...ESCAPES,
  ['an empty component "a//b"', () => `a//${evil()}`],
  ['a "." component', () => `./${evil()}`],
  ['a trailing slash', () => `${evil()}/`],
  ['a NUL', () => `${evil()}\0.txt`],
  ['a backslash', () => `..\\sentinel\\${evil()}`],
  [`a component over ${MAX_COMPONENT_BYTES} bytes`, () => 'c'.repeat(MAX_COMPONENT_BYTES + 1)],
  [`a name over ${MAX_NAME_BYTES} bytes (components within limits)`, () => `${'d'.repeat(200)}/`.repeat(21) + evil()],
  ['an empty name', () => ''],
]
const BAD_UTF8 = [[0x61, 0xff, 0x62], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf]].map(b => Buffer.from(b))

/** A manifest of `entries` whose first entry header's type byte is `code`. */
function typed(code: number): Attack {
  const a = eager([file('typed')])
  a.manifest[10] = code // right after the 10-byte manifest head
  return a
}

/** A manifest head announcing `count` entries, followed by one. */
function announced(count: number): Attack {
  const head = encodeManifest([], { resume: false })
  head.writeUInt32BE(count, 6)
  return { manifest: Buffer.concat([head, encodeEntry(file('one'))]), rest: Buffer.alloc(5) }
}

const STREAM: Entry = { type: 'stream', name: '', mode: 0o644, mtimeMs: 0, size: 0 }
/** Manifests refused for what they list rather than a name's characters (SPEC 8.1, 8.2). */
const MANIFESTS: Array<[string, () => Attack]> = [
  ['SPEC 8.2: two files with the same name', () => eager([file('same.txt'), file('same.txt')])],
  ['SPEC 8.2: a directory and a file with the same name', () => eager([dirEntry('same'), file('same')])],
  ['SPEC 8.2: an entry inside a file entry', () => eager([file('f'), file('f/inside')])],
  ['SPEC 8.2: an entry inside a file entry listed after it', () => eager([file('f/g/inside'), file('f')])],
  ['SPEC 8.1: mode 04755 (setuid)', () => eager([{ ...file('suid'), mode: 0o4755 }])],
  ['SPEC 8.1: mode 02755 (setgid)', () => eager([{ ...file('sgid'), mode: 0o2755 }])],
  ['SPEC 8.1: mode 01777 (sticky) on a directory', () => eager([{ ...dirEntry('sticky'), mode: 0o1777 }])],
  ['SPEC 8.1: unknown entry type 9', () => typed(9)],
  ['SPEC 8.1: entry type 0', () => typed(0)],
  ['SPEC 8.1: a directory with a size', () => eager([dirEntry('sized', 5)])],
  ['SPEC 8.1: a stream entry followed by a file', () => eager([STREAM, file('after.txt')])],
  ['SPEC 8.1: a file followed by a stream entry', () => eager([file('before.txt'), STREAM])],
  [`SPEC 8.2: ${MAX_ENTRIES + 1} entries announced (refused from the manifest head, before allocating)`, () => announced(MAX_ENTRIES + 1)],
  ['SPEC 8.2: 2^32 - 1 entries announced', () => announced(0xffffffff)],
]

t.test('SPEC 8.1, 8.2: refused names and manifests, against one `recv --keep-open` drop box (one process for all keeps the matrix fast)', async t => {
  const out = join(base, `out-${++cases}`)
  mkdirSync(out)
  const box = spawnCli(t, ['recv', ...listenArgs(keys), '--keep-open', '--output-dir', out], { timeoutMs: 200_000 })
  const port = await waitForListening(box)
  let refusals = 0
  const check = async (t: TapTest, a: Attack): Promise<void> => {
    const p = await play(port, a)
    refusals++
    t.equal(p.first.ready, undefined, 'the manifest is answered with a receipt, not Ready (SPEC 8.5.1)')
    t.equal(p.first.receipt?.error?.code, 'ERR_PROTOCOL', 'the failure receipt names ERR_PROTOCOL')
    t.equal(p.first.receipt?.done, 0, 'no entry done')
    await waitFor(() => (box.stderr().match(/transfer from \S+ failed: .*\(ERR_PROTOCOL\)\n/g) ?? []).length === refusals, 'the drop box\'s log line')
    await nothingWritten(t, out)
  }
  for (const [what, name] of NAMES) await t.test(`SPEC 8.2: a file name with ${what}`, t => check(t, eager([file(name())])))
  for (const [what, name] of ESCAPES) await t.test(`SPEC 8.2: a directory name with ${what}, an honest file after it`, t => check(t, eager([dirEntry(name()), file('ok.txt')])))
  for (const bytes of BAD_UTF8) await t.test(`SPEC 8.2: a name that is not valid UTF-8 (${bytes.toString('hex')})`, t => check(t, rawName(bytes)))
  for (const [what, make] of MANIFESTS) await t.test(what, t => check(t, make()))
  t.equal(box.child.exitCode, null, 'the drop box still runs')
  t.notMatch(box.stderr(), /^received /m, 'no transfer was accepted')
})

t.test('SPEC 8.2, 9: a one-shot recv DIR exits 4 (ERR_PROTOCOL) on a refused name or manifest', async t => {
  for (const name of [`../sentinel/${evil()}`, join(sentinel, evil())]) await refused(t, await attack(t, eager([file(name)])))
  await refused(t, await attack(t, rawName(BAD_UTF8[0]!)))
  await refused(t, await attack(t, eager([file('dup'), file('dup')])))
  await refused(t, await attack(t, eager([{ ...file('suid'), mode: 0o4755 }])))
})

t.test('SPEC 8.7: a symlink planted in DIR (sub -> OUTSIDE) is never written through (ERR_IO)', async t => {
  const outside = join(base, 'outsides', `outside-${cases + 1}`)
  mkdirSync(outside, { recursive: true })
  const plant = (out: string): void => symlinkSync(outside, join(out, 'sub'))
  for (const entries of [[file('sub/x')], [file('sub/deeper/x')]]) {
    const o = await attack(t, eager(entries), plant)
    t.equal(o.recv.code, 2, o.recv.stderr)
    t.match(o.recv.stderr, /sub is a symbolic link; secure-pipe never writes through links.*\(ERR_IO\)\n$/)
    t.equal(o.first.ready, undefined, 'refused before Ready')
    t.equal(o.first.receipt?.error?.code, 'ERR_IO')
    t.same(readdirSync(outside), [], 'nothing written through the link')
    t.same(readdirSync(o.out), ['sub'], 'DIR holds only the planted link')
  }
  // A directory entry of the link's name: refused as not a directory, the same code (SPEC 8.7).
  const o = await attack(t, eager([dirEntry('sub'), file('sub/x')]), plant)
  t.equal(o.recv.code, 2, o.recv.stderr)
  t.match(o.recv.stderr, /sub exists and is not a directory \(a symbolic link is never followed\).*\(ERR_IO\)\n$/)
  t.equal(o.first.receipt?.error?.code, 'ERR_IO')
  t.same(readdirSync(outside), [], 'nothing written through the link')
  t.same(await snapshot(sentinel), sentinelBefore)
})

t.test('SPEC 8.7: with --force, a symlink planted at a file\'s own name is replaced, never followed', async t => {
  const target = join(base, 'outsides', `target-${cases + 1}.txt`)
  writeFileSync(target, 'outside')
  const entries = [file('victim', 5)]
  const o = await attack(t, { manifest: encodeManifest(entries, { resume: false }), entries, rest: Buffer.concat([encodePlan([]), Buffer.from('fresh')]) },
    out => symlinkSync(target, join(out, 'victim')), ['--force'])
  t.equal(o.recv.code, 0, o.recv.stderr)
  t.equal(o.replies.receipt?.done, 1)
  t.equal(o.replies.receipt?.error, undefined)
  t.equal(readFileSync(target, 'utf8'), 'outside', 'the link\'s target is untouched')
  const after = await snapshot(o.out)
  t.same([...after.keys()], ['victim'])
  t.match(after.get('victim'), { type: 'file', size: 5, mode: 0o644 }, 'a regular file replaced the link')
  t.equal(readFileSync(join(o.out, 'victim'), 'utf8'), 'fresh')
})

t.test('SPEC 8.4: data after the last entry\'s end is ERR_PROTOCOL; the receipt says what is on disk', async t => {
  const entries = [file('a.txt', 5)]
  const o = await attack(t, { manifest: encodeManifest(entries, { resume: false }), entries, rest: Buffer.concat([encodePlan([]), Buffer.from('helloEXTRA')]) })
  t.equal(o.recv.code, 4, o.recv.stderr)
  t.match(o.recv.stderr, /after the last entry's end.*\(ERR_PROTOCOL\)\n$/)
  t.same(o.first.ready, [], 'Ready with no offers')
  t.equal(o.replies.receipt?.error?.code, 'ERR_PROTOCOL')
  const names = readdirSync(o.out)
  // A cut transfer's files keep the receiver's note of who wrote them, for a resume (SPEC 8.6).
  t.ok(names.every(n => n === 'a.txt' || /^\.a\.txt\.[0-9a-f]{16}\.done$/.test(n)), `no temporary file left (${names.join(', ')})`)
  if (o.replies.receipt?.done === 1) t.equal(readFileSync(join(o.out, 'a.txt'), 'utf8'), 'hello', 'the receipt says a.txt is done: it is complete')
  else t.same(names, [], 'the receipt says nothing is done: nothing is there')
  t.same(await snapshot(sentinel), sentinelBefore)
})

t.test('SPEC 8.4: a close record before the last entry\'s end is ERR_PROTOCOL; no file appears, no temporary file is left', async t => {
  const entries = [file('first.txt', 3), file('cut.bin', 1024 * 1024)]
  const o = await attack(t, { manifest: encodeManifest(entries, { resume: false }), entries, rest: Buffer.concat([encodePlan([]), Buffer.from('abc'), Buffer.alloc(300 * 1024, 7)]) })
  t.equal(o.recv.code, 4, o.recv.stderr)
  t.match(o.recv.stderr, /ended its stream before the end of "cut\.bin".*\(ERR_PROTOCOL\)\n$/)
  t.equal(o.replies.receipt?.error?.code, 'ERR_PROTOCOL')
  const names = readdirSync(o.out)
  t.notOk(names.includes('cut.bin'), 'the cut file never appears')
  t.ok(names.filter(n => n.endsWith('.partial')).every(n => /^\.cut\.bin\.[0-9a-f]{16}\.partial$/.test(n)), 'no temporary file left: only the resumable partial file of cut.bin, kept for a resume though this sender did not ask for one (issue 17)')
  t.equal(o.replies.receipt?.done, names.includes('first.txt') ? 1 : 0, 'the receipt counts what is in place')
})

t.test('SPEC 8.4 with resume: a close before the end keeps only the resumable partial file, never the final name', async t => {
  const entries = [file('cut.bin', 1024 * 1024)]
  const o = await attack(t, { manifest: encodeManifest(entries, { resume: true }), entries, rest: Buffer.concat([encodePlan([]), Buffer.alloc(300 * 1024, 7)]) })
  t.equal(o.recv.code, 4, o.recv.stderr)
  const names = readdirSync(o.out)
  t.notOk(names.includes('cut.bin'))
  t.ok(names.every(n => /^\.cut\.bin\.[0-9a-f]{16}\.partial$/.test(n)), `only a resumable partial file (${names.join(', ')})`)
})

t.test('SPEC 8.5.1, 8.7: an existing file without --force is refused before any content; the file is untouched', async t => {
  const entries = [file('exists.txt', 5)]
  const o = await attack(t, { manifest: encodeManifest(entries, { resume: false }), entries, rest: Buffer.concat([encodePlan([]), Buffer.from('EVIL!')]) }, out => {
    writeFileSync(join(out, 'exists.txt'), 'original')
    setMtimeMs(join(out, 'exists.txt'), 1_500_000_000_000)
  })
  t.equal(o.recv.code, 2, o.recv.stderr)
  t.equal(o.first.ready, undefined, 'the manifest is answered with a refusing receipt: no content was asked for')
  t.equal(o.first.receipt?.error?.code, 'ERR_USAGE')
  t.match(o.first.receipt?.error?.message, /already exists; the receiver replaces existing files only when it allows it \(recv --force\)/)
  const after = await snapshot(o.out)
  t.same([...after.keys()], ['exists.txt'], 'no temporary file beside it')
  t.equal(readFileSync(join(o.out, 'exists.txt'), 'utf8'), 'original')
  t.equal(after.get('exists.txt')?.mtimeMs, 1_500_000_000_000)
})
