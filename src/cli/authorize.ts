/**
 * `secure-pipe authorize KEY [--name N]` (issue 10): allow a peer to connect to this machine by
 * adding its public key to the home's authorized_keys. KEY is a file or the line the peer's
 * `secure-pipe id` printed. No prompt, so scripts can use it; the fingerprint is printed to compare.
 */
import type { Argv } from 'yargs'
import { authorizeKey, keyHome, UsageError } from '../index.js'
import { compareHint, peerKey } from './peer-key.js'
import { printLines } from './visible.js'

export interface AuthorizeArgs { key: (string | number)[], name?: string }

export function authorizeBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('key', { type: 'string', array: true, describe: 'public key file, or the line `secure-pipe id` printed on the peer' })
    .option('name', { alias: 'n', type: 'string', describe: 'a name for the key (default: the comment of the line, or the file name)' })
    .example('$0 authorize ssh-rsa AAAAB3Nza... secure-pipe:bob@laptop', 'allow the key bob pasted')
    .example('$0 authorize bob.pub --name bob', 'from a file')
}

export function authorize(args: AuthorizeArgs): void {
  const peer = peerKey(args.key)
  const name = (args.name ?? peer.comment).trim() || peer.fingerprint
  if (/\s/.test(name)) throw new UsageError('--name cannot hold spaces')
  const home = keyHome()
  const changed = authorizeKey(home, peer.key, name, peer.fingerprint)
  printLines([`${changed ? 'authorized' : 'already authorized'}: ${name} in ${home.authorizedKeys}`, compareHint(peer.fingerprint)])
}
