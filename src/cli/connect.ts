/**
 * `secure-pipe connect R[:PORT]` (issue 20): stdin and stdout joined to one secure session to R,
 * whose `serve` joins it to its target, both ways, like `ncat --ssl` or `openssl s_client -quiet`.
 * With `serve --to HOST:22` on R it is ssh's ProxyCommand:
 *   ssh -o ProxyCommand='secure-pipe connect -q %h:7022' user@R
 * Exits 0 when both directions closed cleanly; a target R could not reach is `ERR_NETWORK` naming it.
 */
import type { Argv } from 'yargs'
import { joinTunnel, UsageError } from '../index.js'
import { formatAddress } from './address.js'
import { openStream } from './endpoint.js'
import { connectError } from './net-messages.js'
import { resolveRole, sessionOptions, transferOptions } from './options.js'
import { createOutput, jsonOption } from './events.js'
import { onInterrupt } from './signals.js'
import { refuseTransferFlags, reportTunnel, type TunnelArgs } from './tunnels.js'

export interface ConnectArgs extends TunnelArgs {
  remote?: string
}

export function connectBuilder<T>(y: Argv<T>): Argv<T> {
  return jsonOption(transferOptions(y))
    .positional('remote', { type: 'string', describe: 'HOST[:PORT] of the machine running `secure-pipe serve` (port default 7070)' })
    .example('$0 connect db.example.net:7432 < query.txt', 'send stdin through the tunnel, print the answer')
    .example('ssh -o ProxyCommand="$0 connect -q %h:7022" me@host', 'ssh through a `serve --to 127.0.0.1:22` on host')
}

export async function connectCommand(args: ConnectArgs): Promise<void> {
  if (args.listen !== undefined || args.connect !== undefined) throw new UsageError('connect takes the server as its argument: secure-pipe connect HOST[:PORT]')
  if (args.remote === undefined || args.remote.trim() === '') throw new UsageError('connect needs HOST[:PORT], the machine running `secure-pipe serve`')
  refuseTransferFlags(args, 'connect')
  const session = sessionOptions(args) // flag errors before key errors
  const role = await resolveRole({ ...args, connect: args.remote }, 'connect')
  if (role.mode !== 'connect') throw new UsageError('connect needs HOST[:PORT]')
  // stdout carries the data: events go to stderr.
  const out = createOutput({ json: args.json === true, quiet: args.quiet === true, command: 'connect', dataOnStdout: true })
  const stream = await openStream(role, session, out.log)
  out.emit('connected', { peer: stream.remoteAddress, fingerprint: stream.peerFingerprint ?? 'unknown' })
  const release = onInterrupt(() => stream.destroy())
  try {
    const report = await joinTunnel(stream, process.stdin, process.stdout).catch(err => { throw connectError(err, role) })
    if (report.error) throw connectError(report.error, role) // one line: the error names R
    reportTunnel(out, report, 'stdin', formatAddress(role.address))
  } finally {
    release()
  }
}
