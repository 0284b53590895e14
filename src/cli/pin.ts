/**
 * `secure-pipe pin HOST[:PORT] KEY` (issue 10): record the key of the peer this machine connects
 * to, like ssh's known_hosts; `send --connect HOST[:PORT]` then uses it. A pin for HOST:PORT wins
 * over one for HOST. Replacing a pin says so. No prompt, so scripts can use it.
 */
import type { Argv } from 'yargs'
import { keyHome, pinKey, UsageError } from '../index.js'
import { pinTarget } from './address.js'
import { compareHint, peerKey } from './peer-key.js'
import { printLines } from './visible.js'

export interface PinArgs { target: string, key: (string | number)[] }

export function pinBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('target', { type: 'string', demandOption: true, describe: 'HOST or HOST:PORT as given to --connect' })
    .positional('key', { type: 'string', array: true, describe: 'public key file, or the line `secure-pipe id` printed on that host' })
    .example('$0 pin fileserver ssh-rsa AAAAB3Nza... secure-pipe:alice@fileserver', 'pin the line alice pasted, for any port')
    .example('$0 pin 10.0.0.5:7070 serverPK.pem', 'pin a key file for one address')
}

export function pin(args: PinArgs): void {
  // issue 17 section 6: `pin ssh-rsa AAAA...` without a host would read the key's base64 as a file name.
  if (/^(ssh-|-----BEGIN)/.test(args.target) || /^AAAA[A-Za-z0-9+/]{16}/.test(args.target)) {
    throw new UsageError(`HOST comes first: secure-pipe pin HOST[:PORT] KEY (${args.target.slice(0, 12)}... is the start of a key, not a host)`)
  }
  const target = pinTarget(args.target)
  const peer = peerKey(args.key)
  const home = keyHome()
  const old = pinKey(home, target, peer.key, peer.fingerprint, peer.comment)
  const replaced = old && old.fingerprint !== peer.fingerprint ? ` (replaced ${old.fingerprint})` : ''
  printLines([`pinned: ${target} in ${home.pins}${replaced}`, compareHint(peer.fingerprint)])
}
