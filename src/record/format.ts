/**
 * Record layout (SPEC 5.4) and AAD (SPEC 5.3): pure byte work, no crypto, no streams.
 * record = ciphertext || '@' || IV || '@' || tag, parsed from its fixed-size tail.
 */
import { MAGIC, MIN_RECORD, NONCE_LENGTH, RECORD_TAIL, SEPARATOR, TAG_LENGTH, VERSION } from '../constants.js'
import { IntegrityError } from '../errors.js'

export const AAD_LENGTH = MAGIC.length + 1 + 1 + 8

/** SPEC 5.3: AAD = 'SPIP' || version || direction || uint64be(sequence number). */
export function recordAad(direction: number, seq: number): Buffer {
  return writeRecordAad(Buffer.allocUnsafe(AAD_LENGTH), direction, seq)
}

/** `recordAad` written into `aad` (AAD_LENGTH bytes), which it returns: a protector reuses one buffer. */
export function writeRecordAad(aad: Buffer, direction: number, seq: number): Buffer {
  MAGIC.copy(aad, 0)
  aad[4] = VERSION
  aad[5] = direction
  aad.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 6)
  aad.writeUInt32BE(seq >>> 0, 10)
  return aad
}

/** SPEC 5.4: the 30 bytes after the ciphertext. */
export function recordTail(iv: Buffer, tag: Buffer): Buffer {
  const tail = Buffer.allocUnsafe(RECORD_TAIL)
  tail[0] = SEPARATOR
  iv.copy(tail, 1)
  tail[1 + NONCE_LENGTH] = SEPARATOR
  tag.copy(tail, 2 + NONCE_LENGTH)
  return tail
}

export interface RecordParts { ciphertext: Buffer, iv: Buffer, tag: Buffer }

/**
 * SPEC 5.4: split a record by offsets from its end; both separators are checked at exactly
 * their offsets, so '@' bytes inside the ciphertext are harmless. A short record or a bad
 * separator is ERR_INTEGRITY, like a bad tag.
 */
export function parseRecord(record: Buffer): RecordParts {
  if (record.length < MIN_RECORD) throw new IntegrityError()
  const sep1 = record.length - RECORD_TAIL
  const sep2 = sep1 + 1 + NONCE_LENGTH
  if (record[sep1] !== SEPARATOR || record[sep2] !== SEPARATOR) throw new IntegrityError()
  return {
    ciphertext: record.subarray(0, sep1),
    iv: record.subarray(sep1 + 1, sep2),
    tag: record.subarray(sep2 + 1, sep2 + 1 + TAG_LENGTH),
  }
}
