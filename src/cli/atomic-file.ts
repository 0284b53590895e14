/**
 * Atomic output for `recv FILE` (issue 3): bytes go to a temporary file in the destination's
 * directory; after the authenticated end it is fsynced and renamed into place, then the
 * directory is fsynced. On any failure, signal or process exit the temporary file is removed,
 * so FILE is either absent, untouched, or complete.
 *
 * @example const out = await AtomicFile.create('out.bin', { force: false }); await pipeline(src, out.sink); await out.commit()
 */
import { randomBytes } from 'node:crypto'
import { unlinkSync } from 'node:fs'
import { access, constants, link, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { errnoSentence } from './errno.js'
import { IoError, UsageError } from '../index.js'

/** Temporary files alive in this process; removed on exit whatever the reason (signals exit through here). */
const pending = new Set<string>()
process.on('exit', () => {
  for (const path of pending) try { unlinkSync(path) } catch { /* already gone */ }
})

/** Fail early, before listening: FILE must be writable and absent unless `force`. */
export async function checkDestination(path: string, force: boolean): Promise<void> {
  const existing = await stat(path).catch(() => undefined)
  if (await isDevice(path)) return
  if (existing?.isDirectory()) throw new UsageError(`${path} is a directory; name a file, or use --output-dir`)
  if (existing && !force) throw new UsageError(`${path} already exists; pass --force to replace it (it is replaced only after a complete transfer)`)
  const dir = dirname(path)
  await access(dir, constants.W_OK).catch(err => { throw ioError(err, `cannot write into directory ${dir}`) })
}

/**
 * A character device, FIFO or socket (`/dev/null`, a named pipe): written in place like stdout.
 * Renaming a file onto it would replace the device itself.
 */
export async function isDevice(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined)
  return st !== undefined && !st.isFile() && !st.isDirectory()
}

export function ioError(err: unknown, what: string): IoError {
  return new IoError(`${what}: ${errnoSentence(err)}`, { cause: err })
}

export class AtomicFile {
  readonly sink: Writable
  #done = false

  private constructor(readonly path: string, readonly tempPath: string, private readonly fh: FileHandle, private readonly force: boolean) {
    this.sink = new FileSink(fh, path)
  }

  static async create(path: string, opts: { force: boolean }): Promise<AtomicFile> {
    const tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`)
    pending.add(tempPath)
    try {
      const fh = await open(tempPath, 'wx', 0o666)
      return new AtomicFile(path, tempPath, fh, opts.force)
    } catch (err) {
      pending.delete(tempPath)
      throw ioError(err, `cannot create a temporary file next to ${path}`)
    }
  }

  /** After `sink` finished (its _final fsynced): close, rename into place, fsync the directory. */
  async commit(): Promise<void> {
    try {
      await this.fh.close()
      await this.#place()
      this.#done = true
      pending.delete(this.tempPath)
      await syncDirectory(dirname(this.path))
    } catch (err) {
      this.abort()
      throw err instanceof UsageError ? err : ioError(err, `cannot move the received data into ${this.path}`)
    }
  }

  /** Without --force, link() refuses to replace a FILE that appeared during the transfer. */
  async #place(): Promise<void> {
    if (this.force) return rename(this.tempPath, this.path)
    try {
      await link(this.tempPath, this.path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw new UsageError(`${this.path} appeared during the transfer; it was left untouched and the data discarded (use --force to replace)`)
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
      return rename(this.tempPath, this.path) // file systems without hard links
    }
    await unlink(this.tempPath)
  }

  /** Discard the partial output; synchronous so that it also works on the way out of a signal. */
  abort(): void {
    if (this.#done) return
    this.#done = true
    this.sink.destroy()
    this.fh.close().catch(() => {})
    try { unlinkSync(this.tempPath) } catch { /* already gone */ }
    pending.delete(this.tempPath)
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined) // some platforms cannot open directories
  if (!fh) return
  try { await fh.sync() } catch { /* EINVAL on file systems without directory fsync */ } finally { await fh.close() }
}

/** Start writing dirty pages back this often, so the fsync before the rename has little left to do. */
const WRITEBACK_EVERY = 64 * 1024 * 1024

/** Writes every byte to the handle; `_final` fsyncs before the rename (issue 3). */
class FileSink extends Writable {
  #sinceSync = 0
  #writeback: Promise<void> = Promise.resolve()

  constructor(private readonly fh: FileHandle, private readonly dest: string) {
    super({ highWaterMark: 1024 * 1024 })
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#write([chunk], cb)
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.#write(chunks.map(c => c.chunk), cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#writeback.then(() => this.fh.sync()).then(() => cb(), err => cb(ioError(err, `cannot flush ${this.dest} to disk`)))
  }

  #write(buffers: Buffer[], cb: (err?: Error | null) => void): void {
    writeAll(this.fh, buffers).then(written => {
      this.#sinceSync += written
      // Background writeback overlaps the disk with the network; its errors surface in _final.
      if (this.#sinceSync >= WRITEBACK_EVERY) {
        this.#sinceSync = 0
        const previous = this.#writeback
        this.#writeback = previous.then(() => this.fh.datasync())
        this.#writeback.catch(() => {})
      }
      cb()
    }, err => cb(ioError(err, `cannot write ${this.dest}`)))
  }
}

/** Write all of `buffers` (one writev call unless the kernel takes less). */
async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<number> {
  let total = 0
  for (const b of buffers) total += b.length
  let { bytesWritten } = await fh.writev(buffers)
  while (bytesWritten < total) {
    const rest = Buffer.concat(buffers).subarray(bytesWritten)
    bytesWritten += (await fh.write(rest)).bytesWritten
  }
  return total
}
