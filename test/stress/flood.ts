/**
 * Unauthenticated load (issue 8 section 5): a flood from 127.0.1.2 (replayed ClientHellos, some
 * with a new random, and random bytes; `concurrency` connections at all times) against
 * `recv --keep-open` with its default limits, while honest clients on 127.0.0.1 measure their
 * handshake latency and the throughput of their transfers, first without the flood, then with
 * it. The same flood is also aimed at a plain TCP server that closes every connection at once:
 * on one machine the attacker's own CPU and the kernel's TCP work slow everyone down, and that
 * run measures how much. Targets: median handshake at most 2x the quiet one, throughput at least
 * 0.8x that under the flood at the closer, and a log that summarizes the flood per source.
 */
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { Ctx } from './harness.js'
import { openClient, payload, sendOn, sendOnce, sleep, within } from './peers.js'
import { frameBody, recordHandshake, type Recorded } from './attackers.js'
import { parseClientHello } from '../../src/handshake/messages.js'
import { startKeepOpen } from './server.js'
import type { FloodCounts, FloodData } from './flood-worker.js'

const FLOODER = '127.0.1.2'

export function median(xs: number[]): number {
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
    await within(sendOn(stream, payload(`hs-${i}`, 16)), 20_000, 'a 16-byte transfer after it') // a clean end, receipt checked
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

interface Samples { latency: number[], rate: number[] }

async function measure(port: number, ctx: Ctx, into: Samples, handshakes: number, transfers: number, size: number): Promise<void> {
  into.latency.push(...await handshakeTimes(port, ctx, handshakes))
  into.rate.push(...await throughputs(port, ctx, transfers, size))
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in USER_HZ ticks
}

/**
 * A plain TCP server in its own process that closes every connection at once: what the flood
 * costs a process that does nothing else, and the machine (the attacker shares its 2 cores).
 */
export async function closer(ctx: Ctx): Promise<{ port: number, pid: number }> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer(s => s.destroy()).listen(0, '127.0.0.1', function () { console.log(this.address().port) })`], { stdio: ['ignore', 'pipe', 'inherit'] })
  ctx.teardown(() => { child.kill() })
  const [line] = await within(once(child.stdout, 'data'), 10_000, 'the closer to listen') as [Buffer]
  return { port: Number(line.toString().trim()), pid: child.pid! }
}

/** What a 3 s flood alone costs the process `pid` listening on `port`: CPU share and microseconds per connection. */
async function floodCost(ctx: Ctx, port: number, pid: number, recorded: Recorded, concurrency: number): Promise<{ run: FloodRun<void>, cpu: number, perConnection: number }> {
  const before = cpuSeconds(pid)
  const run = await underFlood(ctx, port, recorded, concurrency, () => sleep(3000))
  const used = cpuSeconds(pid) - before
  return { run, cpu: used / run.seconds, perConnection: used / run.counts.connections * 1e6 }
}

interface FloodRun<T> { result: T, counts: FloodCounts, seconds: number }

/** Run the flood against `port` while `during` runs; returns what `during` returned and the flood's counts. */
async function underFlood<T>(ctx: Ctx, port: number, recorded: Recorded, concurrency: number, during: () => Promise<T>): Promise<FloodRun<T>> {
  const random = parseClientHello(frameBody(recorded.clientHello)).random
  const data: FloodData = { port, from: FLOODER, concurrency, clientHello: recorded.clientHello, clientFinished: recorded.clientFinished, randomOffset: recorded.clientHello.indexOf(random) }
  const worker = new Worker(new URL('./flood-worker.js', import.meta.url), { workerData: data })
  ctx.teardown(() => worker.terminate().then(() => {}))
  const started = performance.now()
  await sleep(1000) // the flood spends its budget first
  const result = await during()
  worker.postMessage('stop')
  const [counts] = await within(once(worker, 'message'), 30_000, 'the flood to stop') as [FloodCounts]
  return { result, counts, seconds: (performance.now() - started) / 1000 }
}

/**
 * Rounds of three conditions, interleaved so that the machine's other load falls on each alike:
 * quiet, the flood at a plain closer, the flood at this server.
 */
export function floodScenario(concurrency = 16, rounds = 3, handshakes = 15, transfers = 2, size = 32 * 1024 * 1024) {
  return async function flood(ctx: Ctx): Promise<void> {
    const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'))
    const recorded = await recordHandshake(server.port, ctx.peer)
    const plain = await closer(ctx)
    const quiet: Samples = { latency: [], rate: [] }
    const control: Samples = { latency: [], rate: [] }
    const loaded: Samples = { latency: [], rate: [] }
    const honest = (into: Samples) => (): Promise<void> => measure(server.port, ctx, into, handshakes, transfers, size)
    await measure(server.port, ctx, { latency: [], rate: [] }, 5, 1, size) // warm up
    const linesBefore = server.lines().length
    const firstFlood = performance.now()
    const cost = await floodCost(ctx, server.port, server.pid, recorded, concurrency)
    const plainCost = await floodCost(ctx, plain.port, plain.pid, recorded, concurrency)
    const alone = cost.run
    const runs = [alone]
    for (let r = 0; r < rounds; r++) {
      await honest(quiet)()
      await underFlood(ctx, plain.port, recorded, concurrency, honest(control))
      runs.push(await underFlood(ctx, server.port, recorded, concurrency, honest(loaded)))
    }
    const elapsed = (performance.now() - firstFlood) / 1000
    await sleep(11_000) // the last summary interval ends
    const floodLines = server.lines().slice(linesBefore).filter(l => l.includes(FLOODER))
    const sum = (f: (r: typeof alone) => number): number => runs.reduce((n, r) => n + f(r), 0)
    const [connections, seconds, answered] = [sum(r => r.counts.connections), sum(r => r.seconds), sum(r => r.counts.answered)]

    const m = (x: Samples): { latency: number, rate: number } => ({ latency: median(x.latency), rate: median(x.rate) })
    const [q, c, l] = [m(quiet), m(control), m(loaded)]
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`
    ctx.check(l.latency / q.latency <= 2, `honest handshake median under the flood at most 2x the quiet one (${ratio(l.latency, q.latency)})`)
    ctx.check(l.rate / q.rate >= 0.8, `honest transfer throughput under the flood at least 0.8x the quiet one (${ratio(l.rate, q.rate)})`)
    ctx.check(floodLines.length <= 2 * Math.ceil((seconds + 11) / 10) + 2, `the flood's ${connections} connections logged in ${floodLines.length} lines (at most 2 per source per 10 s)`)
    const rsaBound = 64 + 2 * elapsed // the default budget, reserved before each handshake starts (SPEC 7.3): a burst, then 2 a second
    ctx.check(answered <= rsaBound, `the flood got ${answered} RSA decryptions in ${elapsed.toFixed(0)} s, within the source's budget (${rsaBound.toFixed(0)})`)
    ctx.check(server.failures().every(f => f.host === FLOODER), 'no honest connection failed')
    ctx.check(server.alive(), 'the server is still up')
    const each = `${rounds} interleaved rounds`
    ctx.figure('flood: honest handshake median', `quiet ${q.latency.toFixed(1)} ms; under the flood ${l.latency.toFixed(1)} ms (${ratio(l.latency, q.latency)}); under the same flood aimed at a plain closer ${c.latency.toFixed(1)} ms (${ratio(c.latency, q.latency)}) (${each} of ${handshakes} sequential handshakes)`)
    ctx.figure('flood: honest transfer throughput', `quiet ${q.rate.toFixed(0)} MB/s; under the flood ${l.rate.toFixed(0)} MB/s (${ratio(l.rate, q.rate)}); flood at a plain closer ${c.rate.toFixed(0)} MB/s (${ratio(c.rate, q.rate)}) (median of ${each} of ${transfers} x ${size / 1024 / 1024} MiB)`)
    const rate = (r: FloodRun<void>): string => `${(r.counts.connections / r.seconds).toFixed(0)} connections/s`
    ctx.figure('flood: server CPU for the flood alone', `${(cost.cpu * 100).toFixed(0)}% of a core at ${rate(alone)}, ${cost.perConnection.toFixed(0)} us per connection (${alone.counts.answered} answered); a plain closer: ${(plainCost.cpu * 100).toFixed(0)}% at ${rate(plainCost.run)}, ${plainCost.perConnection.toFixed(0)} us per connection`)
    ctx.figure(`flood: from ${FLOODER} at this server`, `${connections} connections in ${seconds.toFixed(1)} s (${(connections / seconds).toFixed(0)}/s, ${concurrency} at a time); ${answered} answered (a ServerHello: one RSA decryption each), the rest closed unread or refused`)
    ctx.figure(`flood: log lines for ${FLOODER}`, `${floodLines.length}:\n    ${floodLines.join('\n    ')}`)
  }
}
