/**
 * HKDF-SHA256 (SPEC 4, RFC 5869) against Project Wycheproof `hkdf_sha256_test.json`, through `hkdf` only.
 */
import t from 'tap'
import { hkdf } from '../../src/crypto/kdf.js'
import { describe, hex, loadWycheproof, newCounts, tally, type HkdfGroup } from '../helpers/wycheproof.js'

t.test('SPEC 4: Wycheproof HKDF-SHA256, all groups', async t => {
  const file = loadWycheproof<HkdfGroup>('hkdf_sha256_test.json')
  t.same(file.testGroups.map(g => g.keySize), [176, 640, 128, 160, 256], 'all 5 groups present')
  const counts = newCounts()
  for (const v of file.testGroups.flatMap(g => g.tests)) {
    tally(counts, v)
    if (v.result === 'valid') {
      t.equal(hkdf(hex(v.ikm), hex(v.salt), hex(v.info), v.size).toString('hex'), v.okm, describe(v))
    } else {
      // RFC 5869 section 2.3: L <= 255 * HashLen; these ask for 8161 bytes.
      t.ok(v.size > 255 * 32, `asks for more than 255*32 bytes: ${describe(v)}`)
      let out: Buffer | undefined
      t.throws(() => { out = hkdf(hex(v.ikm), hex(v.salt), hex(v.info), v.size) }, `throws: ${describe(v)}`)
      t.equal(out, undefined, `derives nothing: ${describe(v)}`)
    }
  }
  t.same(counts, { total: 86, valid: 83, invalid: 3, acceptable: 0 }, 'ran exactly the expected vectors')
})

t.test('SPEC 4: HKDF takes a string info label as its UTF-8 bytes', async t => {
  const ikm = Buffer.alloc(32, 7)
  const salt = Buffer.alloc(32, 9)
  const label = 'secure-pipe v1 c2s key'
  t.same(hkdf(ikm, salt, label, 32), hkdf(ikm, salt, Buffer.from(label, 'utf8'), 32))
  t.notSame(hkdf(ikm, salt, label, 32), hkdf(ikm, salt, Buffer.from('secure-pipe v1 s2c key'), 32))
})
