/**
 * Key formats people already keep (issue 10): OpenSSH `ssh-rsa AAAA... comment` public lines,
 * `openssh-key-v1` private keys (through sshpk), encrypted PEM, and the fingerprint OpenSSH shows.
 * The protocol's SPKI hash (rsa.ts) stays internal; this fingerprint is for people.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { KeyError } from '../errors.js'
import { checkRsaKey } from '../crypto/rsa.js'

const SSH_RSA = 'ssh-rsa'

const require = createRequire(import.meta.url)
let sshpkModule: typeof import('sshpk') | undefined
/** sshpk loads on first use: only `openssh-key-v1` private keys need it, and loading it costs every process about 6 MB of memory (issue 11). */
function sshpk(): typeof import('sshpk') {
  return sshpkModule ??= require('sshpk') as typeof import('sshpk')
}

/** RFC 4251 section 5 `string`: uint32 length, then the bytes. */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(b.length)
  return Buffer.concat([len, b])
}

/** RFC 4251 section 5 `mpint` of a positive integer: big-endian, no leading zeros, a 0x00 if the top bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let i = 0
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++
  const trimmed = unsigned.subarray(i)
  return sshString((trimmed[0]! & 0x80) ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed)
}

/** RFC 4253 section 6.6: the `ssh-rsa` public key blob (string "ssh-rsa", mpint e, mpint n). */
export function sshRsaBlob(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  const jwk = pub.export({ format: 'jwk' })
  return Buffer.concat([sshString(Buffer.from(SSH_RSA)), sshMpint(Buffer.from(jwk.e!, 'base64url')), sshMpint(Buffer.from(jwk.n!, 'base64url'))])
}

const fingerprints = new WeakMap<KeyObject, string>()

/**
 * The fingerprint `ssh-keygen -lf` prints: `SHA256:` + unpadded base64 of SHA-256 over the
 * ssh-rsa blob (PROTOCOL.key / ssh-keygen(1)).
 *
 * @example sshFingerprint(loadPublicKey('id.pub')) // 'SHA256:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg'
 */
export function sshFingerprint(key: KeyObject): string {
  let fp = fingerprints.get(key)
  if (!fp) {
    fp = 'SHA256:' + createHash('sha256').update(sshRsaBlob(key)).digest('base64').replace(/=+$/, '')
    fingerprints.set(key, fp)
  }
  return fp
}

/** One `ssh-rsa AAAA... comment` line (no newline), as in `id_rsa.pub` and `authorized_keys`. */
export function formatSshPublicKey(key: KeyObject, comment = ''): string {
  const line = `${SSH_RSA} ${sshRsaBlob(key).toString('base64')}`
  return comment ? `${line} ${comment}` : line
}

/** Read `string` fields from a blob; every length is checked against what is left. */
function readSshStrings(blob: Buffer, what: string): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < blob.length;) {
    if (at + 4 > blob.length) throw new KeyError(`${what} is a truncated ssh-rsa key`)
    const len = blob.readUInt32BE(at)
    if (at + 4 + len > blob.length) throw new KeyError(`${what} is a truncated ssh-rsa key`)
    out.push(blob.subarray(at + 4, at + 4 + len))
    at += 4 + len
  }
  return out
}

/**
 * Parse `ssh-rsa BASE64 [comment]` into an RSA public key (2048 to 8192 bits, SPEC 3.7).
 *
 * @example parseSshPublicKey('ssh-rsa AAAAB3NzaC1yc2E... alice@laptop', 'the pasted key')
 */
export function parseSshPublicKey(line: string, what: string): { key: KeyObject, comment: string } {
  const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(line.trim())
  if (!m) throw new KeyError(`${what} is not a one-line OpenSSH public key (ssh-rsa AAAA... comment)`)
  if (m[1] !== SSH_RSA) throw new KeyError(`${what} is a ${m[1]} key; secure-pipe needs an RSA key (ssh-rsa)`)
  const fields = readSshStrings(Buffer.from(m[2]!, 'base64'), what)
  if (fields.length !== 3 || fields[0]!.toString() !== SSH_RSA) throw new KeyError(`${what} is not a well-formed ssh-rsa key`)
  let key: KeyObject
  try {
    key = createPublicKey({ key: { kty: 'RSA', e: unsigned(fields[1]!), n: unsigned(fields[2]!) }, format: 'jwk' })
  } catch (err) {
    throw new KeyError(`${what} is not a well-formed ssh-rsa key`, { cause: err })
  }
  return { key: checkRsaKey(key, what), comment: (m[3] ?? '').trim() }
}

function unsigned(mpint: Buffer): string {
  let i = 0
  while (i < mpint.length - 1 && mpint[i] === 0) i++
  return mpint.subarray(i).toString('base64url')
}

const OPENSSH_PRIVATE = /-----BEGIN OPENSSH PRIVATE KEY-----/
const PEM_ENCRYPTED = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/

/** Whether a private key text needs a passphrase (encrypted PKCS#8, legacy encrypted PEM, or openssh-key-v1 with a cipher). */
export function isEncryptedPrivateKey(text: string): boolean {
  if (PEM_ENCRYPTED.test(text)) return true
  if (!OPENSSH_PRIVATE.test(text)) return false
  try {
    sshpk().parsePrivateKey(text, 'ssh')
    return false
  } catch (err) {
    return (err as Error).name === 'KeyEncryptedError'
  }
}

/**
 * Parse an RSA private key: PEM PKCS#1 or PKCS#8 (Node/OpenSSL, encrypted or not) or OpenSSH's
 * `openssh-key-v1` (sshpk, encrypted or not). A wrong or missing passphrase is ERR_KEY.
 */
export function parseAnyPrivateKey(text: string, what: string, passphrase?: string): KeyObject {
  const encrypted = isEncryptedPrivateKey(text)
  if (encrypted && passphrase === undefined) throw new KeyError(`${what} is encrypted: give its passphrase (a terminal prompt, --passphrase-file or SECURE_PIPE_PASSPHRASE)`)
  let key: KeyObject
  try {
    key = OPENSSH_PRIVATE.test(text)
      ? createPrivateKey({ key: rsaOnly(sshpk().parsePrivateKey(text, 'ssh', encrypted ? { passphrase: passphrase! } : {}), what).toString('pkcs8'), format: 'pem' })
      : createPrivateKey({ key: text, format: 'pem', ...(encrypted ? { passphrase: passphrase! } : {}) })
  } catch (err) {
    if (err instanceof KeyError) throw err
    if (encrypted) throw new KeyError(`${what}: wrong passphrase, or the file is damaged`, { cause: err })
    throw new KeyError(`${what} is not a private key (PEM PKCS#1, PKCS#8 or OpenSSH)`, { cause: err })
  }
  return checkRsaKey(key, what)
}

/** An OpenSSH private key of another type (ed25519, ecdsa) says so, as its public line does (issue 17 section 6). */
function rsaOnly(key: import('sshpk').PrivateKey, what: string): import('sshpk').PrivateKey {
  if (key.type !== 'rsa') throw new KeyError(`${what} is an OpenSSH ${key.type} key; secure-pipe needs an RSA key: make one with \`secure-pipe init\` (or ssh-keygen -t rsa -b 3072)`)
  return key
}
