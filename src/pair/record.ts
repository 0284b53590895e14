/**
 * What a successful pairing writes (SPEC 14.6), through the same atomic, mode-checked code as
 * `authorize` and `pin` (keys/home.ts): R adds S's key to authorized_keys, S pins R's key for
 * the host it connected to; both ways, each side also does the other's write.
 */
import { authorizeKey, listAuthorized, listPins, pinKey, type KeyHome } from '../keys/home.js'
import { formatSshPublicKey } from '../keys/openssh.js'
import { readKeyText } from '../keys/load.js'
import { parseSshPublicKey } from '../keys/openssh.js'
import { KeyError } from '../errors.js'
import type { PeerIdentity } from './exchange.js'

/** One line written, and the file it is in. */
export interface WrittenLine { file: string, line: string }

/** A name for the peer in authorized_keys: its comment when it is one safe word, else its fingerprint. */
export function peerName(peer: PeerIdentity): string {
  return /^[A-Za-z0-9._:@+=-]{1,100}$/.test(peer.comment) ? peer.comment : peer.fingerprint
}

/** This machine's id line (identity.pub), checked; ERR_KEY with what to run when there is none. */
export function ownIdLine(home: KeyHome): string {
  let text: string
  try {
    text = readKeyText(home.identityPub, 'public key file')
  } catch (err) {
    throw new KeyError(`there is no identity in ${home.dir}: run \`secure-pipe init\` first`, { cause: err })
  }
  const line = text.trim().split('\n')[0]!.trim()
  parseSshPublicKey(line, home.identityPub)
  return line
}

/** Read both lists now, so a bad mode or a damaged file fails before the exchange, not after it. */
export function checkLists(home: KeyHome): void {
  listAuthorized(home)
  listPins(home)
}

/** Add `peer` to authorized_keys; returns the line as it is in the file. */
export function recordAuthorized(home: KeyHome, peer: PeerIdentity): WrittenLine {
  const name = peerName(peer)
  authorizeKey(home, peer.key, name, peer.fingerprint)
  return { file: home.authorizedKeys, line: formatSshPublicKey(peer.key, name) }
}

/** Pin `peer` for `target` (HOST or HOST:PORT); returns the line as it is in the file. */
export function recordPin(home: KeyHome, target: string, peer: PeerIdentity): WrittenLine {
  const comment = peerName(peer)
  pinKey(home, target, peer.key, peer.fingerprint, comment)
  return { file: home.pins, line: `${target} ${formatSshPublicKey(peer.key, comment)}` }
}
