/**
 * AES-CCM (SPEC 5.3) against Project Wycheproof `aes_ccm_test.json`, through `ccmSeal`/`ccmOpen` only.
 * Runs the groups the project uses (ivSize 96, tagSize 128, keySize 128 and 256), then uses the
 * other groups to show the wrapper refuses every other nonce size, tag size and key size.
 */
import t from 'tap'
import { ccmOpen, ccmSeal } from '../../src/crypto/ccm.js'
import { IntegrityError } from '../../src/errors.js'
import { describe, hex, loadWycheproof, newCounts, tally, type AeadGroup, type AeadTest, type TapTest } from '../helpers/wycheproof.js'

const file = loadWycheproof<AeadGroup>('aes_ccm_test.json')
const used = (g: AeadGroup): boolean => g.ivSize === 96 && g.tagSize === 128 && (g.keySize === 128 || g.keySize === 256)

/** Run `fn`; return what it threw, or undefined. */
function thrown(fn: () => unknown): unknown {
  try { fn() } catch (err) { return err }
  return undefined
}

function checkValid(t: TapTest, v: AeadTest): void {
  const sealed = ccmSeal(hex(v.key), hex(v.iv), hex(v.msg), hex(v.aad))
  t.equal(sealed.ciphertext.toString('hex'), v.ct, `seal ct: ${describe(v)}`)
  t.equal(sealed.tag.toString('hex'), v.tag, `seal tag: ${describe(v)}`)
  const opened = ccmOpen(hex(v.key), hex(v.iv), hex(v.ct), hex(v.tag), hex(v.aad))
  t.equal(opened.toString('hex'), v.msg, `open: ${describe(v)}`)
}

function checkInvalid(t: TapTest, v: AeadTest): void {
  let out: Buffer | undefined
  const err = thrown(() => { out = ccmOpen(hex(v.key), hex(v.iv), hex(v.ct), hex(v.tag), hex(v.aad)) })
  t.ok(err instanceof IntegrityError, `open throws IntegrityError: ${describe(v)}`)
  t.match(err, { code: 'ERR_INTEGRITY' }, `code ERR_INTEGRITY: ${describe(v)}`)
  t.equal(out, undefined, `no plaintext released: ${describe(v)}`)
}

t.test('SPEC 5.3: Wycheproof AES-CCM, 12-byte nonce, 16-byte tag, 128/256-bit keys', async t => {
  const counts = newCounts()
  const tcIds: Record<number, number[]> = { 128: [], 256: [] }
  for (const group of file.testGroups.filter(used)) {
    for (const v of group.tests) {
      tally(counts, v)
      tcIds[group.keySize]!.push(v.tcId)
      if (v.result === 'valid') checkValid(t, v)
      else if (v.result === 'invalid') checkInvalid(t, v)
      else t.fail(`unexpected result ${v.result}: ${describe(v)}`)
    }
  }
  // SPEC 5.3 vectors, per test/vectors/wycheproof/README: 156 tests, 102 valid, 54 invalid (all ModifiedTag).
  t.same(counts, { total: 156, valid: 102, invalid: 54, acceptable: 0 }, 'ran exactly the expected vectors')
  t.same([Math.min(...tcIds[128]!), Math.max(...tcIds[128]!), tcIds[128]!.length], [1, 78, 78], 'keySize 128 is tcIds 1-78')
  t.same([Math.min(...tcIds[256]!), Math.max(...tcIds[256]!), tcIds[256]!.length], [157, 234, 78], 'keySize 256 is tcIds 157-234')
})

t.test('SPEC 5.3: the wrapper refuses nonces other than 12 bytes (RangeError, before any crypto)', async t => {
  const others = file.testGroups.filter(g => g.ivSize !== 96 && g.keySize !== 192)
  const sizes = new Set(others.map(g => g.ivSize))
  let n = 0
  for (const v of others.flatMap(g => g.tests)) {
    t.type(thrown(() => ccmSeal(hex(v.key), hex(v.iv), hex(v.msg), hex(v.aad))), RangeError, `seal: ${describe(v)}`)
    t.type(thrown(() => ccmOpen(hex(v.key), hex(v.iv), hex(v.ct), hex(v.tag), hex(v.aad))), RangeError, `open: ${describe(v)}`)
    n++
  }
  // 7-13 byte nonces (valid CCM, 72 vectors) and out-of-range sizes 0-2144 bits (26 vectors, incl. CVE-2017-18330).
  t.same([...sizes].sort((a, b) => a - b), [0, 8, 16, 32, 48, 56, 64, 72, 80, 88, 104, 112, 120, 128, 160, 256, 512, 1024, 2144])
  t.equal(n, 98, 'ran every other-nonce-size vector for 128/256-bit keys')
})

t.test('SPEC 5.3: the wrapper refuses tags other than 16 bytes (ERR_INTEGRITY, no plaintext)', async t => {
  const others = file.testGroups.filter(g => g.ivSize === 96 && g.tagSize !== 128 && g.keySize !== 192)
  let n = 0
  for (const v of others.flatMap(g => g.tests)) {
    checkInvalid(t, v)
    n++
  }
  // Truncated-tag groups: 6 sizes x 8 valid-for-their-size vectors, plus 9 odd sizes, for each of 2 key sizes.
  t.equal(n, 114, 'ran every other-tag-size vector for 128/256-bit keys')
})

t.test('SPEC 5.3: the wrapper refuses 192-bit keys (RangeError)', async t => {
  const tests = file.testGroups.filter(g => g.keySize === 192 && g.ivSize === 96 && g.tagSize === 128).flatMap(g => g.tests)
  t.equal(tests.length, 78)
  for (const v of tests) {
    t.type(thrown(() => ccmSeal(hex(v.key), hex(v.iv), hex(v.msg), hex(v.aad))), RangeError, `seal: ${describe(v)}`)
    t.type(thrown(() => ccmOpen(hex(v.key), hex(v.iv), hex(v.ct), hex(v.tag), hex(v.aad))), RangeError, `open: ${describe(v)}`)
  }
})
