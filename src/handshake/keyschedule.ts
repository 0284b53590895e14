/**
 * Key schedule (SPEC 3.1, 3.3, 4): OAEP labels, the server's confirmation, transcript hash,
 * traffic secrets and Finished MACs. Node exposes HKDF as Extract-then-Expand in one call, so each
 * secret is HKDF(ikm, salt = th, info = label): the same as Expand(Extract(th, ikm), label) (RFC 5869 section 2).
 */
import { hkdf, hmacSha256, sha256 } from '../crypto/kdf.js'
import { DIRECTION, FINISHED_LENGTH, LABELS, SECRET_BYTES, type CipherName } from '../constants.js'
import type { RecordKeys } from '../record/protector.js'

/** SPEC 3.1: the OAEP label of the client's k_c: context || SHA-256(every ClientHello byte before the field). */
export function clientSecretLabel(clientHelloBound: Buffer): Buffer {
  return Buffer.concat([Buffer.from(LABELS.clientSecret), sha256(clientHelloBound)])
}

/** SPEC 3.3: the OAEP label of the server's k_s || confirm: context || SHA-256(ClientHello || ServerHello bytes before the field). */
export function serverSecretLabel(clientHello: Buffer, serverHelloBound: Buffer): Buffer {
  return Buffer.concat([Buffer.from(LABELS.serverSecret), sha256(clientHello, serverHelloBound)])
}

/**
 * SPEC 3.3: confirm = HMAC(k_c, label || SHA-256(ClientHello)). It proves the server read k_c
 * without giving k_c back: a confirm is useless in any other handshake (SPEC 13.1).
 */
export function serverConfirm(kc: Buffer, clientHello: Buffer): Buffer {
  return hmacSha256(kc, Buffer.from(LABELS.confirm), sha256(clientHello))
}

export interface KeySchedule {
  /** SPEC 4.1: th = SHA-256(ClientHello || ServerHello). */
  th: Buffer
  /** SPEC 4.3: the first traffic secret of each direction. */
  c2s: Buffer
  s2c: Buffer
  clientFinishedKey: Buffer
  serverFinishedKey: Buffer
}

/** SPEC 4.2, 4.3: derive every secret from k_c || k_s || X25519 shared secret, salted with th. */
export function deriveKeys(clientHello: Buffer, serverHello: Buffer, ikm: Buffer): KeySchedule {
  const th = sha256(clientHello, serverHello)
  return {
    th,
    c2s: hkdf(ikm, th, LABELS.c2s, SECRET_BYTES),
    s2c: hkdf(ikm, th, LABELS.s2c, SECRET_BYTES),
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

/** SPEC 4.4: zero the handshake's secrets. The traffic secrets too, unless they were handed to the record layer. */
export function wipeSchedule(ks: KeySchedule, trafficToo: boolean): void {
  ks.clientFinishedKey.fill(0)
  ks.serverFinishedKey.fill(0)
  if (trafficToo) {
    ks.c2s.fill(0)
    ks.s2c.fill(0)
  }
}

/** What a completed handshake hands to the record layer: each direction's traffic secret, owned (and wiped) by it. */
export interface SessionKeys {
  cipher: CipherName
  handshakeHash: Buffer
  send: RecordKeys
  receive: RecordKeys
}

export function sessionKeys(ks: KeySchedule, cipher: CipherName, role: 'client' | 'server'): SessionKeys {
  const c2s = { cipher, secret: ks.c2s, direction: DIRECTION.c2s }
  const s2c = { cipher, secret: ks.s2c, direction: DIRECTION.s2c }
  return role === 'client'
    ? { cipher, handshakeHash: ks.th, send: c2s, receive: s2c }
    : { cipher, handshakeHash: ks.th, send: s2c, receive: c2s }
}
