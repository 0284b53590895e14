/**
 * Crypto ceiling on one core, in this process: AES-CCM over 64 KiB records with Node's crypto,
 * done the way the protocol does it per record (SPEC 5.2 to 5.4):
 *   r  = 12 random bytes
 *   IV = first 12 bytes of AES-CCM-encrypt(key, nonce = r, plaintext = r)
 *   ct, tag = AES-CCM(key, nonce = IV, 16-byte tag, 14-byte AAD) over 1 type byte + 64 KiB
 *   record = ct '@' IV '@' tag
 * and "open" parses such a record and verifies and decrypts it. Also a raw single AES-CCM call
 * over 64 KiB for comparison, and, when it is built, the library's own code: its CCM wrapper,
 * RecordProtector seal/open, and its four stream stages chained in one process.
 * Rates are plaintext payload bytes per second (1 MB = 10^6 bytes).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ROOT } from './lib/tools.js'
import { run, shq } from './lib/proc.js'
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

const built = (rel) => join(ROOT, 'build', 'src', ...rel.split('/'))
const importBuilt = async (rel) => (existsSync(built(rel)) ? import(pathToFileURL(built(rel)).href) : null)

/** Sync cases on the library's own code: the CCM wrapper and RecordProtector seal/open. */
async function libraryCases(payload, aad) {
  const cases = []
  const notes = []
  const ccmMod = await importBuilt('crypto/ccm.js')
  if (typeof ccmMod?.ccmSeal === 'function') {
    for (const bits of [128, 256]) {
      const key = randomBytes(bits / 8)
      const nonce = randomBytes(12)
      cases.push({ id: `lib-ccmSeal-${bits}`, label: `library ccmSeal (crypto/ccm.js) AES-${bits}-CCM, 1+64 KiB`, fn: () => ccmMod.ccmSeal(key, nonce, Buffer.concat([Buffer.from([0]), payload]), aad) })
    }
  } else notes.push('build/src/crypto/ccm.js with ccmSeal not found')
  const prot = await importBuilt('record/protector.js')
  if (typeof prot?.RecordProtector === 'function') {
    for (const bits of [128, 256]) {
      const keys = () => ({ cipher: `aes-${bits}-ccm`, secret: Buffer.alloc(32, 9), direction: 0 })
      let sealer = new prot.RecordProtector(keys())
      cases.push({ id: `lib-seal-${bits}`, label: `library RecordProtector.seal AES-${bits}-CCM, 64 KiB`, fn: () => sealer.seal(0, payload) })
      // open needs records in sequence order: seal a batch once, open it again and again with fresh protectors.
      sealer = new prot.RecordProtector(keys())
      const batch = Array.from({ length: 32 }, () => Buffer.concat(sealer.seal(0, payload)))
      let opener = null
      let i = batch.length
      cases.push({
        id: `lib-open-${bits}`, label: `library RecordProtector.open AES-${bits}-CCM, 64 KiB`,
        fn: () => {
          if (i === batch.length) { opener = new prot.RecordProtector(keys()); i = 0 }
          const r = opener.open(batch[i++])
          if (r.payload.length !== payload.length) throw new Error('RecordProtector.open returned the wrong length')
        },
      })
    }
    // Small records: what one record costs beyond its bytes (two AES contexts per seal before issue 11, one now; one per open).
    const small = randomFillSync(Buffer.alloc(64))
    const keys = () => ({ cipher: 'aes-128-ccm', secret: Buffer.alloc(32, 9), direction: 0 })
    const sealer = new prot.RecordProtector(keys())
    cases.push({ id: 'lib-seal-128-64', label: 'library RecordProtector.seal AES-128-CCM, 64 B', bytes: 64, fn: () => sealer.seal(0, small) })
    const batchSealer = new prot.RecordProtector(keys())
    const batch = Array.from({ length: 4096 }, () => Buffer.concat(batchSealer.seal(0, small)))
    let opener = null
    let i = batch.length
    cases.push({
      id: 'lib-open-128-64', label: 'library RecordProtector.open AES-128-CCM, 64 B', bytes: 64,
      fn: () => {
        if (i === batch.length) { opener = new prot.RecordProtector(keys()); i = 0 }
        opener.open(batch[i++])
      },
    })
  } else notes.push('build/src/record/protector.js with RecordProtector not found')
  return { cases, notes }
}

/**
 * The library's stream stages in one process (one core): EncryptStage -> FrameEncoder ->
 * FrameDecoder -> DecryptStage, 64 KiB writes, for about `seconds`. MB/s of plaintext.
 */
async function stagesRate(index, constants, bits, seconds) {
  const { EncryptStage, DecryptStage, FrameEncoder, FrameDecoder } = index
  const keys = () => ({ cipher: `aes-${bits}-ccm`, secret: Buffer.alloc(32, 5), direction: 0 })
  const limit = constants.recordFrameLimit ? constants.recordFrameLimit(RECORD) : RECORD + 64
  const chunk = randomFillSync(Buffer.alloc(RECORD))
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9))
  let sent = 0
  const source = Readable.from((function * () {
    while (sent < 2 ** 32 && process.hrtime.bigint() < deadline) { sent += chunk.length; yield chunk }
  })(), { objectMode: false })
  let got = 0
  const sink = new Writable({ write(c, _e, cb) { got += c.length; cb() } })
  const t0 = process.hrtime.bigint()
  await pipeline(source, new EncryptStage({ keys: keys() }), new FrameEncoder(),
    new FrameDecoder({ limit }), new DecryptStage({ keys: keys() }), sink)
  const dt = Number(process.hrtime.bigint() - t0) / 1e9
  if (got !== sent) throw new Error(`stages delivered ${got} of ${sent} bytes`)
  return got / 1e6 / dt
}

async function stageCases() {
  const index = await importBuilt('index.js')
  const constants = await importBuilt('constants.js')
  const need = ['EncryptStage', 'DecryptStage', 'FrameEncoder', 'FrameDecoder']
  if (!index || need.some((n) => typeof index[n] !== 'function')) return { cases: [], note: `build/src/index.js exporting ${need.join(', ')} not found` }
  return {
    cases: [128, 256].map((bits) => ({ id: `lib-stages-${bits}`, label: `library stages Encrypt→FrameEncoder→FrameDecoder→Decrypt AES-${bits}-CCM, one process`, async: (seconds) => stagesRate(index, constants || {}, bits, seconds) })),
    note: null,
  }
}

/**
 * OpenSSL's own AES-CCM loop over 64 KiB, with the machine's OpenSSL: what a TLS peer such as
 * socat gets from the same cipher, next to Node's one call per record (the raw rows). `-elapsed`
 * makes it count wall time, as our rows do (by default it counts CPU time). MB/s of plaintext,
 * from the k (1000 bytes) per second it prints.
 */
async function opensslSpeed(openssl, bits, seconds) {
  const line = `${shq(openssl)} speed -elapsed -evp aes-${bits}-ccm -bytes ${RECORD} -seconds ${Math.max(1, Math.round(seconds))}`
  const { code, stdout } = await run(line, { timeoutMs: 60_000 })
  const m = new RegExp(`^AES-${bits}-CCM\\s+([0-9.]+)k\\s*$`, 'm').exec(stdout)
  if (code !== 0 || !m) throw new Error(`openssl speed gave no AES-${bits}-CCM figure (exit ${code})`)
  return Number(m[1]) * 1000 / 1e6
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
  if (ctx.tools.openssl) {
    for (const bits of [128, 256]) cases.push({ id: `openssl-speed-${bits}`, label: `\`openssl speed -evp aes-${bits}-ccm\` over 64 KiB (OpenSSL's own loop, what a TLS peer gets)`, async: (s) => opensslSpeed(ctx.tools.openssl, bits, s) })
  }
  const notes = []
  for (const load of [() => libraryCases(payload, aad), stageCases]) {
    try {
      const got = await load()
      cases.push(...got.cases)
      notes.push(...(got.notes || []), ...(got.note ? [got.note] : []))
    } catch (err) {
      notes.push(`library case failed to set up: ${err.message}`)
    }
  }
  const samples = new Map(cases.map((c) => [c.id, []]))
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const c of rotate(cases, round)) {
      try {
        const mbps = c.async ? await c.async(seconds / 2) : rate(c.fn, c.bytes ?? RECORD, seconds / 2)
        samples.get(c.id).push(mbps)
        log(`crypto round ${round + 1}/${ctx.opts.rounds} ${c.id}: ${mbps.toFixed(0)} MB/s`)
      } catch (err) {
        notes.push(`${c.id} failed: ${err.message}`)
        log(`crypto round ${round + 1}/${ctx.opts.rounds} ${c.id}: FAILED ${err.message}`)
      }
    }
  }
  return {
    libNote: notes.length ? [...new Set(notes)].join('; ') : null,
    results: cases.map((c) => ({ id: c.id, label: c.label, bytes: c.async ? null : c.bytes ?? RECORD, stats: summarize(samples.get(c.id)) })),
  }
}
