/**
 * The receiving side of a transfer (SPEC 8): read the manifest, refuse it or answer Ready (with
 * resume offers), read the plan, write every entry's content as it arrives and commit each entry
 * in order after its own end, then answer with the receipt. The first failure (a refused name, a
 * full disk, an existing file) is reported in the receipt at once, and the rest of the sender's
 * data is discarded for at most `drainMs`.
 *
 * @example const report = await receiveEntries(stream, { kind: 'directory', path: 'inbox' })
 */
import { createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto'
import { constants, type Stats } from 'node:fs'
import { link, lstat, open, readlink, rename, symlink, unlink, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { IoError, ProtocolError, SecurePipeError, TruncatedError, UsageError } from '../errors.js'
import { ioError } from '../errno.js'
import type { SecureStream } from '../session.js'
import { AtomicFile, dropNote, keepNote, noteWritten, type NoteOptions, ownPartial, partialPath, partialsInUse, syncDirectory, tempNames, utimeArg, UMASK, writtenPath, wroteIt } from './atomic-file.js'
import { ByteQueue } from './bytes.js'
import { manifestBudget, type Hold, type ManifestBudget } from './budget.js'
import { ManifestDecoder, type Entry, type Manifest } from './entry.js'
import { OutputDir } from './output-dir.js'
import { encodeReceipt, type Outcome } from './receipt.js'
import { encodeReady, hashPrefix, resumeId, takePlan, ZERO_DIGEST, type Offer, type Step } from './resume.js'
import { checkManifest, showName } from './safe-path.js'

/** Where a transfer goes: a directory (entries under their names), one FILE, or a writable such as stdout (one entry). */
export type Destination =
  | { kind: 'directory', path: string }
  | { kind: 'file', path: string }
  | { kind: 'writable', writable: NodeJS.WritableStream & Writable, name: string }

/** Options of `receiveEntries`. */
export interface ReceiveOptions {
  /** Replace existing files (never following a link). */
  force?: boolean
  /** Honour a sender's resume request (SPEC 8.6); default true. */
  resume?: boolean
  /** The sender's key fingerprint (SPEC 8.6 binds partial files to it); default `stream.peerFingerprint`. */
  senderFingerprint?: string
  /** Name for a nameless stream received into a directory; default `transfer-TIME-RANDOM`. */
  streamName?: () => string
  /** Called once the plan is known: the entries, and the content bytes to come and already held. */
  onPlan?: (plan: { entries: readonly Entry[], bytes: number, resumedBytes: number }) => void
  /** Content bytes received so far. */
  onProgress?: (bytes: number) => void
  /** With it, each file's SHA-256 is computed as it arrives and reported here (`--sha256`). */
  onSha256?: (name: string, hex: string) => void
  /** After a failure receipt, how long the sender's remaining data is read and discarded (SPEC 8.5.1). */
  drainMs?: number
  /** What the manifests of concurrent transfers may hold at once (SPEC 8.2); default the process-wide `manifestBudget`. */
  budget?: ManifestBudget
}

/** What a completed transfer wrote. */
export interface ReceiveReport {
  entries: readonly Entry[]
  files: number
  /** Content bytes received in this run. */
  bytes: number
  /** Content bytes already held from an earlier run (accepted resume offers). */
  resumedBytes: number
  outcome: Outcome
  /** Where the data went: the directory, FILE or the writable's name. */
  where: string
}

/** Refuse early what would be refused after the handshake: an existing FILE without `force`, or a directory (SPEC 8.7). */
export async function checkOutputFile(path: string, force: boolean): Promise<void> {
  const st = await lstat(path).catch(err => (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : Promise.reject(ioError(err, `cannot check ${path}`)))
  if (st === undefined) return
  if (st.isDirectory()) throw new UsageError(`${path} is a directory; name a file, or receive into the directory with --output-dir`)
  if (!force) throw new UsageError(`${path} already exists${st.isFile() ? '' : ` (${kindOf(st)})`}; pass --force to replace it (only after a complete transfer; a FIFO or device is written in place)`)
}

/** Receive one transfer from `stream` into `dest` and answer with the receipt (SPEC 8). Throws SecurePipeErrors. */
export async function receiveEntries(stream: SecureStream, dest: Destination, opts: ReceiveOptions = {}): Promise<ReceiveReport> {
  stream.allowHalfOpen = true // SPEC 8.5: the receipt follows the sender's close record
  const out = dest.kind === 'directory' ? await OutputDir.open(dest.path) : undefined
  const hold = (opts.budget ?? manifestBudget).open()
  const receiver = new Receiver(stream, dest, out, opts, hold)
  try {
    try {
      await pipeline(stream, receiver)
    } catch (err) {
      receiver.abortAll()
      stream.destroy()
      throw receiver.failure ?? receiveError(err, dest)
    }
    await receiver.sent
    if (receiver.failure) {
      stream.destroy()
      throw receiver.failure
    }
    return receiver.report()
  } finally {
    hold.close()
  }
}

/** One entry's place, start and state, decided before the content (SPEC 8.3). */
interface Target {
  entry: Entry
  /** Final path, or '' for a writable. */
  path: string
  start: number
  offer?: Offer
  /** The offer covers an existing complete final file (or an empty one, or a link, SPEC 8.6). */
  complete?: boolean
  /** That final file's SHA-256, never sent: compared with the sender's proof in the plan. */
  own?: Buffer
  hash?: Hash
  /** FILE is a FIFO or device opened here: written in place (SPEC 8.7). */
  device?: FileHandle
}

/** Where the current entry's bytes go. */
interface Sink {
  write(buffers: Buffer[]): Promise<void>
  /** After the entry's last byte: make it durable (fsync, mode, mtime). */
  end(): Promise<void>
  /** Then put it in place; called in manifest order, after the previous entry's place. */
  place?: () => Promise<void>
  /** `discard`: also a resumable partial file (the receiving disk failed, SPEC 8.6). */
  abort(discard?: boolean): void
}

const MAX_COMMITS_IN_FLIGHT = 32
/** Files up to this size are written in the background as a whole (`#smallFileSink`); the bound on memory is MAX_COMMITS_IN_FLIGHT of them. */
const SMALL_FILE = 64 * 1024
const DEFAULT_DRAIN_MS = 10_000
/**
 * What the sender (through the receipt) and the receiver's operator can do about an existing
 * file: only the receiver replaces files, and --resume keeps only a file proven the same (issue 17).
 */
const EXISTS_HINT = '; the receiver replaces existing files only when it allows it (recv --force), after their complete transfer; send --resume skips a file only when it is the one this sender wrote, with the same size, mtime and content'

class Receiver extends Writable {
  failure: SecurePipeError | undefined
  /** Settles once the receipt went out (or could not). */
  sent: Promise<void> = Promise.resolve()
  readonly #decoder: ManifestDecoder
  readonly #q = new ByteQueue()
  #phase: 'manifest' | 'plan' | 'content' | 'failed' = 'manifest'
  #manifest: Manifest | undefined
  #targets: Target[] = []
  #offers: Offer[] = []
  #index = 0
  #remaining = 0
  #sink: Sink | undefined
  #pending: Buffer[] = []
  #received = 0
  #content = 0
  #resumed = 0
  #done = 0
  #chain: Promise<void> = Promise.resolve()
  #inflight: Array<Promise<void>> = []
  readonly #open = new Set<Sink>()
  /** Parent directories already checked before Ready (#checkParents). */
  readonly #parentsSeen = new Set<string>()
  readonly #fingerprint: string

  constructor(private readonly stream: SecureStream, private readonly dest: Destination, private readonly out: OutputDir | undefined, private readonly opts: ReceiveOptions, hold: Hold) {
    super({ highWaterMark: 1024 * 1024 })
    this.#decoder = new ManifestDecoder(hold)
    this.#fingerprint = opts.senderFingerprint ?? stream.peerFingerprint ?? ''
  }

  get outcome(): Outcome {
    return this.dest.kind === 'writable' || this.#targets.some(t => t.device) ? 'delivered' : 'durable'
  }

  report(): ReceiveReport {
    const entries = this.#manifest?.entries ?? []
    // A nameless stream into a directory: the name it was given.
    const where = this.dest.kind === 'writable' ? this.dest.name : this.#targets[0]?.entry.type === 'stream' ? this.#targets[0].path : this.dest.path
    return { entries, files: entries.filter(e => e.type === 'file' || e.type === 'stream').length, bytes: this.#content, resumedBytes: this.#resumed, outcome: this.outcome, where }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb)
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    if (this.#phase === 'failed') { cb(); return }
    this.#handle(chunks.map(c => c.chunk)).then(() => cb(), err => this.#fail(err).then(() => cb()))
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#phase === 'failed') { cb(); return }
    this.#finish().then(() => cb(), err => this.#fail(err).then(() => cb()))
  }

  /** Drop every file not yet in place (a resumable partial file stays, SPEC 8.6, unless `discard`). */
  abortAll(discard = false): void {
    for (const sink of this.#open) sink.abort(discard)
    this.#open.clear()
    // The notes of the files already placed outlive this transfer now: their text form (SPEC 8.6).
    if (this.#manifest?.resume === false && this.#notes) {
      for (const t of this.#targets.slice(0, this.#done)) if (t.entry.type === 'file') keepNote(writtenPath(t.path, resumeId(this.#fingerprint, t.entry)))
    }
    for (const t of this.#targets) t.device?.close().catch(() => {})
  }

  async #handle(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      this.#received += chunk.length
      let rest: Buffer = chunk
      if (this.#phase === 'manifest') {
        const got = this.#decoder.push(rest)
        if (got === null) continue
        this.#manifest = got.manifest
        await this.#prepare(got.manifest)
        this.#phase = 'plan'
        rest = got.rest
      }
      if (this.#phase === 'plan') {
        this.#q.push(rest)
        const steps = takePlan(this.#q, this.#offers)
        if (steps === null) continue
        this.#applyPlan(steps)
        this.#phase = 'content'
        rest = this.#q.drain()
        await this.#advance()
      }
      if (this.#phase === 'content') await this.#contentBytes(rest)
    }
    await this.#flush()
  }

  /** SPEC 8.2, 8.3, 8.7: check every entry against the disk without writing, collect resume offers, answer Ready. */
  async #prepare(manifest: Manifest): Promise<void> {
    checkManifest(manifest)
    const { entries } = manifest
    const resume = manifest.resume && this.opts.resume !== false
    if (this.dest.kind !== 'directory') {
      const only = entries[0]
      if (entries.length !== 1 || (only!.type !== 'file' && only!.type !== 'stream')) {
        const what = entries.length === 1 ? `a ${only!.type}` : `${entries.length} entries`
        throw new UsageError(`the sender offered ${what}, but ${this.dest.kind === 'file' ? this.dest.path : this.dest.name} takes exactly one file; receive into a directory (secure-pipe recv DIR)`)
      }
      this.#targets = [await this.#singleTarget(only!)]
    } else {
      for (const entry of entries) this.#targets.push(await this.#dirTarget(entry, resume))
    }
    this.#offers = this.#targets.flatMap(t => t.offer ? [t.offer] : [])
    this.stream.write(encodeReady(this.#offers))
  }

  async #singleTarget(entry: Entry): Promise<Target> {
    if (this.dest.kind !== 'file') return { entry, path: '', start: 0 }
    const path = this.dest.path
    await checkOutputFile(path, this.opts.force === true)
    const st = await lstat(path).catch(() => undefined)
    if (st === undefined || st.isSymbolicLink() || st.isFile()) return { entry, path, start: 0 } // atomic; rename replaces a link
    // A FIFO or device with --force: open it without following, and decide from the descriptor (SPEC 8.7).
    // A FIFO nobody reads would block the open forever: a non-blocking probe says ENXIO instead.
    // The probe stays open until the real descriptor is: closing it first would give the reader an end of file.
    const probe = st.isFIFO() ? await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(err => {
      throw (err as NodeJS.ErrnoException).code === 'ENXIO' ? new IoError(`nothing is reading the FIFO ${path}; start its reader first`) : ioError(err, `cannot open ${path}`)
    }) : undefined
    const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW).catch(err => { throw ioError(err, `cannot open ${path}`) }).finally(() => probe?.close())
    const real = await fh.stat()
    if (real.isFile()) { await fh.close(); return { entry, path, start: 0 } }
    return { entry, path, start: 0, device: fh }
  }

  async #dirTarget(entry: Entry, resume: boolean): Promise<Target> {
    const out = this.out!
    if (entry.type === 'stream') entry = { ...entry, name: (this.opts.streamName ?? defaultStreamName)() }
    const path = out.pathOf(entry.name)
    await this.#checkParents(entry.name)
    const st = await out.existing(entry.name)
    const target: Target = { entry, path, start: 0 }
    if (entry.type === 'directory') {
      // SPEC 8.7: a link or a non-directory where a directory goes is ERR_IO, as on the way to a file (output-dir.ts).
      if (st && !st.isDirectory()) throw new IoError(`${path} exists and is not a directory${st.isSymbolicLink() ? ' (a symbolic link is never followed)' : ''}; remove it, or receive elsewhere`)
      return target
    }
    if (st?.isDirectory()) throw new UsageError(`${path} is a directory, but the sender sends a ${entry.type} of that name`)
    const keepHash = (hash: Hash): Hash | undefined => this.opts.onSha256 ? hash : undefined
    // SPEC 8.6: a complete file or link counts only for the key that wrote it (issue 17, F5): another
    // sender learns nothing of it, not even whether its content matches a guess.
    const mine = resume && st !== undefined && wroteIt(path, st, resumeId(this.#fingerprint, entry))
    if (entry.type === 'file' && resume) {
      if (mine && st.isFile() && st.size === entry.size && Math.trunc(st.mtimeMs) === entry.mtimeMs) {
        await dropSecondName(partialPath(path, resumeId(this.#fingerprint, entry)), st)
        // A complete file of the same size and mtime, written by this sender. Its digest is not disclosed
        // (an all-zero offer): the sender proves its own in the plan and we compare. Empty: nothing to prove.
        const hash = entry.size === 0 ? createHash('sha256') : await hashFile(path, entry.size)
        if (hash && entry.size === 0) Object.assign(target, { complete: true, start: 0, hash: keepHash(hash) })
        else if (hash) Object.assign(target, { complete: true, own: hash.copy().digest(), hash: keepHash(hash), offer: { index: this.#targets.length, offset: entry.size, digest: ZERO_DIGEST } })
      } else {
        const partial = partialPath(path, resumeId(this.#fingerprint, entry))
        const pst = await lstat(partial).catch(() => undefined)
        if (pst !== undefined && ownPartial(pst) && pst.size > 0 && pst.size <= entry.size && !partialsInUse.has(partial)) {
          const hash = await hashFile(partial, pst.size)
          if (hash) Object.assign(target, { hash: keepHash(hash), offer: { index: this.#targets.length, offset: pst.size, digest: hash.copy().digest() } })
        }
      }
    }
    if (entry.type === 'symlink' && mine && st.isSymbolicLink()) target.complete = true // kept if its target is the same (symlinkSink)
    if (st && !target.complete && this.opts.force !== true) {
      throw new UsageError(`${path} already exists${EXISTS_HINT}`)
    }
    return target
  }

  /** Before Ready: directories that exist on the way must be real directories (none is created yet). */
  async #checkParents(name: string): Promise<void> {
    const cut = name.lastIndexOf('/')
    if (cut < 0 || this.#parentsSeen.has(name.slice(0, cut))) return
    this.#parentsSeen.add(name.slice(0, cut))
    const parts = name.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      const st = await this.out!.existing(dir)
      if (st === undefined) return
      if (st.isSymbolicLink()) throw new IoError(`${this.out!.pathOf(dir)} is a symbolic link; secure-pipe never writes through links, so ${showName(name)} was refused (remove the link or choose another directory)`)
      if (!st.isDirectory()) throw new IoError(`${this.out!.pathOf(dir)} is not a directory, so ${showName(name)} cannot be written`)
    }
  }

  #applyPlan(steps: Step[]): void {
    for (const step of steps) {
      const t = this.#targets[step.index]!
      if (t.own && step.offset !== 0 && !(step.digest && timingSafeEqual(step.digest, t.own))) {
        throw new UsageError(`${t.path} exists with the sender's size and mtime but other content; remove it, or send again without --resume to replace it with recv --force`)
      }
      if (step.offset === 0) {
        t.hash = undefined
        if (t.complete && this.opts.force !== true) throw new UsageError(`${t.path} already exists and the sender did not prove it the same${EXISTS_HINT}`)
        t.complete = false
      }
      t.start = step.offset
      this.#resumed += step.offset
    }
    let bytes = 0
    for (const t of this.#targets) if (t.entry.type !== 'directory') bytes += t.entry.size - t.start
    this.opts.onPlan?.({ entries: this.#manifest!.entries, bytes, resumedBytes: this.#resumed })
  }

  /** Start entries until one needs bytes (a stream needs all the rest); entries of no remaining bytes complete at once. */
  async #advance(): Promise<void> {
    while (this.#sink === undefined && this.#index < this.#targets.length) {
      const t = this.#targets[this.#index]!
      await this.#start(t)
      if (t.entry.type === 'stream') { this.#remaining = Infinity; return }
      this.#remaining = t.entry.type === 'directory' ? 0 : t.entry.size - t.start
      if (this.#remaining > 0) return
      await this.#endEntry()
    }
  }

  async #start(t: Target): Promise<void> {
    const { entry } = t
    if (entry.type === 'directory') { await this.out!.ensureDirectory(entry.name); return }
    if (t.complete && t.start === entry.size) return // already in place (SPEC 8.6)
    if (this.out) await this.out.ensureParents(entry.name)
    this.#sink = this.dest.kind === 'writable' ? writableSink(this.dest.writable, this.dest.name)
      : t.device ? deviceSink(t.device, t.path)
        : entry.type === 'symlink' ? { ...symlinkSink(t, this.opts.force === true, t.complete === true), place: async () => this.#noteLink(t) }
          : await this.#fileSink(t)
    this.#open.add(this.#sink)
    if (this.opts.onSha256 && entry.type !== 'symlink') t.hash ??= createHash('sha256')
  }

  async #fileSink(t: Target): Promise<Sink> {
    // SPEC 8.6: a receiver that allows resume writes every file into its resumable partial file,
    // whether or not this sender asked to resume, so a cut transfer can be resumed (issue 17). A small
    // file that starts at 0 is written only after its end, so a cut never leaves a part of it.
    const resume = this.opts.resume !== false && this.dest.kind === 'directory' && t.entry.type === 'file'
    if (t.start === 0 && t.entry.type === 'file' && t.entry.size <= SMALL_FILE) return this.#smallFileSink(t) // never a stream: its size is unknown
    const file = await AtomicFile.create(t.path, { force: this.opts.force === true, ...(resume ? { resumeId: resumeId(this.#fingerprint, t.entry), resumeAt: t.start } : {}) })
    try {
      if (this.out) await this.out.verifyParent(t.entry.name)
    } catch (err) {
      file.abort(true) // created through a swapped directory: not a partial file to keep
      throw err
    }
    return {
      write: buffers => file.write(buffers),
      end: () => file.finish(t.entry.mode & ~UMASK, t.entry.mtimeMs, this.#noteFor(t)),
      place: () => file.place(),
      abort: discard => file.abort(discard),
    }
  }

  /** A complete transfer its sender did not ask to resume needs no notes (SPEC 8.6): none is left beside its files. */
  async #dropNotes(): Promise<void> {
    if (this.#manifest!.resume || !this.#notes) return
    for (const t of this.#targets) {
      if (t.entry.type !== 'file' && t.entry.type !== 'symlink') continue
      dropNote(writtenPath(t.path, resumeId(this.#fingerprint, t.entry)))
    }
  }

  /**
   * SPEC 8.6: a receiver that allows resume notes which sender wrote each file and link it
   * placed, so a resume by that sender (and no other) finds it complete: how to note `t`, or
   * undefined. A file's note is written before its rename, from its temporary file (the rename
   * keeps the inode; AtomicFile.finish): a receiver killed between the two leaves a note that
   * matches nothing, never a placed file without its note (which the next resume would refuse as
   * an existing file).
   */
  #noteFor(t: Target): NoteOptions | undefined {
    if (!this.#notes || (t.entry.type !== 'file' && t.entry.type !== 'symlink')) return undefined
    return { id: resumeId(this.#fingerprint, t.entry), kept: this.#manifest!.resume }
  }

  /** Whether this receiver notes who wrote its files: it allows resume, into a directory. */
  get #notes(): boolean {
    return this.opts.resume !== false && this.dest.kind === 'directory'
  }

  /** A link's note, after it exists. */
  #noteLink(t: Target): void {
    const note = this.#noteFor(t)
    if (note !== undefined) noteWritten(t.path, note.id)
  }

  /**
   * A small file is held in memory until its end, then created, written, fsynced and closed in
   * the background, so that many small files keep up to MAX_COMMITS_IN_FLIGHT file system
   * round trips going instead of waiting for each (issue 11: many files). Same rules as any file.
   */
  #smallFileSink(t: Target): Sink {
    const parts: Buffer[] = []
    let file: AtomicFile | undefined
    let aborted = false
    return {
      write: async buffers => { for (const b of buffers) parts.push(b) },
      end: async () => {
        file = await AtomicFile.create(t.path, { force: this.opts.force === true })
        if (aborted) { file.abort(); return }
        try {
          if (this.out) await this.out.verifyParent(t.entry.name)
          if (parts.length > 0) await file.write(parts)
          await file.finish(t.entry.mode & ~UMASK, t.entry.mtimeMs, this.#noteFor(t))
        } catch (err) {
          file.abort()
          throw err
        }
      },
      place: () => file!.place(),
      abort: () => { aborted = true; file?.abort() },
    }
  }

  /**
   * Queue an entry's commit: its fsync runs now, its rename after the previous entry's, so the
   * receipt's `done` is always a prefix of the manifest (SPEC 8.5). At most MAX_COMMITS_IN_FLIGHT
   * are pending; waiting for the oldest gives backpressure and surfaces its failure.
   */
  async #commit(sink: Sink | undefined): Promise<void> {
    const finishing = sink ? sink.end() : Promise.resolve()
    finishing.catch(() => {})
    const step = Promise.all([this.#chain, finishing]).then(() => sink?.place?.()).then(() => {
      if (sink) this.#open.delete(sink)
      this.#done++
    })
    this.#chain = step
    step.catch(() => {})
    this.#inflight.push(step)
    if (this.#inflight.length > MAX_COMMITS_IN_FLIGHT) await this.#inflight.shift()
  }

  async #contentBytes(buf: Buffer): Promise<void> {
    let at = 0
    while (at < buf.length) {
      if (this.#sink === undefined) {
        await this.#advance()
        if (this.#sink === undefined) throw new ProtocolError(`the sender sent ${buf.length - at} bytes after the last entry's end (SPEC 8.4)`)
      }
      const n = Math.min(this.#remaining, buf.length - at)
      const piece = buf.subarray(at, at + n)
      this.#pending.push(piece)
      this.#targets[this.#index]!.hash?.update(piece)
      this.#content += n
      this.#remaining -= n
      at += n
      if (this.#remaining === 0) await this.#endEntry()
    }
    this.opts.onProgress?.(this.#content)
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0 || this.#sink === undefined) return
    const buffers = this.#pending
    this.#pending = []
    await this.#sink.write(buffers)
  }

  async #endEntry(): Promise<void> {
    const t = this.#targets[this.#index]!
    await this.#flush()
    const sink = this.#sink
    this.#sink = undefined
    await this.#commit(sink) // no sink: a directory, or a file already complete
    if (t.hash && this.opts.onSha256) this.opts.onSha256(t.entry.type === 'stream' ? t.path || this.report().where : t.entry.name, t.hash.digest('hex'))
    this.#index++
  }

  /** The sender's close record arrived (SPEC 6.4): every entry must be complete; then directories, fsyncs, receipt. */
  async #finish(): Promise<void> {
    if (this.#phase !== 'content') throw new ProtocolError(`the sender ended its stream ${this.#phase === 'manifest' ? 'inside the manifest' : 'before its plan'} (SPEC 8.1, 8.3)`)
    const t = this.#targets[this.#index]
    if (t !== undefined && t.entry.type === 'stream') await this.#endEntry()
    else await this.#advance()
    if (this.#index < this.#targets.length) {
      throw new ProtocolError(`the sender ended its stream before the end of ${showName(this.#targets[this.#index]!.entry.name)} (SPEC 8.4)`)
    }
    await this.#chain
    await this.#dropNotes() // before the directories get their mtimes
    await this.#settleDirectories()
    this.#sendReceipt()
  }

  /**
   * Directories this transfer created get their mode (under the umask) and mtime after their
   * contents, deepest first; existing directories are left as they are (issue 9 review). Then
   * every directory written into is fsynced.
   */
  async #settleDirectories(): Promise<void> {
    if (this.dest.kind !== 'directory') return
    const out = this.out!
    const dirs = new Set<string>([out.root])
    for (const t of this.#targets) if (t.entry.type !== 'directory') dirs.add(dirname(t.path))
    const wanted = new Map(this.#targets.filter(t => t.entry.type === 'directory').map(t => [t.entry.name, t.entry]))
    const created = [...out.created].sort((x, y) => y.split('/').length - x.split('/').length)
    for (const name of created) {
      const path = out.pathOf(name)
      const entry = wanted.get(name)
      dirs.add(dirname(path))
      const fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(err => { throw ioError(err, `cannot set the mode of ${path}`) })
      try {
        await fh.chmod((entry?.mode ?? 0o777) & ~UMASK)
        if (entry) await fh.utimes(utimeArg(entry.mtimeMs), utimeArg(entry.mtimeMs))
        await fh.sync()
      } finally {
        await fh.close()
      }
    }
    for (const dir of dirs) await syncDirectory(dir)
  }

  #sendReceipt(error?: SecurePipeError): void {
    const digest = this.stream.tagDigest('received') ?? Buffer.alloc(32)
    const receipt = encodeReceipt({ bytes: this.#received, digest, done: this.#done, outcome: this.outcome, ...(error ? { error: { code: error.code, message: error.message } } : {}) })
    this.sent = new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(timer); resolve() }
      const timer = setTimeout(done, 10_000)
      this.stream.once('error', done)
      this.stream.end(receipt, done)
    })
  }

  /** SPEC 8.5.1: report the first failure in a receipt at once, drop partial files, then discard what the sender still sends (bounded). */
  async #fail(err: unknown): Promise<void> {
    this.#phase = 'failed'
    const failure = err instanceof SecurePipeError ? err : ioError(err, 'the transfer failed')
    this.failure = failure
    await Promise.allSettled(this.#inflight) // entries before the failing one finish, so `done` says what is durable
    this.abortAll(failure.code === 'ERR_IO') // a failing disk (full, read-only) keeps no partial file; a cut transfer does
    if (this.dest.kind === 'directory') await syncDirectory(this.out!.root).catch(() => {})
    this.#sendReceipt(failure)
    const timer = setTimeout(() => this.stream.destroy(), this.opts.drainMs ?? DEFAULT_DRAIN_MS)
    timer.unref()
    this.stream.once('close', () => clearTimeout(timer))
  }
}

/** A FIFO or device named as FILE (SPEC 8.7): written in place, delivered but not durable. */
function deviceSink(fh: FileHandle, path: string): Sink {
  return {
    write: async buffers => { try { await fh.writev(buffers) } catch (err) { throw ioError(err, `cannot write ${path}`) } },
    end: () => fh.close(),
    abort: () => { fh.close().catch(() => {}) },
  }
}

/** stdout or another writable: backpressure honoured; its end is a flush (delivered, not durable). */
function writableSink(w: Writable, name: string): Sink {
  const fail = (err: unknown): IoError => ioError(err, (err as NodeJS.ErrnoException)?.code === 'EPIPE' ? `cannot write to ${name} (the reading program exited)` : `cannot write to ${name}`)
  const write = (b: Buffer | string): Promise<void> => new Promise((resolve, reject) => {
    const onError = (err: unknown): void => reject(fail(err))
    w.once('error', onError)
    const ok = w.write(b, err => { if (err) onError(err) })
    if (ok) { w.off('error', onError); resolve() } else w.once('drain', () => { w.off('error', onError); resolve() })
  })
  return {
    write: async buffers => { for (const b of buffers) await write(b) },
    // An empty write calls back once everything before it is out.
    end: () => new Promise<void>((resolve, reject) => w.write('', err => err ? reject(fail(err)) : resolve())),
    abort: () => {},
  }
}

/** SPEC 8.1 type 3: the target is collected, then the link is created beside its name and renamed into place; never followed. */
function symlinkSink(t: Target, force: boolean, sameIsDone: boolean): Sink {
  const parts: Buffer[] = []
  const temp = partialPath(t.path, tempNames.next())
  return {
    write: async buffers => { parts.push(...buffers.map(b => Buffer.from(b))) },
    end: async () => {
      const target = Buffer.concat(parts)
      if (target.includes(0)) throw new ProtocolError(`symlink ${showName(t.entry.name)} has a NUL in its target (SPEC 8.1)`)
      try {
        await symlink(target.toString('utf8'), temp)
        if (force) await rename(temp, t.path)
        else {
          try { await link(temp, t.path) } finally { await unlink(temp).catch(() => {}) }
        }
      } catch (err) {
        await unlink(temp).catch(() => {})
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && sameIsDone && await readlink(t.path).then(old => old === target.toString('utf8'), () => false)) return // resumed: already there
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${t.path} appeared during the transfer; it was left untouched (recv --force replaces it)`)
        throw ioError(err, `cannot create link ${t.path}`)
      }
    },
    abort: () => {},
  }
}

async function hashFile(path: string, length: number): Promise<Hash | null> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined)
  if (!fh) return null
  try {
    const st = await fh.stat()
    if (!st.isFile() || st.size < length) return null
    return await hashPrefix(fh, length)
  } finally {
    await fh.close()
  }
}

function defaultStreamName(): string {
  return `transfer-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`
}

function kindOf(st: Stats): string {
  return st.isSymbolicLink() ? 'a symbolic link' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file'
}

function receiveError(err: unknown, dest: Destination): unknown {
  const outcome = dest.kind === 'writable' ? `the data written to ${dest.name} so far is incomplete`
    : dest.kind === 'file' ? `${dest.path} was not written`
      : `files not complete in ${dest.path} were removed (or kept for --resume)`
  if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new TruncatedError(`the connection closed before the sender's authenticated end of stream; ${outcome}`, { cause: err })
  }
  if (err instanceof SecurePipeError && err.code !== 'ERR_IO' && err.code !== 'ERR_USAGE') {
    return new SecurePipeError(err.code, `${err.message.replace(/[.;]\s*$/, '')}; ${outcome}`, { cause: err })
  }
  return err
}

/**
 * A receiver killed between placing a file (its partial file linked to the final name) and
 * removing the partial name leaves that name as a second link to the placed file: remove it
 * (only a name of the very same inode, never followed).
 */
async function dropSecondName(partial: string, placed: Stats): Promise<void> {
  const pst = await lstat(partial).catch(() => undefined)
  if (pst !== undefined && pst.dev === placed.dev && pst.ino === placed.ino) await unlink(partial).catch(() => {})
}
