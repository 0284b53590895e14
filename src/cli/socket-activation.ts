/**
 * Socket activation (issue 19 §4, the sd_listen_fds(3) protocol): a service manager that holds
 * the listening socket starts the process with it open at fd 3 and sets LISTEN_PID to that
 * process's pid and LISTEN_FDS to the number of sockets. The variables are removed once read,
 * as sd_listen_fds(1) does, so a child process never takes them for its own.
 *
 * @example const fd = inheritedSocket(); fd === undefined ? server.listen(port, host) : server.listen({ fd })
 */
import { UsageError } from '../index.js'

/** SD_LISTEN_FDS_START: the first passed descriptor. */
export const LISTEN_FDS_START = 3

/** The passed listening socket's fd, or undefined when this process was not socket-activated. */
export function inheritedSocket(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  if (env.LISTEN_PID === undefined || env.LISTEN_PID !== String(pid)) return undefined
  const count = Number(env.LISTEN_FDS)
  delete env.LISTEN_PID
  delete env.LISTEN_FDS
  delete env.LISTEN_FDNAMES
  if (!Number.isInteger(count) || count < 1) return undefined
  if (count > 1) throw new UsageError(`the service manager passed ${count} sockets (LISTEN_FDS); secure-pipe listens on exactly one: give the .socket unit a single ListenStream=`)
  return LISTEN_FDS_START
}
