/**
 * The shape of the protocol vector files in `test/vectors/protocol/` (SPEC 11), shared by the
 * generator (`scripts/gen-vectors.ts`) and the replay test. Every byte string is lowercase hex.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CipherName } from '../../src/constants.js'

export const HANDSHAKE_FILE = 'v2-handshake-and-records.json'

export interface KeyVector {
  /** PKCS#8 PEM: a throwaway test key, committed on purpose. */
  privateKeyPem: string
  publicKeyPem: string
  /** SPKI DER, as carried in the ClientHello. */
  spki: string
  fingerprint: string
}

/** One handshake message: its body and its frame (varint length || body, SPEC 2.1). */
export interface MessageVector { message: string, frame: string }

export interface RecordVector {
  seq: number
  type: number
  typeName: 'data' | 'close'
  payload: string
  /** The traffic secret in use, how many key updates (SPEC 5.6) produced it, and the two keys expanded from it (SPEC 5.2, 5.3). */
  secret: string
  keyGeneration: number
  key: string
  ivKey: string
  /** SPEC 5.2: the 12 random bytes r, and IV = first 12 bytes of AES-CCM(iv key, nonce = r, plaintext = r). */
  r: string
  iv: string
  /** SPEC 5.3: 'SPIP' || version || direction || uint64be(seq). */
  aad: string
  /** SPEC 5.1: type || payload. */
  innerPlaintext: string
  ciphertext: string
  tag: string
  /** SPEC 5.4: ciphertext || '@' || IV || '@' || tag. */
  record: string
  frame: string
  expect: string
}

export interface HandshakeVectorFile {
  description: string
  generator: string
  notes: Record<string, string>
  keys: { client: KeyVector, server: KeyVector }
  inputs: {
    clientCiphers: CipherName[]
    serverCiphers: CipherName[]
    k_c: string
    k_s: string
    /** SPEC 3.2: the stand-in for k_c the server draws before decrypting (unused when decryption succeeds). */
    fallback: string
    clientRandom: string
    serverRandom: string
    clientX25519Private: string
    serverX25519Private: string
  }
  handshake: {
    cipher: CipherName
    clientX25519Public: string
    serverX25519Public: string
    sharedSecret: string
    /** SPEC 3.1: SHA-256 of the server's SPKI DER. */
    serverKeyId: string
    /** SPEC 3.1: the ClientHello bytes before its OAEP field, and the label = context || SHA-256(those bytes). */
    clientHelloBound: string
    clientSecretLabel: string
    /** SPEC 3.1: OAEP(serverPK, k_c, clientSecretLabel); randomized, recorded as produced. */
    clientHelloEncryptedSecret: string
    /** SPEC 3.3: confirm = HMAC(k_c, confirm label || SHA-256(ClientHello)). */
    confirm: string
    serverHelloBound: string
    serverSecretLabel: string
    /** SPEC 3.3: OAEP(clientPK, k_s || confirm, serverSecretLabel); randomized, recorded as produced. */
    serverHelloEncryptedSecrets: string
    clientHello: MessageVector
    serverHello: MessageVector
    th: string
    ikm: string
    prk: string
    labels: Record<string, string>
    /** SPEC 4.3: the first traffic secret of each direction and the Finished keys. */
    secrets: { c2s: string, s2c: string, clientFinishedKey: string, serverFinishedKey: string }
    clientFinishedMac: string
    serverFinishedMac: string
    clientFinished: MessageVector
    serverFinished: MessageVector
    expect: string
  }
  records: {
    direction: number
    keyUpdateInterval: number
    list: RecordVector[]
    /** Every record frame in order: the bytes the server reads after the handshake. */
    stream: string
    /** The plaintext the server releases, then a clean end. */
    released: string
    expect: string
  }
}

/** One failure scenario (CCTV style): bytes in, one error code out. */
export interface FailureVectorFile {
  description: string
  spec: string
  expect: 'ERR_INTEGRITY' | 'ERR_TRUNCATED' | 'ERR_FRAME_TOO_LARGE'
  /** FrameDecoder options the bytes are fed through. */
  decoder: { limit: number, smallFrames?: number, smallLimit?: number }
  /** DecryptStage keys. */
  recordKeys: { cipher: CipherName, secret: string, direction: number, keyUpdateInterval: number }
  frames: Array<{ note: string, frame: string }>
  /** The whole byte stream: the frames concatenated (possibly cut). */
  stream: string
  /** Plaintext released before the error (hex); nothing after it. */
  released: string
}

/**
 * One handshake failure (SPEC 3.2, 3.4, 3.6): a ClientHello fed to a server holding the stored
 * keys, and what must come of it: an error code with its alert, or (for a ClientHello whose OAEP
 * field was moved from another one) an ordinary ServerHello whose confirmation fails at the client.
 */
export interface HandshakeFailureVectorFile {
  description: string
  spec: string
  /** Where the failure shows: the server refuses the ClientHello, or the client refuses the answer. */
  failsAt: 'server' | 'client'
  expect: 'ERR_VERSION' | 'ERR_AUTH'
  /** The alert the server sends before closing (hex message), or null for none. */
  alert: string | null
  serverCiphers: CipherName[]
  clientHello: MessageVector
  /** failsAt client: the k_c whose confirmation the client expects. */
  k_c?: string
}

/** `test/vectors/protocol/` of this checkout, from the source or the compiled tree alike. */
export function protocolVectorDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('no package.json above the test tree')
    dir = up
  }
  return join(dir, 'test', 'vectors', 'protocol')
}

export function loadVectorFile<T>(name: string): T {
  return JSON.parse(readFileSync(join(protocolVectorDir(), name), 'utf8')) as T
}
