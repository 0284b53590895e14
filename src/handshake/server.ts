/**
 * The server's handshake state machine (SPEC 3.2, 3.3, 3.5): messages in, messages out, no I/O.
 */
import type { KeyObject } from 'node:crypto'
import { fingerprint, keyId, oaepDecryptOrFallback, oaepEncrypt, spkiDer } from '../crypto/rsa.js'
import { equalConstantTime } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { x25519KeyPair, x25519Shared } from '../crypto/x25519.js'
import { ALERT, DEFAULT_CIPHERS, MSG, RANDOM_LENGTH, SECRET_LENGTH, type CipherName } from '../constants.js'
import { AuthError, VersionError } from '../errors.js'
import { encodeFinished, encodeServerHello, parseClientHello, parseFinished, refusal, serverHelloBound } from './messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverConfirm, serverFinishedMac, serverSecretLabel, sessionKeys, wipeSchedule, type KeySchedule, type SessionKeys } from './keyschedule.js'

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
  /** The server's private key, or several (key rotation): the ClientHello names the one its client pinned (SPEC 3.2). */
  privateKey: KeyObject | readonly KeyObject[]
  authorizedKeys: AuthorizedKeys
  ciphers?: readonly CipherName[]
  /**
   * SPEC 3.2 step 5: called with the client random before any RSA work; false refuses the
   * ClientHello as a replay (ERR_AUTH, no alert). A server's replay cache plugs in here.
   */
  replayCheck?: (clientRandom: Buffer) => boolean
  /** Test-only: deterministic randomness and ephemeral key for protocol vectors. */
  random?: RandomSource
  x25519Private?: Buffer
}

export class ServerHandshake {
  readonly #opts: ServerHandshakeOptions
  readonly #keys: readonly KeyObject[]
  #clientKey: KeyObject | null = null
  #schedule: KeySchedule | null = null
  #cipher: CipherName | null = null

  constructor(opts: ServerHandshakeOptions) {
    this.#opts = opts
    this.#keys = Array.isArray(opts.privateKey) ? opts.privateKey : [opts.privateKey as KeyObject]
    if (this.#keys.length === 0) throw new RangeError('privateKey: at least one server key is needed')
  }

  /** The authorized key the client presented (known after the ClientHello). */
  get peerFingerprint(): string | null {
    return this.#clientKey ? fingerprint(this.#clientKey) : null
  }

  /**
   * SPEC 3.2, 3.3: check the ClientHello and answer with ServerHello. Refusals carry an alert.
   * Every check runs before the RSA private-key operation, which runs on the thread pool.
   */
  async onClientHello(frame: Buffer): Promise<Buffer> {
    const random = this.#opts.random ?? secureRandom
    const ch = this.#parse(frame)
    const serverKey = this.#keys.find(k => keyId(k).equals(ch.serverKeyId))
    if (!serverKey) throw refusal(new AuthError('the client pinned a server key this server does not hold'), ALERT.serverKey)
    // SPEC 3.2: the client's key is checked before any RSA work, so strangers cost no private-key operation.
    const known = this.#opts.authorizedKeys.find(ch.spki)
    if (!known) throw refusal(new AuthError('the client presented a key that is not in the authorized keys'), ALERT.auth)
    const allowed = this.#opts.ciphers ?? DEFAULT_CIPHERS
    const cipher = ch.ciphers.find(c => allowed.includes(c))
    if (!cipher) throw refusal(new VersionError(`the client offered no cipher this server allows (${allowed.join(', ')})`), ALERT.cipher)
    if (this.#opts.replayCheck && !this.#opts.replayCheck(ch.random)) throw new AuthError('the client sent a ClientHello this server has seen before (a replay)')
    const ephemeral = x25519KeyPair(this.#opts.x25519Private)
    const shared = this.#shared(ephemeral.privateKey, ch.x25519)
    // SPEC 3.2: the fallback is drawn before decrypting, and chosen in constant time on failure (no oracle).
    const fallback = random(SECRET_LENGTH)
    const kc = await oaepDecryptOrFallback(serverKey, ch.encryptedSecret, clientSecretLabel(ch.bound), fallback)
    fallback.fill(0)
    const ks = random(SECRET_LENGTH)
    const fields = { cipher, random: random(RANDOM_LENGTH), x25519: ephemeral.publicKey }
    // SPEC 3.3: k_s and the confirmation of k_c, sealed to the client's key under a label bound to the transcript so far.
    const sealed = Buffer.concat([ks, serverConfirm(kc, frame)])
    const encryptedSecrets = oaepEncrypt(known, sealed, serverSecretLabel(frame, serverHelloBound(fields)))
    const serverHello = encodeServerHello({ ...fields, encryptedSecrets })
    const ikm = Buffer.concat([kc, ks, shared])
    this.#schedule = deriveKeys(frame, serverHello, ikm)
    // SPEC 4.4: k_c, k_s, the X25519 secret and the ikm are not needed past this point.
    for (const b of [kc, ks, shared, sealed, ikm]) b.fill(0)
    this.#clientKey = known
    this.#cipher = cipher
    return serverHello
  }

  /** SPEC 3.5: verify ClientFinished (proof that the client holds its private key), answer ServerFinished. */
  onClientFinished(frame: Buffer): { serverFinished: Buffer, keys: SessionKeys } {
    const ks = this.#schedule
    if (!ks || !this.#cipher) throw new Error('ClientFinished before ClientHello')
    const mac = parseFinished(frame, MSG.clientFinished)
    if (!equalConstantTime(clientFinishedMac(ks), mac)) {
      this.wipe()
      throw new AuthError('the client could not prove it holds the private key of the key it presented')
    }
    const serverFinished = encodeFinished(MSG.serverFinished, serverFinishedMac(ks, mac))
    wipeSchedule(ks, false)
    this.#schedule = null
    return { serverFinished, keys: sessionKeys(ks, this.#cipher, 'server') }
  }

  /** SPEC 4.4: forget every secret (a failed or abandoned handshake). */
  wipe(): void {
    if (this.#schedule) wipeSchedule(this.#schedule, true)
    this.#schedule = null
  }

  #parse(frame: Buffer): ReturnType<typeof parseClientHello> {
    try {
      return parseClientHello(frame)
    } catch (err) {
      throw refusal(err as VersionError, ALERT.version)
    }
  }

  #shared(privateKey: KeyObject, peerPublic: Buffer): Buffer {
    try {
      return x25519Shared(privateKey, peerPublic)
    } catch (err) {
      // SPEC 4.2: a low-order share is refused before any RSA work, without an alert.
      throw new AuthError('the client sent an invalid X25519 share', { cause: err })
    }
  }
}
