/**
 * The key home (issue 10): one identity per user and machine, used in either role, in
 * `$SECURE_PIPE_HOME` or else the platform's config directory (`~/.config/secure-pipe` on Linux).
 * It holds `identity` (private, 0600), `identity.pub` (one ssh-rsa line), `authorized_keys`
 * (peers allowed to connect to me) and `known_peers` (the keys of peers I connect to, by host or
 * host:port, like ssh's known_hosts). The directory is created 0700.
 *
 * @example const home = keyHome(); initIdentity(home, { bits: 3072 })
 */
import type { KeyObject } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import envPaths from 'env-paths'
import { formatSshPublicKey } from './openssh.js'
import { KeyError } from '../errors.js'
import { readKeyList, writeKeyList, type KeyEntry } from './list.js'
import { writePair, type WrittenKeyPair } from './load.js'

export type { KeyEntry }

/** The files of one key home. */
export interface KeyHome { dir: string, identity: string, identityPub: string, authorizedKeys: string, pins: string }

/** The environment variable that names the key home (else the platform's config directory). */
export const HOME_ENV = 'SECURE_PIPE_HOME'

/** The key home: `$SECURE_PIPE_HOME`, else the platform's per-user config directory. */
export function keyHome(env: NodeJS.ProcessEnv = process.env): KeyHome {
  const dir = env[HOME_ENV] || envPaths('secure-pipe', { suffix: '' }).config
  return { dir, identity: join(dir, 'identity'), identityPub: join(dir, 'identity.pub'), authorizedKeys: join(dir, 'authorized_keys'), pins: join(dir, 'known_peers') }
}

/** Whether the home holds an identity (`secure-pipe init` has run). */
export function hasIdentity(home: KeyHome): boolean {
  return existsSync(home.identity)
}

/** Create the identity: `identity` (PKCS#8 PEM, 0600) and `identity.pub` (ssh-rsa line). */
export function initIdentity(home: KeyHome, opts: { bits?: number, force?: boolean } = {}): WrittenKeyPair {
  const comment = `secure-pipe:${safeUser()}@${hostname()}`
  return writePair(home.identity, home.identityPub, { dir: home.dir, ...opts }, k => formatSshPublicKey(k, comment) + '\n')
}

/** The home directory, created 0700 (its parents too, when missing). */
function ensureDir(home: KeyHome): void {
  mkdirSync(home.dir, { recursive: true, mode: 0o700 })
}

function safeUser(): string {
  try { return userInfo().username } catch { return 'user' }
}

/** Peers allowed to connect to me. */
export function listAuthorized(home: KeyHome): KeyEntry[] {
  return readKeyList(home.authorizedKeys, 'authorized')
}

/** Add (or rename) an authorized key; returns false when it was already there under that name. */
export function authorizeKey(home: KeyHome, key: KeyObject, name: string, fingerprint: string): boolean {
  const entries = listAuthorized(home)
  const same = entries.find(e => e.fingerprint === fingerprint)
  if (same && same.comment === name) return false
  const rest = entries.filter(e => e.fingerprint !== fingerprint)
  ensureDir(home)
  writeKeyList(home.authorizedKeys, [...rest, { key, comment: name, fingerprint }], 'peers allowed to connect: secure-pipe authorize / revoke')
  return true
}

/**
 * Remove the authorized key `which` names (its SHA256: fingerprint, or its name); returns what was
 * removed. A name that more than one key carries is refused with their fingerprints (issue 17
 * section 2): revoking by a shared default comment must not remove keys nobody meant.
 */
export function revokeKey(home: KeyHome, which: string): KeyEntry[] {
  const entries = listAuthorized(home)
  const byFingerprint = entries.filter(e => e.fingerprint === which)
  const gone = byFingerprint.length > 0 ? byFingerprint : entries.filter(e => e.comment === which)
  if (gone.length === 0) throw new KeyError(`no key named ${which} in ${home.authorizedKeys} (see \`secure-pipe authorized\`)`)
  if (byFingerprint.length === 0 && gone.length > 1) {
    throw new KeyError(`${gone.length} keys are named ${which} in ${home.authorizedKeys}: ${gone.map(e => e.fingerprint).join(', ')}; nothing was revoked: give the fingerprint of the one to revoke (secure-pipe revoke SHA256:...)`)
  }
  writeKeyList(home.authorizedKeys, entries.filter(e => !gone.includes(e)), 'peers allowed to connect: secure-pipe authorize / revoke')
  return gone
}

/** Pinned peer keys. */
export function listPins(home: KeyHome): KeyEntry[] {
  return readKeyList(home.pins, 'pins')
}

/** Pin `key` for `target` (HOST or HOST:PORT), replacing an earlier pin for that target; returns the replaced one. */
export function pinKey(home: KeyHome, target: string, key: KeyObject, fingerprint: string, comment: string): KeyEntry | undefined {
  const entries = listPins(home)
  const old = entries.find(e => e.target === target)
  ensureDir(home)
  writeKeyList(home.pins, [...entries.filter(e => e !== old), { target, key, comment, fingerprint }], 'peers I connect to: secure-pipe pin / unpin')
  return old
}

/** Remove the pin for `target` (a name or HOST[:PORT]) from the pin list; returns the removed entry. */
export function unpinKey(home: KeyHome, target: string): KeyEntry {
  const entries = listPins(home)
  const old = entries.find(e => e.target === target)
  if (!old) throw new KeyError(`no key is pinned for ${target} in ${home.pins} (see \`secure-pipe pins\`)`)
  writeKeyList(home.pins, entries.filter(e => e !== old), 'peers I connect to: secure-pipe pin / unpin')
  return old
}

/** The pin for `host:port` (exact), else for `host` alone. */
export function findPin(home: KeyHome, hostPort: string, host: string): KeyEntry | undefined {
  const entries = listPins(home)
  return entries.find(e => e.target === hostPort) ?? entries.find(e => e.target === host)
}
