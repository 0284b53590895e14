/**
 * Slow and stuck peers (issue 5): connections from 127.0.1.2 that send half a ClientHello and
 * stall, and connections that complete the handshake and send nothing. Each must be dropped, by
 * the handshake timeout (SPEC 3.7) or the idle timeout, and logged (the stalled ones summarized
 * per source, issue 8.5; each idle one as a line), while honest clients keep completing
 * transfers at the same time.
 */
import { join } from 'node:path'
import { waitFor } from '../helpers/cli.js'
import type { SecureStream } from '../../src/index.js'
import { counts, tally, type Ctx } from './harness.js'
import { openClient, payload, sendOnce, within, type Sent } from './peers.js'
import { attack } from './attackers.js'
import { startKeepOpen, type KeepOpenServer } from './server.js'
import { sourceVerdict } from './garbage.js'

const STALLER = '127.0.1.2'

/** Resolves with the stream's error code (or 'none') once it is closed. */
function closedWith(stream: SecureStream): Promise<string> {
  return new Promise(resolve => {
    let code = 'none'
    stream.on('error', (err: Error & { code?: string }) => { code = err.code ?? err.message })
    stream.once('close', () => resolve(code))
  })
}

/** Honest transfers, `workers` at a time, until `stop()` says so (at most `max` each). */
async function honestWhile(server: KeepOpenServer, ctx: Ctx, workers: number, stop: () => boolean, max = 200): Promise<{ done: Array<Sent & { at: number }>, errors: string[] }> {
  const done: Array<Sent & { at: number }> = []
  const errors: string[] = []
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; i < max && !stop(); i++) {
      try {
        done.push({ ...(await sendOnce(server.port, ctx.peer, payload(`slow-${w}-${i}`, 1024 * 1024))), at: performance.now() })
      } catch (err) {
        errors.push((err as { code?: string }).code ?? String(err))
      }
    }
  }))
  return { done, errors }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1)

export function slowScenario(halfCount: number, idleCount: number) {
  return async function slow(ctx: Ctx): Promise<void> {
    const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'), ['--handshake-timeout', '2', '--idle-timeout', '2'])
    let badLeft = halfCount + idleCount
    const honest = honestWhile(server, ctx, 4, () => badLeft === 0)
    const t0 = performance.now()
    const half = await Promise.all(Array.from({ length: halfCount }, () => attack('half-hello', server.port, ctx.peer, undefined, STALLER)))
    const halfClosed = half.map(a => a.peer.closed.then(() => { badLeft--; return performance.now() - t0 }))
    const idle = await tally(Array.from({ length: idleCount }, () => openClient(server.port, ctx.peer)))
    ctx.check(idle.ok.length === idleCount, `${idle.ok.length}/${idleCount} idle peers completed the handshake (${counts(idle.errors)})`)
    badLeft -= idleCount - idle.ok.length
    const allStuck = performance.now() // every stuck peer is connected from here on
    const idleClosed = idle.ok.map(c => closedWith(c.stream).then(code => { badLeft--; return { code, ms: performance.now() - t0 } }))
    const halfTimes = await within(Promise.all(halfClosed), 30_000, 'half-ClientHello peers dropped')
    const idleEnds = await within(Promise.all(idleClosed), 30_000, 'idle peers dropped')
    const lastDrop = t0 + Math.max(...halfTimes, ...idleEnds.map(e => e.ms))
    const { done, errors } = await within(honest, 60_000, 'honest transfers')
    await waitFor(() => sourceVerdict(server, half, STALLER).ok && server.failures().length >= idleCount, 'every dropped peer logged (the stalled ones in a summary after 10 s)', 20_000).catch(() => {})

    const halfLog = sourceVerdict(server, half, STALLER)
    ctx.check(halfLog.ok, `${halfCount} half-ClientHello peers from ${STALLER} dropped and counted: ${halfLog.logged}, in ${halfLog.lines} lines`)
    const idleLogged = idle.ok.filter(c => { const f = server.failuresOf(c.localPort); return f.length === 1 && f[0]!.phase === 'transfer' && f[0]!.code === 'ERR_TIMEOUT' })
    ctx.check(idleLogged.length === idle.ok.length, `${idleLogged.length}/${idle.ok.length} idle peers dropped and logged as one 'transfer ... (ERR_TIMEOUT)' line (client side saw: ${counts(idleEnds.map(e => e.code))})`)
    const during = done.filter(d => d.at > allStuck && d.at < lastDrop).length
    ctx.check(errors.length === 0, `every honest transfer confirmed (${done.length} ok, failures: ${counts(errors)})`)
    ctx.check(during > 0, `${during} honest transfers completed while all the stuck peers were connected`)
    ctx.check(server.partials().length === 0, 'no temporary file left (idle peers had one each)')
    ctx.check(server.files().length === done.length, `one file per honest transfer (${server.files().length})`)
    ctx.check(server.alive(), 'the server is still up')
    ctx.figure('slow: half-ClientHello peers', `${halfCount} dropped by the 2 s handshake timeout, ${seconds(Math.min(...halfTimes))}-${seconds(Math.max(...halfTimes))} s after they started`)
    ctx.figure('slow: idle peers', `${idle.ok.length} dropped by the 2 s idle timeout, ${seconds(Math.min(...idleEnds.map(e => e.ms)))}-${seconds(Math.max(...idleEnds.map(e => e.ms)))} s after the first stuck peer`)
    ctx.figure('slow: honest transfers meanwhile', `${during} x 1 MiB completed before the last stuck peer was dropped (${done.length} in all, 4 at a time)`)
  }
}
