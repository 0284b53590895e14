/**
 * The client's handshake state machine (SPEC 3.1, 3.4, 3.5): messages in, messages out, no I/O.
 */
import type { KeyObject } from 'node:crypto'
import { fingerprint, oaepDecrypt, oaepEncrypt, spkiDer } from '../crypto/rsa.js'
import { equalConstantTime } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { x25519KeyPair, x25519Shared, type X25519KeyPair } from '../crypto/x25519.js'
import { DEFAULT_CIPHERS, MSG, RANDOM_LENGTH, SECRET_LENGTH, type CipherName } from '../constants.js'
import { AuthError, VersionError } from '../errors.js'
import { encodeClientHello, encodeFinished, parseFinished, parseServerHello } from './messages.js'
import { clientFinishedMac, deriveKeys, serverFinishedMac, sessionKeys, type KeySchedule, type SessionKeys } from './keyschedule.js'

export interface ClientHandshakeOptions {
  privateKey: KeyObject
  /** The pinned server key (serverPK.pem). */
  serverPublicKey: KeyObject
  ciphers?: readonly CipherName[]
  /** Test-only: deterministic randomness and ephemeral key for protocol vectors. */
  random?: RandomSource
  x25519Private?: Buffer
}

const SERVER_UNPROVEN = 'the server could not prove it holds the private key of the pinned server key (serverPK.pem): wrong key pinned, or someone is in the middle'

export class ClientHandshake {
  /** SPEC 3.1: the first message, ready to send. */
  readonly clientHello: Buffer
  readonly #opts: ClientHandshakeOptions
  readonly #kc: Buffer
  readonly #ephemeral: X25519KeyPair
  #schedule: KeySchedule | null = null
  #clientFinished: Buffer | null = null
  #cipher: CipherName | null = null

  constructor(opts: ClientHandshakeOptions) {
    this.#opts = opts
    const random = opts.random ?? secureRandom
    const ciphers = [...(opts.ciphers ?? DEFAULT_CIPHERS)]
    if (ciphers.length === 0) throw new RangeError('at least one cipher is needed')
    this.#kc = random(SECRET_LENGTH)
    this.#ephemeral = x25519KeyPair(opts.x25519Private)
    this.clientHello = encodeClientHello({
      ciphers,
      random: random(RANDOM_LENGTH),
      x25519: this.#ephemeral.publicKey,
      spki: spkiDer(opts.privateKey),
      encryptedSecret: oaepEncrypt(opts.serverPublicKey, this.#kc),
    })
  }

  /** The pinned server key's fingerprint. */
  get peerFingerprint(): string {
    return fingerprint(this.#opts.serverPublicKey)
  }

  /** SPEC 3.4: check the server's proof, derive keys, answer with ClientFinished. */
  onServerHello(frame: Buffer): Buffer {
    const sh = parseServerHello(frame)
    if (!(this.#opts.ciphers ?? DEFAULT_CIPHERS).includes(sh.cipher)) throw new VersionError(`the server chose ${sh.cipher}, which this client did not offer`)
    let secrets: Buffer
    try {
      secrets = oaepDecrypt(this.#opts.privateKey, sh.encryptedSecrets)
    } catch (err) {
      throw new AuthError(SERVER_UNPROVEN, { cause: err })
    }
    // SPEC 3.4: the server echoes k_c; compare in constant time.
    if (secrets.length !== 2 * SECRET_LENGTH || !equalConstantTime(secrets.subarray(0, SECRET_LENGTH), this.#kc)) throw new AuthError(SERVER_UNPROVEN)
    let shared: Buffer
    try {
      shared = x25519Shared(this.#ephemeral.privateKey, sh.x25519)
    } catch (err) {
      throw new AuthError('the server sent an invalid X25519 share', { cause: err })
    }
    this.#schedule = deriveKeys(this.clientHello, frame, Buffer.concat([this.#kc, secrets.subarray(SECRET_LENGTH), shared]), sh.cipher)
    this.#cipher = sh.cipher
    this.#clientFinished = clientFinishedMac(this.#schedule)
    return encodeFinished(MSG.clientFinished, this.#clientFinished)
  }

  /** SPEC 3.5: verify ServerFinished; only then are the traffic keys released. */
  onServerFinished(frame: Buffer): SessionKeys {
    const ks = this.#schedule
    if (!ks || !this.#clientFinished || !this.#cipher) throw new Error('ServerFinished before ServerHello')
    const mac = parseFinished(frame, MSG.serverFinished)
    if (!equalConstantTime(serverFinishedMac(ks, this.#clientFinished), mac)) throw new AuthError('the server\'s Finished message did not verify: the handshake was tampered with')
    return sessionKeys(ks, this.#cipher, 'client')
  }
}
