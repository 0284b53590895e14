/**
 * HMAC-SHA256 (SPEC 4) against Project Wycheproof `hmac_sha256_test.json`, through `hmacSha256`
 * and `hmacVerify` only. The project uses full 32-byte tags, so only the tagSize 256 groups run.
 */
import t from 'tap'
import { hmacSha256, hmacVerify } from '../../src/crypto/kdf.js'
import { describe, hex, loadWycheproof, newCounts, tally, type MacGroup } from '../helpers/wycheproof.js'

const file = loadWycheproof<MacGroup>('hmac_sha256_test.json')

t.test('SPEC 4: Wycheproof HMAC-SHA256, full 256-bit tags', async t => {
  const groups = file.testGroups.filter(g => g.tagSize === 256)
  t.same(groups.map(g => g.keySize), [256, 128, 520], 'key sizes 256, 128 and 520 bits')
  const counts = newCounts()
  for (const v of groups.flatMap(g => g.tests)) {
    tally(counts, v)
    const verified = hmacVerify(hex(v.key), hex(v.tag), hex(v.msg))
    if (v.result === 'valid') {
      t.equal(hmacSha256(hex(v.key), hex(v.msg)).toString('hex'), v.tag, `tag: ${describe(v)}`)
      t.equal(verified, true, `verifies: ${describe(v)}`)
    } else {
      t.equal(verified, false, `rejected: ${describe(v)}`)
    }
  }
  t.same(counts, { total: 87, valid: 33, invalid: 54, acceptable: 0 }, 'ran exactly the expected vectors')
})

t.test('SPEC 4: hmacSha256 over several parts equals it over their concatenation', async t => {
  const v = file.testGroups.filter(g => g.tagSize === 256).flatMap(g => g.tests).find(v => v.result === 'valid' && v.msg.length >= 8)
  t.ok(v, 'a valid vector with a message of 4+ bytes exists')
  if (!v) return
  const msg = hex(v.msg)
  const parts = [msg.subarray(0, 1), msg.subarray(1, 3), Buffer.alloc(0), msg.subarray(3)]
  t.equal(hmacSha256(hex(v.key), ...parts).toString('hex'), v.tag)
  t.equal(hmacVerify(hex(v.key), hex(v.tag), ...parts), true)
})

t.test('SPEC 4: a truncated 16-byte tag never verifies (length checked first)', async t => {
  const groups = file.testGroups.filter(g => g.tagSize === 128)
  let n = 0
  for (const v of groups.flatMap(g => g.tests)) {
    t.equal(hmacVerify(hex(v.key), hex(v.tag), hex(v.msg)), false, describe(v))
    n++
  }
  t.equal(n, 87, 'every tagSize 128 vector, valid or not, is refused')
})
