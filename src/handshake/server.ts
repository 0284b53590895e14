/**
 * The server's handshake state machine (SPEC 3.2, 3.3, 3.5): messages in, messages out, no I/O.
 */
import type { KeyObject } from 'node:crypto'
import { fingerprint, oaepDecrypt, oaepEncrypt, spkiDer } from '../crypto/rsa.js'
import { equalConstantTime } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { x25519KeyPair, x25519Shared } from '../crypto/x25519.js'
import { ALERT, DEFAULT_CIPHERS, MSG, RANDOM_LENGTH, SECRET_LENGTH, type CipherName } from '../constants.js'
import { AuthError, VersionError } from '../errors.js'
import { encodeFinished, encodeServerHello, parseClientHello, parseFinished, refusal } from './messages.js'
import { clientFinishedMac, deriveKeys, serverFinishedMac, sessionKeys, type KeySchedule, type SessionKeys } from './keyschedule.js'

/** The set of client keys a server accepts, indexed by SPKI DER (SPEC 3.2). Build it once per server. */
export class AuthorizedKeys {
  readonly #byDer = new Map<string, KeyObject>()
  constructor(keys: readonly KeyObject[]) {
    for (const k of keys) this.#byDer.set(spkiDer(k).toString('base64'), k)
  }
  get size(): number { return this.#byDer.size }
  find(spki: Buffer): KeyObject | undefined {
    return this.#byDer.get(spki.toString('base64'))
  }
}

export interface ServerHandshakeOptions {
  privateKey: KeyObject
  authorizedKeys: AuthorizedKeys
  ciphers?: readonly CipherName[]
  /** Test-only: deterministic randomness and ephemeral key for protocol vectors. */
  random?: RandomSource
  x25519Private?: Buffer
}

export class ServerHandshake {
  readonly #opts: ServerHandshakeOptions
  #clientKey: KeyObject | null = null
  #schedule: KeySchedule | null = null
  #cipher: CipherName | null = null

  constructor(opts: ServerHandshakeOptions) {
    this.#opts = opts
  }

  /** The authorized key the client presented (known after the ClientHello). */
  get peerFingerprint(): string | null {
    return this.#clientKey ? fingerprint(this.#clientKey) : null
  }

  /** SPEC 3.2, 3.3: check the ClientHello and answer with ServerHello. Refusals carry an alert. */
  onClientHello(frame: Buffer): Buffer {
    const random = this.#opts.random ?? secureRandom
    let ch
    try {
      ch = parseClientHello(frame)
    } catch (err) {
      throw refusal(err as VersionError, ALERT.version)
    }
    // SPEC 3.2: the key is checked before any RSA work, so strangers cost no private-key operation.
    const known = this.#opts.authorizedKeys.find(ch.spki)
    if (!known) throw refusal(new AuthError('the client presented a key that is not in the authorized keys'), ALERT.auth)
    const allowed = this.#opts.ciphers ?? DEFAULT_CIPHERS
    const cipher = ch.ciphers.find(c => allowed.includes(c))
    if (!cipher) throw refusal(new VersionError(`the client offered no cipher this server allows (${allowed.join(', ')})`), ALERT.cipher)
    let kc: Buffer
    try {
      kc = oaepDecrypt(this.#opts.privateKey, ch.encryptedSecret)
      if (kc.length !== SECRET_LENGTH) kc = random(SECRET_LENGTH)
    } catch {
      // RFC 7516 section 11.5 / SPEC 3.2: go on with a random k_c, so a bad ciphertext is
      // indistinguishable from a wrong key until Finished fails: no decryption oracle.
      kc = random(SECRET_LENGTH)
    }
    const serverRandom = random(RANDOM_LENGTH)
    const ks = random(SECRET_LENGTH)
    const ephemeral = x25519KeyPair(this.#opts.x25519Private)
    let shared: Buffer
    try {
      shared = x25519Shared(ephemeral.privateKey, ch.x25519)
    } catch (err) {
      throw new AuthError('the client sent an invalid X25519 share', { cause: err })
    }
    this.#clientKey = known
    const serverHello = encodeServerHello({
      cipher,
      random: serverRandom,
      x25519: ephemeral.publicKey,
      encryptedSecrets: oaepEncrypt(known, Buffer.concat([kc, ks])),
    })
    this.#schedule = deriveKeys(frame, serverHello, Buffer.concat([kc, ks, shared]), cipher)
    this.#cipher = cipher
    return serverHello
  }

  /** SPEC 3.5: verify ClientFinished (proof that the client holds its private key), answer ServerFinished. */
  onClientFinished(frame: Buffer): { serverFinished: Buffer, keys: SessionKeys } {
    const ks = this.#schedule
    if (!ks || !this.#cipher) throw new Error('ClientFinished before ClientHello')
    const mac = parseFinished(frame, MSG.clientFinished)
    if (!equalConstantTime(clientFinishedMac(ks), mac)) throw new AuthError('the client could not prove it holds the private key of the key it presented')
    return { serverFinished: encodeFinished(MSG.serverFinished, serverFinishedMac(ks, mac)), keys: sessionKeys(ks, this.#cipher, 'server') }
  }
}
