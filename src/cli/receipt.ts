/**
 * The delivery receipt (SPEC 8): after its output is safe (file renamed into place, or stdout
 * flushed), the receiver sends exactly 44 bytes of application data and ends its direction:
 *
 *   'SPRC' (4) || uint64 big-endian byte count (8) || record tag digest (32, SPEC 8.2)
 *
 * The tag digest is SHA-256 over the tags of the sender's records as the receiver verified
 * them (`SecureStream#tagDigest`): it costs 16 bytes of hashing per record, not a pass over the data.
 * The sender accepts exactly these 44 bytes followed by the authenticated end; anything else
 * is ERR_RECEIPT. An end with no bytes at all means no receipt: the receiver may not have the data.
 *
 * @example stream.end(encodeReceipt(meter.bytes, stream.tagDigest('received')))
 */
import { timingSafeEqual } from 'node:crypto'
import type { Readable } from 'node:stream'
import { NetworkError, ReceiptError, TimeoutError } from '../index.js'

export const RECEIPT_MAGIC = Buffer.from('SPRC', 'ascii')
export const RECEIPT_LENGTH = 4 + 8 + 32
/** SPEC 8: how long a sender waits for the receipt after its close record (`--receipt-timeout`). */
export const DEFAULT_RECEIPT_TIMEOUT_MS = 30_000

export function encodeReceipt(bytes: number, digest: Buffer): Buffer {
  if (digest.length !== 32) throw new RangeError('receipt digest must be 32 bytes (SHA-256 of the record tags)')
  const out = Buffer.alloc(RECEIPT_LENGTH)
  RECEIPT_MAGIC.copy(out, 0)
  out.writeBigUInt64BE(BigInt(bytes), 4) // SPEC 8: count as uint64 big-endian
  digest.copy(out, 12)
  return out
}

/** The receiver went away without confirming (exit 5, issue 3). */
export function noReceiptError(what: string, cause?: unknown): NetworkError {
  return new NetworkError(`${what.replace(/[.;]\s*$/, '')}: the receiver may not have the data; send it again`, cause === undefined ? undefined : { cause })
}

/** SPEC 8: check a received receipt against what was sent; throws ReceiptError or NetworkError. */
export function checkReceipt(receipt: Buffer, bytes: number, digest: Buffer): void {
  if (receipt.length === 0) throw noReceiptError('the receiver closed the connection without a delivery receipt')
  if (receipt.length !== RECEIPT_LENGTH || !receipt.subarray(0, 4).equals(RECEIPT_MAGIC)) {
    throw new ReceiptError(`the receiver answered with ${receipt.length} bytes that are not a delivery receipt (SPEC 8); is it a secure-pipe recv?`)
  }
  const count = receipt.readBigUInt64BE(4)
  if (count !== BigInt(bytes)) {
    throw new ReceiptError(`the receiver reports ${count} bytes but ${bytes} were sent; the output on the other side is wrong`)
  }
  if (!timingSafeEqual(receipt.subarray(12), digest)) {
    throw new ReceiptError('the receiver verified other records than were sent (the record tag digests differ); the output on the other side is wrong')
  }
}

/**
 * Collect the receiver's answer: resolves with every byte it sent once its direction ended
 * with the authenticated close. More than a receipt's worth is rejected at once.
 */
export function collectReceipt(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length
      if (length > RECEIPT_LENGTH) {
        reject(new ReceiptError(`the receiver sent more than the ${RECEIPT_LENGTH}-byte delivery receipt (SPEC 8)`))
        stream.destroy()
        return
      }
      chunks.push(chunk)
    })
    stream.once('end', () => resolve(Buffer.concat(chunks, length)))
    stream.once('error', reject)
    stream.once('close', () => reject(noReceiptError('the connection closed before the receiver confirmed delivery')))
  })
}

/**
 * SPEC 8: the receipt within `ms` of our close record, or ERR_TIMEOUT: a receiver that
 * completed the handshake and went silent must not hold the sender forever.
 */
export async function receiptWithin(receipt: Promise<Buffer>, ms: number): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no delivery receipt within ${ms / 1000} s after the end of the data (--receipt-timeout)`)), ms)
  })
  try {
    return await Promise.race([receipt, deadline])
  } finally {
    clearTimeout(timer)
  }
}
