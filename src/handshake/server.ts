/**
 * The server's handshake state machine (SPEC 3.2, 3.3, 3.5): messages in, messages out, no I/O.
 */
import type { KeyObject } from 'node:crypto'
import { keyId, keyOption, oaepDecryptOrFallback, oaepEncrypt, parseSpki, spkiDer } from '../crypto/rsa.js'
import { sshFingerprint as fingerprint } from '../keys/openssh.js'
import { equalConstantTime } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { x25519KeyPair, x25519Shared } from '../crypto/x25519.js'
import { ALERT, MSG, RANDOM_LENGTH, SECRET_LENGTH, checkCiphers, type CipherName } from '../constants.js'
import { AuthError, NetworkError, VersionError } from '../errors.js'
import { encodeFinished, encodeServerHello, parseClientHello, parseFinished, refusal, serverHelloBound } from './messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverConfirm, serverFinishedMac, serverSecretLabel, sessionKeys, wipeSchedule, type KeySchedule, type SessionKeys } from './keyschedule.js'

/**
 * The set of client keys a server accepts, indexed by SPKI DER (SPEC 3.2). `createServer` builds
 * it once from its `authorizedKeys` list; a handshake given a plain list builds its own.
 */
export class AuthorizedKeys {
  readonly #byDer = new Map<string, KeyObject>()
  constructor(keys: readonly KeyObject[]) {
    if (!Array.isArray(keys)) throw new TypeError('authorizedKeys: expected an array of public KeyObjects')
    keys.forEach((k, i) => this.#byDer.set(spkiDer(keyOption(k, `authorizedKeys[${i}]`, 'public')).toString('base64'), k))
  }
  get size(): number { return this.#byDer.size }
  find(spki: Buffer): KeyObject | undefined {
    return this.#byDer.get(spki.toString('base64'))
  }
}

/** The client a server is asked to accept: its RSA public key, that key's fingerprint, and where it connects from. */
export interface PeerIdentity {
  key: KeyObject
  fingerprint: string
  /** `host:port` when the handshake runs over a socket (set by `createServer`). */
  remoteAddress?: string
}

/** Per-connection authorization: true accepts the key, false refuses it (ERR_AUTH, alert 1). May be async. */
export type AuthorizeCallback = (peer: PeerIdentity) => boolean | Promise<boolean>

/** Who the server is and whom it accepts: shared by `createServer` and `ServerHandshake`. */
export interface ServerIdentityOptions {
  /** The server's private key, or several (key rotation): the ClientHello names the one its client pinned (SPEC 3.2). */
  privateKey: KeyObject | readonly KeyObject[]
  /** Client public keys allowed to connect (SPEC 3.2 step 3). Optional when `authorize` is given. */
  authorizedKeys?: AuthorizedKeys | readonly KeyObject[]
  /**
   * Consulted for a client key that is not in `authorizedKeys`, before any RSA private-key work:
   * an application's own database, with its own logging.
   */
  authorize?: AuthorizeCallback
  /** Ciphers this server allows; it picks the client's first choice among them (default both). */
  ciphers?: readonly CipherName[]
}

/** `ServerHandshake`'s options: the identity options, plus the replay check, the peer address for `authorize`, and test-only fixed randomness. */
export interface ServerHandshakeOptions extends ServerIdentityOptions {
  /**
   * SPEC 3.2 step 5: called with the client random before any RSA work; false refuses the
   * ClientHello as a replay (ERR_AUTH, no alert). A server's replay cache plugs in here.
   */
  replayCheck?: (clientRandom: Buffer) => boolean
  /** `host:port` of the client, passed on to `authorize` (set by `createServer`). */
  remoteAddress?: string
  /** Test-only: deterministic randomness and ephemeral key for protocol vectors. */
  random?: RandomSource
  x25519Private?: Buffer
}

/**
 * The server's side of the handshake as a state machine (SPEC 3.2, 3.3, 3.5): `onClientHello`
 * (async: its RSA work runs on the thread pool) answers with ServerHello or a refusal carrying
 * an alert, `onClientFinished` answers with ServerFinished and the session keys. No I/O.
 *
 * @example new HandshakeStage({ machine: new ServerHandshake({ privateKey, authorizedKeys: [clientKey] }), send: socket })
 */
export class ServerHandshake {
  readonly #opts: ServerHandshakeOptions
  readonly #keys: readonly KeyObject[]
  readonly #authorized: AuthorizedKeys
  readonly #ciphers: readonly CipherName[]
  #clientKey: KeyObject | null = null
  #serverKey: KeyObject | null = null
  #schedule: KeySchedule | null = null
  #cipher: CipherName | null = null
  /** SPEC 4.4: set by wipe(); a step still waiting (authorize, the thread pool) stops when it resumes. */
  #abandoned = false
  #step: Promise<unknown> = Promise.resolve()

  constructor(opts: ServerHandshakeOptions) {
    this.#keys = [opts?.privateKey].flat().map((k, i, all) => keyOption(k, all.length > 1 ? `privateKey[${i}]` : 'privateKey', 'private'))
    if (this.#keys.length === 0) throw new RangeError('privateKey: at least one server key is needed')
    const listed = opts.authorizedKeys instanceof AuthorizedKeys ? opts.authorizedKeys : new AuthorizedKeys(opts.authorizedKeys ?? [])
    if (opts.authorize !== undefined && typeof opts.authorize !== 'function') throw new TypeError('authorize: expected a function (peer) => boolean | Promise<boolean>')
    if (listed.size === 0 && !opts.authorize) throw new RangeError('authorizedKeys: give at least one client key, or an authorize callback')
    this.#ciphers = checkCiphers(opts.ciphers)
    this.#authorized = listed
    this.#opts = opts
  }

  /** The fingerprint of the server key the client pinned and this handshake used (known after the ClientHello; with several keys, shows who still pins which). */
  get localFingerprint(): string | null {
    return this.#serverKey ? fingerprint(this.#serverKey) : null
  }

  /** The authorized key the client presented (known after the ClientHello). */
  get peerFingerprint(): string | null {
    return this.#clientKey ? fingerprint(this.#clientKey) : null
  }

  /**
   * SPEC 3.2, 3.3: check the ClientHello and answer with ServerHello. Refusals carry an alert.
   * Every check runs before the RSA private-key operation, which runs on the thread pool.
   */
  onClientHello(frame: Buffer): Promise<Buffer> {
    const step = this.#onClientHello(frame)
    this.#step = step.catch(() => {})
    return step
  }

  /**
   * Settles once no ClientHello step is in flight: a step outlives its connection (the thread
   * pool's RSA work, an application's authorize), so the server holds its slot until then.
   */
  get idle(): Promise<void> {
    return this.#step.then(() => undefined)
  }

  async #onClientHello(frame: Buffer): Promise<Buffer> {
    const random = this.#opts.random ?? secureRandom
    const ch = this.#parse(frame)
    const serverKey = this.#keys.find(k => keyId(k).equals(ch.serverKeyId))
    if (!serverKey) throw refusal(new AuthError('the client pinned a server key this server does not hold'), ALERT.serverKey)
    // SPEC 3.2: the client's key is checked before any RSA work, so strangers cost no private-key operation.
    const known = await this.#authorize(ch.spki)
    this.#checkLive() // SPEC 13.5: no RSA work for a handshake abandoned while authorize ran
    const cipher = ch.ciphers.find(c => this.#ciphers.includes(c))
    if (!cipher) throw refusal(new VersionError(`the client offered no cipher this server allows (${this.#ciphers.join(', ')})`), ALERT.cipher)
    if (this.#opts.replayCheck && !this.#opts.replayCheck(ch.random)) throw new AuthError('the client sent a ClientHello this server has seen before (a replay)')
    const ephemeral = x25519KeyPair(this.#opts.x25519Private)
    const shared = this.#shared(ephemeral.privateKey, ch.x25519)
    // SPEC 3.2: the fallback is drawn before decrypting, and chosen in constant time on failure (no oracle).
    const fallback = random(SECRET_LENGTH)
    const kc = await oaepDecryptOrFallback(serverKey, ch.encryptedSecret, clientSecretLabel(ch.bound), fallback)
    fallback.fill(0)
    if (this.#abandoned) for (const b of [kc, shared]) b.fill(0)
    this.#checkLive() // SPEC 4.4: a handshake abandoned during the RSA work derives no secret
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
    this.#serverKey = serverKey
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
    this.#abandoned = true
    if (this.#schedule) wipeSchedule(this.#schedule, true)
    this.#schedule = null
  }

  #checkLive(): void {
    if (this.#abandoned) throw new NetworkError('the handshake was abandoned (the connection closed or timed out) while the server was checking the ClientHello')
  }

  /** SPEC 3.2 step 3: the listed keys, then the application's callback; a refusal names the key's fingerprint. */
  async #authorize(spki: Buffer): Promise<KeyObject> {
    const listed = this.#authorized.find(spki)
    if (listed) return listed
    let key: KeyObject | null = null
    try { key = parseSpki(spki) } catch { /* not an RSA key of an accepted size: refused below */ }
    const peer = key && { key, fingerprint: fingerprint(key), ...(this.#opts.remoteAddress ? { remoteAddress: this.#opts.remoteAddress } : {}) }
    let failure: unknown
    try {
      if (peer && this.#opts.authorize && await this.#opts.authorize(peer) === true) return peer.key
    } catch (err) {
      failure = err // SPEC 3.2 step 3: a callback that fails refuses the key (fail closed), with its error as the cause
    }
    const who = peer ? `a key that is not authorized (${peer.fingerprint})` : 'a key that is not an RSA key of 2048 to 8192 bits'
    const advice = failure === undefined ? 'add its public key to the authorized keys' : 'the authorize callback failed; see the cause'
    throw refusal(Object.assign(new AuthError(`the client presented ${who}: ${advice}`, failure === undefined ? undefined : { cause: failure }), { peerSpki: Buffer.from(spki) }), ALERT.auth)
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
