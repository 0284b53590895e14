/**
 * The ready / plan round trip and the resume identity (SPEC 8.3, 8.6), as pure code. The
 * receiver offers, per file it holds part of, the length and SHA-256 of that part; the sender
 * accepts an offer only when its own file's prefix has the same digest, else restarts it at 0.
 *
 * @example encodeReady([{ index: 0, offset: 4096, digest }]); encodePlan([{ index: 0, offset: 4096 }])
 */
import { createHash, type Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { ProtocolError } from '../errors.js'
import type { ByteQueue } from './bytes.js'
import type { Entry } from './entry.js'

export const READY_MAGIC = Buffer.from('SPRY', 'ascii')
export const PLAN_MAGIC = Buffer.from('SPPL', 'ascii')
const OFFER_LENGTH = 4 + 8 + 32
const STEP_LENGTH = 4 + 8 + 32
/** SPEC 8.6: the digest of an offer for a complete final file, which the receiver does not disclose; the sender proves its own in the plan. */
export const ZERO_DIGEST = Buffer.alloc(32)

/**
 * The receiver holds the first `offset` bytes of entry `index`, whose SHA-256 is `digest`; or,
 * with an all-zero digest, a complete final file of the entry's size and mtime (SPEC 8.6).
 */
export interface Offer { index: number, offset: number, digest: Buffer }
/** The sender's answer to one offer: the offered offset (accepted) or 0 (restart); for a complete-file offer, its own file's SHA-256. */
export interface Step { index: number, offset: number, digest?: Buffer }

/** SPEC 8.3: the receiver's Ready message with its resume offers. */
export function encodeReady(offers: readonly Offer[]): Buffer {
  const out = Buffer.alloc(8 + offers.length * OFFER_LENGTH)
  READY_MAGIC.copy(out, 0)
  out.writeUInt32BE(offers.length, 4)
  offers.forEach((o, i) => {
    const at = 8 + i * OFFER_LENGTH
    out.writeUInt32BE(o.index, at)
    out.writeBigUInt64BE(BigInt(o.offset), at + 4)
    o.digest.copy(out, at + 12)
  })
  return out
}

/** SPEC 8.3: the sender's plan, one step per offer. */
export function encodePlan(steps: readonly Step[]): Buffer {
  const out = Buffer.alloc(8 + steps.length * STEP_LENGTH)
  PLAN_MAGIC.copy(out, 0)
  out.writeUInt32BE(steps.length, 4)
  steps.forEach((s, i) => {
    out.writeUInt32BE(s.index, 8 + i * STEP_LENGTH)
    out.writeBigUInt64BE(BigInt(s.offset), 12 + i * STEP_LENGTH)
    ;(s.digest ?? ZERO_DIGEST).copy(out, 20 + i * STEP_LENGTH)
  })
  return out
}

/**
 * Sender side: take the Ready message, or null while incomplete. Offers are checked against the
 * manifest (SPEC 8.3: increasing file indexes, offsets 1..size), so a count is bounded before allocation.
 */
export function takeReady(q: ByteQueue, entries: readonly Entry[], resume = true): Offer[] | null {
  const head = q.peek(8)
  if (head === null) return null
  if (!head.subarray(0, 4).equals(READY_MAGIC)) throw new ProtocolError('the receiver did not answer the manifest with a ready message (SPEC 8.3)')
  const count = head.readUInt32BE(4)
  if (count > 0 && !resume) throw new ProtocolError('the receiver made resume offers that were not asked for (SPEC 8.3)')
  if (count > entries.length) throw new ProtocolError(`the receiver made ${count} resume offers for ${entries.length} entries (SPEC 8.3)`)
  const all = q.take(8 + count * OFFER_LENGTH)
  if (all === null) return null
  const offers: Offer[] = []
  for (let i = 0; i < count; i++) {
    const at = 8 + i * OFFER_LENGTH
    const offer = { index: all.readUInt32BE(at), offset: Number(all.readBigUInt64BE(at + 4)), digest: Buffer.from(all.subarray(at + 12, at + OFFER_LENGTH)) }
    const entry = entries[offer.index]
    const previous = offers[offers.length - 1]
    if (entry === undefined || entry.type !== 'file' || offer.offset < 1 || offer.offset > entry.size || (previous && previous.index >= offer.index)) {
      throw new ProtocolError(`the receiver made a resume offer for entry ${offer.index} at ${offer.offset} that does not fit the manifest (SPEC 8.3)`)
    }
    offers.push(offer)
  }
  return offers
}

/** Receiver side: take the Plan, or null while incomplete; it must answer exactly our offers (SPEC 8.3). */
export function takePlan(q: ByteQueue, offers: readonly Offer[]): Step[] | null {
  const head = q.peek(8)
  if (head === null) return null
  if (!head.subarray(0, 4).equals(PLAN_MAGIC)) throw new ProtocolError('the sender did not answer the ready message with a plan (SPEC 8.3)')
  const count = head.readUInt32BE(4)
  if (count !== offers.length) throw new ProtocolError(`the sender's plan answers ${count} offers; ${offers.length} were made (SPEC 8.3)`)
  const all = q.take(8 + count * STEP_LENGTH)
  if (all === null) return null
  return offers.map((offer, i) => {
    const at = 8 + i * STEP_LENGTH
    const index = all.readUInt32BE(at)
    const offset = Number(all.readBigUInt64BE(at + 4))
    if (index !== offer.index || (offset !== 0 && offset !== offer.offset)) {
      throw new ProtocolError(`the sender's plan answers entry ${index} at ${offset}, which was not offered (SPEC 8.3)`)
    }
    // Exactly the step's 32 digest bytes (issue 17: the slice once ran 12 bytes into the next step).
    return { index, offset, digest: Buffer.from(all.subarray(at + 12, at + STEP_LENGTH)) }
  })
}

/** SPEC 8.6: the partial file's identity: which sender key sent which name, size and mtime. */
export function resumeId(senderFingerprint: string, entry: Pick<Entry, 'name' | 'size' | 'mtimeMs'>): string {
  const numbers = Buffer.alloc(16)
  numbers.writeBigUInt64BE(BigInt(entry.size), 0)
  numbers.writeBigInt64BE(BigInt(Math.trunc(entry.mtimeMs)), 8)
  return createHash('sha256')
    .update('secure-pipe resume v1\0').update(senderFingerprint).update('\0').update(entry.name, 'utf8').update('\0').update(numbers)
    .digest().subarray(0, 8).toString('hex')
}

/**
 * SPEC 8.6: SHA-256 of the first `length` bytes of an open file, as both ends compute it for a
 * resume offer; null if the file ends before. The hash is returned unfinished, so `--sha256`
 * can go on with the rest of the file.
 */
export async function hashPrefix(fh: FileHandle, length: number): Promise<Hash | null> {
  const hash = createHash('sha256')
  const buf = Buffer.allocUnsafe(Math.max(1, Math.min(1024 * 1024, length)))
  for (let at = 0; at < length;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - at), at)
    if (bytesRead === 0) return null
    hash.update(buf.subarray(0, bytesRead))
    at += bytesRead
  }
  return hash
}
