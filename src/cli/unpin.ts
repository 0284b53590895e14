/** `secure-pipe unpin HOST[:PORT]` (issue 10): forget the key pinned for that target. */
import type { Argv } from 'yargs'
import { keyHome, unpinKey } from '../index.js'
import { pinTarget } from './address.js'
import { printLines } from './visible.js'

export interface UnpinArgs { target: string }

export function unpinBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('target', { type: 'string', demandOption: true, describe: 'HOST or HOST:PORT as `secure-pipe pins` shows it' })
    .example('$0 unpin 10.0.0.5:7070', 'forget that address\'s key')
}

export function unpin(args: UnpinArgs): void {
  const old = unpinKey(keyHome(), pinTarget(args.target))
  printLines([`unpinned: ${old.target} ${old.fingerprint}`])
}
