/**
 * One direction's record protection (SPEC 5.2, 5.3, 5.6): the key, its sequence number and
 * the key update. Used by the encrypt and decrypt stages; no streams here.
 */
import { ccmOpen, ccmSeal } from '../crypto/ccm.js'
import { hkdf } from '../crypto/kdf.js'
import { secureRandom, type RandomSource } from '../crypto/random.js'
import { DEFAULT_KEY_UPDATE_INTERVAL, LABELS, NONCE_LENGTH, RECORD_TYPE } from '../constants.js'
import { IntegrityError } from '../errors.js'
import { parseRecord, recordAad, recordTail } from './format.js'

const EMPTY = Buffer.alloc(0)

export interface RecordKeys {
  /** Traffic key of this direction (16 or 32 bytes). */
  key: Buffer
  /** SPEC 5.3: 0 client-to-server, 1 server-to-client. */
  direction: number
  /** SPEC 5.6: records per key; tests lower it. */
  keyUpdateInterval?: number
  /** Test-only: deterministic randomness for protocol vectors. */
  random?: RandomSource
}

export interface OpenedRecord { type: number, payload: Buffer }

/** SPEC 5.6: the next traffic key; the caller forgets the old one. */
export function nextTrafficKey(key: Buffer): Buffer {
  return hkdf(key, EMPTY, LABELS.keyUpdate, key.length)
}

/** SPEC 5.2: IV = first 12 bytes of AES-CCM(key, nonce = r, plaintext = r). */
export function deriveIv(key: Buffer, r: Buffer): Buffer {
  return ccmSeal(key, r, r, EMPTY).ciphertext.subarray(0, NONCE_LENGTH)
}

export class RecordProtector {
  #key: Buffer
  #seq = 0
  #generation = 0
  #scratch = Buffer.alloc(0)
  readonly #direction: number
  readonly #interval: number
  readonly #random: RandomSource

  constructor(keys: RecordKeys) {
    this.#key = keys.key // owned from here on: wiped by wipe()
    this.#direction = keys.direction
    this.#interval = keys.keyUpdateInterval ?? DEFAULT_KEY_UPDATE_INTERVAL
    if (!Number.isInteger(this.#interval) || this.#interval < 1) throw new RangeError('keyUpdateInterval must be a positive integer')
    this.#random = keys.random ?? secureRandom
  }

  /** Records processed so far in this direction. */
  get sequence(): number { return this.#seq }

  /** Seal one record; returns its parts [ciphertext, tail] for the frame encoder. */
  seal(type: number, payload: Buffer): Buffer[] {
    const key = this.#keyForNext()
    // The inner plaintext is only read by the cipher, synchronously: one scratch buffer serves every record.
    if (this.#scratch.length < 1 + payload.length) this.#scratch = Buffer.allocUnsafeSlow(1 + payload.length)
    const inner = this.#scratch.subarray(0, 1 + payload.length)
    inner[0] = type // SPEC 5.1: inner plaintext = type || payload
    payload.copy(inner, 1)
    const iv = deriveIv(key, this.#random(NONCE_LENGTH))
    const { ciphertext, tag } = ccmSeal(key, iv, inner, recordAad(this.#direction, this.#seq++))
    return [ciphertext, recordTail(iv, tag)]
  }

  /** Verify and open one record; throws ERR_INTEGRITY and releases nothing when it fails. */
  open(record: Buffer): OpenedRecord {
    const { ciphertext, iv, tag } = parseRecord(record)
    const key = this.#keyForNext()
    // SPEC 5.3: the sequence number in the AAD makes replayed, reordered, dropped and reflected records fail here.
    const inner = ccmOpen(key, iv, ciphertext, tag, recordAad(this.#direction, this.#seq))
    this.#seq++
    const type = inner[0]!
    if (type !== RECORD_TYPE.data && type !== RECORD_TYPE.close) throw new IntegrityError('a record of unknown type arrived: the peer does not speak this version')
    return { type, payload: inner.subarray(1) }
  }

  /** Zero the key (called from the stages' _destroy). */
  wipe(): void {
    this.#key.fill(0)
    this.#scratch.fill(0)
  }

  #keyForNext(): Buffer {
    // SPEC 5.6: every `interval` records, replace the key and forget the old one.
    const generation = Math.floor(this.#seq / this.#interval)
    while (this.#generation < generation) {
      const next = nextTrafficKey(this.#key)
      this.#key.fill(0)
      this.#key = next
      this.#generation++
    }
    return this.#key
  }
}

/** For both record stages: build the protector once the keys (or their promise) resolve. */
export function withProtector(keys: RecordKeys | Promise<RecordKeys>, onReady: (p: RecordProtector) => void): Promise<void> {
  return Promise.resolve(keys).then(k => onReady(new RecordProtector(k)))
}
