/**
 * The pairing messages (SPEC 14.3): each one frame (SPEC 2) that starts with `SPPA`, the
 * version and the type. Decoding checks the exact length of every fixed field; a frame that
 * is not a pairing message of the expected type is `ERR_AUTH` (it ends the code, SPEC 14.6).
 */
import { AuthError } from '../errors.js'
import { SPAKE2_CONFIRM_LENGTH, SPAKE2_SHARE_LENGTH } from '../crypto/spake2.js'

/** SPEC 14.3: the first bytes of every pairing message, then PAIR_VERSION and the type. */
export const PAIR_MAGIC = Buffer.from('SPPA', 'ascii')
export const PAIR_VERSION = 1
/** SPEC 14.3: message types. */
export const PAIR_MSG = { hello: 1, reply: 2, confirm: 3, done: 4, abort: 15 } as const
/** SPEC 14.3: HELLO flags. Bit 0: both ways (each side records the other in both files). */
export const PAIR_FLAG_BOTH_WAYS = 0x01
/** SPEC 14.3: ABORT reasons. */
export const PAIR_ABORT = { auth: 1, used: 2, malformed: 3, record: 4 } as const
export type PairAbortReason = typeof PAIR_ABORT[keyof typeof PAIR_ABORT]
/** SPEC 14.5: AES-256-CCM tag length. */
export const PAIR_TAG_LENGTH = 16
/** SPEC 14.3: the longest id line sealed in CONFIRM or DONE (an 8192-bit key's line is about 1,420 bytes). */
export const PAIR_ID_MAX = 2048
/** SPEC 14.4: frames over this many bytes end the exchange (the largest message is CONFIRM). */
export const PAIR_FRAME_LIMIT = 4096

/** Magic, version and type: the 6-byte header of every message. */
const HEADER_LENGTH = PAIR_MAGIC.length + 2

export interface Hello { bothWays: boolean, pA: Buffer }
export interface Reply { pB: Buffer, cB: Buffer }
export interface Confirm { cA: Buffer, sealed: Buffer }
export interface Done { sealed: Buffer }

function header(type: number): Buffer {
  return Buffer.concat([PAIR_MAGIC, Buffer.from([PAIR_VERSION, type])])
}

/** HELLO (S to R): header, flags, pA. */
export function encodeHello(m: Hello): Buffer {
  return Buffer.concat([header(PAIR_MSG.hello), Buffer.from([m.bothWays ? PAIR_FLAG_BOTH_WAYS : 0]), m.pA])
}

/** The HELLO bytes that are SPAKE2's AAD (SPEC 14.5): header and flags. */
export function helloAad(hello: Buffer): Buffer {
  return hello.subarray(0, HEADER_LENGTH + 1)
}

/** REPLY (R to S): header, pB, cB. */
export function encodeReply(m: Reply): Buffer {
  return Buffer.concat([header(PAIR_MSG.reply), m.pB, m.cB])
}

/** CONFIRM (S to R): header, cA, then S's id line sealed (SPEC 14.5). */
export function encodeConfirm(m: Confirm): Buffer {
  return Buffer.concat([header(PAIR_MSG.confirm), m.cA, m.sealed])
}

/** The bytes of CONFIRM before its sealed part (they are in its AAD, SPEC 14.5). */
export function confirmPrefix(cA: Buffer): Buffer {
  return Buffer.concat([header(PAIR_MSG.confirm), cA])
}

/** DONE (R to S): header, then R's id line sealed. */
export function encodeDone(m: Done): Buffer {
  return Buffer.concat([header(PAIR_MSG.done), m.sealed])
}

/** The bytes of DONE before its sealed part. */
export function donePrefix(): Buffer {
  return header(PAIR_MSG.done)
}

/** ABORT (either side): header and a reason; unauthenticated, it only ends the exchange. */
export function encodeAbort(reason: PairAbortReason): Buffer {
  return Buffer.concat([header(PAIR_MSG.abort), Buffer.from([reason])])
}

/** What the peer's ABORT says, for the error message. */
export function abortReason(reason: number | undefined): string {
  switch (reason) {
    case PAIR_ABORT.auth: return 'the codes did not match (a typo, or someone in the middle)'
    case PAIR_ABORT.used: return 'its code was already used or has expired'
    case PAIR_ABORT.malformed: return 'it received a malformed message'
    case PAIR_ABORT.record: return 'it could not record the key'
    default: return 'it ended the pairing'
  }
}

/** Whether `frame` starts with the pairing header (any type). */
export function isPairMessage(frame: Buffer): boolean {
  return frame.length >= HEADER_LENGTH && frame.subarray(0, PAIR_MAGIC.length).equals(PAIR_MAGIC) && frame[PAIR_MAGIC.length] === PAIR_VERSION
}

/**
 * The body of a message of type `type`, or `ERR_AUTH`: an ABORT from the peer (with its
 * reason), another type, another magic or version.
 */
function body(frame: Buffer, type: number, what: string): Buffer {
  if (!isPairMessage(frame)) throw new AuthError(`the peer sent something other than a secure-pipe pairing message (version ${PAIR_VERSION}) where its ${what} belongs`)
  const got = frame[PAIR_MAGIC.length + 1]
  if (got === PAIR_MSG.abort) throw new AuthError(`the other side ended the pairing: ${abortReason(frame[HEADER_LENGTH])}`)
  if (got !== type) throw new AuthError(`the peer sent pairing message type ${got} where its ${what} belongs`)
  return frame.subarray(HEADER_LENGTH)
}

export function decodeHello(frame: Buffer): Hello {
  const b = body(frame, PAIR_MSG.hello, 'HELLO')
  if (b.length !== 1 + SPAKE2_SHARE_LENGTH) throw new AuthError(`HELLO is ${frame.length} bytes, not ${HEADER_LENGTH + 1 + SPAKE2_SHARE_LENGTH}`)
  const flags = b[0]!
  if ((flags & ~PAIR_FLAG_BOTH_WAYS) !== 0) throw new AuthError(`HELLO has unknown flags 0x${flags.toString(16)}`)
  return { bothWays: (flags & PAIR_FLAG_BOTH_WAYS) !== 0, pA: b.subarray(1) }
}

export function decodeReply(frame: Buffer): Reply {
  const b = body(frame, PAIR_MSG.reply, 'REPLY')
  if (b.length !== SPAKE2_SHARE_LENGTH + SPAKE2_CONFIRM_LENGTH) throw new AuthError(`REPLY is ${frame.length} bytes, not ${HEADER_LENGTH + SPAKE2_SHARE_LENGTH + SPAKE2_CONFIRM_LENGTH}`)
  return { pB: b.subarray(0, SPAKE2_SHARE_LENGTH), cB: b.subarray(SPAKE2_SHARE_LENGTH) }
}

export function decodeConfirm(frame: Buffer): Confirm {
  const b = body(frame, PAIR_MSG.confirm, 'CONFIRM')
  const sealed = b.subarray(SPAKE2_CONFIRM_LENGTH)
  if (b.length < SPAKE2_CONFIRM_LENGTH || !sealedLengthOk(sealed)) throw new AuthError(`CONFIRM is ${frame.length} bytes: too short, or its id line is over ${PAIR_ID_MAX} bytes`)
  return { cA: b.subarray(0, SPAKE2_CONFIRM_LENGTH), sealed }
}

export function decodeDone(frame: Buffer): Done {
  const sealed = body(frame, PAIR_MSG.done, 'DONE')
  if (!sealedLengthOk(sealed)) throw new AuthError(`DONE is ${frame.length} bytes: too short, or its id line is over ${PAIR_ID_MAX} bytes`)
  return { sealed }
}

function sealedLengthOk(sealed: Buffer): boolean {
  return sealed.length > PAIR_TAG_LENGTH && sealed.length <= PAIR_ID_MAX + PAIR_TAG_LENGTH
}
