/**
 * The peer's fingerprint as people see it (issue 10). The handshake reports the protocol's SPKI
 * hash (SPEC 3); summaries and logs show the OpenSSH form instead, the value `secure-pipe id`
 * and `ssh-keygen -l` print, found by matching the SPKI hash against the role's own key list.
 */
import type { KeyObject } from 'node:crypto'
import { fingerprint, sshFingerprint } from '../index.js'

const shown = new WeakMap<object, string>()

/** A lookup from the protocol fingerprint to the displayed one, for the keys a role accepts. */
export function fingerprintIndex(keys: readonly KeyObject[]): Map<string, string> {
  return new Map(keys.map(k => [fingerprint(k), sshFingerprint(k)]))
}

/** Remember how to show the peer of `stream` (called once the handshake is done). */
export function rememberPeer(stream: { peerFingerprint: string | null }, index: Map<string, string>): void {
  const spki = stream.peerFingerprint
  if (spki !== null) shown.set(stream, index.get(spki) ?? spki)
}

/** The peer's OpenSSH fingerprint for summary lines. */
export function peerId(stream: { peerFingerprint: string | null }): string {
  return shown.get(stream) ?? stream.peerFingerprint ?? 'unknown'
}
