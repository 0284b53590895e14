/**
 * AES-CCM with a 12-byte nonce and a 16-byte tag (SPEC 5.2, 5.3): the only file that does AES.
 * RFC 3610 section 2.6: no plaintext is returned unless the tag verifies.
 */
import { createCipheriv, createDecipheriv, type Cipher, type CipherCCMTypes } from 'node:crypto'
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

/** RFC 3610 section 2.3: the flags byte of CCM's counter blocks, L - 1, with L = 15 - nonce length. */
const CTR_FLAGS = 15 - NONCE_LENGTH - 1

/**
 * The first `NONCE_LENGTH` bytes of the ciphertext of `CCM(key, nonce = r, aad = empty, m = r)`
 * (SPEC 5.2's IV), for many `r` under one key, without a CCM context each. CCM encrypts its
 * message with AES in counter mode (RFC 3610 section 2.3): ciphertext = m XOR AES_key(A_1),
 * A_1 = flags || nonce || counter 1 (3 bytes). So one AES-ECB context, made once per key,
 * gives every IV with one block. `ccmSeal` gives the same bytes: test/crypto/ccm.test.ts checks
 * the two against each other and against Wycheproof, test/unit/record/protector.test.ts against
 * SPEC 5.7. The context's key schedule lives in OpenSSL until the object is collected, as a
 * per-record CCM context's did.
 */
export class CcmFirstBlock {
  readonly #ecb: Cipher
  readonly #counter = Buffer.alloc(16)

  constructor(key: Buffer) {
    this.#ecb = createCipheriv(cipherFor(key) === 'aes-128-ccm' ? 'aes-128-ecb' : 'aes-256-ecb', key, null)
    this.#ecb.setAutoPadding(false)
    this.#counter[0] = CTR_FLAGS
    this.#counter[15] = 1
  }

  /** The CCM ciphertext of `r` under nonce `r` (both 12 bytes), tag not computed. */
  encryptNonce(r: Buffer): Buffer {
    checkNonce(r)
    r.copy(this.#counter, 1)
    const stream = this.#ecb.update(this.#counter)
    for (let i = 0; i < NONCE_LENGTH; i++) stream[i] ^= r[i]!
    return stream.subarray(0, NONCE_LENGTH)
  }
}
