/**
 * `secure-pipe keygen --name NAME [--out DIR] [--bits N] [--force]` (issue 3): writes
 * DIR/NAME.pem (PKCS#8, mode 0600) and DIR/NAMEPK.pem (SPKI), prints both paths and the
 * fingerprint. Refuses to overwrite either file without --force.
 */
import type { Argv } from 'yargs'
import { KeyError, UsageError, writeKeyPair, ioError } from '../index.js'
import { RSA_DEFAULT_BITS, RSA_MAX_BITS, RSA_MIN_BITS } from '../constants.js'
import { printLines } from './visible.js'

export interface KeygenArgs { name: string, out: string, bits: number, force?: boolean }

export function keygenBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .option('name', { alias: 'n', type: 'string', demandOption: true, describe: 'base name: writes NAME.pem and NAMEPK.pem' })
    .option('out', { alias: 'o', type: 'string', default: 'keys', describe: 'directory for the key files' })
    .option('bits', { alias: 'b', type: 'number', default: RSA_DEFAULT_BITS, describe: `RSA modulus size (${RSA_MIN_BITS} to ${RSA_MAX_BITS})` })
    .option('force', { alias: 'f', type: 'boolean', describe: 'overwrite existing key files' })
    .example('$0 keygen --name server', 'keys/server.pem (private, 0600) and keys/serverPK.pem (give it to clients)')
    .example('$0 keygen --name client', 'keys/client.pem and keys/clientPK.pem (give it to the server)')
    .example('$0 keygen --name alice --out ~/.secure-pipe --bits 4096', 'another directory and size')
}

export function keygen(args: KeygenArgs): void {
  const bits = args.bits
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new UsageError(`--bits must be an integer from ${RSA_MIN_BITS} to ${RSA_MAX_BITS}`)
  }
  if (!/^[A-Za-z0-9._-]+$/.test(args.name)) throw new UsageError('--name may hold only letters, digits, ".", "_" and "-"')
  let written
  try {
    written = writeKeyPair({ dir: args.out, name: args.name, bits, force: args.force === true })
  } catch (err) {
    if (err instanceof KeyError) throw err
    throw ioError(err, `cannot write key files into ${args.out}`)
  }
  printLines([
    `private key: ${written.privateKeyPath} (mode 0600; keep it secret)`,
    `public key:  ${written.publicKeyPath}`,
    `fingerprint: ${written.fingerprint}`])
}
