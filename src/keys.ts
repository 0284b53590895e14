/**
 * Key files: load, generate, fingerprint (SPEC 3, README "Key files").
 * Private keys are written with mode 0600 and never logged.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { fingerprint, generateRsaKeyPair, parsePrivateKey, parsePublicKey } from './crypto/rsa.js'
import { RSA_DEFAULT_BITS } from './constants.js'
import { KeyError } from './errors.js'

export { fingerprint }

function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist (create keys with `secure-pipe keygen`)' : `cannot be read (${code ?? 'error'})`
    throw new KeyError(`${what} ${path} ${why}`, { cause: err })
  }
}

/** Load an RSA private key from a PEM file (PKCS#1 or PKCS#8, unencrypted). */
export function loadPrivateKey(path: string): KeyObject {
  return parsePrivateKey(readKeyFile(path, 'private key file'), `private key file ${path}`)
}

/** Load an RSA public key from a PEM file (SPKI or PKCS#1); a private key file yields its public half. */
export function loadPublicKey(path: string): KeyObject {
  return parsePublicKey(readKeyFile(path, 'public key file'), `public key file ${path}`)
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

/** Every public key in one PEM text (one or more blocks). */
export function parsePublicKeys(pem: string, what: string): KeyObject[] {
  const blocks = pem.match(PEM_BLOCK) ?? []
  if (blocks.length === 0) throw new KeyError(`${what} holds no PEM public key`)
  return blocks.map((b, i) => parsePublicKey(b, `${what} (key ${i + 1})`))
}

/**
 * Authorized peer keys: a PEM file holding one or more public keys, or a directory whose
 * `*.pem` files each hold some (SPEC 3.2).
 */
export function loadAuthorizedKeys(path: string): KeyObject[] {
  let st: Stats
  try {
    st = statSync(path)
  } catch (err) {
    throw new KeyError(`authorized keys ${path} does not exist (copy the client's public key there)`, { cause: err })
  }
  if (!st.isDirectory()) return parsePublicKeys(readKeyFile(path, 'authorized keys file'), `authorized keys file ${path}`)
  const files = readdirSync(path).filter(f => f.endsWith('.pem')).sort()
  const keys = files.flatMap(f => parsePublicKeys(readKeyFile(join(path, f), 'authorized key file'), `authorized key file ${join(path, f)}`))
  if (keys.length === 0) throw new KeyError(`authorized keys directory ${path} holds no .pem public key`)
  return keys
}

/** The files `writeKeyPair` wrote, and the new key's fingerprint. */
export interface WrittenKeyPair { privateKeyPath: string, publicKeyPath: string, fingerprint: string }

/**
 * Generate an RSA key pair and write `DIR/NAME.pem` (PKCS#8, mode 0600) and `DIR/NAMEPK.pem` (SPKI).
 *
 * @example writeKeyPair({ dir: 'keys', name: 'server' }) // keys/server.pem, keys/serverPK.pem
 */
export function writeKeyPair(opts: { dir: string, name: string, bits?: number, force?: boolean }): WrittenKeyPair {
  if (!/^[A-Za-z0-9._-]+$/.test(opts.name)) throw new RangeError('key name may hold only letters, digits, ".", "_" and "-"')
  const privateKeyPath = join(opts.dir, `${opts.name}.pem`)
  const publicKeyPath = join(opts.dir, `${opts.name}PK.pem`)
  if (!opts.force) {
    for (const p of [privateKeyPath, publicKeyPath]) {
      if (existsSync(p)) throw new KeyError(`${p} already exists; pass --force to overwrite it`)
    }
  }
  const pair = generateRsaKeyPair(opts.bits ?? RSA_DEFAULT_BITS)
  mkdirSync(opts.dir, { recursive: true })
  writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600, flag: opts.force ? 'w' : 'wx' })
  chmodSync(privateKeyPath, 0o600) // an overwritten file keeps its old mode otherwise
  writeFileSync(publicKeyPath, pair.publicKeyPem, { mode: 0o644, flag: opts.force ? 'w' : 'wx' })
  return { privateKeyPath, publicKeyPath, fingerprint: fingerprint(parsePublicKey(pair.publicKeyPem)) }
}
