/** Ephemeral X25519 (RFC 7748) for the handshake's forward secrecy (SPEC 3.1, 4.2). */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { X25519_LENGTH } from '../constants.js'

// RFC 8410: the DER prefix that wraps a raw 32-byte X25519 private key as PKCS#8 (test vectors' fixed keys).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

export interface X25519KeyPair { privateKey: KeyObject, publicKey: Buffer }

function checkLength(raw: Buffer, what: string): void {
  if (raw.length !== X25519_LENGTH) throw new RangeError(`X25519 ${what} must be ${X25519_LENGTH} bytes`)
}

/** A fresh key pair, or one from a fixed 32-byte private key (test vectors only). */
export function x25519KeyPair(fixedPrivate?: Buffer): X25519KeyPair {
  if (!fixedPrivate) {
    // Raw key bytes go in and out as JWK: OpenSSL builds such a key directly, where DER goes
    // through its decoder and encoder search (issue 11: 25 against 224 µs per import here).
    const { privateKey, publicKey } = generateKeyPairSync('x25519')
    return { privateKey, publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url') }
  }
  checkLength(fixedPrivate, 'private key')
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, fixedPrivate]), format: 'der', type: 'pkcs8' })
  return { privateKey, publicKey: Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url') }
}

/** The shared secret with a peer's raw public key. Throws on an all-zero result (low-order point). */
export function x25519Shared(privateKey: KeyObject, peerPublic: Buffer): Buffer {
  checkLength(peerPublic, 'public key')
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublic.toString('base64url') }, format: 'jwk' })
  return diffieHellman({ privateKey, publicKey })
}
