/**
 * `HOST:PORT` arguments of `--listen` and `--connect` (issue 3). Accepts `HOST:PORT`,
 * `[IPv6]:PORT`, `:PORT` and `PORT`, and with `bareHost` a `HOST` or `[IPv6]` alone (port 7070);
 * an empty value means the default 127.0.0.1:7070.
 *
 * @example parseAddress('127.0.0.1:0', '--listen') // { host: '127.0.0.1', port: 0 }
 */
import { UsageError } from '../index.js'

export interface Address { host: string, port: number }

export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 7070

export function parseAddress(text: string, flag: string, opts: { bareHost?: boolean } = {}): Address {
  const s = text.trim()
  if (s === '') return { host: DEFAULT_HOST, port: DEFAULT_PORT }
  // `send --connect fileserver`: a host alone means the default port (and the pin for that host).
  const bare = opts.bareHost ? /^\[([^\]]+)\]$/.exec(s) ?? /^([A-Za-z0-9._-]*[A-Za-z_-][A-Za-z0-9._-]*|\d+\.\d+\.\d+\.\d+)$/.exec(s) : null
  if (bare) return { host: bare[1]!, port: DEFAULT_PORT }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s)
  if (!m) throw new UsageError(`${flag} expects HOST:PORT (for example 127.0.0.1:7070), got '${text}'`)
  const port = Number(m[3])
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`${flag}: port ${m[3]} is out of range (0 to 65535)`)
  const host = m[1] || m[2] || DEFAULT_HOST
  return { host, port }
}

/** `host:port`, with brackets around an IPv6 literal. */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** A pin's target as `pin` stores it and `send --connect` looks it up: `host:port` or `host` alone. */
export function pinTarget(text: string): string {
  const s = text.trim().toLowerCase()
  if (/^\[[^\]]+\]$/.test(s) || !/:\d+$/.test(s)) return s.replace(/^\[(.*)\]$/, '$1')
  return formatAddress(parseAddress(s, 'HOST:PORT'))
}
