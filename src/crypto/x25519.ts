/** Ephemeral X25519 (RFC 7748) for the handshake's forward secrecy (SPEC 3.1, 4.2). */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { X25519_LENGTH } from '../constants.js'

// RFC 8410: DER prefixes that wrap a raw 32-byte X25519 key as PKCS#8 and SPKI.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

export interface X25519KeyPair { privateKey: KeyObject, publicKey: Buffer }

function checkLength(raw: Buffer, what: string): void {
  if (raw.length !== X25519_LENGTH) throw new RangeError(`X25519 ${what} must be ${X25519_LENGTH} bytes`)
}

/** A fresh key pair, or one from a fixed 32-byte private key (test vectors only). */
export function x25519KeyPair(fixedPrivate?: Buffer): X25519KeyPair {
  if (!fixedPrivate) {
    // One call gives the public half already encoded: cheaper than deriving and exporting it.
    // (@types/node types only the both-encoded and neither-encoded forms; Node accepts one.)
    const { privateKey, publicKey } = (generateKeyPairSync as unknown as (t: 'x25519', o: object) => { privateKey: KeyObject, publicKey: Buffer })('x25519', { publicKeyEncoding: { format: 'der', type: 'spki' } })
    return { privateKey, publicKey: publicKey.subarray(publicKey.length - X25519_LENGTH) }
  }
  checkLength(fixedPrivate, 'private key')
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, fixedPrivate]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: spki.subarray(spki.length - X25519_LENGTH) }
}

/** The shared secret with a peer's raw public key. Throws on an all-zero result (low-order point). */
export function x25519Shared(privateKey: KeyObject, peerPublic: Buffer): Buffer {
  checkLength(peerPublic, 'public key')
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, peerPublic]), format: 'der', type: 'spki' })
  return diffieHellman({ privateKey, publicKey })
}
