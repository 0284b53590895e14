/**
 * Faults (issue 5): a sender SIGKILLed mid-transfer leaves no file in DIR; a receiver
 * SIGKILLed mid-transfer makes the CLI sender exit 5 saying the receiver may not have the
 * data; a full disk (an 8 MiB tmpfs, mounted when running as root) gives ERR_IO and no partial
 * file. After each, the server serves the next client.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { connectArgs, spawnCli, waitFor, type CliProcess } from '../helpers/cli.js'
import type { Ctx } from './harness.js'
import { payload, sendOnce } from './peers.js'
import { startKeepOpen, type KeepOpenServer } from './server.js'

/** A CLI sender whose stdin stays open after `bytes`: the transfer cannot finish until it is killed or stdin ends. */
export function stalledSender(ctx: Parameters<typeof spawnCli>[0], keys: Ctx['keys'], port: number, bytes: number): CliProcess {
  const send = spawnCli(ctx, ['send', ...connectArgs(keys, port), '-'], { stdin: 'pipe' })
  send.child.stdin!.on('error', () => {}) // EPIPE once the sender is gone
  send.child.stdin!.write(randomBytes(bytes))
  return send
}

/** Wait for a temporary file with data in it: the transfer is under way on the server. */
export function partialWithData(dir: string): Promise<void> {
  return waitFor(() => readdirSync(dir).some(f => f.endsWith('.partial') && statSync(join(dir, f)).size > 0), 'partial data on the receiving side', 20_000)
}

async function nextClientServed(ctx: Ctx, server: KeepOpenServer, what: string, size = 1024 * 1024): Promise<void> {
  const ok = await sendOnce(server.port, ctx.peer, payload(`after-${what}`, size)).then(() => true, () => false)
  ctx.check(ok && server.alive(), `after ${what}: the server serves the next client`)
}

async function senderKilled(ctx: Ctx): Promise<void> {
  const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'))
  const send = stalledSender(ctx, ctx.keys, server.port, 2 * 1024 * 1024)
  await partialWithData(server.dir)
  send.child.kill('SIGKILL')
  await waitFor(() => server.failures().length === 1, 'the server to log the cut transfer', 20_000)
  const line = server.failures()[0]!
  ctx.check(line.phase === 'transfer' && ['ERR_TRUNCATED', 'ERR_NETWORK'].includes(line.code), `sender SIGKILLed: logged as one line (${line.code})`)
  ctx.check(server.files().length === 0, `sender SIGKILLed: no file in DIR (${server.files().join(', ') || 'empty'})`)
  ctx.figure('faults: sender SIGKILLed', line.line)
  await nextClientServed(ctx, server, 'the killed sender')
}

async function receiverKilled(ctx: Ctx): Promise<void> {
  const victim = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'victim'))
  const send = stalledSender(ctx, ctx.keys, victim.port, 2 * 1024 * 1024)
  await partialWithData(victim.dir)
  victim.cli.child.kill('SIGKILL')
  const r = await send.done
  const last = r.stderr.trim().split('\n').pop() ?? ''
  ctx.check(r.code === 5 && /may not have the data/.test(last), `receiver SIGKILLed: the sender exits 5 (${r.code}) with "${last}"`)
  ctx.figure('faults: receiver SIGKILLed, sender says', `exit ${r.code}: ${last}`)
  // SIGKILL gives the receiver no chance to clean up: operations.md says to clear stale *.partial files.
  ctx.note(`stale temporary files left by the killed receiver: ${victim.partials().length}`)
}

/** Mount an 8 MiB tmpfs on `dir`; returns why not, or null when mounted (unmounted at teardown). */
function mountTmpfs(ctx: Ctx, dir: string): string | null {
  if (process.getuid?.() !== 0) return 'not running as root'
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    return `mount failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`
  }
  ctx.teardown(() => {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' })
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' }) // still busy (a server being killed): detach now
    }
  })
  return null
}

async function diskFull(ctx: Ctx): Promise<void> {
  const dir = join(ctx.dir, 'small')
  const skip = mountTmpfs(ctx, dir)
  if (skip) {
    ctx.figure('faults: full disk', `SKIPPED (${skip})`)
    return
  }
  const server = await startKeepOpen(ctx, ctx.keys, dir) // registered after the mount: stopped before the unmount
  const send = spawnCli(ctx, ['send', ...connectArgs(ctx.keys, server.port), '-'], { stdin: 'pipe' })
  send.child.stdin!.on('error', () => {})
  send.child.stdin!.end(randomBytes(16 * 1024 * 1024)) // twice what fits
  const r = await send.done
  await waitFor(() => server.failures().length === 1, 'the server to log the failed write', 20_000).catch(() => {})
  const line = server.failures()[0]
  const last = r.stderr.trim().split('\n').pop() ?? ''
  ctx.check(line?.phase === 'transfer' && line.code === 'ERR_IO' && /no space left/.test(line.line), `full disk: the server logs one ERR_IO line (${line?.line ?? 'none'})`)
  ctx.check(r.code === 5 && /may not have the data/.test(last), `full disk: the sender exits 5 (${r.code}): "${last}"`)
  ctx.check(server.files().length === 0, `full disk: no partial file (${server.files().join(', ') || 'empty'})`)
  ctx.figure('faults: full disk (8 MiB tmpfs, 16 MiB sent)', `server: ${line?.line ?? 'none'} | sender exit ${r.code}: ${last}`)
  await nextClientServed(ctx, server, 'the full disk')
  ctx.check(server.files().length === 1, 'full disk: the next transfer is in DIR')
}

export function faultsScenario() {
  return async function faults(ctx: Ctx): Promise<void> {
    await senderKilled(ctx)
    await receiverKilled(ctx)
    await diskFull(ctx)
  }
}
