/**
 * `secure-pipe id` (issue 10): print this machine's public key as one line to paste into the
 * peer's `authorize` or `pin` (stdout), and its fingerprint (stderr, so `id > me.pub` stays one line).
 */
import type { Argv } from 'yargs'
import { hasIdentity, keyHome, KeyError, loadPublicKey, readKeyText, sshFingerprint } from '../index.js'
import { printLines, printNote } from './visible.js'

export function idBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .example('$0 id', 'the line to give a peer, and its fingerprint')
    .example('$0 id > me.pub', 'the line alone, into a file')
}

export function id(): void {
  const home = keyHome()
  if (!hasIdentity(home)) throw new KeyError(`there is no identity in ${home.dir}: run \`secure-pipe init\` first`)
  const line = readKeyText(home.identityPub, 'public key file').trim()
  printLines([line])
  printNote(`fingerprint: ${sshFingerprint(loadPublicKey(home.identityPub))}`)
}
