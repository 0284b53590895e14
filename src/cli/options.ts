/**
 * Options shared by `send` and `recv` (issue 3): which side listens, the keys of that role,
 * cipher, timeouts and output verbosity. The listening side is the handshake server and the
 * connecting side the client (SPEC 3), whichever of the two moves the data.
 */
import type { KeyObject } from 'node:crypto'
import type { Argv } from 'yargs'
import { UsageError } from '../index.js'
import { parseAddress, type Address } from './address.js'
import { roleKeys, type KeyArgs } from './key-defaults.js'
import { loadOwnKey, passphraseOptions, type PassphraseArgs } from './passphrase.js'

export const CIPHER_CHOICES = ['aes-128-ccm', 'aes-256-ccm'] as const
export type CipherChoice = typeof CIPHER_CHOICES[number]

/** The parsed flags common to both transfer commands. */
export interface TransferArgs extends PassphraseArgs, KeyArgs {
  listen?: string
  connect?: string
  key?: string
  authorized?: string
  serverKey?: string
  cipher?: CipherChoice
  handshakeTimeout?: number
  idleTimeout?: number
  maxHandshakes?: number
  progress?: boolean
  quiet?: boolean
  sha256?: boolean
}

export function transferOptions<T>(y: Argv<T>): Argv<T> {
  return passphraseOptions(y)
    .option('listen', { alias: 'l', type: 'string', requiresArg: false, describe: 'listen on HOST:PORT and act as the handshake server (empty: 127.0.0.1:7070)' })
    .option('connect', { alias: 'c', type: 'string', requiresArg: false, describe: 'connect to HOST:PORT and act as the handshake client (empty: 127.0.0.1:7070)' })
    .conflicts('listen', 'connect')
    .option('key', { alias: 'k', type: 'string', requiresArg: true, describe: 'own private key, PEM or OpenSSH (default: the identity from `secure-pipe init`)' })
    .option('authorized', { type: 'string', requiresArg: true, describe: 'listening side: file (PEM or ssh-rsa lines) or directory of allowed peer public keys (default: authorized_keys of the key home)' })
    .option('server-key', { type: 'string', requiresArg: true, describe: 'connecting side: the listener\'s public key (default: the key pinned for HOST:PORT or HOST with `secure-pipe pin`)' })
    .option('cipher', { choices: CIPHER_CHOICES, describe: 'record cipher to require (default: offer aes-128-ccm, then aes-256-ccm)' })
    .option('handshake-timeout', { type: 'number', describe: 'seconds allowed for the handshake (library default 10)' })
    .option('idle-timeout', { type: 'number', describe: 'seconds without traffic before the connection is dropped (default: none; 60 with --keep-open)' })
    .option('max-handshakes', { type: 'number', describe: 'listening side: handshakes run at once; more connections wait unread (default 64)' })
    .option('progress', { type: 'boolean', describe: 'show progress on stderr even when it is not a terminal' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'print nothing but errors (and the "listening on" line); wins over --progress' })
    .option('sha256', { type: 'boolean', describe: 'also hash the data and print its SHA-256 (as sha256sum does), to compare both ends by eye; the receipt does not need it' })
}

export type Role =
  | { mode: 'listen', address: Address, privateKey: KeyObject, authorizedKeys: () => readonly KeyObject[] }
  | { mode: 'connect', address: Address, privateKey: KeyObject, serverPublicKey: KeyObject, pinnedIn: string }

/** Decide listen or connect (`defaultMode` when neither flag is given) and load that role's keys (keys.ts). */
export async function resolveRole(args: TransferArgs, defaultMode: 'listen' | 'connect'): Promise<Role> {
  const mode = args.listen !== undefined ? 'listen' : args.connect !== undefined ? 'connect' : defaultMode
  if (mode === 'listen') {
    if (args.serverKey !== undefined) throw new UsageError('--server-key applies only when connecting; the listening side names allowed peers with --authorized')
    const address = parseAddress(args.listen ?? '', '--listen')
    const keys = roleKeys(args, mode)
    // Authorized keys first: the usual mistake is a missing peer key, and it costs no RSA work.
    // The lookup reads the list again at each connection when it changed (revocation, issue 17).
    const authorizedKeys = keys.authorizedKeys()
    return { mode, address, authorizedKeys, privateKey: await loadOwnKey(keys.own, args) }
  }
  if (args.authorized !== undefined) throw new UsageError('--authorized applies only when listening; the connecting side pins the listener with --server-key')
  const address = parseAddress(args.connect ?? '', '--connect', { bareHost: true })
  if (address.port === 0) throw new UsageError('--connect needs a port other than 0')
  const keys = roleKeys(args, mode)
  const privateKey = await loadOwnKey(keys.own, args)
  return { mode, address, privateKey, ...keys.serverKey(address) }
}

/** Library options from the flags (seconds on the command line, milliseconds in the API). */
export interface SessionFlags { ciphers?: CipherChoice[], handshakeTimeoutMs?: number, idleTimeoutMs?: number, maxHandshakes?: number }

export function sessionOptions(args: TransferArgs): SessionFlags {
  const out: SessionFlags = {}
  if (args.cipher) out.ciphers = [args.cipher]
  if (args.handshakeTimeout !== undefined) out.handshakeTimeoutMs = seconds(args.handshakeTimeout, '--handshake-timeout')
  if (args.idleTimeout !== undefined) out.idleTimeoutMs = seconds(args.idleTimeout, '--idle-timeout')
  if (args.maxHandshakes !== undefined) {
    if (!Number.isInteger(args.maxHandshakes) || args.maxHandshakes < 1) throw new UsageError('--max-handshakes expects a positive whole number')
    if (args.connect !== undefined) throw new UsageError('--max-handshakes applies only when listening')
    out.maxHandshakes = args.maxHandshakes
  }
  return out
}

/** A positive number of seconds on the command line, in milliseconds. */
export function seconds(value: number, flag: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} expects a positive number of seconds`)
  return Math.round(value * 1000)
}

/** Progress is shown on a terminal or when asked for, never with --quiet (issue 3). */
export function wantProgress(args: TransferArgs): boolean {
  if (args.quiet) return false
  if (args.progress !== undefined) return args.progress // --progress / --no-progress win over detection
  return process.stderr.isTTY === true
}
