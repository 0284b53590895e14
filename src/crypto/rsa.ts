/**
 * RSA key handling and RSA-OAEP-SHA256 (SPEC 3.1, 3.3). The only file that does RSA.
 * Keys are parsed into `KeyObject`s once: parsing PEM on every call costs a third of the rate.
 */
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto'
import { RSA_MAX_BITS, RSA_MIN_BITS } from '../constants.js'
import { KeyError } from '../errors.js'

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const

/** RSA-OAEP-SHA256 (MGF1-SHA256, empty label) encryption to `publicKey`. */
export function oaepEncrypt(publicKey: KeyObject, plaintext: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, ...OAEP }, plaintext)
}

/**
 * RSA-OAEP-SHA256 decryption. Throws on any failure; callers that face an attacker must not
 * let the failure be observable (SPEC 3.2, RFC 7516 section 11.5).
 */
export function oaepDecrypt(privateKey: KeyObject, ciphertext: Buffer, label?: Buffer): Buffer {
  return privateDecrypt({ key: privateKey, ...OAEP, ...(label && label.length ? { oaepLabel: label } : {}) }, ciphertext)
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
const fingerprintCache = new WeakMap<KeyObject, string>()

export function spkiDer(key: KeyObject): Buffer {
  let der = spkiCache.get(key)
  if (!der) {
    const pub = key.type === 'private' ? createPublicKey(key) : key
    der = pub.export({ format: 'der', type: 'spki' })
    spkiCache.set(key, der)
  }
  return der
}

/** `SHA256:` + unpadded base64 of the SPKI DER, the form `ssh-keygen -l` prints. */
export function fingerprint(key: KeyObject): string {
  let fp = fingerprintCache.get(key)
  if (!fp) {
    fp = 'SHA256:' + createHash('sha256').update(spkiDer(key)).digest('base64').replace(/=+$/, '')
    fingerprintCache.set(key, fp)
  }
  return fp
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
