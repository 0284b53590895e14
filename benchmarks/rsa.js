/**
 * RSA-3072 OAEP-SHA256 (MGF1-SHA256) private-key decryptions per second on one core:
 * Node crypto with a KeyObject parsed once, Node crypto re-parsing the PEM each call (what a
 * careless caller pays), and node-forge (pure JavaScript). Bounded by time and by count.
 */
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto'
import { rotate, summarize } from './lib/stats.js'

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }

/** Ops per second of fn for about `seconds`, at most `max` calls (at least 3). */
function opsPerSecond(fn, seconds, max = 100_000) {
  fn() // warm-up
  const limit = seconds * 1e9
  const t0 = process.hrtime.bigint()
  let n = 0
  let dt = 0
  while (n < max) {
    fn()
    n++
    dt = Number(process.hrtime.bigint() - t0)
    if (dt >= limit && n >= 3) break
  }
  return n / (dt / 1e9)
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
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const c of rotate(cases, round)) {
      const ops = opsPerSecond(c.fn, c.seconds, c.max)
      samples.get(c.id).push(ops)
      log(`rsa round ${round + 1}/${ctx.opts.rounds} ${c.id}: ${ops.toFixed(1)} ops/s`)
    }
  }
  const results = cases.map((c) => ({ id: c.id, label: c.label, stats: summarize(samples.get(c.id)) }))
  const node = results.find((r) => r.id === 'node-keyobject').stats.median
  return { forgeNote, results, decryptMs: 1000 / node }
}
