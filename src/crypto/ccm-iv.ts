/**
 * SPEC 5.2's IV, `CCM(iv key, nonce = r, aad = empty, m = r)` cut to its 12 ciphertext bytes,
 * through one AES-ECB context per key instead of one CCM context per record (issue 18, decision 2).
 *
 * The identity (RFC 3610 section 2.3; NIST SP 800-38C, appendix A.3): CCM encrypts its message
 * in counter mode, ciphertext = m XOR first len(m) bytes of S_1 || S_2 ..., S_i = AES(key, A_i),
 * A_i = flags || nonce || i, flags = L - 1 with L = 15 - nonce length. With a 12-byte nonce, L = 3,
 * so flags = 0x02 and the counter is 3 bytes; a 12-byte m needs S_1 only:
 *   IV = r XOR first 12 bytes of AES(iv key, 0x02 || r || 00 00 01)
 * The tag (which SPEC 5.2 discards) is the only part of CCM not computed. This is the one use of
 * AES outside crypto/ccm.ts; test/property/ccm-iv.test.ts checks it against node:crypto's CCM on
 * 100,000 random (key, r) pairs per key size, and the protocol vectors (SPEC 5.7) pass unchanged.
 * The record itself is always sealed with node:crypto's CCM (ccm.ts).
 */
import { createCipheriv, type Cipher } from 'node:crypto'
import { NONCE_LENGTH } from '../constants.js'

const BLOCK = 16
/** RFC 3610 section 2.3: the flags byte of A_i, L - 1 with L = 15 - nonce length. */
const CTR_FLAGS = 15 - NONCE_LENGTH - 1

/** Many SPEC 5.2 IVs under one iv key: one AES-ECB context, one `update()` per batch of nonces. */
export class CcmIvCipher {
  readonly #ecb: Cipher
  #blocks = Buffer.alloc(0)

  constructor(ivKey: Buffer) {
    if (ivKey.length !== 16 && ivKey.length !== 32) throw new RangeError(`AES-CCM key must be 16 or 32 bytes, got ${ivKey.length}`)
    // ECB takes no IV (null); padding is off: every input is whole counter blocks.
    this.#ecb = createCipheriv(ivKey.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', ivKey, null)
    this.#ecb.setAutoPadding(false)
  }

  /**
   * The IVs of the nonces `rs` (12 bytes each, back to back), in one buffer of the same length:
   * bytes [12i, 12i + 12) are the CCM ciphertext of r_i under nonce r_i.
   */
  ivs(rs: Buffer): Buffer {
    if (rs.length === 0 || rs.length % NONCE_LENGTH !== 0) throw new RangeError(`nonces must be a positive multiple of ${NONCE_LENGTH} bytes, got ${rs.length}`)
    const n = rs.length / NONCE_LENGTH
    if (this.#blocks.length < n * BLOCK) this.#blocks = Buffer.alloc(n * BLOCK)
    const blocks = this.#blocks
    for (let i = 0; i < n; i++) {
      const b = i * BLOCK
      blocks[b] = CTR_FLAGS // A_1 = flags || r || 00 00 01
      rs.copy(blocks, b + 1, i * NONCE_LENGTH, (i + 1) * NONCE_LENGTH)
      blocks[b + 13] = 0
      blocks[b + 14] = 0
      blocks[b + 15] = 1
    }
    const s1 = this.#ecb.update(blocks.subarray(0, n * BLOCK)) // S_1 of every nonce
    const out = Buffer.allocUnsafe(rs.length)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < NONCE_LENGTH; j++) out[i * NONCE_LENGTH + j] = rs[i * NONCE_LENGTH + j]! ^ s1[i * BLOCK + j]!
    }
    s1.fill(0)
    return out
  }

  /** Zero the counter blocks (they hold past nonces r, never sent). The key schedule lives in OpenSSL until the object is collected, as a per-record CCM context's did. */
  wipe(): void {
    this.#blocks.fill(0)
  }
}
