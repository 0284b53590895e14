/**
 * Key schedule (SPEC 4): transcript hash, HKDF, Finished MACs.
 * Node exposes HKDF as Extract-then-Expand in one call, so each key is
 * HKDF(ikm, salt = th, info = label): the same as Expand(Extract(th, ikm), label) (RFC 5869 section 2).
 */
import { hkdf, hmacSha256, sha256 } from '../crypto/kdf.js'
import { CIPHERS, DIRECTION, FINISHED_LENGTH, LABELS, type CipherName } from '../constants.js'

export interface KeySchedule {
  /** SPEC 4.1: th = SHA-256(ClientHello || ServerHello). */
  th: Buffer
  c2s: Buffer
  s2c: Buffer
  clientFinishedKey: Buffer
  serverFinishedKey: Buffer
}

/** SPEC 4.2, 4.3: derive every key from k_c || k_s || X25519 shared secret, salted with th. */
export function deriveKeys(clientHello: Buffer, serverHello: Buffer, ikm: Buffer, cipher: CipherName): KeySchedule {
  const th = sha256(clientHello, serverHello)
  const len = CIPHERS[cipher].keyLength
  return {
    th,
    c2s: hkdf(ikm, th, LABELS.c2s, len),
    s2c: hkdf(ikm, th, LABELS.s2c, len),
    clientFinishedKey: hkdf(ikm, th, LABELS.clientFinished, FINISHED_LENGTH),
    serverFinishedKey: hkdf(ikm, th, LABELS.serverFinished, FINISHED_LENGTH),
  }
}

/** SPEC 3.5: ClientFinished = HMAC-SHA256(client finished key, th). */
export function clientFinishedMac(ks: KeySchedule): Buffer {
  return hmacSha256(ks.clientFinishedKey, ks.th)
}

/** SPEC 3.5: ServerFinished = HMAC-SHA256(server finished key, th || ClientFinished). */
export function serverFinishedMac(ks: KeySchedule, clientFinished: Buffer): Buffer {
  return hmacSha256(ks.serverFinishedKey, ks.th, clientFinished)
}

/** What a completed handshake hands to the record layer. */
export interface SessionKeys {
  cipher: CipherName
  handshakeHash: Buffer
  send: { key: Buffer, direction: number }
  receive: { key: Buffer, direction: number }
}

export function sessionKeys(ks: KeySchedule, cipher: CipherName, role: 'client' | 'server'): SessionKeys {
  const c2s = { key: ks.c2s, direction: DIRECTION.c2s }
  const s2c = { key: ks.s2c, direction: DIRECTION.s2c }
  return role === 'client'
    ? { cipher, handshakeHash: ks.th, send: c2s, receive: s2c }
    : { cipher, handshakeHash: ks.th, send: s2c, receive: c2s }
}
