/**
 * Key files: load, generate, fingerprint (SPEC 3, README "Keys").
 * Public keys are PEM (SPKI or PKCS#1) or one OpenSSH `ssh-rsa` line; private keys are PEM
 * (PKCS#1 or PKCS#8) or OpenSSH, encrypted or not. Private keys are written with mode 0600
 * (atomically, file.ts), refused when other users can read them, and never logged.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, statSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { generateRsaKeyPair, parsePublicKey } from '../crypto/rsa.js'
import { formatSshPublicKey, isEncryptedPrivateKey, parseAnyPrivateKey, parseSshPublicKey, sshFingerprint } from './openssh.js'
import { RSA_DEFAULT_BITS } from '../constants.js'
import { KeyError } from '../errors.js'
import { writeKeyFile } from './file.js'
import { shellQuote } from '../shell-quote.js'

/** A key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`): the one form secure-pipe shows anywhere. */
const fingerprint = sshFingerprint
export { fingerprint, formatSshPublicKey, shellQuote, sshFingerprint }

/** The sentence every "private key where a public key belongs" refusal carries (issue 10). */
export const PRIVATE_NOT_PUBLIC = 'this is a private key: give the public key, and never copy a private key to another machine'

const PRIVATE_PEM = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/
const PUBLIC_PEM = /-----BEGIN (?:RSA )?PUBLIC KEY-----/

/** Read a key file as text; a missing or unreadable file is `ERR_KEY` with what to do. */
export function readKeyText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist'
      : code === 'EISDIR' ? 'is a directory, not a key file'
        : code === 'EACCES' ? 'cannot be read: permission denied' : 'cannot be read'
    throw new KeyError(`${what} ${path} ${why}`, { cause: err })
  }
}


/**
 * Like ssh: a secret file (a private key, a passphrase file) that other users can read or write
 * is refused, with the command that fixes it. `what` names the file (`private key file`).
 */
export function checkOwnerOnly(path: string, what: string, st: Stats = statSync(path)): void {
  if (process.platform === 'win32' || (st.mode & 0o077) === 0) return
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
  throw new KeyError(`${what} ${path} is accessible by other users (mode ${mode}); a secret must be readable by you alone: run chmod 600 ${shellQuote(path)}`)
}

/** How to read a private key: its passphrase when it is encrypted. */
export interface PrivateKeyOptions { passphrase?: string }

/** Whether the private key file at `path` is encrypted (so a passphrase must be asked for). */
export function isEncryptedKeyFile(path: string): boolean {
  return isEncryptedPrivateKey(readKeyText(path, 'private key file'))
}

/**
 * Load an RSA private key: PEM PKCS#1/PKCS#8 or OpenSSH, encrypted or not. Refuses a file that
 * other users can access (ERR_KEY, with the chmod to run).
 *
 * @example loadPrivateKey('id_rsa', { passphrase: process.env.SECURE_PIPE_PASSPHRASE })
 */
export function loadPrivateKey(path: string, opts: PrivateKeyOptions = {}): KeyObject {
  const what = `private key file ${path}`
  const text = readKeyText(path, 'private key file')
  if (!PRIVATE_PEM.test(text) && (PUBLIC_PEM.test(text) || /^\s*ssh-/.test(text))) {
    throw new KeyError(`${what} holds a public key; give your own private key here`)
  }
  checkOwnerOnly(path, 'private key file')
  return parseAnyPrivateKey(text, what, opts.passphrase)
}

/** A public key from PEM (SPKI or PKCS#1) or one `ssh-rsa` line; a private key is refused. */
export function parsePublicKeyText(text: string, what: string): KeyObject {
  if (PRIVATE_PEM.test(text)) throw new KeyError(`${what}: ${PRIVATE_NOT_PUBLIC}`)
  if (/^\s*ssh-/.test(text)) return parseSshPublicKey(text.trim().split('\n')[0]!, what).key
  return parsePublicKey(text, what)
}

/** Load a peer's RSA public key (PEM or `ssh-rsa` line); a private key file is refused (ERR_KEY). */
export function loadPublicKey(path: string): KeyObject {
  return parsePublicKeyText(readKeyText(path, 'public key file'), `public key file ${path}`)
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

/** Every public key in one text: PEM blocks and `ssh-rsa` lines (`authorized_keys` form). */
export function parsePublicKeys(text: string, what: string): KeyObject[] {
  if (PRIVATE_PEM.test(text)) throw new KeyError(`${what}: ${PRIVATE_NOT_PUBLIC}`)
  const pems = (text.match(PEM_BLOCK) ?? []).map((b, i) => parsePublicKey(b, `${what} (key ${i + 1})`))
  const lines = text.split('\n').filter(l => /^\s*ssh-/.test(l)).map((l, i) => parseSshPublicKey(l, `${what} (line key ${i + 1})`).key)
  if (pems.length + lines.length === 0) throw new KeyError(`${what} holds no public key (PEM or ssh-rsa line)`)
  return [...pems, ...lines]
}

/**
 * Authorized peer keys: a file holding one or more public keys (PEM blocks or `ssh-rsa` lines),
 * or a directory whose `*.pem` and `*.pub` files each hold some (SPEC 3.2).
 */
export function loadAuthorizedKeys(path: string): KeyObject[] {
  let st: Stats
  try {
    st = statSync(path)
  } catch (err) {
    throw new KeyError(`authorized keys ${path} does not exist (add a peer with \`secure-pipe authorize KEY\`)`, { cause: err })
  }
  if (!st.isDirectory()) return parsePublicKeys(readKeyText(path, 'authorized keys file'), `authorized keys file ${path}`)
  const files = readdirSync(path).filter(f => f.endsWith('.pem') || f.endsWith('.pub')).sort()
  const keys = files.flatMap(f => parsePublicKeys(readKeyText(join(path, f), 'authorized key file'), `authorized key file ${join(path, f)}`))
  if (keys.length === 0) throw new KeyError(`authorized keys directory ${path} holds no .pem or .pub public key`)
  return keys
}

/** The files `writeKeyPair` wrote, and the new key's fingerprint. */
export interface WrittenKeyPair { privateKeyPath: string, publicKeyPath: string, fingerprint: string }

/**
 * Generate an RSA key pair and write `DIR/NAME.pem` (PKCS#8, mode 0600) and `DIR/NAMEPK.pem` (SPKI),
 * each atomically; `force` replaces existing files (a symlink is replaced, never followed).
 *
 * @example writeKeyPair({ dir: 'keys', name: 'server' }) // keys/server.pem, keys/serverPK.pem
 */
export function writeKeyPair(opts: { dir: string, name: string, bits?: number, force?: boolean }): WrittenKeyPair {
  if (!/^[A-Za-z0-9._-]+$/.test(opts.name)) throw new RangeError('key name may hold only letters, digits, ".", "_" and "-"')
  return writePair(join(opts.dir, `${opts.name}.pem`), join(opts.dir, `${opts.name}PK.pem`), opts, k => k.export({ format: 'pem', type: 'spki' }).toString())
}

/** Where and how one generated pair is written. */
export interface PairWrite { dir: string, bits?: number, force?: boolean }

/**
 * Generate a pair and write the private key (PKCS#8 PEM, 0600) and the public key in the form
 * `publicText` gives; refuses existing files unless `force`.
 */
export function writePair(privateKeyPath: string, publicKeyPath: string, opts: PairWrite, publicText: (k: KeyObject) => string): WrittenKeyPair {
  const replace = opts.force === true
  if (!replace) { // checked first, so a refusal costs no key generation; the link in writeKeyFile still refuses a race
    for (const p of [privateKeyPath, publicKeyPath]) if (exists(p)) throw new KeyError(`${p} already exists; pass --force to overwrite it`)
  }
  const pair = generateRsaKeyPair(opts.bits ?? RSA_DEFAULT_BITS)
  const pub = parsePublicKey(pair.publicKeyPem)
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
  writeKeyFile(privateKeyPath, pair.privateKeyPem, { mode: 0o600, replace })
  writeKeyFile(publicKeyPath, publicText(pub), { mode: 0o644, replace })
  return { privateKeyPath, publicKeyPath, fingerprint: sshFingerprint(pub) }
}

/** lstat: a dangling symlink counts as existing, so nothing is created through it. */
function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined
}
