/**
 * `secure-pipe fingerprint FILE` (issues 3, 10): prints the key's fingerprint as OpenSSH computes
 * it (`SHA256:` + unpadded base64 of SHA-256 over the ssh-rsa blob), so `ssh-keygen -lf FILE`
 * shows the same value. A private key file gives its public half's fingerprint; a file holding
 * several public keys (an authorized keys file) gives one line per key.
 */
import type { Argv } from 'yargs'
import { parsePublicKeys, readKeyText, sshFingerprint } from '../index.js'
import { loadOwnKey, passphraseOptions, type PassphraseArgs } from './passphrase.js'
import { printLines } from './visible.js'

export interface FingerprintArgs extends PassphraseArgs { file: string }

export function fingerprintBuilder<T>(y: Argv<T>): Argv<T> {
  return passphraseOptions(y
    .positional('file', { type: 'string', demandOption: true, describe: 'key file: public (PEM or ssh-rsa line, one or more keys) or private (PEM or OpenSSH)' }))
    .example('$0 fingerprint ~/.ssh/id_rsa.pub', 'the same SHA256: value as `ssh-keygen -lf ~/.ssh/id_rsa.pub`')
    .example('$0 fingerprint keys/serverPK.pem', 'what the client pins; compare it with the server operator')
}

export async function printFingerprint(args: FingerprintArgs): Promise<void> {
  const text = readKeyText(args.file, 'key file')
  const keys = /PRIVATE KEY-----/.test(text) ? [await loadOwnKey(args.file, args)] : parsePublicKeys(text, `key file ${args.file}`)
  printLines(keys.map(k => sshFingerprint(k)))
}
