/**
 * Peak RSS (VmHWM, via /usr/bin/time -f %M) of the sender and the receiver processes while
 * moving each size through the secure-pipe CLI (AES-128-CCM, to a file), with Node tls as a
 * reference. Same transfer code as bulk.js.
 */
import { contenders, transfer } from './bulk.js'
import { summarize } from './lib/stats.js'

const IDS = ['sp-aes128-file', 'node-tls-file']

export async function runMemory(ctx, log) {
  const list = contenders().filter((c) => IDS.includes(c.id))
  const rows = []
  for (const c of list) {
    const missing = !ctx.tools.time ? '/usr/bin/time not found (apt-get install time)' : await c.missing(ctx)
    for (const size of ctx.opts.memSizes) rows.push({ id: c.id, label: c.label, size, rx: [], tx: [], mbps: [], errors: [], skipped: missing ? `skipped: ${missing}` : null, contender: c })
  }
  for (let round = 0; round < ctx.opts.memRounds; round++) {
    for (const row of rows) {
      if (row.skipped) continue
      try {
        const timeoutMs = (ctx.opts.timeout ?? (30 + row.size / 10e6)) * 1000
        const t = await transfer(ctx, row.contender, row.size, { timeoutMs })
        row.rx.push(t.rssRx)
        row.tx.push(t.rssTx)
        row.mbps.push(t.mbps)
        log(`memory ${row.id} ${row.size} B: receiver ${(t.rssRx / 1e6).toFixed(1)} MB, sender ${(t.rssTx / 1e6).toFixed(1)} MB peak RSS (${t.mbps.toFixed(0)} MB/s)`)
      } catch (err) {
        row.errors.push(err.message)
        log(`memory ${row.id} ${row.size} B: FAILED ${err.message}`)
      }
    }
  }
  return rows.map(({ contender, ...r }) => ({ ...r, rxStats: summarize(r.rx), txStats: summarize(r.tx), mbpsStats: summarize(r.mbps) }))
}
