/**
 * issue 9, SPEC 8: a tree by name through the real CLI over 127.0.0.1: nested and empty
 * directories, empty files, modes, mtimes to the millisecond, names with spaces and non-ASCII
 * characters; `recv FILE` and `recv -` with one entry; symbolic links skipped or sent as links.
 */
import t from 'tap'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { makeKeys, sha256, sha256File, tempDir } from '../helpers/cli.js'
import { cliTransfer, setMtimeMs, snapshot, summaryOf } from '../helpers/transfer.js'

const dir = tempDir(t, 'secure-pipe-tree-')
mkdirSync(join(dir, 'keys'))
const keys = makeKeys(join(dir, 'keys'))

const UNICODE = 'ünïcødé 文件 ✓.txt'
const T = 1_600_000_000_000

/** A tree with every kind of entry; returns the paths to give `send`. */
function buildTree(root: string): string[] {
  const tree = join(root, 'tree')
  const file = (rel: string, data: Buffer, mode: number, mtimeMs?: number): void => {
    const p = join(tree, rel)
    writeFileSync(p, data)
    chmodSync(p, mode)
    if (mtimeMs !== undefined) setMtimeMs(p, mtimeMs)
  }
  for (const d of ['', 'empty dir', 'sub dir', 'sub dir/deep', 'sub dir/deep/another empty']) mkdirSync(join(tree, d), { recursive: true })
  file('empty.txt', Buffer.alloc(0), 0o644, T + 1)
  file('sub dir/run.sh', randomBytes(10 * 1024), 0o755, T + 2_123)
  file(`sub dir/deep/${UNICODE}`, randomBytes(300 * 1024 + 7), 0o600, T + 3_999)
  file('sub dir/note.md', Buffer.from('x'), 0o644) // mtime of now, with nanoseconds
  // Directories last, deepest first, so writing their contents does not move their mtimes.
  const dirModes: Array<[string, number, number]> = [
    ['sub dir/deep/another empty', 0o755, T + 10_001], ['sub dir/deep', 0o750, T + 10_002],
    ['sub dir', 0o755, T + 10_003], ['empty dir', 0o700, T + 10_004], ['', 0o755, T + 10_005],
  ]
  for (const [d, mode, ms] of dirModes) { chmodSync(join(tree, d), mode); setMtimeMs(join(tree, d), ms) }
  const top = join(root, 'top file.bin')
  writeFileSync(top, randomBytes(1024 * 1024 + 13))
  chmodSync(top, 0o644)
  setMtimeMs(top, T + 777)
  return [tree, top]
}

t.test('SPEC 8.1, 8.7: a tree arrives with its content, modes, mtimes (ms), empty files and empty directories; both summaries count it', async t => {
  const src = join(dir, 'src1')
  const out = join(dir, 'out1')
  mkdirSync(src)
  mkdirSync(out)
  const paths = buildTree(src)
  const before = await snapshot(src)
  const { send, recv } = await cliTransfer(t, keys, [out], paths)
  t.equal(send.code, 0, send.stderr)
  t.equal(recv.code, 0, recv.stderr)
  const after = await snapshot(out)
  t.same([...after.keys()].sort(), [...before.keys()].sort(), 'the same names, nothing else (no temporary files left)')
  for (const [name, want] of before) t.same(after.get(name), want, `${name}: type, mode, mtime (ms), size and SHA-256`)
  t.equal(after.get('tree/empty dir')?.type, 'directory', 'an empty directory exists')
  t.equal(after.get(`tree/sub dir/deep/${UNICODE}`)?.mode, 0o600)
  t.equal(after.get('tree/sub dir/run.sh')?.mode, 0o755)
  t.equal(after.get('tree/sub dir/deep')?.mode, 0o750)
  const files = [...before.values()].filter(n => n.type === 'file')
  const bytes = files.reduce((sum, n) => sum + n.size, 0)
  const want = { files: files.length, directories: before.size - files.length, bytes, resumed: 0 }
  t.same(summaryOf(send.stderr, 'sent'), want, 'sender summary: files, directories, bytes')
  t.same(summaryOf(recv.stderr, 'received'), want, 'receiver summary: files, directories, bytes')
})

t.test('SPEC 8.5.1: recv FILE refuses a 2-entry transfer before any content, nothing written; both exit 2 (ERR_USAGE)', async t => {
  const src = join(dir, 'src2')
  const out = join(dir, 'out2')
  mkdirSync(src)
  mkdirSync(out)
  writeFileSync(join(src, 'a.txt'), 'aaa')
  writeFileSync(join(src, 'b.txt'), 'bbb')
  const { send, recv } = await cliTransfer(t, keys, [join(out, 'one.out')], [join(src, 'a.txt'), join(src, 'b.txt')])
  t.equal(recv.code, 2, recv.stderr)
  t.equal(send.code, 2, send.stderr)
  t.match(recv.stderr, /takes exactly one file.*\(ERR_USAGE\)/)
  t.match(send.stderr, /nothing was written.*\(ERR_USAGE\)/)
  t.same(readdirSync(out), [], 'no file, no temporary file')
})

t.test('SPEC 8.5: recv - writes one file to stdout; reported delivered, not durable', async t => {
  const src = join(dir, 'one.bin')
  const data = randomBytes(200 * 1024 + 5)
  writeFileSync(src, data)
  const { send, recv } = await cliTransfer(t, keys, ['-'], [src])
  t.equal(send.code, 0, send.stderr)
  t.equal(recv.code, 0, recv.stderr)
  t.equal(recv.stdout.length, data.length)
  t.equal(sha256(recv.stdout), sha256(data))
  t.match(send.stderr, /delivered to the receiver's output .*not durable/)
  t.equal(summaryOf(send.stderr, 'sent')?.bytes, data.length)
})

/** A tree with a link to /etc/passwd and one to a file outside, both absolute. */
function treeWithLinks(root: string, outside: string): string {
  const tree = join(root, 'links')
  mkdirSync(tree, { recursive: true })
  writeFileSync(join(tree, 'plain.txt'), 'plain')
  symlinkSync('/etc/passwd', join(tree, 'passwd'))
  symlinkSync(outside, join(tree, 'victim'))
  symlinkSync('plain.txt', join(tree, 'relative'))
  return tree
}

t.test('SPEC 8.1: symbolic links inside a tree are skipped with a warning by default', async t => {
  const src = join(dir, 'src4')
  const out = join(dir, 'out4')
  mkdirSync(src)
  mkdirSync(out)
  const tree = treeWithLinks(src, join(dir, 'victim4.txt'))
  const { send, recv } = await cliTransfer(t, keys, [out], [tree])
  t.equal(send.code, 0, send.stderr)
  t.equal(recv.code, 0, recv.stderr)
  for (const name of ['passwd', 'victim', 'relative']) t.match(send.stderr, new RegExp(`warning: skipping \\S*links/${name}: a symbolic link`), `warns about ${name}`)
  t.same([...(await snapshot(out)).keys()].sort(), ['links', 'links/plain.txt'])
  t.same(summaryOf(send.stderr, 'sent'), { files: 1, directories: 1, bytes: 5, resumed: 0 })
})

t.test('SPEC 8.1, 8.7: with --links, links arrive as links and are never followed', async t => {
  const src = join(dir, 'src5')
  const out = join(dir, 'out5')
  mkdirSync(src)
  mkdirSync(out)
  const victim = join(dir, 'victim5.txt')
  writeFileSync(victim, 'do not touch')
  chmodSync(victim, 0o600)
  setMtimeMs(victim, T)
  const passwd = { sha: await sha256File('/etc/passwd'), st: statSync('/etc/passwd') }
  const tree = treeWithLinks(src, victim)
  const { send, recv } = await cliTransfer(t, keys, [out], ['--links', tree])
  t.equal(send.code, 0, send.stderr)
  t.equal(recv.code, 0, recv.stderr)
  t.notMatch(send.stderr, /warning/)
  const got = await snapshot(out)
  t.match(got.get('links/passwd'), { type: 'symlink', target: '/etc/passwd' })
  t.match(got.get('links/victim'), { type: 'symlink', target: victim })
  t.match(got.get('links/relative'), { type: 'symlink', target: 'plain.txt' })
  t.equal(readFileSync(victim, 'utf8'), 'do not touch', 'the link target outside is untouched')
  t.equal(statSync(victim).mode & 0o7777, 0o600)
  t.equal(Math.trunc(statSync(victim).mtimeMs), T)
  t.equal(await sha256File('/etc/passwd'), passwd.sha)
  const now = statSync('/etc/passwd')
  t.equal(now.mode, passwd.st.mode, '/etc/passwd mode untouched')
  t.equal(now.mtimeMs, passwd.st.mtimeMs, '/etc/passwd mtime untouched')
  t.equal(summaryOf(send.stderr, 'sent')?.files, 4, 'plain.txt and three links')
  t.ok(existsSync(join(out, 'links', 'plain.txt')))
})
