/**
 * Small messages: one connection, a 64-byte message out and its echo back, one at a time;
 * round trips per second, secure-pipe (library API) against Node tls 1.3 (server certificate only, and
 * with client certificates, the issue 18 peer: both ends authenticated, as in secure-pipe). Client and server in
 * separate processes; Nagle is turned off wherever the stream offers setNoDelay.
 */
import { clientServerSample } from './lib/clientserver.js'
import { rotate, summarize } from './lib/stats.js'

const KINDS = [
  { kind: 'sp', id: 'sp', label: 'secure-pipe (library API)' },
  { kind: 'tls', id: 'tls', label: `Node tls 1.3 TLS_AES_128_CCM_SHA256` },
  { kind: 'tls-mutual', id: 'tls-mutual', label: `Node tls 1.3 TLS_AES_128_CCM_SHA256, client certificates` },
]

export async function runPingpong(ctx, log) {
  const res = new Map(KINDS.map((k) => [k.id, { ...k, rates: [], lat: [], errors: [], noDelay: null, skipped: k.kind === 'sp' && ctx.libMissing ? `skipped: ${ctx.libMissing}` : null }]))
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const k of rotate(KINDS, round)) {
      const r = res.get(k.id)
      if (r.skipped) continue
      try {
        const s = await clientServerSample(ctx, { kind: k.kind, mode: 'pingpong', seconds: ctx.opts.seconds, max: 200_000 })
        r.rates.push(s.perSecond)
        r.lat.push(s.medianMs)
        r.noDelay = s.noDelay
        log(`pingpong round ${round + 1}/${ctx.opts.rounds} ${k.id}: ${s.perSecond.toFixed(0)} round trips/s, median ${(s.medianMs * 1000).toFixed(0)} µs`)
      } catch (err) {
        r.errors.push(err.message)
        log(`pingpong round ${round + 1}/${ctx.opts.rounds} ${k.id}: FAILED ${err.message}`)
      }
    }
  }
  return [...res.values()].map((r) => ({ ...r, stats: summarize(r.rates), latency: summarize(r.lat) }))
}
