/**
 * RSA test keys (2048 bits, the smallest SPEC 3.7 accepts, so handshakes stay fast).
 * Key generation is slow, so each test file generates its pairs once, in parallel, on first use.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'

const generate = promisify(generateKeyPair)

export interface KeyPair { privateKey: KeyObject, publicKey: KeyObject }

/** The server, an authorized client, and a stranger whose key nobody authorized. */
export interface TestKeys { server: KeyPair, client: KeyPair, stranger: KeyPair }

let cached: Promise<TestKeys> | null = null

function rsa2048(): Promise<KeyPair> {
  return generate('rsa', { modulusLength: 2048 })
}

/** The test file's keys; the first call generates them, later calls share them. */
export function testKeys(): Promise<TestKeys> {
  cached ??= Promise.all([rsa2048(), rsa2048(), rsa2048()]).then(([server, client, stranger]) => ({ server, client, stranger }))
  return cached
}

/** A key's PEM text (SPKI for a public key, PKCS#8 for a private key). */
export function pem(key: KeyObject): string {
  return key.type === 'private'
    ? key.export({ format: 'pem', type: 'pkcs8' }).toString()
    : key.export({ format: 'pem', type: 'spki' }).toString()
}
