/**
 * Load (issue 5): N clients at once, each sending 1 MiB through the library's `connect` to
 * `recv --keep-open --output-dir` in its own process. Every transfer is verified twice by
 * SHA-256 computed on the server side: the delivery receipt (SPEC 8) and the file in DIR.
 */
import { join } from 'node:path'
import { sha256File, waitFor } from '../helpers/cli.js'
import { counts, tally, type Ctx } from './harness.js'
import { payload, payloadDigest, sendOnce } from './peers.js'
import { memoryOf, mib, sampleRss, startKeepOpen } from './server.js'

export function loadScenario(clients: number, size = 1024 * 1024) {
  return async function load(ctx: Ctx): Promise<void> {
    const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'))
    const idle = memoryOf(server.pid)!.rss
    const payloads = Array.from({ length: clients }, (_, i) => payload(`load-${i}`, size))
    const rss = sampleRss(server.pid, 200)
    const started = performance.now()
    const { ok, errors } = await tally(payloads.map(p => sendOnce(server.port, ctx.peer, p)))
    const seconds = (performance.now() - started) / 1000
    const mem = await rss.stop()
    ctx.check(ok.length === clients, `${ok.length}/${clients} transfers confirmed by a matching receipt (failures: ${counts(errors)})`)
    await waitFor(() => server.received() >= ok.length, 'the summary line of every transfer', 30_000).catch(() => {})
    const onDisk = (await Promise.all(server.files().filter(f => !f.endsWith('.partial')).map(f => sha256File(join(server.dir, f))))).sort()
    const expected = payloads.map(payloadDigest).sort()
    ctx.check(onDisk.length === clients && onDisk.every((d, i) => d === expected[i]), `${onDisk.length} files in DIR, every SHA-256 equal to a payload's`)
    ctx.check(server.partials().length === 0, 'no temporary file left')
    ctx.check(server.failures().length === 0, `no failure logged (${server.failures().length})`)
    ctx.check(server.alive(), 'the server is still up')
    ctx.figure('load: transfers/s', `${(clients / seconds).toFixed(1)} (${clients} x ${mib(size)} in ${seconds.toFixed(2)} s, ${(clients * size / seconds / 1e6).toFixed(1)} MB/s aggregate)`)
    ctx.figure('load: server RSS', `idle ${mib(idle)}, max sampled ${mib(mem.max)} (${mem.samples.length} samples every 200 ms), VmHWM ${mib(mem.hwm)}`)
    const end = await server.stop()
    ctx.check(end.code === 143, `SIGTERM ends the server with 143 (${end.code})`)
  }
}
