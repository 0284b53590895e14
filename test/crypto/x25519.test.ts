/**
 * X25519 (SPEC 4.2, RFC 7748) against Project Wycheproof `x25519_test.json`, through
 * `x25519KeyPair(fixedPrivate)` and `x25519Shared` only.
 */
import t from 'tap'
import { x25519KeyPair, x25519Shared } from '../../src/crypto/x25519.js'
import { describe, hex, loadWycheproof, newCounts, tally, type XdhGroup } from '../helpers/wycheproof.js'

const file = loadWycheproof<XdhGroup>('x25519_test.json')

t.test('SPEC 4.2: Wycheproof X25519, all tests', async t => {
  t.same(file.testGroups.map(g => g.curve), ['curve25519'], 'one group')
  const counts = newCounts()
  let zeroRefused = 0
  let acceptableRefused = 0
  for (const v of file.testGroups.flatMap(g => g.tests)) {
    tally(counts, v)
    let out: Buffer | undefined
    let err: unknown
    try { out = x25519Shared(x25519KeyPair(hex(v.private)).privateKey, hex(v.public)) } catch (e) { err = e }
    if (v.flags.includes('ZeroSharedSecret')) {
      // A low-order peer key gives an all-zero secret; RFC 7748 section 6.1 lets us abort, and we must.
      t.type(err, Error, `all-zero secret refused: ${describe(v)}`)
      t.equal(out, undefined, `no secret: ${describe(v)}`)
      zeroRefused += err === undefined ? 0 : 1
    } else if (v.result === 'valid' || err === undefined) {
      t.equal(err, undefined, `derives: ${describe(v)}`)
      t.equal(out?.toString('hex'), v.shared, `equals shared: ${describe(v)}`)
    } else {
      t.equal(v.result, 'acceptable', `only acceptable vectors may be refused: ${describe(v)}`)
      acceptableRefused++
    }
  }
  t.same(counts, { total: 518, valid: 264, invalid: 0, acceptable: 254 }, 'ran exactly the expected vectors')
  t.equal(zeroRefused, 31, 'all 31 ZeroSharedSecret cases throw')
  t.comment(`acceptable vectors refused other than ZeroSharedSecret: ${acceptableRefused}`)
})

t.test('SPEC 4.2: a fixed private key yields the RFC 7748 section 6.1 public key', async t => {
  // RFC 7748 section 6.1, Alice's and Bob's key pairs and their shared secret.
  const alice = x25519KeyPair(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
  const bob = x25519KeyPair(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
  t.equal(alice.publicKey.toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
  t.equal(bob.publicKey.toString('hex'), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
  t.equal(x25519Shared(alice.privateKey, bob.publicKey).toString('hex'), shared)
  t.equal(x25519Shared(bob.privateKey, alice.publicKey).toString('hex'), shared)
})

t.test('SPEC 4.2: keys that are not 32 bytes are refused (RangeError)', async t => {
  const v = file.testGroups[0]!.tests.find(v => v.result === 'valid')!
  t.throws(() => x25519KeyPair(hex(v.private).subarray(1)), RangeError)
  const { privateKey } = x25519KeyPair(hex(v.private))
  t.throws(() => x25519Shared(privateKey, hex(v.public).subarray(1)), RangeError)
  t.throws(() => x25519Shared(privateKey, Buffer.concat([hex(v.public), Buffer.alloc(1)])), RangeError)
  t.equal(x25519KeyPair().publicKey.length, 32, 'a fresh key pair has a 32-byte public key')
})
