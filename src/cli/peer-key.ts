/**
 * The KEY argument of `authorize` and `pin` (issue 10): a file (PEM or ssh-rsa line) or the line
 * `secure-pipe id` printed, pasted quoted or not, or `-` for standard input. A private key is refused (keys.ts).
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { KeyError, loadPublicKey, parsePublicKeyText, readKeyText, sshFingerprint } from '../index.js'

export interface PeerKey { key: KeyObject, fingerprint: string, comment: string }

export function peerKey(words: readonly (string | number)[]): PeerKey {
  let text = words.map(String).join(' ').trim()
  if (text === '-' || text === '') text = readStdin() // yargs hands `-` over as ''
  if (/^ssh-|-----BEGIN /.test(text)) {
    const key = parsePublicKeyText(text, 'the pasted key')
    const comment = /^ssh-\S+\s+\S+\s+(.+)$/.exec(text)?.[1]?.trim() ?? ''
    return { key, fingerprint: sshFingerprint(key), comment }
  }
  const key = loadPublicKey(text)
  const line = /^ssh-\S+\s+\S+\s+(.+)$/m.exec(readKeyText(text, 'public key file'))?.[1]?.trim()
  return { key, fingerprint: sshFingerprint(key), comment: line || basename(text).replace(/(PK)?\.(pem|pub)$/, '') }
}

/** The reminder printed by `authorize` and `pin`: the fingerprint is only worth what the comparison is. */
export function compareHint(fp: string): string {
  return `fingerprint ${fp}: check that \`secure-pipe id\` on the other machine shows the same value (ask over a channel you trust)`
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8').trim()
  } catch (err) {
    throw new KeyError('cannot read the key from standard input', { cause: err })
  }
}
