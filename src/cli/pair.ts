/**
 * `secure-pipe pair` (issue 19, SPEC 14): first contact by a short code instead of swapping
 * `id` lines. On R: `pair --listen [ADDR:]PORT` prints a one-time code; on S:
 * `pair R-HOST[:PORT] CODE`. R then authorizes S's key and S pins R's key for R-HOST (with
 * `--both-ways`, each also does the other's), and both print the fingerprint and the exact lines
 * they wrote. Nothing is written unless key confirmation succeeded on both ends.
 */
import { hostname } from 'node:os'
import type { Argv } from 'yargs'
import { DEFAULT_CODE_TTL_MS, keyHome, listenPair, pairWith, UsageError, type PairResult } from '../index.js'
import { DEFAULT_PORT, formatAddress, parseAddress, pinTarget } from './address.js'
import { createOutput, jsonOption, type EventFields, type Output } from './events.js'
import { oneLine } from './report.js'

export interface PairArgs { target?: string, code?: (string | number)[], listen?: string, bothWays?: boolean, json?: boolean }

export function pairBuilder<T>(y: Argv<T>): Argv<T> {
  return jsonOption(y)
    .positional('target', { type: 'string', describe: 'the listening machine, HOST or HOST:PORT (port 7070 by default)' })
    .positional('code', { type: 'string', array: true, describe: 'the code `pair --listen` printed there, such as 7-crate-swoop' })
    .option('listen', { alias: 'l', type: 'string', describe: 'wait for the other machine on [ADDR:]PORT and print a one-time code' })
    .option('both-ways', { type: 'boolean', describe: 'also authorize the listener here, and have it pin this machine, so either side may listen later' })
    .example('$0 pair --listen 0.0.0.0:7070', 'on the receiving machine: prints a code such as 7-crate-swoop')
    .example('$0 pair fileserver 7-crate-swoop', 'on the sending machine: afterwards `send --connect fileserver` just works')
}

export async function pair(args: PairArgs): Promise<void> {
  const home = keyHome()
  const out = createOutput({ json: args.json === true, quiet: false, command: 'pair' })
  if (args.listen !== undefined) {
    if (args.target !== undefined || (args.code ?? []).length > 0) throw new UsageError('pair --listen takes no HOST or CODE: the code is printed here, for the other machine')
    if (args.bothWays) throw new UsageError('--both-ways is chosen on the connecting side (`pair HOST CODE --both-ways`)')
    const address = parseAddress(args.listen, '--listen')
    const listener = await listenPair({ home, host: address.host, port: address.port })
    try {
      const bound = formatAddress({ host: address.host, port: listener.address.port })
      out.log.listening({ address: bound, port: listener.address.port }, `listening on ${bound}`)
      const where = ['0.0.0.0', '::'].includes(address.host) ? hostname() : address.host
      const port = listener.address.port === DEFAULT_PORT ? '' : `:${listener.address.port}`
      const run = `secure-pipe pair ${formatHost(where)}${port} ${listener.code}`
      result(out, 'code', { code: listener.code, expiresInSeconds: DEFAULT_CODE_TTL_MS / 1000, run },
        `pairing code: ${listener.code} (valid ${DEFAULT_CODE_TTL_MS / 60_000} minutes, for one attempt)\non the other machine run: ${run}\n`)
      report(out, await listener.result)
    } finally {
      await listener.close()
    }
    return
  }
  if (args.target === undefined || (args.code ?? []).length === 0) throw new UsageError('give the listening machine and its code (pair HOST[:PORT] CODE), or --listen [ADDR:]PORT on that machine')
  const address = parseAddress(args.target, 'HOST[:PORT]', { bareHost: true })
  report(out, await pairWith({ home, host: address.host, port: address.port, code: args.code!.map(String).join('-'), pinAs: pinTarget(address.host), bothWays: args.bothWays === true }))
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** The fingerprint recorded and each line as written (the comment came from the peer: one safe line). */
function report(out: Output, r: PairResult): void {
  const comment = r.peer.comment ? ` (${oneLine(r.peer.comment)})` : ''
  const lines = r.written.map(w => `wrote to ${w.file}:\n  ${oneLine(w.line)}\n`).join('')
  result(out, 'paired', { fingerprint: r.peer.fingerprint, comment: r.peer.comment || null, bothWays: r.bothWays, written: r.written.map(w => ({ file: w.file, line: w.line })) },
    `paired: recorded ${r.peer.fingerprint}${comment}${r.bothWays ? ', both ways' : ''}\n${lines}`)
}

/** pair's results are its output: human text on stdout (not info lines on stderr), or the event. */
function result<K extends 'code' | 'paired'>(out: Output, event: K, fields: EventFields[K], human: string): void {
  if (out.json) out.emit(event, fields)
  else process.stdout.write(human)
}
