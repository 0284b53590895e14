/**
 * `secure-pipe init [--bits N] [--force]` (issue 10): create this machine's identity in the key
 * home and print the public line to give to peers.
 */
import type { Argv } from 'yargs'
import { initIdentity, keyHome, KeyError, readKeyText, UsageError, ioError } from '../index.js'
import { RSA_DEFAULT_BITS, RSA_MAX_BITS, RSA_MIN_BITS } from '../constants.js'
import { printLines } from './visible.js'

export interface InitArgs { bits: number, force?: boolean }

export function initBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .option('bits', { alias: 'b', type: 'number', default: RSA_DEFAULT_BITS, describe: `RSA modulus size (${RSA_MIN_BITS} to ${RSA_MAX_BITS})` })
    .option('force', { alias: 'f', type: 'boolean', describe: 'replace an existing identity (peers must then authorize and pin the new key)' })
    .example('$0 init', 'create identity and identity.pub in the key home ($SECURE_PIPE_HOME or ~/.config/secure-pipe)')
    .example('SECURE_PIPE_HOME=/etc/secure-pipe $0 init --bits 4096', 'a service\'s own home, a larger key')
}

export function init(args: InitArgs): void {
  if (!Number.isInteger(args.bits) || args.bits < RSA_MIN_BITS || args.bits > RSA_MAX_BITS) {
    throw new UsageError(`--bits must be an integer from ${RSA_MIN_BITS} to ${RSA_MAX_BITS}`)
  }
  const home = keyHome()
  let written
  try {
    written = initIdentity(home, { bits: args.bits, force: args.force === true })
  } catch (err) {
    if (err instanceof KeyError) throw new KeyError(`${err.message.replace(/; pass --force.*$/, '')}: this machine has an identity already (\`secure-pipe id\` shows it); \`init --force\` replaces it`, { cause: err })
    throw ioError(err, `cannot create the identity in ${home.dir}`)
  }
  printLines([
    `identity: ${written.privateKeyPath} (private, mode 0600; never copy it)`,
    `public key (give this line to peers: \`secure-pipe authorize\` / \`secure-pipe pin\` on their side):`,
    readKeyText(written.publicKeyPath, 'public key file').trimEnd(),
    `fingerprint: ${written.fingerprint}`])
}
