/**
 * `secure-pipe serve --listen [ADDR:]PORT --to HOST:PORT` (issue 20): each authorized session is
 * joined to a new TCP connection to the target, which only this side chooses, both ways until
 * both have closed (SPEC 15). The target is connected only after the handshake completed and
 * the session passed the connection caps; what the client sent before is not read until then.
 */
import type { Argv } from 'yargs'
import { serveTunnel, UsageError, type SecureStream } from '../index.js'
import { formatAddress, parseAddress } from './address.js'
import { listen } from './endpoint.js'
import { listenError } from './net-messages.js'
import { resolveRole, seconds, sessionOptions, transferOptions } from './options.js'
import { createOutput, jsonOption } from './events.js'
import { formatError } from './report.js'
import { drainMs, drainOnSignal, maxConnections, OpenTunnels, refuseTransferFlags, reportTunnel, tunnelOptions, type TunnelArgs } from './tunnels.js'

export interface ServeArgs extends TunnelArgs {
  to?: string
  maxPerKey?: number
  targetTimeout?: number
}

/** Issue 20: a tunnel with no traffic either way for this long is closed (stunnel's TIMEOUTidle default), unless --idle-timeout says otherwise. */
export const TUNNEL_IDLE_TIMEOUT_MS = 43_200_000

export function serveBuilder<T>(y: Argv<T>): Argv<T> {
  return jsonOption(tunnelOptions(transferOptions(y)))
    .option('to', { type: 'string', requiresArg: true, describe: 'the target HOST:PORT every tunnel connects to (chosen here, never by the client)' })
    .option('max-per-key', { type: 'number', describe: 'most tunnels open at once per client key (default 256)' })
    .option('target-timeout', { type: 'number', describe: 'seconds to wait for the target to accept a connection (default 10)' })
    .example('$0 serve --listen 0.0.0.0:7022 --to 127.0.0.1:22', 'expose this machine\'s sshd to the authorized keys only')
    .example('$0 serve --listen 7432 --to db.internal:5432 --max-per-key 8', 'a database behind pinned keys, at most 8 connections per client')
}

export async function serve(args: ServeArgs): Promise<void> {
  if (args.connect !== undefined) throw new UsageError('serve listens (--listen); to reach a `serve`, use `secure-pipe forward` or `secure-pipe connect`')
  if (args.to === undefined || args.to.trim() === '') throw new UsageError('serve needs --to HOST:PORT, the service every tunnel connects to')
  refuseTransferFlags(args, 'serve')
  const target = parseAddress(args.to, '--to')
  if (target.port === 0) throw new UsageError('--to needs a port other than 0')
  const perKey = args.maxPerKey
  if (perKey !== undefined && (!Number.isInteger(perKey) || perKey < 1)) throw new UsageError('--max-per-key expects a positive whole number')
  const targetTimeoutMs = args.targetTimeout === undefined ? undefined : seconds(args.targetTimeout, '--target-timeout')
  const total = maxConnections(args)
  const session = { idleTimeoutMs: TUNNEL_IDLE_TIMEOUT_MS, ...sessionOptions(args) } // flag errors before key errors
  const drain = drainMs(args)
  const role = await resolveRole({ ...args, listen: args.listen ?? '' }, 'listen')
  if (role.mode !== 'listen') throw new UsageError('serve listens: give --listen [ADDR:]PORT')
  const out = createOutput({ json: args.json === true, quiet: args.quiet === true, command: 'serve' })
  const log = out.log
  const to = formatAddress(target)
  const open = new OpenTunnels()
  let connections = 0
  const server = await listen(role, { ...session, ...(total ? { maxConnections: total } : {}), ...(perKey ? { maxConnectionsPerKey: perKey } : {}) }, log, (stream: SecureStream) => {
    const one = out.with({ connection: ++connections })
    one.emit('connected', { peer: stream.remoteAddress, fingerprint: stream.peerFingerprint ?? 'unknown' })
    open.add(stream, () => stream.destroy())
    void serveTunnel(stream, target, targetTimeoutMs ? { targetTimeoutMs } : {}).then(report => {
      open.delete(stream)
      reportTunnel(one, report, stream.remoteAddress, to)
    })
  })
  server.on('error', err => log.warn(formatError(listenError(err, role))))
  log.info(`secure-pipe: tunnels to ${to}`)
  drainOnSignal(() => server.close(), open, drain, log)
  await new Promise<never>(() => {}) // until a signal ends the process
}
