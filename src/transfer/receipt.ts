/**
 * The delivery receipt (SPEC 8.5): after the transfer, or at the first failure, the receiver
 * says per entry what happened, and binds its answer to the records it verified:
 *
 *   'SPRC' || byte count (8) || tag digest (32) || entries done (4) || outcome (1)
 *          || code length (1) || code || message length (2) || message
 *
 * The tag digest is SHA-256 over the tags of the sender's records (SPEC 8.5,
 * `SecureStream#tagDigest`): 16 bytes of hashing per record, not a second pass over the data.
 *
 * @example stream.end(encodeReceipt({ bytes, digest: stream.tagDigest('received')!, done: 3, outcome: 'durable' }))
 */
import { timingSafeEqual } from 'node:crypto'
import { NetworkError, ProtocolError, ReceiptError, type ErrorCode } from '../errors.js'
import type { ByteQueue } from './bytes.js'

export const RECEIPT_MAGIC = Buffer.from('SPRC', 'ascii')
/** Bytes before the code: magic, count, digest, done, outcome, code length. */
export const RECEIPT_HEAD_LENGTH = 4 + 8 + 32 + 4 + 1 + 1
export const MAX_RECEIPT_CODE_BYTES = 32
export const MAX_RECEIPT_MESSAGE_BYTES = 1024
/** SPEC 8.5.2: how long a sender waits for the ready message and for the receipt (`--receipt-timeout`). */
export const DEFAULT_RECEIPT_TIMEOUT_MS = 30_000

/** Outcome 0: fsynced and renamed; 1: written where nothing can be made durable (stdout, FIFO, device). */
export type Outcome = 'durable' | 'delivered'

/** What a receipt says (SPEC 8.5). `error` is present when `done` is less than the entry count. */
export interface Receipt {
  bytes: number
  digest: Buffer
  done: number
  outcome: Outcome
  error?: { code: string, message: string }
}

/** SPEC 8.5: the receipt's bytes. Code and message are cut to their limits. */
export function encodeReceipt(r: Receipt): Buffer {
  if (r.digest.length !== 32) throw new RangeError('receipt digest must be 32 bytes (SHA-256 of the record tags)')
  const code = Buffer.from(r.error?.code ?? '', 'utf8').subarray(0, MAX_RECEIPT_CODE_BYTES)
  const message = truncateUtf8(r.error?.message ?? '', MAX_RECEIPT_MESSAGE_BYTES)
  const out = Buffer.alloc(RECEIPT_HEAD_LENGTH + code.length + 2 + message.length)
  RECEIPT_MAGIC.copy(out, 0)
  out.writeBigUInt64BE(BigInt(r.bytes), 4)
  r.digest.copy(out, 12)
  out.writeUInt32BE(r.done, 44)
  out.writeUInt8(r.outcome === 'durable' ? 0 : 1, 48)
  out.writeUInt8(code.length, 49)
  code.copy(out, 50)
  out.writeUInt16BE(message.length, 50 + code.length)
  message.copy(out, 52 + code.length)
  return out
}

/** Take one whole receipt from `q`, or null while it is incomplete. Throws ProtocolError on a malformed one. */
export function takeReceipt(q: ByteQueue): Receipt | null {
  const head = q.peek(RECEIPT_HEAD_LENGTH)
  if (head === null) return null
  if (!head.subarray(0, 4).equals(RECEIPT_MAGIC)) throw new ReceiptError('the receiver answered with bytes that are not a delivery receipt (SPEC 8.5); is it a secure-pipe recv of this version?')
  const codeLength = head[49]!
  const outcome = head[48]!
  if (codeLength > MAX_RECEIPT_CODE_BYTES || outcome > 1) throw new ProtocolError('the receiver sent a malformed receipt (SPEC 8.5)')
  const withLength = q.peek(RECEIPT_HEAD_LENGTH + codeLength + 2)
  if (withLength === null) return null
  const messageLength = withLength.readUInt16BE(RECEIPT_HEAD_LENGTH + codeLength)
  if (messageLength > MAX_RECEIPT_MESSAGE_BYTES) throw new ProtocolError('the receiver sent a malformed receipt (SPEC 8.5)')
  const all = q.take(RECEIPT_HEAD_LENGTH + codeLength + 2 + messageLength)
  if (all === null) return null
  const code = all.toString('utf8', 50, 50 + codeLength)
  const message = all.toString('utf8', 52 + codeLength)
  return {
    bytes: Number(all.readBigUInt64BE(4)),
    digest: Buffer.from(all.subarray(12, 44)),
    done: all.readUInt32BE(44),
    outcome: outcome === 0 ? 'durable' : 'delivered',
    ...(code !== '' || message !== '' ? { error: { code, message } } : {}),
  }
}

/**
 * SPEC 8.5.2: a complete transfer has every entry done and the byte count and tag digest the
 * sender sent. Throws ReceiptError otherwise (a failure receipt is reported by the caller).
 */
export function checkReceipt(r: Receipt, sent: { bytes: number, digest: Buffer, entries: number }): void {
  if (r.done !== sent.entries) throw new ReceiptError(`the receiver reports ${r.done} of ${sent.entries} entries done without saying why; the output on the other side is incomplete`)
  if (r.bytes !== sent.bytes) throw new ReceiptError(`the receiver reports ${r.bytes} bytes but ${sent.bytes} were sent; the output on the other side is wrong`)
  if (!timingSafeEqual(r.digest, sent.digest)) throw new ReceiptError('the receiver verified other records than were sent (the record tag digests differ); the output on the other side is wrong')
}

/** The receiver went away without confirming (exit 5). */
export function noReceiptError(what: string, cause?: unknown): NetworkError {
  return new NetworkError(`${what.replace(/[.;]\s*$/, '')}: the receiver may not have the data; send it again`, cause === undefined ? undefined : { cause })
}

/** A known error code from a receipt, or ERR_RECEIPT for one this version does not know. */
export function receiptCode(code: string, known: readonly ErrorCode[]): ErrorCode {
  return (known as readonly string[]).includes(code) ? code as ErrorCode : 'ERR_RECEIPT'
}

function truncateUtf8(text: string, max: number): Buffer {
  const b = Buffer.from(text, 'utf8')
  if (b.length <= max) return b
  let end = max
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end-- // do not cut a character in half
  return b.subarray(0, end)
}
