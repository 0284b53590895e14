/**
 * Many sources at once (issue 17 section 1), against `recv --keep-open` with its default limits,
 * each attacking source in its own /24 (127.0.N.2), honest clients on 127.0.0.1:
 * - `idle`: 5 sources x 256 sockets that send nothing (each opened again 1 s after the server
 *   closes it);
 * - `hellos`: 20 sources x 16 connections, each a fresh ClientHello of an authorized key (a new
 *   random: the replay cache does not stop it, each answer costs the server an RSA decryption).
 * Targets: at least 80% of honest sends succeed, their median handshake under 5x the quiet one,
 * and at most 2 RSA decryptions a second per source sustained (SPEC 7.3: a source gets at most
 * 64 + 2 x t answers in t seconds). Honest sends are spread over the attack (one every 400 ms),
 * so that they span at least one handshake timeout of the idle sockets.
 */
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { Ctx } from './harness.js'
import { counts } from './harness.js'
import { openClient, payload, sendOn, sleep, within } from './peers.js'
import { frameBody, recordHandshake } from './attackers.js'
import { closer, cpuSeconds, median } from './flood.js'
import { parseClientHello } from '../../src/handshake/messages.js'
import { startKeepOpen } from './server.js'
import type { SourcesData, SourcesProgress, SourcesResult } from './sources-worker.js'

const BURST = 64
const PER_SECOND = 2

interface Sends { times: number[], errors: string[] }

/** `n` honest sends from 127.0.0.1, `gapMs` apart: each a handshake (timed) and a 16-byte transfer with its receipt. */
async function honestSends(port: number, ctx: Ctx, n: number, gapMs: number, into: Sends = { times: [], errors: [] }): Promise<Sends> {
  for (let i = 0; i < n; i++) {
    const started = performance.now()
    try {
      const { stream } = await within(openClient(port, ctx.peer), 30_000, 'an honest handshake')
      const ms = performance.now() - started
      try {
        await within(sendOn(stream, payload(`src-${i}`, 16)), 20_000, 'a 16-byte transfer')
        into.times.push(ms)
      } finally {
        stream.destroy()
      }
    } catch (err) {
      into.errors.push((err as { code?: string }).code ?? (err as Error).message)
    }
    await sleep(gapMs)
  }
  return into
}

const conditions = (): string => `load average ${loadavg().map(l => l.toFixed(1)).join(' ')} on ${cpus().length} cores, node ${process.version}`

export function sourcesScenario(mode: 'idle' | 'hello', sources: number, perSource: number, sends = 30, gapMs = 400) {
  return async function attackBySources(ctx: Ctx): Promise<void> {
    const name = mode === 'idle' ? 'idle' : 'hellos'
    const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'))
    const recorded = await recordHandshake(server.port, ctx.peer)
    await honestSends(server.port, ctx, 3, 0) // warm up
    const before = conditions()
    const quiet = await honestSends(server.port, ctx, 15, 50)
    const from = Array.from({ length: sources }, (_, i) => `127.0.${i + 1}.2`)
    const data: SourcesData = {
      port: server.port, mode, sources: from, perSource, reopenMs: mode === 'idle' ? 1000 : 0,
      clientHello: recorded.clientHello, randomOffset: recorded.clientHello.indexOf(parseClientHello(frameBody(recorded.clientHello)).random),
    }
    /** The attack aimed at `port` while `during` runs. */
    const attacking = async <T>(port: number, warm: (answered: number) => boolean, during: () => Promise<T>): Promise<{ result: SourcesResult, value: T, warmedIn: number }> => {
      const worker = new Worker(new URL('./sources-worker.js', import.meta.url), { workerData: { ...data, port } })
      ctx.teardown(() => worker.terminate().then(() => {}))
      const started = performance.now()
      let answered = 0
      let done: (r: SourcesResult) => void = () => {}
      const finished = new Promise<SourcesResult>(resolve => { done = resolve })
      worker.on('message', (m: SourcesProgress | SourcesResult) => { if ('counts' in m) done(m); else answered = m.answered })
      await sleep(2000)
      for (let i = 0; i < 80 && !warm(answered); i++) await sleep(500) // at most 40 s more
      const warmedIn = (performance.now() - started) / 1000
      const value = await during()
      worker.postMessage('stop')
      const result = await within(finished, 60_000, 'the attackers to stop')
      return { result, value, warmedIn }
    }
    // The idle sockets open (2 s); the hellos spend their bursts first (sources x 64 RSA
    // decryptions, which the server works through at its own pace), then the figures are of the
    // sustained attack.
    let during = ''
    let serverCpu = 0
    const burstSpent = (answered: number): boolean => mode === 'idle' || answered >= 0.98 * sources * BURST
    const { result, value: loaded, warmedIn } = await attacking(server.port, burstSpent, async () => {
      during = conditions()
      const [cpuBefore, from] = [cpuSeconds(server.pid), performance.now()]
      const sent = await honestSends(server.port, ctx, sends, gapMs)
      serverCpu = (cpuSeconds(server.pid) - cpuBefore) / ((performance.now() - from) / 1000)
      return sent
    })
    // What the attacker's own load costs on this machine: the same attack at a plain TCP server
    // that closes every connection at once, while the honest sends go to the server.
    const plain = await closer(ctx)
    const { value: control } = await attacking(plain.port, () => true, () => honestSends(server.port, ctx, 15, gapMs))
    await honestSends(server.port, ctx, 10, 50, quiet) // quiet again, after
    const after = conditions()

    const ok = loaded.times.length
    const [q, l] = [median(quiet.times), median(loaded.times)]
    const sustained = result.counts.map(c => ({ from: c.from, rate: Math.max(0, c.answered - BURST) / result.seconds, answered: c.answered }))
    const worst = sustained.reduce((a, b) => (b.rate > a.rate ? b : a))
    const allowed = BURST + PER_SECOND * result.seconds
    ctx.check(ok >= 0.8 * sends, `${ok}/${sends} honest sends from 127.0.0.1 succeeded under the attack (at least 80%; failures: ${counts(loaded.errors)})`)
    ctx.check(l < 5 * q, `honest handshake median under the attack ${l.toFixed(1)} ms, under 5x the quiet ${q.toFixed(1)} ms (${(l / q).toFixed(2)}x)`)
    ctx.check(result.counts.every(c => c.answered <= allowed), `every source got at most ${BURST} + ${PER_SECOND}/s x ${result.seconds.toFixed(1)} s = ${allowed.toFixed(0)} answers (RSA decryptions); most: ${Math.max(...result.counts.map(c => c.answered))}`)
    ctx.check(quiet.errors.length === 0, `no quiet send failed (${counts(quiet.errors)})`)
    ctx.check(server.alive(), 'the server is still up')
    const total = result.counts.reduce((n, c) => n + c.connections, 0)
    const answered = result.counts.reduce((n, c) => n + c.answered, 0)
    ctx.figure(`${name}: honest sends`, `${ok}/${sends} succeeded (${counts(loaded.errors)} failed), one every ${gapMs} ms, from ${warmedIn.toFixed(1)} s into the attack${mode === 'hello' ? ' (once the bursts were answered)' : ''}`)
    const c = median(control.times)
    ctx.figure(`${name}: honest handshake median`, `quiet ${q.toFixed(1)} ms (${quiet.times.length} sends before and after), under the attack ${l.toFixed(1)} ms (${(l / q).toFixed(2)}x), slowest ${Math.max(...loaded.times).toFixed(0)} ms; with the same attack aimed at a plain closer instead ${c.toFixed(1)} ms (${(c / q).toFixed(2)}x: the attacker's own load on this machine)`)
    ctx.figure(`${name}: attack`, `${sources} sources x ${perSource} (${from[0]} .. ${from.at(-1)}), ${result.seconds.toFixed(1)} s: ${total} connections, ${answered} answered (RSA decryptions), sustained beyond the burst at most ${worst.rate.toFixed(2)}/s per source (${worst.from}: ${worst.answered} answers)`)
    if (mode === 'idle') {
      const held = result.counts.map(c => c.mostOpen)
      ctx.figure('idle: sockets open at once per source', `${Math.min(...held)} to ${Math.max(...held)} (of ${perSource}); ${result.counts.reduce((n, c) => n + c.closedAtOnce, 0)} connections closed by the server within 1 s of connecting`)
    }
    ctx.figure(`${name}: conditions`, `server CPU during the honest sends ${(serverCpu * 100).toFixed(0)}% of a core; before: ${before}; during: ${during}; after: ${after}`)
  }
}
