/**
 * Unauthenticated load (issue 8 section 5): a flood from 127.0.0.2 (replayed ClientHellos with
 * the recorded ClientFinished, and random bytes; `concurrency` connections at all times) against
 * `recv --keep-open` with its default limits, while honest clients on 127.0.0.1 measure their
 * handshake latency and the throughput of their transfers, first without the flood, then with
 * it. Targets: median handshake at most 2x, throughput at least 0.8x, and a log that summarizes
 * the flood instead of writing a line per connection.
 */
import { once } from 'node:events'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { Ctx } from './harness.js'
import { openClient, payload, sendOnce, sleep, within } from './peers.js'
import { recordHandshake } from './attackers.js'
import { startKeepOpen } from './server.js'
import type { FloodCounts, FloodData } from './flood-worker.js'

const FLOODER = '127.0.0.2'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

/** `n` honest handshakes one after another from 127.0.0.1; the time of each until 'secure', in ms. */
async function handshakeTimes(port: number, ctx: Ctx, n: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const started = performance.now()
    const { stream } = await within(openClient(port, ctx.peer), 20_000, 'an honest handshake')
    times.push(performance.now() - started)
    stream.destroy()
  }
  return times
}

/** `n` honest transfers of `size` bytes, one after another, receipts checked; MB/s of each. */
async function throughputs(port: number, ctx: Ctx, n: number, size: number): Promise<number[]> {
  const rates: number[] = []
  for (let i = 0; i < n; i++) {
    const started = performance.now()
    await within(sendOnce(port, ctx.peer, payload(`flood-${i}`, size)), 60_000, 'an honest transfer')
    rates.push(size / 1e6 / ((performance.now() - started) / 1000))
  }
  return rates
}

async function measure(port: number, ctx: Ctx, handshakes: number, transfers: number, size: number): Promise<{ latency: number, rate: number }> {
  const latency = median(await handshakeTimes(port, ctx, handshakes))
  const rate = median(await throughputs(port, ctx, transfers, size))
  return { latency, rate }
}

export function floodScenario(concurrency = 32, handshakes = 40, transfers = 5, size = 32 * 1024 * 1024) {
  return async function flood(ctx: Ctx): Promise<void> {
    const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'))
    const recorded = await recordHandshake(server.port, ctx.peer)
    await measure(server.port, ctx, 5, 1, size) // warm up
    const quiet = await measure(server.port, ctx, handshakes, transfers, size)
    const linesBefore = server.lines().length

    const data: FloodData = { port: server.port, from: FLOODER, concurrency, clientHello: recorded.clientHello, clientFinished: recorded.clientFinished }
    const worker = new Worker(new URL('./flood-worker.js', import.meta.url), { workerData: data })
    ctx.teardown(() => worker.terminate().then(() => {}))
    const floodStarted = performance.now()
    await sleep(1000) // the flood spends its budget first
    const loaded = await measure(server.port, ctx, handshakes, transfers, size)
    worker.postMessage('stop')
    const [counts] = await within(once(worker, 'message'), 30_000, 'the flood to stop') as [FloodCounts]
    const floodSeconds = (performance.now() - floodStarted) / 1000
    await sleep(11_000) // the last summary interval ends
    const floodLines = server.lines().slice(linesBefore).filter(l => l.includes(FLOODER))

    const latencyRatio = loaded.latency / quiet.latency
    const rateRatio = loaded.rate / quiet.rate
    ctx.check(latencyRatio <= 2, `honest handshake median under the flood at most 2x the quiet one (${latencyRatio.toFixed(2)}x)`)
    ctx.check(rateRatio >= 0.8, `honest transfer throughput under the flood at least 0.8x the quiet one (${rateRatio.toFixed(2)}x)`)
    ctx.check(floodLines.length <= 2 * Math.ceil((floodSeconds + 11) / 10), `the flood's ${counts.connections} connections logged in ${floodLines.length} lines (at most 2 per 10 s)`)
    ctx.check(server.failures().every(f => f.host === FLOODER), 'no honest connection failed')
    ctx.check(server.alive(), 'the server is still up')
    ctx.figure('flood: honest handshake median', `quiet ${quiet.latency.toFixed(1)} ms, under the flood ${loaded.latency.toFixed(1)} ms (${latencyRatio.toFixed(2)}x; ${handshakes} sequential handshakes each)`)
    ctx.figure('flood: honest transfer throughput', `quiet ${quiet.rate.toFixed(0)} MB/s, under the flood ${loaded.rate.toFixed(0)} MB/s (${rateRatio.toFixed(2)}x; median of ${transfers} x ${size / 1024 / 1024} MiB)`)
    ctx.figure('flood: from 127.0.0.2', `${counts.connections} connections in ${floodSeconds.toFixed(1)} s (${(counts.connections / floodSeconds).toFixed(0)}/s, ${concurrency} at a time); ${counts.answered} answered (a ServerHello: one RSA decryption each), ${counts.refusedUnread} closed unread`)
    ctx.figure('flood: log lines for 127.0.0.2', `${floodLines.length}:\n    ${floodLines.join('\n    ')}`)
  }
}
