/**
 * Establish the secure stream for a transfer: listen (handshake server) or connect (handshake
 * client), as chosen by `resolveRole` (SPEC 3). The listener prints `listening on HOST:PORT`
 * with the real port, so scripts can start the other side (issue 3).
 */
import { connect, createServer, type FailureReport, type SecureServer, type SecureStream, type ServerOptions } from '../index.js'
import { formatAddress, type Address } from './address.js'
import { connectError, listenError, refusedKeyNote } from './net-messages.js'
import type { Role } from './options.js'
import { formatError, type Log } from './report.js'
import { printNote } from './visible.js'

export type { SecureServer, SecureStream }
/** Options for either role: ciphers, timeouts, and the listening side's maxHandshakes. */
type SessionOptions = Omit<ServerOptions, 'privateKey' | 'authorizedKeys'>

/** Connect, or listen and accept exactly one authenticated peer. */
export async function openStream(role: Role, opts: SessionOptions, log: Log): Promise<SecureStream> {
  if (role.mode === 'connect') {
    const { host, port } = role.address
    try {
      return await connect({ ...opts, host, port, privateKey: role.privateKey, serverPublicKey: role.serverPublicKey })
    } catch (err) {
      throw connectError(err, role)
    }
  }
  return acceptOne(role, opts, log)
}

type ListenRole = Extract<Role, { mode: 'listen' }>

/**
 * Start a server and report `listening on`. A connection that fails its handshake does not stop
 * the server (only an authenticated peer can use or end it); it is logged as one line, and
 * further failures from the same source within the interval as one line of counts (issue 8).
 */
export async function listen(role: ListenRole, opts: SessionOptions, log: Log, onStream: (s: SecureStream) => void): Promise<SecureServer> {
  const server = createServer({ ...opts, privateKey: role.privateKey, authorizedKeys: role.authorizedKeys }, onStream)
  server.on('handshakeFailures', (r: FailureReport) => log.warn(failureLine(r)))
  await new Promise<void>((resolve, reject) => {
    server.once('error', err => reject(listenError(err, role)))
    server.listen(role.address.port, role.address.host, () => resolve())
  })
  const bound = server.address()
  const port = typeof bound === 'object' && bound ? bound.port : role.address.port
  // A name such as localhost binds one of its addresses: say which (issue 10).
  const ip = typeof bound === 'object' && bound && bound.address !== role.address.host ? ` (bound to ${bound.address})` : ''
  // Printed even with --quiet: it is how scripts learn the port (README "send and recv").
  printNote(`listening on ${formatAddress({ host: role.address.host, port } satisfies Address)}${ip}`)
  return server
}

async function acceptOne(role: ListenRole, opts: SessionOptions, log: Log): Promise<SecureStream> {
  let accepted: ((s: SecureStream) => void) | undefined
  let first: SecureStream | undefined
  const stream = new Promise<SecureStream>(resolve => { accepted = resolve })
  const server = await listen(role, opts, log, s => {
    if (first) { s.destroy(); return } // one transfer per run without --keep-open
    first = s
    server.close() // stop accepting; the accepted connection stays open
    accepted?.(s)
  })
  server.on('error', err => log.warn(formatError(listenError(err, role))))
  return stream
}

/** `handshake from ADDRESS failed: ...`, or `N more handshakes from SOURCE failed in S s: ERR_X xN, ...`. */
export function failureLine(r: FailureReport): string {
  if (r.kind === 'first') return formatError(r.error).replace(/^secure-pipe: /, `secure-pipe: handshake from ${r.address} failed: `).replace(/ \((ERR_\w+)\)$/, `${refusedKeyNote(r.error)} ($1)`)
  const counts = Object.entries(r.counts).map(([code, n]) => `${code} x${n}`).join(', ')
  return `secure-pipe: ${r.total} more handshake${r.total === 1 ? '' : 's'} from ${r.source} failed in ${r.seconds.toFixed(0)} s: ${counts}`
}
