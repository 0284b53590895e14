/**
 * Garbage (issue 5): random bytes, a 4 GiB declared frame length, a ClientHello for a key
 * nobody authorized, and ClientHellos replayed from an honest session recorded at this server
 * (refused by the replay cache with ERR_AUTH before any RSA work, issue 8.5; a replay at another
 * server is in test/e2e/server-load.test.ts). Each kind comes from its own source (127.0.1.2, 127.0.2.2, ...: each in its own /24). Each connection must be
 * closed with its typed error and counted in its source's log lines (issue 8.5: the first
 * failure as a line, the rest as one line of counts), never reach the transfer stage, and
 * leave the server serving honest clients (127.0.0.1) during and after.
 */
import { join } from 'node:path'
import { parseServerHello } from '../../src/handshake/messages.js'
import { counts, tally, type Ctx } from './harness.js'
import { payload, sendOnce, within } from './peers.js'
import { attack, frameBody, recordHandshake, splitFrames, type Attack, type GarbageKind } from './attackers.js'
import { waitFor } from '../helpers/cli.js'
import { sourceOf } from '../../src/server/admission.js'
import { startKeepOpen, type KeepOpenServer } from './server.js'

export const GARBAGE_KINDS: readonly GarbageKind[] = ['random', 'huge-length', 'stranger', 'replay-finished', 'replay-close', 'replay-stall']

/** Each kind from its own loopback /24 (a source, SPEC 7.3), so each source's log lines count one kind. */
function sourceFor(kind: GarbageKind): string {
  return `127.0.${1 + GARBAGE_KINDS.indexOf(kind)}.2`
}

/**
 * The log of `attacks` from source `host` (issue 8.5): first-failure lines plus the per-source
 * summary lines must count one failure per attack, each with a code some attack of `attacks`
 * expects (exactly the expected counts when each attack has one possible code), each first
 * line naming one of the attacks with its code; `lines` is how many lines that took.
 */
export function sourceVerdict(server: KeepOpenServer, attacks: Attack[], host: string): { ok: boolean, logged: string, lines: number } {
  const firsts = server.failures().filter(f => f.host === host)
  const sums = server.summaries().filter(s => s.source === sourceOf(host))
  const logged = new Map<string, number>()
  const add = (code: string, n: number): void => { logged.set(code, (logged.get(code) ?? 0) + n) }
  for (const f of firsts) add(f.phase === 'handshake' ? f.code : `transfer ${f.code}`, 1)
  for (const s of sums) for (const [code, n] of Object.entries(s.counts)) add(code, n)
  const named = firsts.every(f => f.phase === 'handshake' && attacks.some(a => a.peer.localPort === f.port && a.expect.includes(f.code)))
  const possible = new Set(attacks.flatMap(a => a.expect))
  const total = [...logged.values()].reduce((a, b) => a + b, 0)
  const exact = attacks.every(a => a.expect.length === 1)
  const same = [...logged].every(([code, n]) => possible.has(code) && (!exact || n === attacks.filter(a => a.expect[0] === code).length))
  return { ok: named && same && total === attacks.length, logged: [...logged].map(([c, n]) => `${c} x${n}`).join(', ') || 'none', lines: firsts.length + sums.length }
}

export function garbageScenario(each: number) {
  return async function garbage(ctx: Ctx): Promise<void> {
    const server = await startKeepOpen(ctx, ctx.keys, join(ctx.dir, 'inbox'), ['--handshake-timeout', '2'])
    const recorded = await recordHandshake(server.port, ctx.peer)
    const before = server.files().length
    const kinds = GARBAGE_KINDS.flatMap(k => Array.from({ length: each }, () => k))
    const honest = tally(Array.from({ length: 10 }, (_, i) => sendOnce(server.port, ctx.peer, payload(`garbage-${i}`, 1024 * 1024))))
    const attacks = await Promise.all(kinds.map(k => attack(k, server.port, ctx.peer, recorded, sourceFor(k))))
    await within(Promise.all(attacks.map(a => a.peer.closed)), 30_000, 'every hostile connection closed by the server')
    const verdicts = (): Array<ReturnType<typeof sourceVerdict>> => GARBAGE_KINDS.map(k => sourceVerdict(server, attacks.filter(a => a.kind === k), sourceFor(k)))
    await waitFor(() => verdicts().every(v => v.ok), 'every source counted (summaries come after 10 s)', 20_000).catch(() => {})

    GARBAGE_KINDS.forEach((kind, i) => {
      const v = verdicts()[i]!
      ctx.check(v.ok, `${kind} from ${sourceFor(kind)}: ${each} closed, counted in ${v.lines} lines with ${[...new Set(attacks.filter(a => a.kind === kind).flatMap(a => a.expect))].join(' or ')} (logged: ${v.logged})`)
    })
    const replays = attacks.filter(a => a.kind.startsWith('replay'))
    const silent = replays.filter(a => a.peer.received().length === 0)
    ctx.check(silent.length === replays.length, `${silent.length}/${replays.length} replayed ClientHellos got not a byte back: refused by the replay cache before any RSA work`)
    ctx.check(server.failures().every(f => f.phase === 'handshake'), 'no hostile connection reached the transfer stage (no secure session)')
    const h = await honest
    ctx.check(h.ok.length === 10, `${h.ok.length}/10 honest transfers during the garbage confirmed (${counts(h.errors)})`)
    const after = await sendOnce(server.port, ctx.peer, payload('after-garbage', 1024 * 1024)).then(() => true, () => false)
    ctx.check(after, 'an honest transfer after all of it succeeds')
    ctx.check(server.files().length === before + 11 && server.partials().length === 0, `DIR holds only the honest files (${server.files().length - before} new)`)
    ctx.check(server.alive(), 'the server is still up')
    ctx.figure('garbage: hostile connections', `${attacks.length} (${each} of each: ${GARBAGE_KINDS.join(', ')}), logged in ${verdicts().reduce((n, v) => n + v.lines, 0)} lines`)
    ctx.figure('garbage: codes logged', GARBAGE_KINDS.map((k, i) => `${k}: ${verdicts()[i]!.logged}`).join('; '))
    ctx.figure('garbage: example lines', '\n    ' + server.lines().filter(l => l.includes(sourceFor('random'))).join('\n    '))
  }
}

/** The ServerHello frame (header included) a replaying attacker received, or null (SPEC 3.3). */
export function serverHelloFrame(a: Attack): Buffer | null {
  const [frame] = splitFrames(a.peer.received(), 1)
  if (!frame) return null
  try {
    parseServerHello(frameBody(frame))
    return frame
  } catch {
    return null
  }
}
