/**
 * RSA-OAEP-SHA256 with MGF1-SHA256 (SPEC 3.1) against Project Wycheproof, through `parsePrivateKey`
 * and `oaepDecrypt` only. Invalid ciphertexts must throw; the tests deliberately do not compare
 * error messages, since distinguishable padding errors are what Manger's attack needs.
 */
import t from 'tap'
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { oaepDecrypt, parsePrivateKey } from '../../src/crypto/rsa.js'
import { describe, hex, loadWycheproof, newCounts, tally, type Counts, type OaepGroup, type OaepTest, type TapTest } from '../helpers/wycheproof.js'

/** Load the group's PEM key through the project's parser, and check it is the same key as the PKCS#8 DER. */
function loadKey(t: TapTest, group: OaepGroup): KeyObject {
  const key = parsePrivateKey(group.privateKeyPem)
  t.equal(key.asymmetricKeyDetails?.modulusLength, group.keySize, `loads a ${group.keySize}-bit key`)
  const der = createPrivateKey({ key: hex(group.privateKeyPkcs8), format: 'der', type: 'pkcs8' })
  t.ok(key.equals(der), 'the PEM and the PKCS#8 DER hold the same key')
  return key
}

function run(t: TapTest, key: KeyObject, v: OaepTest, counts: Counts): void {
  tally(counts, v)
  let out: Buffer | undefined
  let err: unknown
  try { out = oaepDecrypt(key, hex(v.ct), hex(v.label)) } catch (e) { err = e }
  if (v.result === 'valid') {
    t.equal(err, undefined, `decrypts: ${describe(v)}`)
    t.equal(out?.toString('hex'), v.msg, `gives msg: ${describe(v)}`)
  } else if (v.result === 'invalid') {
    t.type(err, Error, `throws: ${describe(v)}`)
    t.equal(out, undefined, `no plaintext: ${describe(v)}`)
  } else if (err === undefined) {
    t.equal(out?.toString('hex'), v.msg, `acceptable, succeeded, so gives msg: ${describe(v)}`)
  } else {
    t.type(err, Error, `acceptable, refused: ${describe(v)}`)
  }
}

const sha256Only = (g: OaepGroup): boolean => g.sha === 'SHA-256' && g.mgf === 'MGF1' && g.mgfSha === 'SHA-256'

for (const bits of [2048, 3072, 4096]) {
  t.test(`SPEC 3.1: Wycheproof RSA-OAEP ${bits}-bit, SHA-256, MGF1-SHA-256 (all tests)`, async t => {
    const file = loadWycheproof<OaepGroup>(`rsa_oaep_${bits}_sha256_mgf1sha256_test.json`)
    t.equal(file.testGroups.length, 1, 'one group')
    const counts = newCounts()
    for (const group of file.testGroups) {
      t.ok(sha256Only(group) && group.keySize === bits, 'group parameters match the file name')
      const key = loadKey(t, group)
      for (const v of group.tests) run(t, key, v, counts)
    }
    t.same(counts, { total: 37, valid: 18, invalid: 19, acceptable: 0 }, 'ran exactly the expected vectors')
  })
}

t.test('SPEC 3.1: Wycheproof RSA-OAEP misc file, SHA-256/MGF1-SHA-256 groups', async t => {
  const file = loadWycheproof<OaepGroup>('rsa_oaep_misc_test.json')
  const groups = file.testGroups.filter(sha256Only)
  t.same(groups.map(g => g.keySize), [1024, 1536, 2048, 3072, 4096, 8192, 2688, 4032], 'SHA-256/SHA-256 groups present')

  t.test('SPEC 3.1: 2048, 3072 and 4096 bits', async t => {
    const counts = newCounts()
    for (const group of groups.filter(g => [2048, 3072, 4096].includes(g.keySize))) {
      const key = loadKey(t, group)
      for (const v of group.tests) run(t, key, v, counts)
    }
    t.same(counts, { total: 9, valid: 9, invalid: 0, acceptable: 0 }, 'ran exactly the expected vectors')
  })

  // Optional in the README; the project accepts 2048-8192 bits (SPEC 3.7), so odd sizes load too.
  t.test('SPEC 3.1: odd sizes 2688 and 4032 bits, with labels', async t => {
    const counts = newCounts()
    for (const group of groups.filter(g => g.keySize === 2688 || g.keySize === 4032)) {
      const key = loadKey(t, group)
      for (const v of group.tests) run(t, key, v, counts)
    }
    t.same(counts, { total: 16, valid: 14, invalid: 0, acceptable: 2 }, 'ran exactly the expected vectors')
  })

  t.test('SPEC 3.7: the 1024- and 1536-bit vector keys are refused with ERR_KEY', async t => {
    for (const group of groups.filter(g => g.keySize < 2048)) {
      t.throws(() => parsePrivateKey(group.privateKeyPem), { code: 'ERR_KEY' }, `${group.keySize}-bit key`)
    }
  })
})
