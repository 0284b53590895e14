/**
 * Handshakes per second, one at a time and 16 at once, client and server in separate processes:
 * secure-pipe (RSA-3072 keys, library API) against Node tls 1.3 with an RSA-3072 certificate,
 * both with mutual authentication (client certificate) and server-only. Each handshake is a
 * fresh TCP connection and a full handshake (no resumption); latency is connect() to
 * handshake done, measured by the client.
 *
 * RSA floor: a secure-pipe handshake makes one RSA-3072 OAEP private decryption on each side
 * (t = the decryption time measured in the same run). One at a time those two run one after the
 * other, so the rate can be at most 1 / (2 t). With many at once, each of the two processes
 * (one core each) spends t per handshake, so the bound is 1 / t.
 */
import { clientServerSample } from './lib/clientserver.js'
import { rotate, summarize } from './lib/stats.js'

export const HS_KINDS = [
  { kind: 'sp', label: 'secure-pipe (RSA-3072 both sides)' },
  { kind: 'tls-mutual', label: 'Node tls 1.3, RSA-3072 certs both sides' },
  { kind: 'tls', label: 'Node tls 1.3, RSA-3072 server cert only' },
]

export async function runHandshake(ctx, log) {
  const configs = []
  for (const k of HS_KINDS) for (const concurrency of [1, 16]) configs.push({ ...k, concurrency, id: `${k.kind}-c${concurrency}` })
  const res = new Map(configs.map((c) => [c.id, { ...c, rates: [], lat: [], errors: [], skipped: c.kind === 'sp' && ctx.libMissing ? `skipped: ${ctx.libMissing}` : null }]))
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const c of rotate(configs, round)) {
      const r = res.get(c.id)
      if (r.skipped) continue
      try {
        const s = await clientServerSample(ctx, { kind: c.kind, mode: 'hs', concurrency: c.concurrency, seconds: ctx.opts.seconds })
        r.rates.push(s.perSecond)
        r.lat.push(s.medianMs)
        log(`handshake round ${round + 1}/${ctx.opts.rounds} ${c.id}: ${s.perSecond.toFixed(1)}/s, median ${s.medianMs.toFixed(2)} ms (${s.count} in ${s.seconds.toFixed(1)} s)`)
      } catch (err) {
        r.errors.push(err.message)
        log(`handshake round ${round + 1}/${ctx.opts.rounds} ${c.id}: FAILED ${err.message}`)
      }
    }
  }
  return [...res.values()].map((r) => ({ ...r, stats: summarize(r.rates), latency: summarize(r.lat) }))
}
