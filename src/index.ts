/** secure-pipe's public API: explicit named exports only. */
export { connect, createServer, SecureServer } from './net.js'
export type { ConnectOptions, ServerOptions } from './net.js'
export { ReplayCache } from './server/replay.js'
export type { MaxStartups, SourceLimits } from './server/admission.js'
export type { FailureReport } from './server/summary.js'
export { SecureStream } from './session.js'
export type { SessionOptions } from './session.js'
export { FrameDecoder, FrameEncoder } from './framing/frame.js'
export type { FrameDecoderOptions } from './framing/frame.js'
export { EncryptStage } from './record/encrypt.js'
export type { EncryptOptions } from './record/encrypt.js'
export { DecryptStage } from './record/decrypt.js'
export type { DecryptOptions } from './record/decrypt.js'
export type { RecordKeys, StageKeys } from './record/protector.js'
export { HandshakeStage } from './handshake/stream.js'
export type { HandshakeStageOptions, SendHandshake } from './handshake/stream.js'
export { ClientHandshake } from './handshake/client.js'
export type { ClientHandshakeOptions, ClientIdentityOptions } from './handshake/client.js'
export { ServerHandshake, AuthorizedKeys } from './handshake/server.js'
export type { ServerHandshakeOptions, ServerIdentityOptions, PeerIdentity, AuthorizeCallback } from './handshake/server.js'
export type { SessionKeys } from './handshake/keyschedule.js'
export {
  loadPrivateKey, loadPublicKey, loadAuthorizedKeys, parsePublicKeys, parsePublicKeyText, readKeyText, isEncryptedKeyFile,
  writeKeyPair, fingerprint, sshFingerprint, formatSshPublicKey, shellQuote, PRIVATE_NOT_PUBLIC,
} from './keys.js'
export type { WrittenKeyPair, PrivateKeyOptions } from './keys.js'
export { keyHome, hasIdentity, initIdentity, listAuthorized, authorizeKey, revokeKey, listPins, pinKey, unpinKey, findPin, HOME_ENV } from './home.js'
export type { KeyHome, KeyEntry } from './home.js'
export { generateRsaKeyPair as generateKeyPair } from './crypto/rsa.js'
export {
  SecurePipeError, AuthError, IntegrityError, TruncatedError, FrameTooLargeError, VersionError,
  TimeoutError, KeyError, ReceiptError, NetworkError, IoError, UsageError, EXIT_CODES, toNetworkError,
} from './errors.js'
export type { ErrorCode } from './errors.js'
export { DEFAULT_CIPHERS, DEFAULT_RECORD_SIZE, MAX_RECORD_SIZE, HANDSHAKE_FRAMES, HANDSHAKE_FRAME_LIMIT, recordFrameLimit } from './constants.js'
export type { CipherName } from './constants.js'
