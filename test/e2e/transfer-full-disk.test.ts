/**
 * issue 9, SPEC 8.5, 8.5.1: a full disk ends the transfer with a clear error on both sides; the
 * receipt says which entries are durable (those before the failing one), which failed and why;
 * no partial file is left. Needs root to mount a small tmpfs (skipped otherwise, with the reason).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitForListening, writeRandomFile } from '../helpers/cli.js'

const dir = tempDir(t)
const keys = makeKeys(dir)

/** Mount a 2 MiB tmpfs on `where`; returns why not, or null when mounted (unmounted at teardown). */
function smallDisk(where: string): string | null {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root'
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', where], { stdio: 'pipe' })
  } catch (err) {
    return `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`
  }
  t.teardown(() => { try { execFileSync('umount', [where], { stdio: 'pipe' }) } catch { /* already gone */ } })
  return null
}

const disk = join(dir, 'disk')
mkdirSync(disk)
const why = smallDisk(disk)

t.test('SPEC 8.5.1: the second of three files does not fit: the first is durable, the sender exits 2 naming the file and the reason, nothing partial remains', { skip: why ?? false }, async t => {
  const src = join(dir, 'src')
  mkdirSync(src)
  await writeRandomFile(join(src, 'a-small.bin'), 100_000)
  await writeRandomFile(join(src, 'b-large.bin'), 4 * 1024 * 1024)
  await writeRandomFile(join(src, 'c-small.bin'), 100_000)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), disk])
  const paths = ['a-small.bin', 'b-large.bin', 'c-small.bin'].map(n => join(src, n))
  const send = spawnCli(t, ['send', ...connectArgs(keys, await waitForListening(recv)), ...paths])
  const [s, r] = await Promise.all([send.done, recv.done])
  t.equal(r.code, 2, r.stderr)
  t.match(r.stderr, /cannot write .*b-large\.bin: no space left on the device \(ERR_IO\)\n$/)
  t.equal(s.code, 2, s.stderr)
  t.match(s.stderr, /^secure-pipe: the receiver failed "b-large\.bin": cannot write .*b-large\.bin: no space left on the device; 1 of 3 entries are durable there, the rest were not written \(ERR_IO\)\n$/m)
  // The note that this sender wrote a-small.bin stays, for a resume (SPEC 8.6); a failing disk keeps no partial file.
  t.same(readdirSync(disk).filter(n => !/^\.a-small\.bin\.[0-9a-f]{16}\.done$/.test(n)), ['a-small.bin'], 'only the complete first file; no temporary or partial file')
  t.ok(readFileSync(join(disk, 'a-small.bin')).equals(readFileSync(paths[0]!)), 'and it is intact')
})
