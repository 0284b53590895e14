/**
 * SPEC 5.2 implementation note (issue 18, decision 2): `CcmIvCipher` (crypto/ccm-iv.ts) gives
 * exactly the first 12 ciphertext bytes of node:crypto's own `CCM(key, nonce = r, aad = empty,
 * m = r)`, on 100,000 random (key, r) pairs per key size, drawn in batches (a fresh key every
 * PER_KEY nonces, all of one key's nonces in one call), and on Project Wycheproof's CCM vectors.
 * Bounded: a fixed number of pairs, no time limit involved.
 */
import t from 'tap'
import { createCipheriv, randomBytes } from 'node:crypto'
import { CcmIvCipher } from '../../src/crypto/ccm-iv.js'
import { describe, hex, loadWycheproof, type AeadGroup } from '../helpers/wycheproof.js'

const PAIRS = 100_000
const PER_KEY = 50 // 2,000 keys per key size, 50 nonces each

/** The definition: node:crypto's CCM over m = r under nonce r, 16-byte tag (discarded). */
function reference(key: Buffer, r: Buffer): Buffer {
  const c = createCipheriv(key.length === 16 ? 'aes-128-ccm' : 'aes-256-ccm', key, r, { authTagLength: 16 })
  c.setAAD(Buffer.alloc(0), { plaintextLength: r.length })
  const ct = c.update(r)
  c.final()
  return ct
}

for (const keyLength of [16, 32]) {
  t.test(`SPEC 5.2: AES-${keyLength * 8}: CcmIvCipher equals node:crypto's CCM on ${PAIRS} random (key, r) pairs`, async t => {
    let checked = 0
    let firstMismatch: string | null = null
    while (checked < PAIRS) {
      const key = randomBytes(keyLength)
      const rs = randomBytes(12 * PER_KEY)
      const ivs = new CcmIvCipher(key).ivs(rs)
      for (let i = 0; i < PER_KEY; i++) {
        const r = rs.subarray(12 * i, 12 * i + 12)
        const want = reference(key, r)
        if (firstMismatch === null && !want.equals(ivs.subarray(12 * i, 12 * i + 12))) {
          firstMismatch = `key ${key.toString('hex')} r ${r.toString('hex')}: ${ivs.subarray(12 * i, 12 * i + 12).toString('hex')} != ${want.toString('hex')}`
        }
        checked++
      }
    }
    t.equal(checked, PAIRS, 'every pair was compared')
    t.equal(firstMismatch, null, 'no pair differs')
  })
}

t.test('SPEC 5.2: one nonce per call gives the same IV as a batch', async t => {
  const key = randomBytes(16)
  const rs = randomBytes(12 * 8)
  const batch = new CcmIvCipher(key).ivs(rs)
  const single = new CcmIvCipher(key)
  for (let i = 0; i < 8; i++) t.same(single.ivs(rs.subarray(12 * i, 12 * i + 12)), batch.subarray(12 * i, 12 * i + 12), `nonce ${i}`)
})

t.test('SPEC 5.2: Wycheproof CCM vectors: the key stream of their first 12 ciphertext bytes is the one CcmIvCipher uses', async t => {
  const file = loadWycheproof<AeadGroup>('aes_ccm_test.json')
  let checked = 0
  for (const g of file.testGroups.filter(g => g.ivSize === 96 && g.tagSize === 128 && (g.keySize === 128 || g.keySize === 256))) {
    for (const v of g.tests.filter(v => v.result === 'valid' && v.msg.length >= 24)) {
      const nonce = hex(v.iv)
      // CcmIvCipher(key).ivs(nonce) = nonce XOR S_1; the vector's ciphertext starts with msg XOR S_1.
      const s1 = Buffer.from(new CcmIvCipher(hex(v.key)).ivs(nonce).map((b, i) => b ^ nonce[i]!))
      t.equal(Buffer.from(s1.map((b, i) => b ^ hex(v.msg)[i]!)).toString('hex'), v.ct.slice(0, 24), `key stream: ${describe(v)}`)
      checked++
    }
  }
  t.ok(checked > 10, `${checked} Wycheproof vectors checked`)
})

t.test('CcmIvCipher refuses other key sizes and partial nonces (RangeError)', async t => {
  t.throws(() => new CcmIvCipher(randomBytes(24)), RangeError, 'a 24-byte key is refused')
  t.throws(() => new CcmIvCipher(randomBytes(12)), RangeError, 'a 12-byte key is refused')
  t.throws(() => new CcmIvCipher(randomBytes(16)).ivs(randomBytes(8)), RangeError, 'an 8-byte nonce is refused')
  t.throws(() => new CcmIvCipher(randomBytes(16)).ivs(randomBytes(30)), RangeError, 'a nonce list that is not whole nonces is refused')
  t.throws(() => new CcmIvCipher(randomBytes(16)).ivs(Buffer.alloc(0)), RangeError, 'no nonce at all is refused')
})
