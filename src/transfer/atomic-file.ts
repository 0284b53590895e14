/**
 * A file that appears under its name only when complete (SPEC 8.7): bytes go to a temporary
 * file created 0600 with O_EXCL|O_NOFOLLOW in the final directory; `finish` fsyncs it and gives
 * it its mode and mtime; `place` renames it into place (a no-clobber link without `force`).
 * On failure the temporary file is removed, also on process exit, unless it is a resumable
 * partial file (SPEC 8.6), which is kept for the next run.
 *
 * @example const f = await AtomicFile.create('dir/a.txt', { force: false }); await f.write([buf]); await f.finish(0o644, mtimeMs); await f.place()
 */
import { randomBytes } from 'node:crypto'
import { constants, unlinkSync, type Stats } from 'node:fs'
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { IoError, UsageError } from '../errors.js'
import { ioError } from '../errno.js'

/** Temporary files alive in this process; removed on exit whatever the reason (signals exit through here). */
const pending = new Set<string>()
process.on('exit', () => {
  for (const path of pending) try { unlinkSync(path) } catch { /* already gone */ }
})

/** Start writing dirty pages back this often, so the fsync before the rename has little left to do. */
const WRITEBACK_EVERY = 64 * 1024 * 1024
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
const REOPEN = constants.O_WRONLY | constants.O_NOFOLLOW

/** Where temporary file names come from: 48 random bits each; a test fixes it to mount a race on a known name (issue 17 section 7). */
export const tempNames = { next: (): string => randomBytes(6).toString('hex') }

/** `.NAME.ID.partial` beside `path`, NAME shortened so the whole stays within 255 bytes (SPEC 8.6). */
export function partialPath(path: string, id: string): string {
  let name = basename(path)
  while (Buffer.byteLength(name) > 200) name = Array.from(name).slice(0, -1).join('')
  return join(dirname(path), `.${name}.${id}.partial`)
}

export interface AtomicFileOptions {
  /** Replace an existing file at `path` (never following it if it is a link). */
  force: boolean
  /** SPEC 8.6: write into this resumable partial file, kept on failure, continuing at `resumeAt`. */
  resumeId?: string
  /** Bytes of the partial file to keep (an accepted offer); 0 starts over. */
  resumeAt?: number
}

export class AtomicFile {
  #done = false
  #written = 0
  #sinceSync = 0
  #writeback: Promise<void> = Promise.resolve()

  private constructor(readonly path: string, readonly tempPath: string, private readonly fh: FileHandle, private readonly force: boolean, private readonly keep: boolean) {}

  /** Create the temporary (or open the resumable partial) file next to `path`. Throws IoError. */
  static async create(path: string, opts: AtomicFileOptions): Promise<AtomicFile> {
    let keep = opts.resumeId !== undefined
    if (keep && partialsInUse.has(partialPath(path, opts.resumeId!))) {
      if ((opts.resumeAt ?? 0) > 0) throw new IoError(`the partial file of ${path} is in use by another transfer`)
      keep = false // another transfer is writing it: this one is not resumable
    }
    const tempPath = keep ? partialPath(path, opts.resumeId!) : partialPath(path, tempNames.next())
    if (keep) partialsInUse.add(tempPath)
    else pending.add(tempPath)
    try {
      const fh = keep && (opts.resumeAt ?? 0) > 0 ? await reopenPartial(tempPath, opts.resumeAt!) : await createFresh(tempPath, keep)
      const file = new AtomicFile(path, tempPath, fh, opts.force, keep)
      file.#written = keep ? opts.resumeAt ?? 0 : 0
      return file
    } catch (err) {
      pending.delete(tempPath)
      partialsInUse.delete(tempPath)
      throw ioError(err, `cannot create a temporary file next to ${path}`)
    }
  }

  /** Append `buffers` (one writev unless the kernel takes less); a background datasync every 64 MiB. */
  async write(buffers: Buffer[]): Promise<void> {
    let total = 0
    for (const b of buffers) total += b.length
    try {
      let { bytesWritten } = await this.fh.writev(buffers, this.#written)
      while (bytesWritten < total) {
        const rest = Buffer.concat(buffers).subarray(bytesWritten)
        bytesWritten += (await this.fh.write(rest, 0, rest.length, this.#written + bytesWritten)).bytesWritten
      }
    } catch (err) {
      throw ioError(err, `cannot write ${this.path}`)
    }
    this.#written += total
    this.#sinceSync += total
    if (this.#sinceSync >= WRITEBACK_EVERY) {
      this.#sinceSync = 0
      this.#writeback = this.#writeback.then(() => this.fh.datasync())
      this.#writeback.catch(() => {}) // surfaces in finish
    }
  }

  /** After the last byte: fsync, then mode and mtime, then close (SPEC 8.7). */
  async finish(mode: number, mtimeMs: number): Promise<void> {
    try {
      await this.#writeback
      await this.fh.sync()
      await this.fh.chmod(mode & 0o777)
      await this.fh.utimes(utimeArg(mtimeMs), utimeArg(mtimeMs))
      await this.fh.close()
    } catch (err) {
      throw ioError(err, `cannot flush ${this.path} to disk`)
    }
  }

  /** Rename into place; without --force a no-clobber link refuses a file that exists (or appeared). */
  async place(): Promise<void> {
    try {
      if (this.force) await rename(this.tempPath, this.path)
      else await this.#linkNoClobber()
      this.#done = true
      pending.delete(this.tempPath)
      partialsInUse.delete(this.tempPath)
    } catch (err) {
      this.abort()
      throw err instanceof UsageError || err instanceof IoError ? err : ioError(err, `cannot move the received data into ${this.path}`)
    }
  }

  async #linkNoClobber(): Promise<void> {
    try {
      await link(this.tempPath, this.path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw new UsageError(`${this.path} appeared during the transfer; it was left untouched and the data discarded (recv --force replaces it)`)
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
      if (await lstat(this.path).then(() => true, () => false)) throw new UsageError(`${this.path} appeared during the transfer; it was left untouched (recv --force replaces it)`)
      return rename(this.tempPath, this.path) // file systems without hard links
    }
    await unlink(this.tempPath)
  }

  /**
   * Discard the partial output (a resumable partial file is kept, unless `discard`: it was
   * created somewhere it must not stay); synchronous, so it also works on the way out of a signal.
   */
  abort(discard = false): void {
    if (this.#done) return
    this.#done = true
    this.fh.close().catch(() => {})
    partialsInUse.delete(this.tempPath)
    if (this.keep && !discard) return
    try { unlinkSync(this.tempPath) } catch { /* already gone */ }
    pending.delete(this.tempPath)
  }
}

async function createFresh(tempPath: string, replacePartial: boolean): Promise<FileHandle> {
  if (replacePartial) await unlink(tempPath).catch(() => {}) // a refused or stale partial starts over
  return open(tempPath, CREATE, 0o600)
}

/** An accepted partial file: a regular file we own, cut to the accepted length. */
async function reopenPartial(tempPath: string, keep: number): Promise<FileHandle> {
  const fh = await open(tempPath, REOPEN)
  try {
    const st = await fh.stat()
    if (!ownPartial(st) || st.size < keep) throw new IoError(`${tempPath} changed while the transfer was being planned`)
    await fh.truncate(keep)
    return fh
  } catch (err) {
    await fh.close()
    throw err
  }
}

/**
 * `utimes` seconds that land on exactly `mtimeMs` whole milliseconds (SPEC 8.1). `mtimeMs / 1000`
 * is a double slightly below the millisecond about half the time, and libuv truncates it to
 * microseconds, so the file would read back one millisecond early (and a resume would not find
 * it complete, SPEC 8.6). Half a microsecond more is above that rounding error (under 0.3 us for
 * dates before the year 2100) and far below the next millisecond.
 */
export function utimeSeconds(mtimeMs: number): number {
  return (mtimeMs + 0.0005) / 1000
}

/** What to pass to `utimes`: Node turns a negative number into "now", so a date before 1970 goes as a Date. */
export function utimeArg(mtimeMs: number): number | Date {
  return mtimeMs < 0 ? new Date(mtimeMs) : utimeSeconds(mtimeMs)
}

/** The receiver's umask, applied to every mode a sender asks for, as scp and tar do for a non-root user. */
export const UMASK = process.umask()

/**
 * Resumable partial files in use by a transfer of this process (a `--keep-open` server runs
 * several): another transfer neither offers nor writes one that is in use (issue 9 review).
 */
export const partialsInUse = new Set<string>()

/**
 * `.NAME.ID.done` beside `path` (SPEC 8.6): the receiver's note that the resume identity ID (the
 * sender's key, name, size and mtime) wrote the file or link now at `path`, naming its device and
 * inode. Only the key that wrote a complete file is offered it as complete (issue 17, F5).
 */
export function writtenPath(path: string, id: string): string {
  return partialPath(path, id).replace(/\.partial$/, '.done')
}

/** Note that resume identity `id` wrote `path` (what is at `of`: `path` once placed, or the temporary file about to be renamed there). Best effort: without the note, a resume only sends the file again or is refused as existing. */
export async function noteWritten(path: string, id: string, of: string = path): Promise<void> {
  const note = writtenPath(path, id)
  try {
    const st = await lstat(of)
    await unlink(note).catch(() => {})
    const fh = await open(note, CREATE, 0o600)
    try { await fh.writeFile(`${st.dev} ${st.ino}\n`) } finally { await fh.close() }
  } catch { /* see above */ }
}

/** Whether `st` (what is at `path` now, not followed) is the file or link resume identity `id` wrote (noteWritten). */
export async function wroteIt(path: string, st: Stats, id: string): Promise<boolean> {
  const fh = await open(writtenPath(path, id), constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined)
  if (fh === undefined) return false
  try {
    const nst = await fh.stat()
    if (!ownPartial(nst) || nst.size > 64) return false
    return (await fh.readFile('latin1')) === `${st.dev} ${st.ino}\n`
  } finally {
    await fh.close()
  }
}

/** A partial file this process may resume: a regular file, ours, with no other links. */
export function ownPartial(st: Stats): boolean {
  return st.isFile() && st.nlink === 1 && (process.getuid === undefined || st.uid === process.getuid())
}

/** fsync a directory, so renames into it survive a crash; platforms that cannot are skipped. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined)
  if (!fh) return
  try { await fh.sync() } catch { /* EINVAL on file systems without directory fsync */ } finally { await fh.close() }
}
