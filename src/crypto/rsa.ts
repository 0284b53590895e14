/**
 * RSA key handling and RSA-OAEP-SHA256 with labels (SPEC 1.2, 3.1, 3.3). The only file that does RSA.
 * Keys are parsed into `KeyObject`s once: parsing PEM on every call costs a third of the rate.
 */
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, privateDecrypt, publicEncrypt, webcrypto } from 'node:crypto'
import { RSA_MAX_BITS, RSA_MIN_BITS } from '../constants.js'
import { KeyError } from '../errors.js'

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const
const OAEP_PARAMS = { name: 'RSA-OAEP', hash: 'SHA-256' } as const

/** RSA-OAEP-SHA256 (MGF1-SHA256) encryption to `publicKey`, bound to its context by `label` (SPEC 1.2). */
export function oaepEncrypt(publicKey: KeyObject, plaintext: Buffer, label: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, ...OAEP, oaepLabel: label }, plaintext)
}

/**
 * RSA-OAEP-SHA256 decryption on the calling thread. Throws on any failure (a wrong label
 * included); callers that face an attacker use `oaepDecryptOrFallback` instead.
 */
export function oaepDecrypt(privateKey: KeyObject, ciphertext: Buffer, label: Buffer): Buffer {
  // RFC 8017 section 7.1.2 step 1: a ciphertext of any other length than the modulus is a decryption error.
  if (ciphertext.length !== modulusBytes(privateKey)) throw new RangeError('RSA-OAEP ciphertext length is not the modulus length')
  return privateDecrypt({ key: privateKey, ...OAEP, oaepLabel: label }, ciphertext)
}

/** The modulus length in bytes (k in RFC 8017): the only length a ciphertext may have. */
function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
}

// WebCrypto runs RSA on the libuv thread pool, off the event loop (SPEC 3.2, 13.5). Import each key once.
const cryptoKeys = new WeakMap<KeyObject, Promise<webcrypto.CryptoKey>>()

function decryptionKey(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  let key = cryptoKeys.get(privateKey)
  if (!key) {
    const der = privateKey.export({ format: 'der', type: 'pkcs8' })
    key = webcrypto.subtle.importKey('pkcs8', der, OAEP_PARAMS, false, ['decrypt'])
    cryptoKeys.set(privateKey, key)
  }
  return key
}

/**
 * SPEC 3.2: RSA-OAEP decryption that never fails observably. `fallback` is drawn by the caller
 * before decrypting; when the ciphertext is not exactly the modulus length (RFC 8017 section
 * 7.1.2 step 1), or decryption fails, or gives other than `fallback.length` bytes, the result is
 * `fallback`, chosen by a constant-time select on one code path (RFC 7516 section 11.5: no
 * decryption oracle). The RSA work runs on the thread pool, whatever the length.
 */
export async function oaepDecryptOrFallback(privateKey: KeyObject, ciphertext: Buffer, label: Buffer, fallback: Buffer): Promise<Buffer> {
  const key = await decryptionKey(privateKey)
  // OpenSSL reads a shorter ciphertext as the same integer, so one whose first byte is 00 would
  // decrypt without it: the length joins the select's condition instead of an early return.
  const sized = ciphertext.length === modulusBytes(privateKey) ? 0xff : 0
  const got = await webcrypto.subtle.decrypt({ name: 'RSA-OAEP', label }, key, ciphertext).then(b => Buffer.from(b), () => Buffer.alloc(0))
  const candidate = Buffer.alloc(fallback.length)
  got.copy(candidate, 0, 0, fallback.length)
  const ok = (got.length === fallback.length ? 0xff : 0) & sized
  got.fill(0)
  for (let i = 0; i < candidate.length; i++) candidate[i] = (candidate[i]! & ok) | (fallback[i]! & ~ok)
  return candidate
}

/** Check that a key is RSA with a modulus of 2048 to 8192 bits (SPEC 3.7). */
export function checkRsaKey(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new KeyError(`${what} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; secure-pipe needs an RSA key (make one with 'secure-pipe keygen')`)
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new KeyError(`${what} is a ${bits}-bit RSA key; secure-pipe accepts ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`)
  }
  return key
}

/**
 * Validate a key option where it is passed: a `KeyObject` of the expected type (a `TypeError`
 * naming the option), then an RSA key of an accepted size (`ERR_KEY`, SPEC 3.7).
 */
export function keyOption(value: unknown, option: string, type: 'private' | 'public'): KeyObject {
  if (!(value instanceof KeyObject)) {
    // issue 17 section 6: name what was given, and how to turn a file or PEM text into a key.
    const load = type === 'private' ? 'loadPrivateKey(path) for a key file, or crypto.createPrivateKey(pem)' : 'loadPublicKey(path) for a key file, or crypto.createPublicKey(pem)'
    throw new TypeError(`${option}: expected a ${type} RSA KeyObject, got ${describeValue(value)}; load it first: ${load}`)
  }
  if (type === 'public' && value.type === 'private') throw new TypeError(`${option}: this is a private key: give the public key, and never copy a private key to another machine`)
  if (type === 'private' && value.type !== 'private') throw new TypeError(`${option}: expected a private key, got a ${value.type} key`)
  return checkRsaKey(value, option)
}

/** What a wrong option value is, for a TypeError: `a Buffer (PEM or DER bytes?)`, `a string`, `null`. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (Buffer.isBuffer(value)) return 'a Buffer (the bytes of a key file are not a key)'
  if (typeof value === 'string') return `a string${/-----BEGIN|^ssh-/.test(value) ? ' (the text of a key file is not a key)' : ''}`
  if (typeof value !== 'object') return `a ${typeof value}`
  const name = (value as { constructor?: { name?: string } }).constructor?.name
  return Array.isArray(value) ? 'an array' : name && name !== 'Object' ? `a ${name}` : 'a plain object'
}

/** Parse a PEM private key (PKCS#1 or PKCS#8). */
export function parsePrivateKey(pem: string | Buffer, what = 'the private key'): KeyObject {
  if (/ENCRYPTED/.test(pem.toString())) {
    throw new KeyError(`${what} is encrypted with a passphrase; secure-pipe needs an unencrypted key file (mode 0600)`)
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch (err) {
    throw new KeyError(`${what} is not a PEM private key (PKCS#1 or PKCS#8)`, { cause: err })
  }
  return checkRsaKey(key, what)
}

/** Parse a PEM public key (SPKI or PKCS#1); a private key yields its public half. */
export function parsePublicKey(pem: string | Buffer, what = 'the public key'): KeyObject {
  let key: KeyObject
  try {
    key = createPublicKey({ key: pem, format: 'pem' })
  } catch (err) {
    throw new KeyError(`${what} is not a PEM public key (SPKI or PKCS#1)`, { cause: err })
  }
  return checkRsaKey(key, what)
}

/** Parse a public key from SPKI DER as sent in a ClientHello. */
export function parseSpki(der: Buffer): KeyObject {
  return checkRsaKey(createPublicKey({ key: der, format: 'der', type: 'spki' }), 'the peer key')
}

// A handshake needs the SPKI and fingerprint of long-lived keys on every connection: export once per KeyObject.
const spkiCache = new WeakMap<KeyObject, Buffer>()

export function spkiDer(key: KeyObject): Buffer {
  let der = spkiCache.get(key)
  if (!der) {
    const pub = key.type === 'private' ? createPublicKey(key) : key
    der = pub.export({ format: 'der', type: 'spki' })
    spkiCache.set(key, der)
  }
  return der
}

const keyIdCache = new WeakMap<KeyObject, Buffer>()

/** SPEC 3.1: the key id, SHA-256 of the SPKI DER (the ClientHello names the pinned server key by it). */
export function keyId(key: KeyObject): Buffer {
  let id = keyIdCache.get(key)
  if (!id) {
    id = createHash('sha256').update(spkiDer(key)).digest()
    keyIdCache.set(key, id)
  }
  return id
}

/** A new RSA key pair; PEM strings (PKCS#8 private, SPKI public). */
export function generateRsaKeyPair(bits: number): { privateKeyPem: string, publicKeyPem: string } {
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new RangeError(`RSA key size must be ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`)
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  }
}
