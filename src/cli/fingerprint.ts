/**
 * `secure-pipe fingerprint FILE` (issue 3): prints `SHA256:...` (unpadded base64 of the SPKI
 * DER, as `ssh-keygen -l`) for a public or private key file; one line per key for a file that
 * holds several public keys (an authorized keys file).
 */
import { readFileSync } from 'node:fs'
import type { Argv } from 'yargs'
import { fingerprint, loadAuthorizedKeys, loadPublicKey } from '../index.js'

export interface FingerprintArgs { file: string }

export function fingerprintBuilder<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('file', { type: 'string', demandOption: true, describe: 'PEM key file (SPKI/PKCS#1 public, or PKCS#8/PKCS#1 private)' })
    .example('$0 fingerprint keys/serverPK.pem', 'what the client pins; compare it with the server operator')
    .example('$0 fingerprint keys/server.pem', 'the same fingerprint, from the private key')
}

export function printFingerprint(args: FingerprintArgs): void {
  const first = loadPublicKey(args.file) // clear KeyErrors for a missing or invalid file
  const blocks = readFileSync(args.file, 'utf8').match(/-----BEGIN /g)?.length ?? 0
  const keys = blocks > 1 ? loadAuthorizedKeys(args.file) : [first]
  process.stdout.write(keys.map(k => fingerprint(k) + '\n').join(''))
}
