/**
 * One direction's record protection (SPEC 5.2, 5.3, 5.6): the traffic secret, the two keys
 * expanded from it, the sequence number and the key update. Used by the encrypt and decrypt
 * stages; no streams here.
 */
import { ccmOpen, ccmSeal } from '../crypto/ccm.js'
import { CcmIvCipher } from '../crypto/ccm-iv.js'
import { hkdf, RunningSha256 } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { CIPHERS, DEFAULT_KEY_UPDATE_INTERVAL, LABELS, NONCE_LENGTH, RECORD_TYPE, SECRET_BYTES, type CipherName } from '../constants.js'
import { IntegrityError } from '../errors.js'
import { AAD_LENGTH, parseRecord, recordTail, writeRecordAad } from './format.js'

const EMPTY = Buffer.alloc(0)

/** One direction's record keys: the negotiated cipher, its traffic secret and direction (SPEC 4.3, 5.3). */
export interface RecordKeys {
  /** The negotiated cipher: it sets the AES key length (SPEC 3.3). */
  cipher: CipherName
  /** SPEC 4.3: this direction's traffic secret (32 bytes). The protector owns it from here on and wipes it. */
  secret: Buffer
  /** SPEC 5.3: 0 client-to-server, 1 server-to-client. */
  direction: number
  /** SPEC 5.6: records per key; both peers must use the same value (tests lower it). */
  keyUpdateInterval?: number
  /** Test-only: deterministic randomness for protocol vectors. */
  random?: RandomSource
}

export interface OpenedRecord { type: number, payload: Buffer }

/** SPEC 5.6: the next traffic secret, derived from the secret (never from a key); the caller forgets the old one. */
export function nextTrafficSecret(secret: Buffer): Buffer {
  return hkdf(secret, EMPTY, LABELS.keyUpdate, SECRET_BYTES)
}

/** SPEC 5.2, 5.3: the record key and the IV-derivation key, both expanded from one traffic secret. */
export function trafficKeys(secret: Buffer, cipher: CipherName): { key: Buffer, ivKey: Buffer } {
  const length = CIPHERS[cipher].keyLength
  return { key: hkdf(secret, EMPTY, LABELS.recordKey, length), ivKey: hkdf(secret, EMPTY, LABELS.ivKey, length) }
}

/**
 * SPEC 5.2: IV = first 12 bytes of AES-CCM(iv key, nonce = r, plaintext = r), with node:crypto's
 * CCM: the definition, for tests and vectors. The protector computes the same bytes in batches
 * through `CcmIvCipher` (crypto/ccm-iv.ts).
 */
export function deriveIv(ivKey: Buffer, r: Buffer): Buffer {
  // r is NONCE_LENGTH bytes (ccmSeal checks), so its ciphertext is exactly those first 12 bytes.
  return ccmSeal(ivKey, r, r, EMPTY).ciphertext
}

export class RecordProtector {
  #secret: Buffer
  #key: Buffer
  #ivKey: Buffer
  #ivCipher: CcmIvCipher
  #seq = 0
  #generation = 0
  #scratch = Buffer.alloc(0)
  // SPEC 5.3: the cipher reads the AAD synchronously (setAAD), so one buffer serves every record.
  readonly #aad = Buffer.alloc(AAD_LENGTH)
  readonly #tags = new RunningSha256()
  readonly #cipher: CipherName
  readonly #direction: number
  readonly #interval: number
  readonly #random: RandomSource

  constructor(keys: RecordKeys) {
    if (!(keys.cipher in CIPHERS)) throw new RangeError(`cipher must be one of ${Object.keys(CIPHERS).join(', ')}`)
    if (!Buffer.isBuffer(keys.secret) || keys.secret.length !== SECRET_BYTES) throw new RangeError(`secret must be a ${SECRET_BYTES}-byte Buffer`)
    this.#cipher = keys.cipher
    this.#secret = keys.secret // owned from here on: wiped by wipe()
    ;({ key: this.#key, ivKey: this.#ivKey } = trafficKeys(this.#secret, this.#cipher))
    this.#ivCipher = new CcmIvCipher(this.#ivKey)
    this.#direction = keys.direction
    this.#interval = keys.keyUpdateInterval ?? DEFAULT_KEY_UPDATE_INTERVAL
    if (!Number.isInteger(this.#interval) || this.#interval < 1) throw new RangeError('keyUpdateInterval must be a positive integer')
    this.#random = keys.random ?? secureRandom
  }

  /** Records processed so far in this direction. */
  get sequence(): number { return this.#seq }

  /**
   * SPEC 8.5: SHA-256 over the tags of every record sealed or verified so far, in order. Each
   * tag authenticates its record's content, type, direction and sequence number, so equal
   * digests on both ends mean the receiver verified exactly the records the sender sealed.
   */
  get tagDigest(): Buffer { return this.#tags.digest() }

  /** Seal one record; returns its parts [ciphertext, tail] for the frame encoder. */
  seal(type: number, payload: Buffer): Buffer[] {
    return this.sealAll(type, payload, Math.max(payload.length, 1))[0]!
  }

  /**
   * SPEC 5.5: seal `data` as consecutive records of at most `recordSize` payload bytes (one
   * record, empty, when `data` is); returns each record's parts [ciphertext, tail]. The IVs of
   * the records up to the next key update are computed in one AES call; r is drawn per record,
   * in order, so the records are the same as `seal` one at a time.
   */
  sealAll(type: number, data: Buffer, recordSize: number): Buffer[][] {
    const count = Math.max(1, Math.ceil(data.length / recordSize))
    const records: Buffer[][] = []
    while (records.length < count) {
      this.#updateKeys()
      // SPEC 5.6: one batch never crosses a key update (its IVs are under one iv key).
      const batch = Math.min(count - records.length, this.#interval - (this.#seq % this.#interval))
      const rs = Buffer.allocUnsafe(batch * NONCE_LENGTH)
      for (let i = 0; i < batch; i++) this.#random(NONCE_LENGTH).copy(rs, i * NONCE_LENGTH)
      const ivs = this.#ivCipher.ivs(rs)
      rs.fill(0)
      for (let i = 0; i < batch; i++) {
        const off = records.length * recordSize
        records.push(this.#sealOne(type, data.subarray(off, off + recordSize), ivs.subarray(i * NONCE_LENGTH, (i + 1) * NONCE_LENGTH)))
      }
    }
    return records
  }

  #sealOne(type: number, payload: Buffer, iv: Buffer): Buffer[] {
    // The inner plaintext is only read by the cipher, synchronously: one scratch buffer serves every record.
    if (this.#scratch.length < 1 + payload.length) this.#scratch = Buffer.allocUnsafeSlow(1 + payload.length)
    const inner = this.#scratch.subarray(0, 1 + payload.length)
    inner[0] = type // SPEC 5.1: inner plaintext = type || payload
    payload.copy(inner, 1)
    const { ciphertext, tag } = ccmSeal(this.#key, iv, inner, writeRecordAad(this.#aad, this.#direction, this.#seq++))
    this.#tags.update(tag)
    return [ciphertext, recordTail(iv, tag)]
  }

  /** Verify and open one record; throws ERR_INTEGRITY and releases nothing when it fails. */
  open(record: Buffer): OpenedRecord {
    const { ciphertext, iv, tag } = parseRecord(record)
    this.#updateKeys()
    // SPEC 5.3: the sequence number in the AAD makes replayed, reordered, dropped and reflected records fail here.
    const inner = ccmOpen(this.#key, iv, ciphertext, tag, writeRecordAad(this.#aad, this.#direction, this.#seq))
    this.#seq++
    this.#tags.update(tag)
    const type = inner[0]!
    if (type !== RECORD_TYPE.data && type !== RECORD_TYPE.close) throw new IntegrityError('a record of unknown type arrived: the peer does not speak this version')
    return { type, payload: inner.subarray(1) }
  }

  /** Zero the secret and its keys (called from the stages' _destroy). */
  wipe(): void {
    for (const b of [this.#secret, this.#key, this.#ivKey, this.#scratch]) b.fill(0)
    this.#ivCipher.wipe()
  }

  #updateKeys(): void {
    // SPEC 5.6: every `interval` records, the next secret replaces the old one, which is forgotten.
    const generation = Math.floor(this.#seq / this.#interval)
    while (this.#generation < generation) {
      const next = nextTrafficSecret(this.#secret)
      this.wipe()
      this.#secret = next
      ;({ key: this.#key, ivKey: this.#ivKey } = trafficKeys(next, this.#cipher))
      this.#ivCipher = new CcmIvCipher(this.#ivKey)
      this.#generation++
    }
  }
}

/**
 * What the record stages take: one direction's keys, or the session keys a handshake produced
 * (`HandshakeStage#keys`, `SessionKeys`), from which each stage picks its own direction.
 */
export type StageKeys = RecordKeys | { send: RecordKeys, receive: RecordKeys }

/** For both record stages: build the protector for `direction` once the keys (or their promise) resolve. */
export function withProtector(keys: StageKeys | Promise<StageKeys>, direction: 'send' | 'receive', onReady: (p: RecordProtector) => void): Promise<void> {
  if (keys === undefined || keys === null) throw new TypeError('keys: give the handshake\'s keys (HandshakeStage#keys) or one direction\'s RecordKeys')
  return Promise.resolve(keys).then(k => onReady(new RecordProtector('send' in k ? k[direction] : k)))
}
