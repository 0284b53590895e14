/**
 * Long streams (issue 5): GiBs through one connection, from the library's `connect` to
 * `secure-pipe recv -` (its stdout on /dev/null), the receiver's RSS sampled every second.
 * The receipt carries the receiver's byte count and SHA-256 (SPEC 8), so the whole stream is
 * verified without storing it. Memory must stay flat: no growth with the bytes moved.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { BIN, listenArgs, waitForListening, type CliProcess, type CliResult } from '../helpers/cli.js'
import type { Ctx } from './harness.js'
import { payload, sendOnce } from './peers.js'
import { memoryOf, mib, sampleRss } from './server.js'

/** `recv --listen 127.0.0.1:0 -` with stdout on /dev/null, killed at teardown. */
function receiverToNull(ctx: Ctx): CliProcess {
  const devNull = openSync('/dev/null', 'w')
  const child = spawn(process.execPath, [BIN, 'recv', ...listenArgs(ctx.keys), '-'], { stdio: ['ignore', devNull, 'pipe'] })
  closeSync(devNull)
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c })
  const done = new Promise<CliResult>(resolve => child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.alloc(0), stderr: err })))
  ctx.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await done
  })
  return { child, stderr: () => err, done }
}

export function longScenario(gib: number) {
  return async function long(ctx: Ctx): Promise<void> {
    const size = Math.round(gib * 1024 ** 3)
    const recv = receiverToNull(ctx)
    const port = await waitForListening(recv)
    const pid = recv.child.pid!
    const idle = memoryOf(pid)!.rss
    const rss = sampleRss(pid, 1000)
    const started = performance.now()
    const sent = await sendOnce(port, ctx.peer, payload('long', size)).then(s => s, (err: Error & { code?: string }) => { ctx.check(false, `the long transfer failed: ${err.code ?? ''} ${err.message}`); return null })
    const seconds = (performance.now() - started) / 1000
    const mem = await rss.stop()
    const r = await recv.done
    if (sent) ctx.check(true, `${mib(size)} confirmed by the receiver's count and SHA-256 (receipt)`)
    ctx.check(r.code === 0, `the receiver exits 0 (${r.code})`)
    // Flat: during the transfer (without the samples taken before and after it), the second half
    // peaks no higher than the first half plus 32 MiB; a leak grows with the bytes moved.
    const during = mem.samples.length > 2 ? mem.samples.slice(1, -1) : mem.samples
    const half = Math.floor(during.length / 2)
    const first = Math.max(...during.slice(0, half))
    const second = Math.max(...during.slice(half))
    if (during.length >= 4) ctx.check(second <= first + 32 * 1024 * 1024, `receiver RSS flat: max ${mib(first)} in the first half of the transfer, ${mib(second)} in the second`)
    else ctx.note(`RSS flatness not judged: only ${during.length} samples during the transfer (stream too short)`)
    ctx.figure('long: stream', `${mib(size)} in ${seconds.toFixed(1)} s, ${(size / seconds / 1e6).toFixed(1)} MB/s, one connection`)
    ctx.figure('long: receiver RSS', `idle ${mib(idle)}; during the transfer min ${mib(Math.min(...during))}, max ${mib(Math.max(...during))} over ${during.length} samples (1/s); VmHWM ${mib(mem.hwm)}`)
    ctx.note(`RSS samples (MiB): ${mem.samples.map(s => (s / 1024 / 1024).toFixed(0)).join(' ')}`)
  }
}
