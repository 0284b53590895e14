/**
 * SPAKE2 P256-SHA256-HKDF-HMAC (src/crypto/spake2.ts) against every value of RFC 9382 Appendix B
 * (test/vectors/pake/rfc9382-p256.json), from both roles, and the share checks of SPEC 14.3.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { p256 } from '@noble/curves/nist.js'
import { Spake2, SPAKE2_M, SPAKE2_N, spake2PasswordScalar } from '../../../src/crypto/spake2.js'
import { vectorFile } from '../../helpers/vectors.js'

interface RfcVector { name: string, A: string, B: string, w: string, x: string, y: string, pA: string, pB: string, TT?: string, Ke: string, Ka: string, KcA: string, KcB: string, cA: string, cB: string }

const file = JSON.parse(readFileSync(vectorFile('pake/rfc9382-p256.json'), 'utf8')) as { vectors: RfcVector[] }
const big = (h: string): bigint => BigInt(`0x${h}`)
const hex = (b: Buffer): string => b.toString('hex')

t.test('RFC 9382 Appendix B: all four P-256 vectors, every value, from both sides', async t => {
  t.equal(file.vectors.length, 4, 'all four vectors present')
  for (const v of file.vectors) {
    const ids = { idA: Buffer.from(v.A), idB: Buffer.from(v.B), w: big(v.w) }
    const a = new Spake2({ ...ids, role: 'A', scalar: big(v.x) })
    const b = new Spake2({ ...ids, role: 'B', scalar: big(v.y) })
    t.equal(hex(a.share), v.pA, `${v.name}: pA`)
    t.equal(hex(b.share), v.pB, `${v.name}: pB`)
    for (const [side, keys] of [['A', a.finish(b.share, Buffer.alloc(0))], ['B', b.finish(a.share, Buffer.alloc(0))]] as const) {
      if (v.TT) t.equal(hex(keys.tt), v.TT, `${v.name} ${side}: TT`)
      t.equal(hex(keys.ke), v.Ke, `${v.name} ${side}: Ke`)
      t.equal(hex(keys.ka), v.Ka, `${v.name} ${side}: Ka`)
      t.equal(hex(keys.kcA), v.KcA, `${v.name} ${side}: KcA`)
      t.equal(hex(keys.kcB), v.KcB, `${v.name} ${side}: KcB`)
      t.equal(hex(keys.cA), v.cA, `${v.name} ${side}: cA`)
      t.equal(hex(keys.cB), v.cB, `${v.name} ${side}: cB`)
    }
  }
})

t.test('RFC 9382 section 6: M and N are the seeds\' points', async t => {
  t.equal(SPAKE2_M, '02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f')
  t.equal(SPAKE2_N, '03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49')
})

t.test('a different password gives different keys and confirmations; the AAD changes KcA and KcB', async t => {
  const ids = { idA: Buffer.from('a'), idB: Buffer.from('b') }
  const a = new Spake2({ ...ids, role: 'A', w: 5n })
  const b = new Spake2({ ...ids, role: 'B', w: 6n })
  const ka = a.finish(b.share, Buffer.alloc(0))
  const kb = b.finish(a.share, Buffer.alloc(0))
  t.not(hex(ka.ke), hex(kb.ke), 'Ke differs')
  t.not(hex(ka.cB), hex(kb.cB), 'A would reject B\'s confirmation')
  const a2 = new Spake2({ ...ids, role: 'A', w: 5n, scalar: 7n })
  const b2 = new Spake2({ ...ids, role: 'B', w: 5n, scalar: 9n })
  const one = a2.finish(b2.share, Buffer.from([0]))
  const other = b2.finish(a2.share, Buffer.from([1]))
  t.equal(hex(one.ke), hex(other.ke), 'the same password agrees on Ke')
  t.not(hex(one.kcB), hex(other.kcB), 'a different AAD gives other confirmation keys')
})

t.test('SPEC 14.3: a share that is not an uncompressed point of P-256, or is w*N, is ERR_AUTH', async t => {
  const w = 1234n
  const n = p256.Point.fromHex(SPAKE2_N)
  const good = Buffer.from(p256.Point.BASE.multiply(3n).toBytes(false))
  const bad: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['compressed', Buffer.from(p256.Point.BASE.multiply(3n).toBytes(true))],
    ['off the curve', Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0xff)])],
    ['the wrong prefix', Buffer.concat([Buffer.from([6]), good.subarray(1)])],
    ['one byte longer', Buffer.concat([good, Buffer.from([0])])],
    ['w*N (K would be the identity)', Buffer.from(n.multiply(w).toBytes(false))],
  ]
  for (const [what, share] of bad) {
    const a = new Spake2({ role: 'A', w, idA: Buffer.alloc(0), idB: Buffer.alloc(0) })
    t.throws(() => a.finish(share, Buffer.alloc(0)), { code: 'ERR_AUTH' }, what)
  }
  const a = new Spake2({ role: 'A', w, idA: Buffer.alloc(0), idB: Buffer.alloc(0) })
  a.finish(good, Buffer.alloc(0))
  t.throws(() => a.finish(good, Buffer.alloc(0)), { code: 'ERR_AUTH' }, 'one finish per exchange')
})

t.test('the password scalar is the MHF output mod n and needs 64 bits above the order', async t => {
  const n = p256.Point.Fn.ORDER
  const bytes = Buffer.from((n + 5n).toString(16).padStart(80, '0'), 'hex')
  t.equal(spake2PasswordScalar(bytes), 5n)
  t.throws(() => spake2PasswordScalar(Buffer.alloc(32, 1)), RangeError)
})
