/**
 * The manifest and its entry headers (SPEC 8.1): pure encoding and decoding, with every limit of
 * SPEC 8.2 checked before anything is allocated for what it bounds. Names are validated by
 * `safe-path.ts`; this module only frames them.
 *
 * @example const wire = encodeManifest([{ type: 'file', name: 'a.txt', mode: 0o644, mtimeMs: 0, size: 5 }], { resume: false })
 */
import { ProtocolError } from '../errors.js'
import type { Hold } from './budget.js'

/** 'SPTM' */
export const MANIFEST_MAGIC = Buffer.from('SPTM', 'ascii')
export const MANIFEST_VERSION = 1
/** SPEC 8.2: at most this many entries in one manifest. */
export const MAX_ENTRIES = 1_000_000
/** SPEC 8.2: a name's UTF-8 bytes, at most (Linux PATH_MAX less its NUL). */
export const MAX_NAME_BYTES = 4095
/** SPEC 8.2: one '/'-separated component's UTF-8 bytes, at most (NAME_MAX). */
export const MAX_COMPONENT_BYTES = 255
export const MAX_TOTAL_NAME_BYTES = 64 * 1024 * 1024
/** Largest size a JavaScript number holds exactly (SPEC 8.1). */
export const MAX_ENTRY_SIZE = Number.MAX_SAFE_INTEGER
/** Bytes of a manifest before its first entry header, and of an entry header before its name. */
export const MANIFEST_HEAD_LENGTH = 4 + 1 + 1 + 4
export const ENTRY_HEAD_LENGTH = 1 + 2 + 8 + 8 + 2

/** SPEC 8.1 entry types 1 to 4. */
export type EntryType = 'file' | 'directory' | 'symlink' | 'stream'
const TYPE_CODES: Record<EntryType, number> = { file: 1, directory: 2, symlink: 3, stream: 4 }
const TYPES_BY_CODE: ReadonlyArray<EntryType | undefined> = [undefined, 'file', 'directory', 'symlink', 'stream']

/** One entry of a transfer (SPEC 8.1): what the receiver creates, and how many content bytes it has. */
export interface Entry {
  type: EntryType
  /** Relative '/'-separated path; empty for a stream. */
  name: string
  /** Permission bits only (at most 0o777). */
  mode: number
  /** Milliseconds since 1970-01-01 UTC. */
  mtimeMs: number
  /** Content bytes: a file's length or a symlink target's; 0 for directories and streams. */
  size: number
}

/** A decoded manifest (SPEC 8.1). */
export interface Manifest {
  entries: Entry[]
  /** Flag bit 0: the sender asks to resume partial files (SPEC 8.6). */
  resume: boolean
}

/** One entry header (SPEC 8.1). Lengths are checked; the name itself is not validated here, so a test can build a hostile one. */
export function encodeEntry(entry: Entry): Buffer {
  const name = Buffer.from(entry.name, 'utf8')
  if (name.length > 0xffff) throw new RangeError('entry name longer than 65535 bytes')
  const out = Buffer.alloc(ENTRY_HEAD_LENGTH + name.length)
  out.writeUInt8(TYPE_CODES[entry.type], 0)
  out.writeUInt16BE(entry.mode, 1)
  out.writeBigInt64BE(BigInt(Math.trunc(entry.mtimeMs)), 3)
  out.writeBigUInt64BE(BigInt(entry.size), 11)
  out.writeUInt16BE(name.length, 19)
  name.copy(out, ENTRY_HEAD_LENGTH)
  return out
}

/** The whole manifest (SPEC 8.1). */
export function encodeManifest(entries: readonly Entry[], opts: { resume: boolean }): Buffer {
  const head = Buffer.alloc(MANIFEST_HEAD_LENGTH)
  MANIFEST_MAGIC.copy(head, 0)
  head.writeUInt8(MANIFEST_VERSION, 4)
  head.writeUInt8(opts.resume ? 1 : 0, 5)
  head.writeUInt32BE(entries.length, 6)
  return Buffer.concat([head, ...entries.map(encodeEntry)])
}

/**
 * Incremental manifest decoder: feed it bytes as they arrive; it returns the manifest and the
 * bytes after it once complete. Every header is checked as it is read (SPEC 8.1, 8.2: type, mode,
 * size, counts and name lengths); names are checked for safety by the caller (safe-path.ts).
 */
export class ManifestDecoder {
  #buffered: Buffer[] = []
  #length = 0
  #count = -1
  #resume = false
  #nameBytes = 0
  readonly #entries: Entry[] = []

  /** `hold`: the process-wide budget this manifest draws on (budget.ts), charged before each allocation. */
  constructor(private readonly hold?: Hold) {}

  /** Returns the manifest and the leftover bytes when complete, else null. Throws ProtocolError. */
  push(chunk: Buffer): { manifest: Manifest, rest: Buffer } | null {
    this.#buffered.push(chunk)
    this.#length += chunk.length
    let buf = this.#take()
    let offset = 0
    if (this.#count < 0) {
      if (buf.length < MANIFEST_HEAD_LENGTH) return this.#keep(buf, 0)
      if (!buf.subarray(0, 4).equals(MANIFEST_MAGIC)) throw new ProtocolError('the sender did not start with a transfer manifest (SPEC 8.1); is it an older secure-pipe?')
      if (buf[4] !== MANIFEST_VERSION) throw new ProtocolError(`the sender uses transfer manifest version ${buf[4]}; this receiver speaks version ${MANIFEST_VERSION}`)
      const flags = buf[5]!
      if ((flags & ~1) !== 0) throw new ProtocolError(`the manifest sets unknown flags 0x${flags.toString(16)} (SPEC 8.1)`)
      this.#resume = (flags & 1) === 1
      this.#count = buf.readUInt32BE(6)
      if (this.#count > MAX_ENTRIES) throw new ProtocolError(`the sender announced ${this.#count} entries; at most ${MAX_ENTRIES} are accepted (SPEC 8.2)`)
      this.hold?.reserveEntries(this.#count)
      offset = MANIFEST_HEAD_LENGTH
    }
    while (this.#entries.length < this.#count) {
      if (buf.length - offset < ENTRY_HEAD_LENGTH) return this.#keep(buf, offset)
      const nameLength = buf.readUInt16BE(offset + 19)
      if (nameLength > MAX_NAME_BYTES) throw new ProtocolError(`entry ${this.#entries.length} has a ${nameLength}-byte name; at most ${MAX_NAME_BYTES} are accepted (SPEC 8.2)`)
      if (buf.length - offset < ENTRY_HEAD_LENGTH + nameLength) return this.#keep(buf, offset)
      this.#nameBytes += nameLength
      this.hold?.chargeNames(nameLength)
      if (this.#nameBytes > MAX_TOTAL_NAME_BYTES) throw new ProtocolError(`the manifest's names exceed ${MAX_TOTAL_NAME_BYTES} bytes (SPEC 8.2)`)
      this.#entries.push(decodeEntryAt(buf, offset, nameLength, this.#entries.length))
      offset += ENTRY_HEAD_LENGTH + nameLength
    }
    buf = buf.subarray(offset)
    return { manifest: { entries: this.#entries, resume: this.#resume }, rest: buf }
  }

  #take(): Buffer {
    const buf = this.#buffered.length === 1 ? this.#buffered[0]! : Buffer.concat(this.#buffered, this.#length)
    this.#buffered = []
    this.#length = 0
    return buf
  }

  #keep(buf: Buffer, offset: number): null {
    const rest = buf.subarray(offset)
    this.#buffered = [rest]
    this.#length = rest.length
    return null
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function decodeEntryAt(buf: Buffer, offset: number, nameLength: number, index: number): Entry {
  const type = TYPES_BY_CODE[buf[offset]!]
  if (type === undefined) throw new ProtocolError(`entry ${index} has unknown type ${buf[offset]} (SPEC 8.1)`)
  const mode = buf.readUInt16BE(offset + 1)
  if (mode > 0o777) throw new ProtocolError(`entry ${index} asks for mode 0${mode.toString(8)}; only permission bits (at most 0777) are accepted (SPEC 8.1)`)
  const mtime = buf.readBigInt64BE(offset + 3)
  const size = buf.readBigUInt64BE(offset + 11)
  if (size > BigInt(MAX_ENTRY_SIZE)) throw new ProtocolError(`entry ${index} declares ${size} bytes, more than 2^53 - 1 (SPEC 8.1)`)
  if (mtime > 8_640_000_000_000_000n || mtime < -8_640_000_000_000_000n) throw new ProtocolError(`entry ${index} has an mtime outside the representable dates (SPEC 8.1)`)
  let name: string
  try {
    name = UTF8.decode(buf.subarray(offset + ENTRY_HEAD_LENGTH, offset + ENTRY_HEAD_LENGTH + nameLength))
  } catch {
    throw new ProtocolError(`entry ${index} has a name that is not valid UTF-8 (SPEC 8.2)`)
  }
  return { type, name, mode, mtimeMs: Number(mtime), size: Number(size) }
}
