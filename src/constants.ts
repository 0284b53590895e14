/** Every wire constant and limit of protocol version 2, each with the SPEC section that defines it. */

/** SPEC 3.1: every handshake message starts with these four bytes. */
export const MAGIC = Buffer.from('SPIP', 'ascii')
/** SPEC 3: protocol version byte. Version 1 is refused (SPEC 12). */
export const VERSION = 2

/** SPEC 3.1: handshake message types (the byte after the version). */
export const MSG = {
  clientHello: 1,
  serverHello: 2,
  clientFinished: 3,
  serverFinished: 4,
  alert: 15,
} as const

/** SPEC 3.6: alert reasons. */
export const ALERT = {
  auth: 1,
  version: 2,
  cipher: 3,
  serverKey: 4,
} as const

/** SPEC 3.1: record ciphers, by wire id. */
export const CIPHERS = {
  'aes-128-ccm': { id: 1, keyLength: 16 },
  'aes-256-ccm': { id: 2, keyLength: 32 },
} as const
/** A record cipher's name: `aes-128-ccm` or `aes-256-ccm` (SPEC 3.1). */
export type CipherName = keyof typeof CIPHERS
/** SPEC 3.1: the default preference order (AES-128 first, see SPEC 10.2). */
export const DEFAULT_CIPHERS: readonly CipherName[] = ['aes-128-ccm', 'aes-256-ccm']

/** Validate a `ciphers` option: a non-empty list of known names (default DEFAULT_CIPHERS). */
export function checkCiphers(ciphers: readonly CipherName[] | undefined): readonly CipherName[] {
  if (ciphers === undefined) return DEFAULT_CIPHERS
  if (!Array.isArray(ciphers) || ciphers.length === 0) throw new RangeError(`ciphers: give at least one of ${Object.keys(CIPHERS).join(', ')}`)
  for (const c of ciphers) if (!(c in CIPHERS)) throw new RangeError(`ciphers: unknown cipher ${String(c)}; known: ${Object.keys(CIPHERS).join(', ')}`)
  return [...ciphers]
}

/** SPEC 3.1: sizes of fixed handshake fields. */
export const RANDOM_LENGTH = 32
export const SECRET_LENGTH = 32
export const X25519_LENGTH = 32
export const FINISHED_LENGTH = 32
/** SPEC 3.1: the ClientHello names the pinned server key by SHA-256 of its SPKI DER. */
export const KEY_ID_LENGTH = 32
/** SPEC 3.3: the server's OAEP plaintext is k_s || confirm. */
export const CONFIRM_LENGTH = 32
/** SPEC 4.3: every traffic secret is 32 bytes (SHA-256's output). */
export const SECRET_BYTES = 32

/** SPEC 3.7: accepted RSA modulus sizes. */
export const RSA_MIN_BITS = 2048
export const RSA_MAX_BITS = 8192
export const RSA_DEFAULT_BITS = 3072

/** SPEC 3.1, 3.3, 4.3, 5.2, 5.6: context strings (OAEP labels, HMAC and HKDF info). */
export const LABELS = {
  clientSecret: 'secure-pipe v2 client secret',
  serverSecret: 'secure-pipe v2 server secret',
  confirm: 'secure-pipe v2 server confirm',
  c2s: 'secure-pipe v2 c2s traffic',
  s2c: 'secure-pipe v2 s2c traffic',
  clientFinished: 'secure-pipe v2 client finished',
  serverFinished: 'secure-pipe v2 server finished',
  recordKey: 'secure-pipe v2 record key',
  ivKey: 'secure-pipe v2 iv key',
  keyUpdate: 'secure-pipe v2 traffic update',
} as const

/** SPEC 5.1: record types (first byte of the inner plaintext). */
export const RECORD_TYPE = { data: 0, close: 1 } as const

/** SPEC 5.2, 5.3: nonce, IV and tag sizes. */
export const NONCE_LENGTH = 12
export const TAG_LENGTH = 16
/** SPEC 5.4: the separator byte '@'. */
export const SEPARATOR = 0x40
/** SPEC 5.4: bytes a record adds around its ciphertext: '@' IV '@' tag. */
export const RECORD_TAIL = 1 + NONCE_LENGTH + 1 + TAG_LENGTH
/** SPEC 5.4: smallest valid record: a one-byte inner plaintext plus the tail. */
export const MIN_RECORD = 1 + RECORD_TAIL

/** SPEC 5.3: direction bytes in the AAD. */
export const DIRECTION = { c2s: 0, s2c: 1 } as const

/** SPEC 5.5: plaintext bytes per record. */
export const DEFAULT_RECORD_SIZE = 64 * 1024
/** SPEC 5.5: the largest record payload a sender may use and every receiver accepts (1 MiB). */
export const MAX_RECORD_SIZE = 1024 * 1024
/** SPEC 5.6: records per key before a key update. */
export const DEFAULT_KEY_UPDATE_INTERVAL = 65536

/** SPEC 2.2 and 7: frame limits. Handshake frames are small; record frames hold one record. */
export const HANDSHAKE_FRAME_LIMIT = 16 * 1024
/** SPEC 7: how many frames each side receives under the handshake limit (the first two). */
export const HANDSHAKE_FRAMES = 2
/** SPEC 2.2, 7: the frame limit for records of up to `recordSize` payload bytes (type byte and tail included). */
export function recordFrameLimit(recordSize: number): number {
  return recordSize + 1 + RECORD_TAIL
}

/** SPEC 7: timeouts. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
