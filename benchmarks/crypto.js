/**
 * Crypto ceiling on one core, in this process: AES-CCM over 64 KiB records with Node's crypto,
 * done the way the protocol does it per record (SPEC 5.2 to 5.4):
 *   r  = 12 random bytes
 *   IV = first 12 bytes of AES-CCM-encrypt(key, nonce = r, plaintext = r)
 *   ct, tag = AES-CCM(key, nonce = IV, 16-byte tag, 14-byte AAD) over 1 type byte + 64 KiB
 *   record = ct '@' IV '@' tag
 * and "open" parses such a record and verifies and decrypts it. Also a raw single AES-CCM call
 * over 64 KiB for comparison, and, when it is built, the library's own CCM wrapper.
 * Rates are plaintext payload bytes per second (1 MB = 10^6 bytes).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from './lib/tools.js'
import { rotate, summarize } from './lib/stats.js'

export const RECORD = 64 * 1024
const TAG = 16
const AT = Buffer.from([0x40])

function ccm(name, key, nonce, plaintext, aad) {
  const c = createCipheriv(name, key, nonce, { authTagLength: TAG })
  c.setAAD(aad, { plaintextLength: plaintext.length })
  const ct = c.update(plaintext)
  c.final()
  return { ct, tag: c.getAuthTag() }
}

function ccmIv(name, key) {
  const r = randomBytes(12)
  const c = createCipheriv(name, key, r, { authTagLength: TAG })
  c.setAAD(Buffer.alloc(0), { plaintextLength: 12 })
  const iv = c.update(r)
  c.final()
  return iv
}

export function sealRecord(name, key, payload, aad, type = 0) {
  const iv = ccmIv(name, key)
  const { ct, tag } = ccm(name, key, iv, Buffer.concat([Buffer.from([type]), payload]), aad)
  return Buffer.concat([ct, AT, iv, AT, tag])
}

export function openRecord(name, key, record, aad) {
  const n = record.length
  if (record[n - TAG - 1] !== 0x40 || record[n - TAG - 14] !== 0x40) throw new Error('bad separators')
  const tag = record.subarray(n - TAG)
  const iv = record.subarray(n - TAG - 13, n - TAG - 1)
  const ct = record.subarray(0, n - TAG - 14)
  const d = createDecipheriv(name, key, iv, { authTagLength: TAG })
  d.setAuthTag(tag)
  d.setAAD(aad, { plaintextLength: ct.length })
  const pt = d.update(ct)
  d.final() // throws when the tag does not verify
  return pt.subarray(1)
}

/** Calls fn repeatedly for about `seconds` (at most 1e6 calls); returns MB/s of `bytes` per call. */
export function rate(fn, bytes, seconds) {
  for (let i = 0; i < 20; i++) fn() // warm-up
  const limit = BigInt(Math.round(seconds * 1e9))
  const t0 = process.hrtime.bigint()
  let n = 0
  let dt = 0n
  while (n < 1e6) {
    for (let i = 0; i < 16; i++) fn()
    n += 16
    dt = process.hrtime.bigint() - t0
    if (dt >= limit) break
  }
  return (n * bytes) / 1e6 / (Number(dt) / 1e9)
}

async function libraryCases(payload, aad) {
  const cases = []
  const file = join(ROOT, 'build', 'src', 'crypto', 'ccm.js')
  if (!existsSync(file)) return { cases, note: 'build/src/crypto/ccm.js not built' }
  const m = await import(pathToFileURL(file).href)
  if (typeof m.ccmSeal !== 'function') return { cases, note: 'build/src/crypto/ccm.js has no ccmSeal' }
  for (const bits of [128, 256]) {
    const key = randomBytes(bits / 8)
    const nonce = randomBytes(12)
    cases.push({ id: `lib-ccmSeal-${bits}`, label: `library ccmSeal (build/src/crypto/ccm.js) AES-${bits}-CCM, 1+64 KiB`, fn: () => m.ccmSeal(key, nonce, Buffer.concat([Buffer.from([0]), payload]), aad) })
  }
  return { cases, note: null }
}

export async function runCrypto(ctx, log) {
  const seconds = ctx.opts.seconds
  const payload = randomFillSync(Buffer.alloc(RECORD))
  const aad = randomBytes(14)
  const cases = []
  for (const bits of [128, 256]) {
    const name = `aes-${bits}-ccm`
    const key = randomBytes(bits / 8)
    const nonce = randomBytes(12)
    const sealed = sealRecord(name, key, payload, aad)
    if (!openRecord(name, key, sealed, aad).equals(payload)) throw new Error(`${name}: record round trip failed`)
    cases.push(
      { id: `raw-${bits}`, label: `raw AES-${bits}-CCM encrypt, one call over 64 KiB`, fn: () => ccm(name, key, nonce, payload, aad) },
      { id: `seal-${bits}`, label: `record seal AES-${bits}-CCM (IV derivation + 1+64 KiB + assembly)`, fn: () => sealRecord(name, key, payload, aad) },
      { id: `open-${bits}`, label: `record open AES-${bits}-CCM (parse + verify + decrypt)`, fn: () => openRecord(name, key, sealed, aad) },
    )
  }
  const lib = await libraryCases(payload, aad)
  cases.push(...lib.cases)
  const samples = new Map(cases.map((c) => [c.id, []]))
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const c of rotate(cases, round)) {
      const mbps = rate(c.fn, RECORD, seconds / 2)
      samples.get(c.id).push(mbps)
      log(`crypto round ${round + 1}/${ctx.opts.rounds} ${c.id}: ${mbps.toFixed(0)} MB/s`)
    }
  }
  return {
    libNote: lib.note,
    results: cases.map((c) => ({ id: c.id, label: c.label, stats: summarize(samples.get(c.id)) })),
  }
}
