/**
 * RSA-3072 OAEP-SHA256 (MGF1-SHA256) private-key decryptions per second on one core:
 * Node crypto with a KeyObject parsed once, Node crypto re-parsing the PEM each call (what a
 * careless caller pays), and node-forge (pure JavaScript). Bounded by time and by count.
 */
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto'
import { median, rotate, summarize } from './lib/stats.js'

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }

/**
 * Ops per second of fn for about `seconds`, at most `max` calls (at least 3), and the time of
 * each call: the median call time resists preemption by other work on a busy machine.
 */
function opsPerSecond(fn, seconds, max = 100_000) {
  fn() // warm-up
  const limit = seconds * 1e9
  const times = []
  const t0 = process.hrtime.bigint()
  let dt = 0
  while (times.length < max) {
    const t = process.hrtime.bigint()
    fn()
    const end = process.hrtime.bigint()
    times.push(Number(end - t) / 1e6)
    dt = Number(end - t0)
    if (dt >= limit && times.length >= 3) break
  }
  return { rate: times.length / (dt / 1e9), times }
}

export async function runRsa(ctx, log) {
  const seconds = ctx.opts.seconds
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 })
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' })
  const secret = randomBytes(32)
  const ct = publicEncrypt({ key: publicKey, ...OAEP }, secret)
  const cases = [
    { id: 'node-keyobject', label: 'Node crypto privateDecrypt, KeyObject parsed once', fn: () => privateDecrypt({ key: privateKey, ...OAEP }, ct), seconds },
    { id: 'node-pem', label: 'Node crypto privateDecrypt, PEM parsed on every call', fn: () => privateDecrypt({ key: pem, ...OAEP }, ct), seconds },
    { id: 'node-encrypt', label: 'Node crypto publicEncrypt (public-key side, for reference)', fn: () => publicEncrypt({ key: publicKey, ...OAEP }, secret), seconds: seconds / 2 },
  ]
  let forgeNote = null
  try {
    const forge = (await import('node-forge')).default
    const fkey = forge.pki.privateKeyFromPem(pem)
    const fct = ct.toString('binary')
    const opts = { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } }
    if (Buffer.from(fkey.decrypt(fct, 'RSA-OAEP', opts), 'binary').equals(secret) === false) throw new Error('node-forge decrypted to something else')
    cases.push({ id: 'forge', label: 'node-forge privateKey.decrypt RSA-OAEP SHA-256', fn: () => fkey.decrypt(fct, 'RSA-OAEP', opts), seconds: Math.max(seconds, 3), max: 200 })
  } catch (err) {
    forgeNote = `node-forge skipped: ${err.message}`
  }
  for (const c of cases) {
    if (c.id !== 'node-encrypt' && c.id !== 'forge' && !Buffer.from(c.fn()).equals(secret)) throw new Error(`${c.id}: wrong plaintext`)
  }
  const samples = new Map(cases.map((c) => [c.id, []]))
  const callMs = new Map(cases.map((c) => [c.id, []]))
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const c of rotate(cases, round)) {
      const { rate: ops, times } = opsPerSecond(c.fn, c.seconds, c.max)
      samples.get(c.id).push(ops)
      callMs.get(c.id).push(...times)
      log(`rsa round ${round + 1}/${ctx.opts.rounds} ${c.id}: ${ops.toFixed(1)} ops/s`)
    }
  }
  const results = cases.map((c) => ({ id: c.id, label: c.label, stats: summarize(samples.get(c.id)), medianCallMs: median(callMs.get(c.id)) }))
  return { forgeNote, results, decryptMs: results.find((r) => r.id === 'node-keyobject').medianCallMs }
}
