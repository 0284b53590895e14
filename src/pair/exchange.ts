/**
 * The pairing exchange without I/O (SPEC 14.2 to 14.5): `PairSender` (S, the side that runs
 * `pair HOST CODE`, SPAKE2's A) and `PairReceiver` (R, `pair --listen`, SPAKE2's B). Each takes
 * frames in and gives frames out; any failure is `ERR_AUTH` and the machine is then dead.
 *
 *   S -> R  HELLO    flags, pA
 *   R -> S  REPLY    pB, cB               S checks cB: R knows the code
 *   S -> R  CONFIRM  cA, seal(k_s, S id)  R checks cA, opens S's id line, records it
 *   R -> S  DONE     seal(k_r, R id)      S opens R's id line (proof R got CONFIRM whole), records it
 *
 * @example
 *   const s = new PairSender({ password: await pairPassword(code), idLine, bothWays: false })
 *   send(s.hello()); send(s.onReply(await next())); const peer = s.onDone(await next())
 */
import type { KeyObject } from 'node:crypto'
import { ccmOpen, ccmSeal } from '../crypto/ccm.js'
import { equalConstantTime, hkdf, RunningSha256, scryptKey, sha256 } from '../crypto/kdf.js'
import type { RandomSource } from '../crypto/random.js'
import { Spake2, spake2PasswordScalar, wipeSpake2Keys, type Spake2Keys } from '../crypto/spake2.js'
import { AuthError } from '../errors.js'
import { parseSshPublicKey, sshFingerprint } from '../keys/openssh.js'
import { confirmPrefix, decodeConfirm, decodeDone, decodeHello, decodeReply, donePrefix, encodeConfirm, encodeDone, encodeHello, encodeReply, helloAad, PAIR_ID_MAX, PAIR_TAG_LENGTH } from './messages.js'

/** SPEC 14.2: scrypt (RFC 7914) parameters and salt of the password scalar. */
export const PAIR_SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const
export const PAIR_SCRYPT_SALT = Buffer.from('secure-pipe pair v1')
const PAIR_SCRYPT_LENGTH = 40
/** SPEC 14.2: SPAKE2's identities A and B. */
export const PAIR_ID_A = Buffer.from('secure-pipe pair v1 sender')
export const PAIR_ID_B = Buffer.from('secure-pipe pair v1 receiver')
/** SPEC 14.5: HKDF info of the two sealing keys. */
const INFO_SENDER = 'secure-pipe pair v1 sender id'
const INFO_RECEIVER = 'secure-pipe pair v1 receiver id'
/** SPEC 14.5: each sealing key seals one message, so the nonce is fixed. */
const NONCE = Buffer.alloc(12)

/** SPEC 14.2: w from a normalized code (code.ts), on the thread pool (scrypt: 32 MiB, a fraction of a second). */
export async function pairPassword(code: string): Promise<bigint> {
  const out = await scryptKey(Buffer.from(code, 'ascii'), PAIR_SCRYPT_SALT, PAIR_SCRYPT_LENGTH, PAIR_SCRYPT)
  try {
    return spake2PasswordScalar(out)
  } finally {
    out.fill(0)
  }
}

/** The peer's key as it arrived sealed: its line as sent, the key, its comment and fingerprint. */
export interface PeerIdentity { key: KeyObject, comment: string, fingerprint: string }

/** What both machines take: w (pairPassword), this machine's id line, and a test seam. */
export interface ExchangeOptions {
  password: bigint
  /** This machine's `identity.pub` line (`ssh-rsa BASE64 COMMENT`). */
  idLine: string
  /** Test seam (vectors): the source of SPAKE2's 48 random bytes. */
  random?: RandomSource
}

/** State shared by both roles: the transcript hash and the keys once SPAKE2 is done. */
abstract class Exchange {
  protected readonly transcript = new RunningSha256()
  protected readonly spake: Spake2
  protected readonly idLine: Buffer
  protected keys: Spake2Keys | undefined
  protected sealSender: Buffer | undefined
  protected sealReceiver: Buffer | undefined
  #dead = false

  constructor(role: 'A' | 'B', opts: ExchangeOptions) {
    this.idLine = Buffer.from(opts.idLine.trim(), 'utf8')
    if (this.idLine.length > PAIR_ID_MAX) throw new RangeError(`the id line is over ${PAIR_ID_MAX} bytes`)
    this.spake = new Spake2({ role, w: opts.password, idA: PAIR_ID_A, idB: PAIR_ID_B, ...(opts.random ? { random: opts.random } : {}) })
  }

  /** Run `step`; any throw kills the machine and wipes its keys. One step at a time, in order. */
  protected step<T>(step: () => T): T {
    if (this.#dead) throw new AuthError('this pairing already failed or finished: start a new one')
    try {
      return step()
    } catch (err) {
      this.#dead = true
      this.wipe()
      throw err instanceof AuthError ? err : new AuthError(`the pairing failed: ${(err as Error).message}`, { cause: err })
    }
  }

  /** SPAKE2 with the peer's share (SPEC 14.5); `aad` is HELLO's header and flags. */
  protected pake(peerShare: Buffer, aad: Buffer): Spake2Keys {
    this.keys = this.spake.finish(peerShare, aad)
    return this.keys
  }

  /** After HELLO and REPLY: k_s and k_r from Ke, salted with H1 = SHA-256(HELLO || REPLY) (SPEC 14.5). */
  protected deriveSeals(): void {
    const h1 = this.transcript.digest()
    this.sealSender = hkdf(this.keys!.ke, h1, INFO_SENDER, 32)
    this.sealReceiver = hkdf(this.keys!.ke, h1, INFO_RECEIVER, 32)
  }

  /** Seal this machine's id line under `key`, bound to the transcript and `prefix` (SPEC 14.5). */
  protected seal(key: Buffer, prefix: Buffer): Buffer {
    const { ciphertext, tag } = ccmSeal(key, NONCE, this.idLine, this.aad(prefix))
    return Buffer.concat([ciphertext, tag])
  }

  /** Open the peer's id line; a wrong tag is ERR_AUTH. */
  protected open(key: Buffer, prefix: Buffer, sealed: Buffer): PeerIdentity {
    const aad = this.aad(prefix)
    let plain: Buffer
    try {
      plain = ccmOpen(key, NONCE, sealed.subarray(0, sealed.length - PAIR_TAG_LENGTH), sealed.subarray(sealed.length - PAIR_TAG_LENGTH), aad)
    } catch (err) {
      throw new AuthError('the peer\'s sealed key failed authentication: the message was altered, or replayed from another pairing', { cause: err })
    }
    let line: string
    try {
      line = new TextDecoder('utf-8', { fatal: true }).decode(plain)
    } catch (err) {
      throw new AuthError('the peer\'s id line is not UTF-8', { cause: err })
    }
    if (/[\r\n]/.test(line)) throw new AuthError('the peer\'s id line holds a line break')
    const { key: pub, comment } = parseSshPublicKey(line, 'the peer\'s id line')
    return { key: pub, comment, fingerprint: sshFingerprint(pub) }
  }

  /** SPEC 14.5: the AAD of a sealed id line, SHA-256(SHA-256(frames so far) || the message's bytes before it). */
  private aad(prefix: Buffer): Buffer {
    return sha256(this.transcript.digest(), prefix)
  }

  /** Zero the keys (also after success). */
  wipe(): void {
    if (this.keys) wipeSpake2Keys(this.keys)
    this.sealSender?.fill(0)
    this.sealReceiver?.fill(0)
  }

  protected kill(): void {
    this.#dead = true
    this.wipe()
  }
}

/** S: `secure-pipe pair HOST CODE`. */
export class PairSender extends Exchange {
  readonly #bothWays: boolean
  #hello: Buffer | undefined
  #confirm: Buffer | undefined

  constructor(opts: ExchangeOptions & { bothWays: boolean }) {
    super('A', opts)
    this.#bothWays = opts.bothWays
  }

  /** HELLO, the first frame. */
  hello(): Buffer {
    return this.step(() => {
      if (this.#hello) throw new AuthError('HELLO was already sent')
      this.#hello = encodeHello({ bothWays: this.#bothWays, pA: this.spake.share })
      this.transcript.update(this.#hello)
      return this.#hello
    })
  }

  /** REPLY in: check cB (R knows the code), CONFIRM out. */
  onReply(frame: Buffer): Buffer {
    return this.step(() => {
      if (!this.#hello || this.#confirm) throw new AuthError('REPLY out of order')
      const reply = decodeReply(frame)
      this.transcript.update(frame)
      const keys = this.pake(reply.pB, helloAad(this.#hello))
      if (!equalConstantTime(keys.cB, reply.cB)) throw new AuthError('the listener\'s key confirmation failed: the codes differ (a typo?), or someone in the middle altered the exchange')
      this.deriveSeals()
      const prefix = confirmPrefix(keys.cA)
      this.#confirm = encodeConfirm({ cA: keys.cA, sealed: this.seal(this.sealSender!, prefix) })
      this.transcript.update(this.#confirm)
      return this.#confirm
    })
  }

  /** DONE in: R's key, sealed under a key only R could derive and bound to our CONFIRM. */
  onDone(frame: Buffer): PeerIdentity {
    return this.step(() => {
      if (!this.#confirm) throw new AuthError('DONE out of order')
      const done = decodeDone(frame)
      const peer = this.open(this.sealReceiver!, donePrefix(), done.sealed)
      this.kill()
      return peer
    })
  }
}

/** R: `secure-pipe pair --listen`. */
export class PairReceiver extends Exchange {
  #hello: Buffer | undefined
  #bothWays = false
  #confirmed = false

  constructor(opts: ExchangeOptions) {
    super('B', opts)
  }

  /** Whether S asked for both ways (known after HELLO). */
  get bothWays(): boolean { return this.#bothWays }

  /** HELLO in, REPLY out. */
  onHello(frame: Buffer): Buffer {
    return this.step(() => {
      if (this.#hello) throw new AuthError('a second HELLO')
      const hello = decodeHello(frame)
      this.#hello = frame
      this.#bothWays = hello.bothWays
      this.transcript.update(frame)
      const keys = this.pake(hello.pA, helloAad(frame))
      const reply = encodeReply({ pB: this.spake.share, cB: keys.cB })
      this.transcript.update(reply)
      this.deriveSeals()
      return reply
    })
  }

  /** CONFIRM in: check cA (S knows the code and saw our REPLY), open S's key. */
  onConfirm(frame: Buffer): PeerIdentity {
    return this.step(() => {
      if (!this.#hello || this.#confirmed) throw new AuthError('CONFIRM out of order')
      const confirm = decodeConfirm(frame)
      if (!equalConstantTime(confirm.cA, this.keys!.cA)) throw new AuthError('the sender\'s key confirmation failed: the codes differ (a typo?), or someone in the middle altered the exchange')
      const peer = this.open(this.sealSender!, confirmPrefix(confirm.cA), confirm.sealed)
      this.transcript.update(frame)
      this.#confirmed = true
      return peer
    })
  }

  /** DONE out: only after CONFIRM verified and S's key was recorded. */
  done(): Buffer {
    return this.step(() => {
      if (!this.#confirmed) throw new AuthError('DONE before CONFIRM was verified')
      const frame = encodeDone({ sealed: this.seal(this.sealReceiver!, donePrefix()) })
      this.kill()
      return frame
    })
  }
}
