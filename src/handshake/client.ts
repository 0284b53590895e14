/**
 * The client's handshake state machine (SPEC 3.1, 3.4, 3.5): messages in, messages out, no I/O.
 */
import type { KeyObject } from 'node:crypto'
import { keyId, keyOption, oaepDecrypt, oaepEncrypt, spkiDer } from '../crypto/rsa.js'
import { sshFingerprint as fingerprint } from '../keys/openssh.js'
import { equalConstantTime } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { x25519KeyPair, x25519Shared, type X25519KeyPair } from '../crypto/x25519.js'
import { CONFIRM_LENGTH, MSG, RANDOM_LENGTH, SECRET_LENGTH, checkCiphers, type CipherName } from '../constants.js'
import { AuthError, VersionError } from '../errors.js'
import { clientHelloBound, encodeClientHello, encodeFinished, parseFinished, parseServerHello } from './messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverConfirm, serverFinishedMac, serverSecretLabel, sessionKeys, wipeSchedule, type KeySchedule, type SessionKeys } from './keyschedule.js'

/** Who the client is and whom it expects: shared by `connect` and `ClientHandshake`. */
export interface ClientIdentityOptions {
  /** The client's RSA private key (2048 to 8192 bits). */
  privateKey: KeyObject
  /** The server public key this client pinned. */
  serverPublicKey: KeyObject
  /** Offered record ciphers in order of preference (default AES-128-CCM, AES-256-CCM). */
  ciphers?: readonly CipherName[]
}

/** `ClientHandshake`'s options: the identity options, plus test-only fixed randomness. */
export interface ClientHandshakeOptions extends ClientIdentityOptions {
  /** Test-only: deterministic randomness and ephemeral key for protocol vectors. */
  random?: RandomSource
  x25519Private?: Buffer
}

const SERVER_UNPROVEN = 'the server could not prove it holds the private key of the server key this client pinned: wrong key pinned, or someone is in the middle'

/**
 * The client's side of the handshake as a state machine (SPEC 3.1, 3.4, 3.5): `clientHello` to
 * send, `onServerHello` answers with ClientFinished, `onServerFinished` gives the session keys.
 * No I/O: `HandshakeStage` or `SecureStream` drive it.
 *
 * @example new HandshakeStage({ machine: new ClientHandshake({ privateKey, serverPublicKey }), send: socket })
 */
export class ClientHandshake {
  /** SPEC 3.1: the first message, ready to send. */
  readonly clientHello: Buffer
  readonly #opts: ClientHandshakeOptions
  readonly #ciphers: readonly CipherName[]
  readonly #kc: Buffer
  #ephemeral: X25519KeyPair | null
  #schedule: KeySchedule | null = null
  #clientFinished: Buffer | null = null
  #cipher: CipherName | null = null

  constructor(opts: ClientHandshakeOptions) {
    keyOption(opts?.privateKey, 'privateKey', 'private')
    keyOption(opts.serverPublicKey, 'serverPublicKey', 'public')
    this.#opts = opts
    const random = opts.random ?? secureRandom
    this.#ciphers = checkCiphers(opts.ciphers)
    this.#kc = random(SECRET_LENGTH)
    this.#ephemeral = x25519KeyPair(opts.x25519Private)
    const fields = {
      ciphers: [...this.#ciphers],
      random: random(RANDOM_LENGTH),
      x25519: this.#ephemeral.publicKey,
      serverKeyId: keyId(opts.serverPublicKey),
      spki: spkiDer(opts.privateKey),
    }
    // SPEC 3.1: the label binds k_c's ciphertext to every field before it, so it is worthless in another ClientHello.
    const encryptedSecret = oaepEncrypt(opts.serverPublicKey, this.#kc, clientSecretLabel(clientHelloBound(fields)))
    this.clientHello = encodeClientHello({ ...fields, encryptedSecret })
  }

  /** The pinned server key's fingerprint. */
  /** This client's own key fingerprint (the key it presents). */
  get localFingerprint(): string {
    return fingerprint(this.#opts.privateKey)
  }

  get peerFingerprint(): string {
    return fingerprint(this.#opts.serverPublicKey)
  }

  /** SPEC 3.4: check the server's confirmation of k_c, derive keys, answer with ClientFinished. */
  onServerHello(frame: Buffer): Buffer {
    const sh = parseServerHello(frame)
    if (!this.#ciphers.includes(sh.cipher)) throw new VersionError(`the server chose ${sh.cipher}, which this client did not offer`)
    let secrets: Buffer
    try {
      secrets = oaepDecrypt(this.#opts.privateKey, sh.encryptedSecrets, serverSecretLabel(this.clientHello, sh.bound))
    } catch (err) {
      throw new AuthError(SERVER_UNPROVEN, { cause: err })
    }
    try {
      // SPEC 3.4: the server proves it read k_c by HMAC(k_c, ...), compared in constant time; k_c itself never comes back.
      const confirmed = secrets.length === SECRET_LENGTH + CONFIRM_LENGTH &&
        equalConstantTime(secrets.subarray(SECRET_LENGTH), serverConfirm(this.#kc, this.clientHello))
      if (!confirmed) throw new AuthError(SERVER_UNPROVEN)
      const shared = this.#shared(sh.x25519)
      const ikm = Buffer.concat([this.#kc, secrets.subarray(0, SECRET_LENGTH), shared])
      this.#schedule = deriveKeys(this.clientHello, frame, ikm)
      // SPEC 4.4: k_c, k_s, the X25519 secret and the ikm are not needed past this point.
      for (const b of [ikm, shared]) b.fill(0)
    } finally {
      secrets.fill(0)
      this.#kc.fill(0)
      this.#ephemeral = null
    }
    this.#cipher = sh.cipher
    this.#clientFinished = clientFinishedMac(this.#schedule)
    return encodeFinished(MSG.clientFinished, this.#clientFinished)
  }

  /** SPEC 3.5: verify ServerFinished; only then are the traffic secrets released. */
  onServerFinished(frame: Buffer): SessionKeys {
    const ks = this.#schedule
    if (!ks || !this.#clientFinished || !this.#cipher) throw new Error('ServerFinished before ServerHello')
    const mac = parseFinished(frame, MSG.serverFinished)
    if (!equalConstantTime(serverFinishedMac(ks, this.#clientFinished), mac)) {
      this.wipe()
      throw new AuthError('the server\'s Finished message did not verify: the handshake was tampered with')
    }
    wipeSchedule(ks, false)
    this.#schedule = null
    return sessionKeys(ks, this.#cipher, 'client')
  }

  /** SPEC 4.4: forget every secret (a failed or abandoned handshake). */
  wipe(): void {
    this.#kc.fill(0)
    this.#ephemeral = null
    if (this.#schedule) wipeSchedule(this.#schedule, true)
    this.#schedule = null
  }

  #shared(peerPublic: Buffer): Buffer {
    try {
      return x25519Shared(this.#ephemeral!.privateKey, peerPublic)
    } catch (err) {
      // SPEC 4.2: a low-order share (all-zero result) is refused.
      throw new AuthError('the server sent an invalid X25519 share', { cause: err })
    }
  }
}
