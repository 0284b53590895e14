/**
 * Writes the protocol vectors in `test/vectors/protocol/` (SPEC 11): one full version-2 handshake
 * with three client-to-server records, and one file per failure scenario.
 *
 *   npx tsc -p . && npm run vectors            # keeps the committed RSA keys
 *   npm run vectors -- --new-keys              # makes new throwaway 2048-bit keys
 *
 * Every input is fixed (labelled SHA-256 bytes, see test/helpers/fixed.ts) and reaches the
 * library through its test-only `random` and `x25519Private` options. RSA-OAEP is randomized
 * and has no such option, so the two OAEP ciphertexts differ on each run, and with them the
 * transcript hash and everything derived from it; the failure vectors do not depend on them.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClientHandshake } from '../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../src/handshake/server.js'
import { clientHelloBound, encodeAlert, encodeClientHello, parseClientHello, parseServerHello } from '../src/handshake/messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverConfirm, serverFinishedMac, serverSecretLabel } from '../src/handshake/keyschedule.js'
import { RecordProtector, deriveIv, nextTrafficSecret, trafficKeys } from '../src/record/protector.js'
import { recordAad, recordTail } from '../src/record/format.js'
import { frameHeader } from '../src/framing/frame.js'
import { ccmSeal } from '../src/crypto/ccm.js'
import { hmacSha256 } from '../src/crypto/kdf.js'
import { generateRsaKeyPair, keyId, oaepDecrypt, oaepEncrypt, parsePrivateKey, parsePublicKey, spkiDer } from '../src/crypto/rsa.js'
import { sshFingerprint as fingerprint } from '../src/keys/openssh.js'
import { x25519KeyPair, x25519Shared } from '../src/crypto/x25519.js'
import { ALERT, DIRECTION, HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES, LABELS, MAX_RECORD_SIZE, RECORD_TYPE, recordFrameLimit, type CipherName } from '../src/constants.js'
import { fixedBytes, scriptedRandom, toHex } from '../test/helpers/fixed.js'
import { HANDSHAKE_FILE, loadVectorFile, protocolVectorDir, type FailureVectorFile, type HandshakeFailureVectorFile, type HandshakeVectorFile, type KeyVector, type MessageVector, type RecordVector } from '../test/auth/vector-schema.js'
import { createHash } from 'node:crypto'
import { encodeEntry, encodeManifest } from '../src/transfer/entry.js'
import { encodeReceipt } from '../src/transfer/receipt.js'
import { encodePlan, encodeReady, resumeId } from '../src/transfer/resume.js'

// The seed string of every fixed input. It says v1 because the first vector set used it; it is
// kept so that the inputs (and so the vectors) stay the same, and names no protocol version.
const FIXED_SEED = 'secure-pipe v1 test vector: '
const fixed = (what: string, length: number): Buffer => fixedBytes(`${FIXED_SEED}${what}`, length)

function framed(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(body.length), body])
}

function message(body: Buffer): MessageVector {
  return { message: toHex(body), frame: toHex(framed(body)) }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`generator self-check failed: ${what}`)
}

/** The committed keys, unless there are none or --new-keys asks for fresh ones. */
function rsaKeys(fresh: boolean): { client: KeyVector, server: KeyVector } {
  const dir = protocolVectorDir()
  if (!fresh && existsSync(join(dir, HANDSHAKE_FILE))) {
    const { keys } = loadVectorFile<HandshakeVectorFile>(HANDSHAKE_FILE)
    return keys
  }
  const describe = (pair: { privateKeyPem: string, publicKeyPem: string }): KeyVector => {
    const pub = parsePublicKey(pair.publicKeyPem)
    return { ...pair, spki: toHex(spkiDer(pub)), fingerprint: fingerprint(pub) }
  }
  return { client: describe(generateRsaKeyPair(2048)), server: describe(generateRsaKeyPair(2048)) }
}

/** SPEC 3, 4: the four messages through both state machines, then every intermediate recomputed. */
async function handshake(keys: { client: KeyVector, server: KeyVector }): Promise<HandshakeVectorFile['handshake'] & { inputs: HandshakeVectorFile['inputs'] }> {
  const clientKey = parsePrivateKey(keys.client.privateKeyPem)
  const serverKey = parsePrivateKey(keys.server.privateKeyPem)
  const serverPublic = parsePublicKey(keys.server.publicKeyPem)
  const inputs = {
    clientCiphers: ['aes-128-ccm', 'aes-256-ccm'] as CipherName[],
    serverCiphers: ['aes-128-ccm', 'aes-256-ccm'] as CipherName[],
    k_c: fixed('k_c', 32),
    k_s: fixed('k_s', 32),
    fallback: fixed('fallback', 32),
    clientRandom: fixed('client random', 32),
    serverRandom: fixed('server random', 32),
    clientX25519Private: fixed('client x25519 private', 32),
    serverX25519Private: fixed('server x25519 private', 32),
  }
  // Draw order: the client takes k_c then its random; the server the fallback, k_s, then its random (SPEC 3.1, 3.2, 3.3).
  const client = new ClientHandshake({ privateKey: clientKey, serverPublicKey: serverPublic, ciphers: inputs.clientCiphers,
    random: scriptedRandom([inputs.k_c, inputs.clientRandom]), x25519Private: inputs.clientX25519Private })
  const server = new ServerHandshake({ privateKey: serverKey, authorizedKeys: new AuthorizedKeys([parsePublicKey(keys.client.publicKeyPem)]), ciphers: inputs.serverCiphers,
    random: scriptedRandom([inputs.fallback, inputs.k_s, inputs.serverRandom]), x25519Private: inputs.serverX25519Private })
  const clientHello = client.clientHello
  const serverHello = await server.onClientHello(clientHello)
  const clientFinished = client.onServerHello(serverHello)
  const { serverFinished } = server.onClientFinished(clientFinished)
  const sessionKeys = client.onServerFinished(serverFinished)

  const ch = parseClientHello(clientHello)
  const sh = parseServerHello(serverHello)
  check(ch.random.equals(inputs.clientRandom) && sh.random.equals(inputs.serverRandom), 'randoms drawn in the scripted order')
  check(ch.serverKeyId.equals(keyId(serverPublic)), 'server key id')
  const cLabel = clientSecretLabel(ch.bound)
  const sLabel = serverSecretLabel(clientHello, sh.bound)
  const confirm = serverConfirm(inputs.k_c, clientHello)
  check(oaepDecrypt(serverKey, ch.encryptedSecret, cLabel).equals(inputs.k_c), 'k_c')
  check(oaepDecrypt(clientKey, sh.encryptedSecrets, sLabel).equals(Buffer.concat([inputs.k_s, confirm])), 'k_s || confirm')
  const clientEph = x25519KeyPair(inputs.clientX25519Private)
  const serverEph = x25519KeyPair(inputs.serverX25519Private)
  const shared = x25519Shared(clientEph.privateKey, serverEph.publicKey)
  const ikm = Buffer.concat([inputs.k_c, inputs.k_s, shared])
  const ks = deriveKeys(clientHello, serverHello, ikm)
  check(ks.c2s.equals(sessionKeys.send.secret) && ks.th.equals(sessionKeys.handshakeHash), 'secrets match the state machine')
  const cfMac = clientFinishedMac(ks)
  const sfMac = serverFinishedMac(ks, cfMac)
  check(clientFinished.subarray(-32).equals(cfMac) && serverFinished.subarray(-32).equals(sfMac), 'Finished MACs')
  return {
    inputs: { ...inputs, k_c: toHex(inputs.k_c), k_s: toHex(inputs.k_s), fallback: toHex(inputs.fallback), clientRandom: toHex(inputs.clientRandom), serverRandom: toHex(inputs.serverRandom),
      clientX25519Private: toHex(inputs.clientX25519Private), serverX25519Private: toHex(inputs.serverX25519Private) },
    cipher: sh.cipher,
    clientX25519Public: toHex(clientEph.publicKey),
    serverX25519Public: toHex(serverEph.publicKey),
    sharedSecret: toHex(shared),
    serverKeyId: toHex(ch.serverKeyId),
    clientHelloBound: toHex(ch.bound),
    clientSecretLabel: toHex(cLabel),
    clientHelloEncryptedSecret: toHex(ch.encryptedSecret),
    confirm: toHex(confirm),
    serverHelloBound: toHex(sh.bound),
    serverSecretLabel: toHex(sLabel),
    serverHelloEncryptedSecrets: toHex(sh.encryptedSecrets),
    clientHello: message(clientHello),
    serverHello: message(serverHello),
    th: toHex(ks.th),
    ikm: toHex(ikm),
    prk: toHex(hmacSha256(ks.th, ikm)), // RFC 5869 section 2.2: PRK = HMAC-Hash(salt, IKM); documentation only
    labels: { ...LABELS },
    secrets: { c2s: toHex(ks.c2s), s2c: toHex(ks.s2c), clientFinishedKey: toHex(ks.clientFinishedKey), serverFinishedKey: toHex(ks.serverFinishedKey) },
    clientFinishedMac: toHex(cfMac),
    serverFinishedMac: toHex(sfMac),
    clientFinished: message(clientFinished),
    serverFinished: message(serverFinished),
    expect: 'both sides complete the handshake with these secrets; the client sends the records below',
  }
}

interface PlannedRecord { type: number, payload: Buffer, expect: string }

/** SPEC 5: seal `plan` in order with a RecordProtector, and recompute each record from its parts. */
function sealRecords(secret: Buffer, direction: number, interval: number, plan: PlannedRecord[], label: string): RecordVector[] {
  const randoms = plan.map((_, i) => fixed(`${label} record ${i} r`, 12))
  const protector = new RecordProtector({ cipher: 'aes-128-ccm', secret: Buffer.from(secret), direction, keyUpdateInterval: interval, random: scriptedRandom(randoms) })
  let current = secret
  return plan.map((p, seq) => {
    const generation = Math.floor(seq / interval)
    if (seq > 0 && seq % interval === 0) current = nextTrafficSecret(current) // SPEC 5.6
    const { key, ivKey } = trafficKeys(current, 'aes-128-ccm')
    const record = Buffer.concat(protector.seal(p.type, p.payload))
    const iv = deriveIv(ivKey, randoms[seq]!)
    const aad = recordAad(direction, seq)
    const inner = Buffer.concat([Buffer.from([p.type]), p.payload])
    const { ciphertext, tag } = ccmSeal(key, iv, inner, aad)
    check(Buffer.concat([ciphertext, recordTail(iv, tag)]).equals(record), `${label} record ${seq} recomputes`)
    return {
      seq, type: p.type, typeName: p.type === RECORD_TYPE.close ? 'close' : 'data', payload: toHex(p.payload),
      secret: toHex(current), keyGeneration: generation, key: toHex(key), ivKey: toHex(ivKey), r: toHex(randoms[seq]!), iv: toHex(iv), aad: toHex(aad),
      innerPlaintext: toHex(inner), ciphertext: toHex(ciphertext), tag: toHex(tag), record: toHex(record), frame: toHex(framed(record)), expect: p.expect,
    }
  })
}

async function handshakeFile(keys: { client: KeyVector, server: KeyVector }): Promise<HandshakeVectorFile> {
  const { inputs, ...hs } = await handshake(keys)
  if (hs.cipher !== 'aes-128-ccm') throw new Error('generator self-check failed: the records below assume AES-128-CCM')
  const payloads = [Buffer.from('hello, secure-pipe'), Buffer.from('sealed with the updated key')]
  const list = sealRecords(Buffer.from(hs.secrets.c2s, 'hex'), DIRECTION.c2s, 1, [
    { type: RECORD_TYPE.data, payload: payloads[0]!, expect: 'verifies; the server releases the payload' },
    { type: RECORD_TYPE.data, payload: payloads[1]!, expect: 'verifies under the secret after one update (keyUpdateInterval 1); the server releases the payload' },
    { type: RECORD_TYPE.close, payload: Buffer.alloc(0), expect: 'verifies under the secret after two updates; authenticated end of stream (SPEC 6.1)' },
  ], 'handshake')
  return {
    description: 'secure-pipe protocol version 2: one full handshake (ClientHello, ServerHello, ClientFinished, ServerFinished) and three client-to-server records (data, data after a key update, close), with every intermediate value. Throwaway test keys.',
    generator: 'scripts/gen-vectors.ts (npx tsc -p . && npm run vectors); replayed by test/auth/protocol-vectors.test.ts',
    notes: {
      encoding: 'every byte string is lowercase hex; a frame is the unsigned LEB128 length of the message followed by the message (SPEC 2.1); a message is its 6-byte header and body',
      oaepLabels: 'SPEC 3.1, 3.3: clientSecretLabel = "secure-pipe v2 client secret" || SHA-256(clientHelloBound), where clientHelloBound is every ClientHello byte before the 2-byte length of its OAEP field; serverSecretLabel = "secure-pipe v2 server secret" || SHA-256(ClientHello || serverHelloBound)',
      confirm: 'SPEC 3.3: confirm = HMAC-SHA256(k_c, "secure-pipe v2 server confirm" || SHA-256(ClientHello)); the server seals k_s || confirm, never k_c',
      keySchedule: 'SPEC 4: th = SHA-256(ClientHello || ServerHello); ikm = k_c || k_s || X25519 shared secret; each secret = HKDF-SHA256(ikm, salt = th, info = label, 32). The code calls HKDF once per secret (node:crypto hkdfSync) and never holds a PRK; "prk" here is HKDF-Extract(th, ikm) = HMAC-SHA256(th, ikm), given only so that secret = HKDF-Expand(prk, label, 32) can be checked (RFC 5869 section 2)',
      finished: 'SPEC 3.5: ClientFinished MAC = HMAC-SHA256(clientFinishedKey, th); ServerFinished MAC = HMAC-SHA256(serverFinishedKey, th || ClientFinished MAC)',
      records: 'SPEC 5: key = HKDF-SHA256(secret, salt = empty, "secure-pipe v2 record key", L); ivKey = HKDF-SHA256(secret, salt = empty, "secure-pipe v2 iv key", L); r is 12 random bytes; IV = first 12 bytes of AES-CCM(ivKey, nonce = r, plaintext = r, no AAD); AAD = "SPIP" || 0x02 || direction || uint64be(seq); inner plaintext = type || payload; record = ciphertext || "@" || IV || "@" || tag (16 bytes); with keyUpdateInterval 1 the secret is updated before every record after the first: next = HKDF-SHA256(secret, salt = empty, info = "secure-pipe v2 traffic update", 32)',
      oaep: 'RSA-OAEP-SHA256 is randomized: the two encrypted fields are recorded as produced and are checked by decrypting with the stored private keys. Regenerating changes them and therefore th, the derived secrets, the Finished MACs and the record ciphertexts; the inputs, X25519 values, labels of the ClientHello, confirm, ikm, r, AADs and inner plaintexts stay fixed',
      randomness: 'fixed inputs are SHA-256("secure-pipe v1 test vector: " + name || uint32be(counter)), truncated (that prefix is only a seed string, kept from the first vector set so that the inputs stay the same: these vectors are protocol version 2); they reach the library through the test-only options random (ClientHandshakeOptions, ServerHandshakeOptions, RecordKeys) and x25519Private',
    },
    keys,
    inputs,
    handshake: hs,
    records: {
      direction: DIRECTION.c2s,
      keyUpdateInterval: 1,
      list,
      stream: list.map(r => r.frame).join(''),
      released: toHex(Buffer.concat(payloads)),
      expect: 'the server releases both payloads in order, then ends cleanly',
    },
  }
}

const FAILURE_SECRET = fixed('failure vectors c2s secret', 32)
const RECORD_LIMIT = recordFrameLimit(MAX_RECORD_SIZE)

function failure(name: string, v: Omit<FailureVectorFile, 'recordKeys' | 'stream' | 'decoder'> & { decoder?: FailureVectorFile['decoder'], stream?: Buffer }): [string, FailureVectorFile] {
  const stream = v.stream ?? Buffer.concat(v.frames.map(f => Buffer.from(f.frame, 'hex')))
  return [name, {
    description: v.description, spec: v.spec, expect: v.expect,
    decoder: v.decoder ?? { limit: RECORD_LIMIT },
    recordKeys: { cipher: 'aes-128-ccm', secret: toHex(FAILURE_SECRET), direction: DIRECTION.c2s, keyUpdateInterval: 65536 },
    frames: v.frames, stream: toHex(stream), released: v.released,
  }]
}

/** SPEC 5, 6, 2.2: one file per failure; `expect` is the code the receiver must fail with. */
function failureFiles(): Array<[string, FailureVectorFile]> {
  const data = (text: string): PlannedRecord => ({ type: RECORD_TYPE.data, payload: Buffer.from(text), expect: '' })
  const close: PlannedRecord = { type: RECORD_TYPE.close, payload: Buffer.alloc(0), expect: '' }
  const seal = (label: string, plan: PlannedRecord[]): Buffer[] => sealRecords(FAILURE_SECRET, DIRECTION.c2s, 65536, plan, `failure ${label}`).map(r => Buffer.from(r.frame, 'hex'))
  const frame = (note: string, bytes: Buffer): { note: string, frame: string } => ({ note, frame: toHex(bytes) })

  const [tampered, tamperedClose] = seal('tampered-tag', [data('attack at dawn'), close])
  tampered![tampered!.length - 1] = tampered![tampered!.length - 1]! ^ 0x01
  const [first] = seal('replayed-record', [data('first')])
  const [cut1, cut2] = seal('truncated', [data('part one, '), data('part two')])
  const [before, closing, after] = seal('data-after-close', [data('the end'), close, data('trailing')])
  const oversized = frameHeader(RECORD_LIMIT + 1)
  const oversizedHandshake = frameHeader(HANDSHAKE_FRAME_LIMIT + 1)
  return [
    failure('tampered-tag.json', {
      description: 'A data record whose last tag byte is flipped, then a valid close record. The tag check fails before any plaintext exists.',
      spec: 'SPEC 5.3, 5.4', expect: 'ERR_INTEGRITY',
      frames: [frame('seq 0 data, tag byte 15 xor 0x01', tampered!), frame('seq 1 close (never reached)', tamperedClose!)], released: '',
    }),
    failure('replayed-record.json', {
      description: 'A valid data record sent twice. The second copy is opened with sequence number 1 in the AAD and fails.',
      spec: 'SPEC 5.3', expect: 'ERR_INTEGRITY',
      frames: [frame('seq 0 data', first!), frame('seq 0 data again (replay)', first!)], released: toHex(Buffer.from('first')),
    }),
    failure('truncated-no-close.json', {
      description: 'Two valid data records and then the end of the stream, with no close record. Both payloads may be released; the end is an error.',
      spec: 'SPEC 6.2', expect: 'ERR_TRUNCATED',
      frames: [frame('seq 0 data', cut1!), frame('seq 1 data; then end of stream', cut2!)], released: toHex(Buffer.from('part one, part two')),
    }),
    failure('data-after-close.json', {
      description: 'A data record, the close record, then a further valid record sealed with sequence number 2. Nothing may follow the close record.',
      spec: 'SPEC 6.1', expect: 'ERR_INTEGRITY',
      frames: [frame('seq 0 data', before!), frame('seq 1 close', closing!), frame('seq 2 data after close', after!)], released: toHex(Buffer.from('the end')),
    }),
    failure('frame-too-large.json', {
      description: `A record frame whose varint prefix declares ${RECORD_LIMIT + 1} bytes, one over the limit for 1 MiB records, followed by 16 zero bytes. The decoder fails on the prefix, before allocating the body.`,
      spec: 'SPEC 2.2, 7', expect: 'ERR_FRAME_TOO_LARGE',
      frames: [frame('length prefix only', oversized)], stream: Buffer.concat([oversized, Buffer.alloc(16)]), released: '',
    }),
    failure('handshake-frame-too-large.json', {
      description: `The first frame of a connection declares ${HANDSHAKE_FRAME_LIMIT + 1} bytes, one over the handshake frame limit, followed by 16 zero bytes.`,
      spec: 'SPEC 2.2, 7', expect: 'ERR_FRAME_TOO_LARGE',
      decoder: { limit: RECORD_LIMIT, smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT },
      frames: [frame('length prefix only', oversizedHandshake)], stream: Buffer.concat([oversizedHandshake, Buffer.alloc(16)]), released: '',
    }),
  ]
}

/** SPEC 3.2, 3.4, 3.6, 12: ClientHellos a server must refuse (or answer so that the client refuses), one file each. */
async function handshakeFailureFiles(keys: { client: KeyVector, server: KeyVector }, k_c: Buffer): Promise<Array<[string, HandshakeFailureVectorFile]>> {
  const serverPublic = parsePublicKey(keys.server.publicKeyPem)
  const clientPrivate = parsePrivateKey(keys.client.privateKeyPem)
  const honest = (label: string, over: Partial<Parameters<typeof clientHelloBound>[0]> = {}, secret = k_c): Buffer => {
    const fields = { ciphers: ['aes-128-ccm', 'aes-256-ccm'] as CipherName[], random: fixed(`${label} random`, 32), x25519: x25519KeyPair(fixed(`${label} x25519`, 32)).publicKey,
      serverKeyId: keyId(serverPublic), spki: spkiDer(clientPrivate), ...over }
    return encodeClientHello({ ...fields, encryptedSecret: oaepEncrypt(serverPublic, secret, clientSecretLabel(clientHelloBound(fields))) })
  }
  const other = parseClientHello(honest('donor'))
  const moved = encodeClientHello({ ...parseClientHello(honest('recipient')), encryptedSecret: other.encryptedSecret })
  const v1 = Buffer.from(honest('v1'))
  v1[4] = 1
  const lowOrder = honest('low order', { x25519: Buffer.alloc(32) })
  const file = (name: string, description: string, spec: string, failsAt: 'server' | 'client', expect: 'ERR_VERSION' | 'ERR_AUTH', alert: number | null, clientHello: Buffer, extra: Partial<HandshakeFailureVectorFile> = {}): [string, HandshakeFailureVectorFile] =>
    [name, { description, spec, failsAt, expect, alert: alert === null ? null : toHex(encodeAlert(alert)), serverCiphers: ['aes-128-ccm', 'aes-256-ccm'], clientHello: message(clientHello), ...extra }]
  return [
    file('handshake-version-1.json', 'A version-1 ClientHello (the version byte is 01). Version 1 is refused: its k_c echo made every authorized client able to impersonate the server (SPEC 12).', 'SPEC 3.2, 3.6, 12', 'server', 'ERR_VERSION', ALERT.version, v1),
    file('handshake-unknown-server-key.json', 'A ClientHello naming a server key id the server does not hold (the client pinned another key).', 'SPEC 3.2, 3.6', 'server', 'ERR_AUTH', ALERT.serverKey, honest('unknown key', { serverKeyId: fixed('another key id', 32) })),
    file('handshake-unauthorized-client.json', 'A ClientHello presenting a client key that is not authorized (an SPKI of random bytes).', 'SPEC 3.2, 3.6', 'server', 'ERR_AUTH', ALERT.auth, honest('stranger', { spki: fixed('stranger spki', 294) })),
    file('handshake-no-common-cipher.json', 'A ClientHello offering only cipher id 9 (unknown).', 'SPEC 3.2, 3.6', 'server', 'ERR_VERSION', ALERT.cipher, (() => { const b = honest('unknown cipher', { ciphers: ['aes-128-ccm'] }); b[7] = 9; return b })()),
    file('handshake-trailing-byte.json', 'An honest ClientHello with one byte appended: malformed.', 'SPEC 3.2, 3.6', 'server', 'ERR_VERSION', ALERT.version, Buffer.concat([honest('trailing'), Buffer.from([0])])),
    file('handshake-low-order-share.json', 'A ClientHello whose X25519 share is all zero (a low-order point): refused before any RSA work, without an alert.', 'SPEC 3.2, 4.2', 'server', 'ERR_AUTH', null, lowOrder),
    file('handshake-moved-secret.json', 'A ClientHello carrying the OAEP field of another ClientHello (same client key, other random and share). Its label does not match, so the server goes on with its fallback (no oracle, no alert) and the confirmation it sends cannot verify at the client.', 'SPEC 3.2, 3.4', 'client', 'ERR_AUTH', null, moved, { k_c: toHex(k_c) }),
  ]
}

/** SPEC 8: one of each transfer message, with the values they encode (no keys involved). */
function transferFile(): [string, unknown] {
  const file = { type: 'file' as const, name: 'photos/été 1.jpg', mode: 0o644, mtimeMs: 1_700_000_000_123, size: 70_000 }
  const dir = { type: 'directory' as const, name: 'photos', mode: 0o755, mtimeMs: 1_700_000_000_000, size: 0 }
  const digest = createHash('sha256').update('the first 4096 bytes').digest()
  const tags = createHash('sha256').update('tags').digest()
  return ['transfer-messages.json', {
    description: 'SPEC 8: the transfer messages inside the secure stream, each as hex with the values it encodes. Integers are big-endian.',
    spec: 'SPEC 8.1, 8.3, 8.5, 8.6',
    entryHeader: { entry: file, hex: toHex(encodeEntry(file)) },
    manifest: { entries: [dir, file], resume: true, hex: toHex(encodeManifest([dir, file], { resume: true })) },
    ready: { offers: [{ index: 1, offset: 4096, digest: toHex(digest) }], hex: toHex(encodeReady([{ index: 1, offset: 4096, digest }])) },
    plan: { steps: [{ index: 1, offset: 4096 }], hex: toHex(encodePlan([{ index: 1, offset: 4096 }])) },
    receipt: { bytes: 65_999, digest: toHex(tags), done: 2, outcome: 'durable', hex: toHex(encodeReceipt({ bytes: 65_999, digest: tags, done: 2, outcome: 'durable' })) },
    failureReceipt: {
      bytes: 120, digest: toHex(tags), done: 1, outcome: 'durable', error: { code: 'ERR_IO', message: 'no space left on the device' },
      hex: toHex(encodeReceipt({ bytes: 120, digest: tags, done: 1, outcome: 'durable', error: { code: 'ERR_IO', message: 'no space left on the device' } })),
    },
    resumeId: { senderFingerprint: 'SHA256:FWJnIobAazNB+UsnH3WTyHUSp3SNN3tgqsXBKGh0L48', name: file.name, size: file.size, mtimeMs: file.mtimeMs, id: resumeId('SHA256:FWJnIobAazNB+UsnH3WTyHUSp3SNN3tgqsXBKGh0L48', file) },
  }]
}

async function main(): Promise<void> {
  const dir = protocolVectorDir()
  mkdirSync(dir, { recursive: true })
  const keys = rsaKeys(process.argv.includes('--new-keys'))
  const hs = await handshakeFile(keys)
  const files: Array<[string, unknown]> = [[HANDSHAKE_FILE, hs], transferFile(), ...failureFiles(), ...await handshakeFailureFiles(keys, Buffer.from(hs.inputs.k_c, 'hex'))]
  for (const [name, content] of files) {
    writeFileSync(join(dir, name), JSON.stringify(content, null, 2) + '\n')
    console.log(`wrote ${join(dir, name)}`)
  }
}

await main()
