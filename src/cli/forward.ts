/**
 * `secure-pipe forward --local [ADDR:]PORT --connect R[:PORT]` (issue 20, as `ssh -L`): each
 * local TCP connection becomes one secure session to R, whose `serve` joins it to its target.
 * A local connection is not read before its session's handshake completed.
 */
import { createServer, type Socket } from 'node:net'
import type { Argv } from 'yargs'
import { joinTunnel, UsageError } from '../index.js'
import { formatAddress, parseAddress } from './address.js'
import { openStream } from './endpoint.js'
import { connectError, listenError } from './net-messages.js'
import { resolveRole, sessionOptions, transferOptions, type Role } from './options.js'
import { createOutput, jsonOption, type Output } from './events.js'
import { createLog, errorReport, formatError } from './report.js'
import { drainMs, drainOnSignal, maxConnections, OpenTunnels, refuseTransferFlags, reportTunnel, tunnelOptions, type TunnelArgs } from './tunnels.js'

export interface ForwardArgs extends TunnelArgs {
  local?: string
}

/** Local connections open at once unless --max-connections says otherwise (as the server's default). */
const DEFAULT_MAX_LOCAL = 1024

export function forwardBuilder<T>(y: Argv<T>): Argv<T> {
  return jsonOption(tunnelOptions(transferOptions(y)))
    .option('local', { type: 'string', requiresArg: true, describe: 'accept local connections on [ADDR:]PORT (ADDR default 127.0.0.1)' })
    .example('$0 forward --local 5432 --connect db.example.net:7432', 'psql -h 127.0.0.1 now reaches the database behind `serve` on db.example.net')
}

export async function forward(args: ForwardArgs): Promise<void> {
  if (args.listen !== undefined) throw new UsageError('forward accepts local connections on --local [ADDR:]PORT; --listen is for serve, send and recv')
  if (args.local === undefined || args.local.trim() === '') throw new UsageError('forward needs --local [ADDR:]PORT, where local programs connect')
  if (args.connect === undefined || args.connect.trim() === '') throw new UsageError('forward needs --connect HOST[:PORT], the machine running `secure-pipe serve`')
  refuseTransferFlags(args, 'forward')
  const local = parseAddress(args.local, '--local')
  const most = maxConnections(args) ?? DEFAULT_MAX_LOCAL
  const session = sessionOptions(args) // flag errors before key errors
  const drain = drainMs(args)
  const role = await resolveRole(args, 'connect')
  if (role.mode !== 'connect') throw new UsageError('forward connects: give --connect HOST[:PORT]')
  const out = createOutput({ json: args.json === true, quiet: args.quiet === true, command: 'forward' })
  const log = out.log
  const open = new OpenTunnels()
  const remote = formatAddress(role.address)
  let connections = 0
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, socket => {
    const from = `${socket.remoteAddress}:${socket.remotePort}`
    if (open.size >= most) {
      socket.destroy()
      log.warn(`secure-pipe: a local connection from ${from} was closed: ${most} tunnels are open (--max-connections)`)
      return
    }
    socket.setNoDelay(true)
    socket.on('error', () => {}) // reported through the tunnel
    open.add(socket, () => socket.destroy())
    const one = out.with({ connection: ++connections })
    void tunnel(socket, role, session, one).then(report => reportTunnel(one, report, from, remote),
      err => one.emit('error', { ...errorReport(err), final: false }, formatError(err).replace(/^secure-pipe: /, `secure-pipe: tunnel from ${from} failed: `)))
      .finally(() => open.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', err => reject(listenError(err, { address: local })))
    server.listen(local.port, local.host, () => resolve())
  })
  server.on('error', err => log.warn(formatError(listenError(err, { address: local }))))
  const bound = server.address()
  const port = typeof bound === 'object' && bound ? bound.port : local.port
  const address = formatAddress({ host: local.host, port })
  // Printed even with --quiet, as `recv --listen` does: it is how scripts learn the port.
  log.listening({ address, port }, `listening on ${address}`)
  log.info(`secure-pipe: tunnels to ${remote}`)
  drainOnSignal(() => server.close(), open, drain, log)
  await new Promise<never>(() => {}) // until a signal ends the process
}

/** One local connection: a session to R, then the tunnel; errors name R (and the target, from its status). */
async function tunnel(socket: Socket, role: Extract<Role, { mode: 'connect' }>, session: ReturnType<typeof sessionOptions>, out: Output) {
  let stream
  try {
    stream = await openStream(role, session, createLog(true)) // its errors name R already
  } catch (err) {
    socket.destroy()
    throw err
  }
  out.emit('connected', { peer: stream.remoteAddress, fingerprint: stream.peerFingerprint ?? 'unknown' })
  try {
    return await joinTunnel(stream, socket, socket)
  } catch (err) {
    socket.destroy()
    throw connectError(err, role)
  }
}
