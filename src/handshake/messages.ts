/**
 * Handshake messages (SPEC 3): pure encoding and parsing, no crypto, no streams.
 * Every message: 'SPIP' || version || type || body.
 */
import { ALERT, CIPHERS, FINISHED_LENGTH, KEY_ID_LENGTH, MAGIC, MSG, RANDOM_LENGTH, VERSION, X25519_LENGTH, type CipherName } from '../constants.js'
import { AuthError, VersionError, type SecurePipeError } from '../errors.js'

/** SPEC 3.1. `encryptedSecret` is OAEP(server key, k_c) under a label bound to every field before it. */
export interface ClientHello {
  ciphers: CipherName[]
  random: Buffer
  x25519: Buffer
  /** SHA-256 of the pinned server key's SPKI DER. */
  serverKeyId: Buffer
  spki: Buffer
  encryptedSecret: Buffer
}

/** SPEC 3.3. `encryptedSecrets` is OAEP(client key, k_s || confirm) under a label bound to the transcript so far. */
export interface ServerHello {
  cipher: CipherName
  random: Buffer
  x25519: Buffer
  encryptedSecrets: Buffer
}

/** A parsed message with `bound`: the bytes before its OAEP field, which that field's label covers (SPEC 3.1, 3.3). */
export type Parsed<M> = M & { bound: Buffer }

const HEADER = MAGIC.length + 2
const cipherById = new Map<number, CipherName>(Object.entries(CIPHERS).map(([name, c]) => [c.id, name as CipherName]))

function malformed(what: string): VersionError {
  return new VersionError(`the peer sent a malformed ${what}: it does not speak secure-pipe version ${VERSION}`)
}

function header(type: number): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([VERSION, type])])
}

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2)
  b.writeUInt16BE(n)
  return b
}

/** Bounds-checked reader: any overrun is a malformed message. */
class Reader {
  #off = HEADER
  constructor(readonly buf: Buffer, readonly what: string) {}
  bytes(n: number): Buffer {
    if (this.#off + n > this.buf.length) throw malformed(this.what)
    const out = this.buf.subarray(this.#off, this.#off + n)
    this.#off += n
    return out
  }
  u8(): number { return this.bytes(1)[0]! }
  u16(): number { return this.bytes(2).readUInt16BE() }
  get offset(): number { return this.#off }
  end(): void { if (this.#off !== this.buf.length) throw malformed(this.what) }
}

/** The error an alert from the peer stands for (SPEC 3.6). */
function alertError(reason: number): SecurePipeError {
  switch (reason) {
    case ALERT.auth: return new AuthError('the server refused this client\'s key: add the client\'s public key to the server\'s authorized keys')
    case ALERT.cipher: return new VersionError('the server accepts none of the ciphers this client offered: offer another cipher')
    case ALERT.serverKey: return new AuthError('the server does not hold the key you pinned for it: check the pinned key against the server\'s fingerprint')
    case ALERT.version: return new VersionError(`the server does not speak secure-pipe version ${VERSION}: upgrade the older side`)
    default: return new VersionError(`the server refused the handshake with an unknown alert reason ${reason}: upgrade this side`)
  }
}

/**
 * SPEC 3.2, 3.6: check magic and version, then the type. An alert from the peer becomes its
 * error. Version mismatches name both versions (an alert from another version is one too).
 */
function open(frame: Buffer, type: number, what: string): Reader {
  if (frame.length < HEADER || !frame.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new VersionError(`the peer does not speak secure-pipe (no 'SPIP' magic in its ${what})`)
  }
  const version = frame[MAGIC.length]!
  if (version !== VERSION) {
    throw new VersionError(`the peer speaks secure-pipe version ${version}, this side speaks version ${VERSION}: upgrade the older side`)
  }
  const got = frame[MAGIC.length + 1]!
  // SPEC 3.6: only a server sends an alert, and only in place of a ServerHello.
  if (got === MSG.alert && type === MSG.serverHello && frame.length === HEADER + 1) throw alertError(frame[HEADER]!)
  if (got !== type) throw malformed(what)
  return new Reader(frame, what)
}

/** SPEC 3.1: the ClientHello up to its OAEP field: the bytes that field's label binds. */
export function clientHelloBound(m: Omit<ClientHello, 'encryptedSecret'>): Buffer {
  const ids = m.ciphers.map(c => CIPHERS[c].id)
  return Buffer.concat([header(MSG.clientHello), Buffer.from([ids.length, ...ids]), m.random, m.x25519, m.serverKeyId, u16(m.spki.length), m.spki])
}

export function encodeClientHello(m: ClientHello): Buffer {
  return Buffer.concat([clientHelloBound(m), u16(m.encryptedSecret.length), m.encryptedSecret])
}

export function parseClientHello(frame: Buffer): Parsed<ClientHello> {
  const r = open(frame, MSG.clientHello, 'ClientHello')
  const n = r.u8()
  // SPEC 3.1: at least one cipher id; unknown ids are skipped (a newer client may offer more).
  if (n === 0) throw malformed('ClientHello (no cipher offered)')
  const ciphers = [...r.bytes(n)].map(id => cipherById.get(id)).filter((c): c is CipherName => c !== undefined)
  const fields = { ciphers, random: r.bytes(RANDOM_LENGTH), x25519: r.bytes(X25519_LENGTH), serverKeyId: r.bytes(KEY_ID_LENGTH), spki: r.bytes(r.u16()) }
  const bound = frame.subarray(0, r.offset)
  const m = { ...fields, encryptedSecret: r.bytes(r.u16()), bound }
  r.end()
  return m
}

/** SPEC 3.3: the ServerHello up to its OAEP field. */
export function serverHelloBound(m: Omit<ServerHello, 'encryptedSecrets'>): Buffer {
  return Buffer.concat([header(MSG.serverHello), Buffer.from([CIPHERS[m.cipher].id]), m.random, m.x25519])
}

export function encodeServerHello(m: ServerHello): Buffer {
  return Buffer.concat([serverHelloBound(m), u16(m.encryptedSecrets.length), m.encryptedSecrets])
}

export function parseServerHello(frame: Buffer): Parsed<ServerHello> {
  const r = open(frame, MSG.serverHello, 'ServerHello')
  const cipher = cipherById.get(r.u8())
  if (!cipher) throw malformed('ServerHello (unknown cipher)')
  const fields = { cipher, random: r.bytes(RANDOM_LENGTH), x25519: r.bytes(X25519_LENGTH) }
  const bound = frame.subarray(0, r.offset)
  const m = { ...fields, encryptedSecrets: r.bytes(r.u16()), bound }
  r.end()
  return m
}

export function encodeFinished(type: typeof MSG.clientFinished | typeof MSG.serverFinished, mac: Buffer): Buffer {
  return Buffer.concat([header(type), mac])
}

export function parseFinished(frame: Buffer, type: typeof MSG.clientFinished | typeof MSG.serverFinished): Buffer {
  const r = open(frame, type, type === MSG.clientFinished ? 'ClientFinished' : 'ServerFinished')
  const mac = r.bytes(FINISHED_LENGTH)
  r.end()
  return mac
}

/** SPEC 3.6: an unauthenticated alert, sent only in answer to a refused ClientHello. */
export function encodeAlert(reason: number): Buffer {
  return Buffer.concat([header(MSG.alert), Buffer.from([reason])])
}

/** An error the server answers with an alert before hanging up (SPEC 3.6). */
export type Refusal = SecurePipeError & { alert: number }

export function refusal<E extends SecurePipeError>(err: E, reason: number): E & Refusal {
  return Object.assign(err, { alert: reason })
}
