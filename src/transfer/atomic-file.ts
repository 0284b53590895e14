/**
 * A file that appears under its name only when complete (SPEC 8.7): bytes go to a temporary
 * file created 0600 with O_EXCL|O_NOFOLLOW in the final directory; `finish` fsyncs it and gives
 * it its mode and mtime; `place` renames it into place (a no-clobber link without `force`).
 * On failure the temporary file is removed, also on process exit, unless it is a resumable
 * partial file (SPEC 8.6), which is kept for the next run.
 *
 * Only the data writes and the fsyncs go to libuv's thread pool; the metadata calls (open,
 * chmod, utimes, stat, close, link, unlink: a few microseconds each on a local disk) are made
 * synchronously. Through the pool, each costs a thread hand-off both ways, and on 2 cores the
 * hand-offs of a tree of small files, about a dozen per file, cost more than the files
 * themselves (issue 18: many files, measured in the commit that made this change).
 *
 * @example const f = await AtomicFile.create('dir/a.txt', { force: false }); await f.write([buf]); await f.finish(0o644, mtimeMs); await f.place()
 */
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fchmodSync, fdatasync, fstatSync, fsync, ftruncateSync, futimesSync, linkSync, lstatSync, openSync, readSync, renameSync, unlinkSync, write, writeSync, writev, writevSync, type Stats } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { IoError, UsageError } from '../errors.js'
import { ioError } from '../errno.js'

const writevAsync = promisify(writev)
const writeAsync = promisify(write)
const fsyncAsync = promisify(fsync)
const fdatasyncAsync = promisify(fdatasync)

/** Temporary files alive in this process; removed on exit whatever the reason (signals exit through here). */
const pending = new Set<string>()
/** Notes in their link form (NoteOptions) not yet removed or turned into text; turned into text on exit, so none outlives the process as a hidden second name. */
const linkNotes = new Set<string>()
process.on('exit', () => {
  for (const path of pending) try { unlinkSync(path) } catch { /* already gone */ }
  for (const note of linkNotes) keepNote(note)
})

/** Start writing dirty pages back this often, so the fsync before the rename has little left to do. */
const WRITEBACK_EVERY = 64 * 1024 * 1024
/** Writes up to this size are made synchronously (AtomicFile#write). */
const SYNC_WRITE = 64 * 1024
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

/**
 * How `finish` notes which resume identity wrote a file (SPEC 8.6). A note that outlives the
 * transfer (`kept`: the sender set flag bit 0) is a small file naming the file's device and
 * inode. Without flag bit 0 a complete transfer removes its notes, so while it runs a note is a
 * second hard link to the file itself: the same device and inode, with no inode of its own to
 * allocate, write and free (issue 18: many files). `keepNote` turns it into the text form if
 * the transfer fails or the process exits.
 */
export interface NoteOptions { id: string, kept: boolean }

export class AtomicFile {
  #done = false
  /** The descriptor, until `finish` or `abort` closes it. */
  #fd: number | undefined
  /** The note `finish` wrote, removed again if the file is never placed. */
  #note: string | undefined
  #written = 0
  #sinceSync = 0
  #writeback: Promise<void> = Promise.resolve()

  private constructor(readonly path: string, readonly tempPath: string, fd: number, private readonly force: boolean, private readonly keep: boolean) {
    this.#fd = fd
  }

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
      const fd = keep && (opts.resumeAt ?? 0) > 0 ? reopenPartial(tempPath, opts.resumeAt!) : createFresh(tempPath, keep)
      const file = new AtomicFile(path, tempPath, fd, opts.force, keep)
      file.#written = keep ? opts.resumeAt ?? 0 : 0
      return file
    } catch (err) {
      pending.delete(tempPath)
      partialsInUse.delete(tempPath)
      throw ioError(err, `cannot create a temporary file next to ${path}`)
    }
  }

  /**
   * Append `buffers` (one writev unless the kernel takes less); a background datasync every 64
   * MiB. At most SYNC_WRITE bytes (a small file whole) are written synchronously: a copy into
   * the page cache costs less than the thread hand-off.
   */
  async write(buffers: Buffer[]): Promise<void> {
    const fd = this.#open()
    let total = 0
    for (const b of buffers) total += b.length
    try {
      let bytesWritten = total <= SYNC_WRITE ? writevSync(fd, buffers, this.#written) : (await writevAsync(fd, buffers, this.#written)).bytesWritten
      const rest = bytesWritten < total ? Buffer.concat(buffers) : undefined
      while (rest !== undefined && bytesWritten < total) bytesWritten += (await writeAsync(fd, rest, bytesWritten, total - bytesWritten, this.#written + bytesWritten)).bytesWritten
    } catch (err) {
      throw ioError(err, `cannot write ${this.path}`)
    }
    this.#written += total
    this.#sinceSync += total
    if (this.#sinceSync >= WRITEBACK_EVERY) {
      this.#sinceSync = 0
      this.#writeback = this.#writeback.then(() => fdatasyncAsync(fd))
      this.#writeback.catch(() => {}) // surfaces in finish
    }
  }

  /**
   * After the last byte: mode and mtime, then fsync, then close (SPEC 8.7). With `noteId`, then
   * the note that this resume identity wrote the file (SPEC 8.6), naming the inode the rename
   * keeps, so that `place` has only the rename left: the places run one after another, the
   * finishes side by side (issue 18: many files).
   */
  async finish(mode: number, mtimeMs: number, note?: NoteOptions): Promise<void> {
    let st: Stats
    try {
      const fd = this.#open()
      await this.#writeback
      fchmodSync(fd, mode & 0o777) // before the fsync, so that they are durable with the data
      futimesSync(fd, utimeArg(mtimeMs), utimeArg(mtimeMs))
      await fsyncAsync(fd)
      if (this.#done) return // aborted while the fsync ran: abort closed the descriptor
      st = fstatSync(fd)
      this.#fd = undefined
      closeSync(fd)
    } catch (err) {
      throw ioError(err, `cannot flush ${this.path} to disk`)
    }
    if (note === undefined) return
    this.#note = writtenPath(this.path, note.id)
    if (note.kept) writeNote(this.#note, st)
    else linkNote(this.tempPath, this.#note)
  }

  /** Rename into place; without --force a no-clobber link refuses a file that exists (or appeared). */
  async place(): Promise<void> {
    try {
      if (this.force) renameSync(this.tempPath, this.path)
      else this.#linkNoClobber()
      this.#done = true
      pending.delete(this.tempPath)
      partialsInUse.delete(this.tempPath)
    } catch (err) {
      this.abort()
      throw err instanceof UsageError || err instanceof IoError ? err : ioError(err, `cannot move the received data into ${this.path}`)
    }
  }

  #open(): number {
    if (this.#fd === undefined) throw new IoError(`${this.path} was already closed`)
    return this.#fd
  }

  #linkNoClobber(): void {
    try {
      linkSync(this.tempPath, this.path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw new UsageError(`${this.path} appeared during the transfer; it was left untouched and the data discarded (recv --force replaces it)`)
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
      if (exists(this.path)) throw new UsageError(`${this.path} appeared during the transfer; it was left untouched (recv --force replaces it)`)
      renameSync(this.tempPath, this.path) // file systems without hard links
      return
    }
    unlinkSync(this.tempPath)
  }

  /**
   * Discard the partial output (a resumable partial file is kept, unless `discard`: it was
   * created somewhere it must not stay); synchronous, so it also works on the way out of a signal.
   */
  abort(discard = false): void {
    if (this.#done) return
    this.#done = true
    if (this.#fd !== undefined) try { closeSync(this.#fd) } catch { /* already closed */ }
    this.#fd = undefined
    partialsInUse.delete(this.tempPath)
    if (this.#note !== undefined) dropNote(this.#note)
    if (this.keep && !discard) return
    try { unlinkSync(this.tempPath) } catch { /* already gone */ }
    pending.delete(this.tempPath)
  }
}

function exists(path: string): boolean {
  try { lstatSync(path); return true } catch { return false }
}

function createFresh(tempPath: string, replacePartial: boolean): number {
  if (replacePartial) try { unlinkSync(tempPath) } catch { /* a refused or stale partial starts over */ }
  return openSync(tempPath, CREATE, 0o600)
}

/** An accepted partial file: a regular file we own, cut to the accepted length. */
function reopenPartial(tempPath: string, keep: number): number {
  const fd = openSync(tempPath, REOPEN)
  try {
    const st = fstatSync(fd)
    if (!ownPartial(st) || st.size < keep) throw new IoError(`${tempPath} changed while the transfer was being planned`)
    ftruncateSync(fd, keep)
    return fd
  } catch (err) {
    closeSync(fd)
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

/** Note that resume identity `id` wrote what is at `path` now (a link just created). Best effort: without the note, a resume only sends the link again or is refused as existing. */
export function noteWritten(path: string, id: string): void {
  let st: Stats
  try { st = lstatSync(path) } catch { return }
  writeNote(writtenPath(path, id), st)
}

/** Write `note` naming `st`'s device and inode: created 0600 and O_EXCL, so an old note (or anything planted under its name) is replaced, never written through. Best effort. */
function writeNote(note: string, st: Stats): void {
  let fd: number
  try {
    try {
      fd = openSync(note, CREATE, 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return
      unlinkSync(note)
      fd = openSync(note, CREATE, 0o600)
    }
  } catch { return }
  try { writeSync(fd, `${st.dev} ${st.ino}\n`) } catch { /* see noteWritten */ } finally { closeSync(fd) }
}

/** `note` in its link form (`linkNote`) made into a second name of `temp`, the file it notes; replaces an older note. Best effort. */
function linkNote(temp: string, note: string): void {
  try {
    try {
      linkSync(temp, note)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return
      unlinkSync(note)
      linkSync(temp, note)
    }
    linkNotes.add(note)
  } catch { /* see noteWritten */ }
}

/** Remove a note (a complete transfer without flag bit 0, or a file never placed). */
export function dropNote(note: string): void {
  linkNotes.delete(note)
  try { unlinkSync(note) } catch { /* none was written */ }
}

/** Turn a note in its link form into the text form, so it does not keep its file's data alive on its own (a failed transfer, the process's exit). */
export function keepNote(note: string): void {
  if (!linkNotes.delete(note)) return
  try {
    const st = lstatSync(note)
    if (!st.isFile()) return
    unlinkSync(note)
    writeNote(note, st)
  } catch { /* see noteWritten */ }
}

/** Whether `st` (what is at `path` now, not followed) is the file or link resume identity `id` wrote: its note names it, or is it (a link note left by a receiver that was killed, turned into text here). */
export function wroteIt(path: string, st: Stats, id: string): boolean {
  const note = writtenPath(path, id)
  let fd: number
  try { fd = openSync(note, constants.O_RDONLY | constants.O_NOFOLLOW) } catch { return false }
  try {
    const nst = fstatSync(fd)
    if (nst.isFile() && st.isFile() && nst.dev === st.dev && nst.ino === st.ino) {
      if (!linkNotes.has(note)) { linkNotes.add(note); keepNote(note) }
      return true
    }
    if (!ownPartial(nst) || nst.size > 64) return false
    const buf = Buffer.alloc(65)
    return buf.toString('latin1', 0, readSync(fd, buf, 0, 65, 0)) === `${st.dev} ${st.ino}\n`
  } catch {
    return false
  } finally {
    closeSync(fd)
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
