/**
 * The sending side's list of entries (SPEC 8.1) from command-line paths: each file, and each
 * directory recursively, under its last component (as `scp -r` and `tar` name them). Symbolic
 * links inside a tree are skipped with a warning unless `links` is set; FIFOs, sockets and
 * devices inside a tree are always skipped. A path named on the command line is followed if
 * it is a link, as `scp` does.
 *
 * @example const entries = await listSources(['a.txt', 'photos/'], { links: false, warn: console.error })
 */
import { lstat, readdir, readlink, stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { UsageError } from '../errors.js'
import { ioError } from '../errno.js'
import { MAX_ENTRIES, MAX_NAME_BYTES, type Entry } from './entry.js'
import { nameProblem, showName } from './safe-path.js'

/** An entry and where its content comes from: a local file, a link target, or a stream. */
export interface SourceEntry extends Entry {
  /** Local path of a file or directory entry. */
  path?: string
  /** A symlink entry's target. */
  target?: Buffer
  /** A stream entry's content (stdin). */
  stream?: Readable
  /** Device and inode when listed: reading checks that the file is still the same (issue 9 review). */
  dev?: number
  ino?: number
}

/** Options of `listSources`. */
export interface ListOptions {
  /** Send symbolic links inside directories as links (SPEC 8.1 type 3) instead of skipping them. */
  links?: boolean
  /** Told about every skipped path. */
  warn?: (message: string) => void
}

/** One nameless stream entry (SPEC 8.1 type 4), for stdin. */
export function streamSource(stream: Readable): SourceEntry {
  return { type: 'stream', name: '', mode: 0o644, mtimeMs: Date.now(), size: 0, stream }
}

/** Walk `paths` into entries, parents before children, names sorted within a directory. Throws UsageError / IoError. */
export async function listSources(paths: readonly string[], opts: ListOptions = {}): Promise<SourceEntry[]> {
  const out: SourceEntry[] = []
  const seen = new Set<string>()
  for (const path of paths) {
    const name = basename(resolve(path))
    if (name === '' || nameProblem(name) !== null) throw new UsageError(`cannot send ${path} under a name of its own; name the files inside it instead`)
    if (seen.has(name)) throw new UsageError(`two arguments would arrive under the same name ${showName(name)}; send them separately or rename one`)
    seen.add(name)
    const st = await stat(path).catch(err => { throw ioError(err, `cannot read ${path}`) })
    if (st.isDirectory()) await walk(path, name, st, out, opts)
    else if (st.isFile()) out.push(fileEntry(path, name, st))
    else throw new UsageError(`${path} is not a regular file or directory; send a device or FIFO as a stream: secure-pipe send - < ${path}`)
  }
  return out
}

function fileEntry(path: string, name: string, st: Stats): SourceEntry {
  return { type: 'file', name, mode: st.mode & 0o777, mtimeMs: Math.trunc(st.mtimeMs), size: st.size, path, dev: st.dev, ino: st.ino }
}

async function walk(root: string, rootName: string, rootStat: Stats, out: SourceEntry[], opts: ListOptions): Promise<void> {
  const stack: Array<{ path: string, name: string, st: Stats }> = [{ path: root, name: rootName, st: rootStat }]
  while (stack.length > 0) {
    const dir = stack.pop()!
    push(out, { type: 'directory', name: dir.name, mode: dir.st.mode & 0o777, mtimeMs: Math.trunc(dir.st.mtimeMs), size: 0, path: dir.path })
    const names = (await readdir(dir.path).catch(err => { throw ioError(err, `cannot list directory ${dir.path}`) })).sort()
    const subdirs: Array<{ path: string, name: string, st: Stats }> = []
    for (const child of names) {
      const path = join(dir.path, child)
      const name = `${dir.name}/${child}`
      if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new UsageError(`${path}: its name would be longer than ${MAX_NAME_BYTES} bytes (SPEC 8.2)`)
      const st = await lstat(path).catch(err => { throw ioError(err, `cannot read ${path}`) })
      if (st.isDirectory()) subdirs.push({ path, name, st })
      else if (st.isFile()) push(out, fileEntry(path, name, st))
      else if (st.isSymbolicLink() && opts.links) {
        const target = Buffer.from(await readlink(path).catch(err => { throw ioError(err, `cannot read link ${path}`) }), 'utf8')
        push(out, { type: 'symlink', name, mode: 0o777, mtimeMs: Math.trunc(st.mtimeMs), size: target.length, target })
      } else opts.warn?.(`secure-pipe: warning: skipping ${path}: ${st.isSymbolicLink() ? 'a symbolic link (send links with --links)' : 'not a regular file or directory'}`)
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!) // depth first, in name order
  }
}

function push(out: SourceEntry[], entry: SourceEntry): void {
  if (out.length >= MAX_ENTRIES) throw new UsageError(`more than ${MAX_ENTRIES} entries (SPEC 8.2); send the tree as one stream instead: tar c DIR | secure-pipe send -`)
  out.push(entry)
}
