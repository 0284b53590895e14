/**
 * AES-CCM with a 12-byte nonce and a 16-byte tag (SPEC 5.2, 5.3): the only file that does AES.
 * RFC 3610 section 2.6: no plaintext is returned unless the tag verifies.
 */
import { createCipheriv, createDecipheriv, type CipherCCMTypes } from 'node:crypto'
import { NONCE_LENGTH, TAG_LENGTH } from '../constants.js'
import { IntegrityError } from '../errors.js'

function cipherFor(key: Buffer): CipherCCMTypes {
  if (key.length === 16) return 'aes-128-ccm'
  if (key.length === 32) return 'aes-256-ccm'
  throw new RangeError(`AES-CCM key must be 16 or 32 bytes, got ${key.length}`)
}

function checkNonce(nonce: Buffer): void {
  if (nonce.length !== NONCE_LENGTH) throw new RangeError(`AES-CCM nonce must be ${NONCE_LENGTH} bytes, got ${nonce.length}`)
}

export interface Sealed { ciphertext: Buffer, tag: Buffer }

/** Encrypt and authenticate `plaintext` with `aad`. */
export function ccmSeal(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  checkNonce(nonce)
  const cipher = createCipheriv(cipherFor(key), key, nonce, { authTagLength: TAG_LENGTH })
  cipher.setAAD(aad, { plaintextLength: plaintext.length })
  const ciphertext = cipher.update(plaintext)
  cipher.final()
  return { ciphertext, tag: cipher.getAuthTag() }
}

/** Verify and decrypt; throws `ERR_INTEGRITY` (and returns nothing) when the tag does not verify. */
export function ccmOpen(key: Buffer, nonce: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): Buffer {
  checkNonce(nonce)
  if (tag.length !== TAG_LENGTH) throw new IntegrityError()
  const decipher = createDecipheriv(cipherFor(key), key, nonce, { authTagLength: TAG_LENGTH })
  decipher.setAuthTag(tag)
  decipher.setAAD(aad, { plaintextLength: ciphertext.length })
  let plaintext: Buffer
  try {
    plaintext = decipher.update(ciphertext)
    // RFC 3610 section 2.6 / SPEC 5.4: final() throws when the tag is wrong; only then is the output ours.
    decipher.final()
  } catch (err) {
    throw new IntegrityError(undefined, { cause: err })
  }
  return plaintext
}
