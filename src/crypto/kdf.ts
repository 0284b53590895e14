/** SHA-256, HMAC-SHA256, HKDF-SHA256 (SPEC 4) and scrypt (SPEC 14), all from node:crypto. */
import { createHash, createHmac, hkdfSync, scrypt, timingSafeEqual, type Hash } from 'node:crypto'

export function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** An incremental SHA-256: update as data comes, read the digest so far at any time. */
export class RunningSha256 {
  readonly #hash: Hash = createHash('sha256')
  update(data: Buffer): void { this.#hash.update(data) }
  /** The digest of everything so far; updating may go on. */
  digest(): Buffer { return this.#hash.copy().digest() }
}

export function hmacSha256(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** Constant-time comparison; a length mismatch is simply false. */
export function equalConstantTime(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Verify an HMAC-SHA256 tag in constant time (length checked first). */
export function hmacVerify(key: Buffer, tag: Buffer, ...parts: Buffer[]): boolean {
  return equalConstantTime(hmacSha256(key, ...parts), tag)
}

/** HKDF-SHA256 (RFC 5869): Extract(salt, ikm) then Expand(info, length). Throws past 255*32 bytes. */
export function hkdf(ikm: Buffer, salt: Buffer, info: Buffer | string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, typeof info === 'string' ? Buffer.from(info) : info, length))
}

/** scrypt parameters (RFC 7914): cost N (a power of 2), block size r, parallelism p. */
export interface ScryptParams { N: number, r: number, p: number }

/** scrypt (RFC 7914) from node:crypto, on the thread pool: the memory-hard function that turns a short password into key material. */
export function scryptKey(password: Buffer, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  // node:crypto refuses 128 * N * r bytes above maxmem: allow the parameters' own need and a margin.
  return new Promise((resolve, reject) => scrypt(password, salt, length, { ...params, maxmem: 256 * params.N * params.r }, (err, key) => err ? reject(err) : resolve(key)))
}
