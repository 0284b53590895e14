/** `secure-pipe revoke NAME|FINGERPRINT` (issue 10): remove a key from the home's authorized_keys. */
import type { Argv } from 'yargs'
import { keyHome, revokeKey } from '../index.js'
import { printLines } from './visible.js'

export interface RevokeArgs { which: string }

export function revokeBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('which', { type: 'string', demandOption: true, describe: 'the name or SHA256: fingerprint `secure-pipe authorized` shows' })
    .example('$0 revoke bob', 'bob may no longer connect')
}

export function revoke(args: RevokeArgs): void {
  const gone = revokeKey(keyHome(), args.which)
  printLines(gone.map(e => `revoked: ${e.comment} ${e.fingerprint}`))
}
