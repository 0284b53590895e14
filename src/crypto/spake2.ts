/**
 * SPAKE2 (RFC 9382), ciphersuite P256-SHA256-HKDF-HMAC, with the RFC's M and N (section 6):
 * the PAKE of `secure-pipe pair` (SPEC 14). The group arithmetic is @noble/curves' P-256 (pinned
 * in package.json); hashing, HKDF and HMAC are node:crypto (kdf.ts). This file only composes
 * them in the RFC's order; test/unit/pair/spake2.test.ts checks every value of RFC 9382
 * Appendix B (test/vectors/pake/rfc9382-p256.json).
 *
 * Secrets here are bigints (x, y, w), which JavaScript cannot wipe; the buffers derived from
 * them (K, TT, Ke, Ka, KcA, KcB) are zeroed by `Spake2Keys.wipe`.
 */
import { p256 } from '@noble/curves/nist.js'
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js'
import { AuthError } from '../errors.js'
import { hkdf, hmacSha256, sha256 } from './kdf.js'
import { secureRandom, type RandomSource } from './random.js'

const Point = p256.Point
type P256Point = ReturnType<typeof Point.fromHex>

/** RFC 9382 section 6, P-256: M and N as compressed SEC1 points. */
export const SPAKE2_M = '02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f'
export const SPAKE2_N = '03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49'
const M = Point.fromHex(SPAKE2_M)
const N = Point.fromHex(SPAKE2_N)

/** A share (pA or pB) on the wire: an uncompressed SEC1 point, 0x04 || x || y. */
export const SPAKE2_SHARE_LENGTH = 65
/** A confirmation MAC (HMAC-SHA256). */
export const SPAKE2_CONFIRM_LENGTH = 32
/** The group order's length; w enters TT as this many big-endian bytes. */
const SCALAR_LENGTH = Point.Fn.BYTES
/** Random bytes per ephemeral scalar: 16 bytes above the order's length make the bias of `mod n` 2^-128. */
const SCALAR_DRAW = SCALAR_LENGTH + 16

/** Which side: A sends pA first (the `pair` client), B answers with pB (the listener). */
export type Spake2Role = 'A' | 'B'

/** w: a byte string (the MHF's output, at least 64 bits longer than the order) reduced mod n (RFC 9382 section 3.2). */
export function spake2PasswordScalar(mhfOutput: Buffer): bigint {
  if (mhfOutput.length < SCALAR_LENGTH + 8) throw new RangeError(`the password hash must be at least ${SCALAR_LENGTH + 8} bytes`)
  return Point.Fn.create(bytesToNumberBE(mhfOutput))
}

/** The keys of RFC 9382 section 4 and both confirmation MACs. */
export interface Spake2Keys {
  /** TT, the transcript the MACs cover. */
  tt: Buffer
  /** The shared secret the application uses (16 bytes). */
  ke: Buffer
  ka: Buffer
  kcA: Buffer
  kcB: Buffer
  /** cA = HMAC(KcA, TT), sent by A; cB = HMAC(KcB, TT), sent by B. */
  cA: Buffer
  cB: Buffer
}

/** Zero every buffer of `keys` (call when the exchange is over). */
export function wipeSpake2Keys(keys: Spake2Keys): void {
  for (const b of [keys.tt, keys.ke, keys.ka, keys.kcA, keys.kcB, keys.cA, keys.cB]) b.fill(0)
}

/** One side of one SPAKE2 exchange; a new one (a new x or y) for every attempt (RFC 9382 section 7). */
export class Spake2 {
  readonly role: Spake2Role
  /** This side's share, pA (role A) or pB (role B), to send. */
  readonly share: Buffer
  readonly #w: bigint
  readonly #scalar: bigint
  readonly #idA: Buffer
  readonly #idB: Buffer
  #finished = false

  /**
   * @param scalar fixed x or y: RFC and SPEC vectors only; otherwise drawn from `random`.
   */
  constructor(opts: { role: Spake2Role, w: bigint, idA: Buffer, idB: Buffer, scalar?: bigint, random?: RandomSource }) {
    this.role = opts.role
    this.#w = opts.w
    this.#idA = opts.idA
    this.#idB = opts.idB
    if (!Point.Fn.isValidNot0(opts.w)) throw new RangeError('w must be in [1, n)')
    this.#scalar = opts.scalar ?? randomScalar(opts.random ?? secureRandom)
    if (!Point.Fn.isValidNot0(this.#scalar)) throw new RangeError('the ephemeral scalar must be in [1, n)')
    const mask = opts.role === 'A' ? M : N
    // RFC 9382 section 3.3: pA = x*P + w*M, pB = y*P + w*N.
    this.share = Buffer.from(Point.BASE.multiply(this.#scalar).add(mask.multiply(this.#w)).toBytes(false))
  }

  /**
   * The peer's share in, the key schedule out (RFC 9382 sections 3.3 and 4). `aad` enters the
   * confirmation keys' derivation. A share that is not an uncompressed point of the group, or
   * that makes K the identity, is `ERR_AUTH`. One call per exchange.
   */
  finish(peerShare: Buffer, aad: Buffer): Spake2Keys {
    if (this.#finished) throw new AuthError('this SPAKE2 exchange is already finished: a new attempt needs a new exchange')
    this.#finished = true
    const peer = decodeShare(peerShare)
    const unmask = this.role === 'A' ? N : M
    // K = h*x*(pB - w*N) for A, h*y*(pA - w*M) for B; P-256's cofactor h is 1.
    const base = peer.subtract(unmask.multiply(this.#w))
    if (base.is0()) throw new AuthError('the peer\'s SPAKE2 share is degenerate (it removes the password mask to the identity)')
    const k = Buffer.from(base.multiply(this.#scalar).toBytes(false))
    const [pA, pB] = this.role === 'A' ? [this.share, peerShare] : [peerShare, this.share]
    const w = Buffer.from(numberToBytesBE(this.#w, SCALAR_LENGTH))
    const tt = Buffer.concat([lp(this.#idA), lp(this.#idB), lp(pA), lp(pB), lp(k), lp(w)])
    k.fill(0)
    w.fill(0)
    // Section 4: Hash(TT) = Ke || Ka; KDF(nil, Ka, "ConfirmationKeys" || AAD) = KcA || KcB.
    const hash = sha256(tt)
    const ke = hash.subarray(0, 16)
    const ka = hash.subarray(16)
    const kc = hkdf(ka, Buffer.alloc(0), Buffer.concat([Buffer.from('ConfirmationKeys'), aad]), 32)
    const kcA = kc.subarray(0, 16)
    const kcB = kc.subarray(16)
    return { tt, ke, ka, kcA, kcB, cA: hmacSha256(kcA, tt), cB: hmacSha256(kcB, tt) }
  }
}

/** len(x) || x with len an 8-byte little-endian count (RFC 9382 section 3.3). */
function lp(data: Buffer): Buffer {
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(data.length))
  return Buffer.concat([len, data])
}

/** A peer's share: exactly 65 bytes, 0x04, on the curve (noble checks), never the identity. */
function decodeShare(share: Buffer): P256Point {
  if (share.length !== SPAKE2_SHARE_LENGTH || share[0] !== 0x04) throw new AuthError('the peer\'s SPAKE2 share is not an uncompressed P-256 point')
  try {
    return Point.fromBytes(share)
  } catch (err) {
    throw new AuthError('the peer\'s SPAKE2 share is not a point of P-256', { cause: err })
  }
}

/** A uniform scalar in [1, n): random bytes from node:crypto, reduced by noble's field. */
function randomScalar(random: RandomSource): bigint {
  for (let i = 0; i < 4; i++) {
    const bytes = random(SCALAR_DRAW)
    const s = Point.Fn.create(bytesToNumberBE(bytes))
    bytes.fill(0)
    if (s !== 0n) return s
  }
  throw new RangeError('the random source returned zero scalars') // a broken (test) source only
}
