/**
 * Replays the protocol vectors in `test/vectors/protocol/` (SPEC 11) byte for byte: every stored
 * intermediate is recomputed from the stored inputs with the library's own modules, the OAEP
 * fields are opened with the stored keys, and every failure vector fails with its `expect` code.
 */
import t from 'tap'
import { readdirSync } from 'node:fs'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ClientHandshake } from '../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import { clientHelloBound, encodeAlert, encodeClientHello, encodeFinished, encodeServerHello, parseClientHello, parseFinished, parseServerHello, serverHelloBound, type Refusal } from '../../src/handshake/messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverConfirm, serverFinishedMac, serverSecretLabel } from '../../src/handshake/keyschedule.js'
import { RecordProtector, deriveIv, nextTrafficSecret, trafficKeys, type RecordKeys } from '../../src/record/protector.js'
import { parseRecord, recordAad, recordTail } from '../../src/record/format.js'
import { FrameDecoder, frameHeader, type FrameDecoderOptions } from '../../src/framing/frame.js'
import { ccmSeal } from '../../src/crypto/ccm.js'
import { hmacSha256, sha256 } from '../../src/crypto/kdf.js'
import { keyId, oaepDecrypt, parsePrivateKey, parsePublicKey, spkiDer } from '../../src/crypto/rsa.js'
import { sshFingerprint as fingerprint } from '../../src/keys/openssh.js'
import { x25519KeyPair, x25519Shared } from '../../src/crypto/x25519.js'
import { HANDSHAKE_FRAME_LIMIT, HANDSHAKE_FRAMES, LABELS, MSG } from '../../src/constants.js'
import { DecryptStage } from '../../src/record/decrypt.js'
import type { SecurePipeError } from '../../src/errors.js'
import { fromHex as h, scriptedRandom, toHex } from '../helpers/fixed.js'
import { HANDSHAKE_FILE, loadVectorFile, protocolVectorDir, type FailureVectorFile, type HandshakeFailureVectorFile, type HandshakeVectorFile } from './vector-schema.js'

const v = loadVectorFile<HandshakeVectorFile>(HANDSHAKE_FILE)
const hs = v.handshake
const [CH, SH] = [h(hs.clientHello.message), h(hs.serverHello.message)]
const clientKey = parsePrivateKey(v.keys.client.privateKeyPem)
const serverKey = parsePrivateKey(v.keys.server.privateKeyPem)

/** Feed `bytes` in chunks of `size` through FrameDecoder -> DecryptStage; what came out and how it ended. */
async function feed(bytes: Buffer, size: number, decoder: FrameDecoderOptions, keys: RecordKeys): Promise<{ released: string, code: string | null }> {
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
  const out: Buffer[] = []
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { out.push(chunk); cb() } })
  let code: string | null = null
  try {
    await pipeline(Readable.from(chunks), new FrameDecoder(decoder), new DecryptStage({ keys }), sink)
  } catch (err) {
    code = (err as SecurePipeError).code ?? String(err)
  }
  return { released: toHex(Buffer.concat(out)), code }
}

/** RFC 5869 section 2.3, for L <= 32: HKDF-Expand(prk, info, L) = first L bytes of HMAC(prk, info || 0x01). */
function expand(prk: Buffer, info: string, length: number): Buffer {
  return hmacSha256(prk, Buffer.from(info), Buffer.from([1])).subarray(0, length)
}

t.test('SPEC 11: the stored throwaway RSA keys are consistent', async t => {
  for (const side of ['client', 'server'] as const) {
    const k = v.keys[side]
    const pub = parsePublicKey(k.publicKeyPem)
    t.equal(pub.asymmetricKeyDetails?.modulusLength, 2048, `${side}: 2048 bits`)
    t.equal(toHex(spkiDer(parsePrivateKey(k.privateKeyPem))), k.spki, `${side}: private and public halves match`)
    t.equal(fingerprint(pub), k.fingerprint, `${side}: fingerprint`)
  }
})

t.test('SPEC 3.1, 3.3: the labels recompute; the OAEP fields open with the stored keys and labels to k_c and k_s || confirm', async t => {
  t.equal(toHex(keyId(parsePublicKey(v.keys.server.publicKeyPem))), hs.serverKeyId, 'server key id = SHA-256(server SPKI)')
  t.equal(toHex(clientSecretLabel(h(hs.clientHelloBound))), hs.clientSecretLabel, 'client secret label')
  t.equal(toHex(sha256(h(hs.clientHelloBound))), hs.clientSecretLabel.slice(-64), 'its last 32 bytes are SHA-256(ClientHello bound)')
  t.equal(toHex(serverSecretLabel(CH, h(hs.serverHelloBound))), hs.serverSecretLabel, 'server secret label')
  t.equal(toHex(serverConfirm(h(v.inputs.k_c), CH)), hs.confirm, 'confirm = HMAC(k_c, label || SHA-256(ClientHello))')
  t.equal(toHex(oaepDecrypt(serverKey, h(hs.clientHelloEncryptedSecret), h(hs.clientSecretLabel))), v.inputs.k_c, 'ClientHello: OAEP(serverPK, k_c)')
  t.equal(toHex(oaepDecrypt(clientKey, h(hs.serverHelloEncryptedSecrets), h(hs.serverSecretLabel))), v.inputs.k_s + hs.confirm, 'ServerHello: OAEP(clientPK, k_s || confirm)')
  t.throws(() => oaepDecrypt(serverKey, h(hs.clientHelloEncryptedSecret), Buffer.alloc(0)), 'without its label the ClientHello field does not open')
  t.notOk(h(hs.serverHelloEncryptedSecrets).includes(h(v.inputs.k_c)), 'k_c never travels back')
})

t.test('SPEC 3.1, 3.3, 3.5: the four messages parse to the stored fields and re-encode byte for byte', async t => {
  const ch = parseClientHello(CH)
  t.same(ch.ciphers, v.inputs.clientCiphers, 'ClientHello ciphers')
  t.equal(toHex(ch.random), v.inputs.clientRandom, 'client random')
  t.equal(toHex(ch.x25519), hs.clientX25519Public, 'client X25519 share')
  t.equal(toHex(ch.serverKeyId), hs.serverKeyId, 'server key id')
  t.equal(toHex(ch.spki), v.keys.client.spki, 'client SPKI')
  t.equal(toHex(ch.bound), hs.clientHelloBound, 'the bytes before the OAEP field')
  t.same(clientHelloBound(ch), ch.bound)
  t.equal(toHex(ch.encryptedSecret), hs.clientHelloEncryptedSecret, 'encrypted k_c')
  t.same(encodeClientHello(ch), CH, 'ClientHello round trip')
  const sh = parseServerHello(SH)
  t.equal(sh.cipher, hs.cipher, 'ServerHello cipher')
  t.equal(toHex(sh.random), v.inputs.serverRandom, 'server random')
  t.equal(toHex(sh.x25519), hs.serverX25519Public, 'server X25519 share')
  t.equal(toHex(sh.encryptedSecrets), hs.serverHelloEncryptedSecrets, 'encrypted k_s || confirm')
  t.equal(toHex(sh.bound), hs.serverHelloBound, 'the bytes before the OAEP field')
  t.same(serverHelloBound(sh), sh.bound)
  t.same(encodeServerHello(sh), SH, 'ServerHello round trip')
  t.equal(toHex(parseFinished(h(hs.clientFinished.message), MSG.clientFinished)), hs.clientFinishedMac, 'ClientFinished MAC field')
  t.equal(toHex(parseFinished(h(hs.serverFinished.message), MSG.serverFinished)), hs.serverFinishedMac, 'ServerFinished MAC field')
  t.equal(toHex(encodeFinished(MSG.clientFinished, h(hs.clientFinishedMac))), hs.clientFinished.message, 'ClientFinished encoding')
  t.equal(toHex(encodeFinished(MSG.serverFinished, h(hs.serverFinishedMac))), hs.serverFinished.message, 'ServerFinished encoding')
  for (const m of [hs.clientHello, hs.serverHello, hs.clientFinished, hs.serverFinished]) {
    t.equal(toHex(Buffer.concat([frameHeader(m.message.length / 2), h(m.message)])), m.frame, 'frame = varint length || message (SPEC 2.1)')
  }
})

t.test('SPEC 4.1, 4.2, 4.3: X25519, th, ikm, every key and the Finished MACs recompute', async t => {
  const client = x25519KeyPair(h(v.inputs.clientX25519Private))
  const server = x25519KeyPair(h(v.inputs.serverX25519Private))
  t.equal(toHex(client.publicKey), hs.clientX25519Public, 'client X25519 public from its private')
  t.equal(toHex(server.publicKey), hs.serverX25519Public, 'server X25519 public from its private')
  t.equal(toHex(x25519Shared(client.privateKey, server.publicKey)), hs.sharedSecret, 'shared secret, client side')
  t.equal(toHex(x25519Shared(server.privateKey, client.publicKey)), hs.sharedSecret, 'shared secret, server side')
  t.equal(hs.ikm, v.inputs.k_c + v.inputs.k_s + hs.sharedSecret, 'ikm = k_c || k_s || shared')
  t.equal(toHex(sha256(CH, SH)), hs.th, 'th = SHA-256(ClientHello || ServerHello)')
  t.same(hs.labels, LABELS, 'labels')
  const ks = deriveKeys(CH, SH, h(hs.ikm))
  t.equal(toHex(ks.th), hs.th, 'deriveKeys reports the same th')
  t.same({ c2s: toHex(ks.c2s), s2c: toHex(ks.s2c), clientFinishedKey: toHex(ks.clientFinishedKey), serverFinishedKey: toHex(ks.serverFinishedKey) }, hs.secrets, 'HKDF(ikm, salt = th, info = label)')
  // RFC 5869 section 2: the one-call HKDF equals Expand(Extract(th, ikm), label).
  const prk = hmacSha256(h(hs.th), h(hs.ikm))
  t.equal(toHex(prk), hs.prk, 'prk = HMAC-SHA256(th, ikm)')
  t.equal(toHex(expand(prk, LABELS.c2s, 32)), hs.secrets.c2s, 'c2s = Expand(prk, c2s label)')
  t.equal(toHex(expand(prk, LABELS.s2c, 32)), hs.secrets.s2c, 's2c = Expand(prk, s2c label)')
  t.equal(toHex(expand(prk, LABELS.clientFinished, 32)), hs.secrets.clientFinishedKey, 'client finished key = Expand(prk, label)')
  t.equal(toHex(expand(prk, LABELS.serverFinished, 32)), hs.secrets.serverFinishedKey, 'server finished key = Expand(prk, label)')
  t.equal(toHex(clientFinishedMac(ks)), hs.clientFinishedMac, 'ClientFinished = HMAC(cf key, th)')
  t.equal(toHex(serverFinishedMac(ks, h(hs.clientFinishedMac))), hs.serverFinishedMac, 'ServerFinished = HMAC(sf key, th || ClientFinished)')
})

t.test('SPEC 3: the state machines, given the stored inputs, reproduce every field but the OAEP ones', async t => {
  const i = v.inputs
  const client = new ClientHandshake({ privateKey: clientKey, serverPublicKey: parsePublicKey(v.keys.server.publicKeyPem), ciphers: i.clientCiphers,
    random: scriptedRandom([h(i.k_c), h(i.clientRandom)]), x25519Private: h(i.clientX25519Private) })
  t.same({ ...parseClientHello(client.clientHello), encryptedSecret: null }, { ...parseClientHello(CH), encryptedSecret: null }, 'ClientHello')
  const random = scriptedRandom([h(i.fallback), h(i.k_s), h(i.serverRandom)])
  const server = new ServerHandshake({ privateKey: serverKey, authorizedKeys: new AuthorizedKeys([parsePublicKey(v.keys.client.publicKeyPem)]), ciphers: i.serverCiphers,
    random, x25519Private: h(i.serverX25519Private) })
  const reply = await server.onClientHello(CH)
  const sh = parseServerHello(reply)
  t.same({ ...sh, encryptedSecrets: null }, { ...parseServerHello(SH), encryptedSecrets: null }, 'ServerHello')
  t.equal(toHex(oaepDecrypt(clientKey, sh.encryptedSecrets, serverSecretLabel(CH, sh.bound))), i.k_s + hs.confirm, 'its OAEP field seals the same k_s || confirm')
  t.equal(random.left, 0, 'the server drew exactly its fallback, k_s and random')
})

t.test('SPEC 5.1-5.6: every record recomputes from key, r, seq and payload', async t => {
  const r = v.records
  let secret = h(hs.secrets.c2s)
  for (const rec of r.list) {
    if (rec.seq > 0 && rec.seq % r.keyUpdateInterval === 0) secret = nextTrafficSecret(secret)
    t.equal(toHex(secret), rec.secret, `seq ${rec.seq}: secret after ${rec.keyGeneration} updates`)
    const { key, ivKey } = trafficKeys(secret, hs.cipher)
    t.same([toHex(key), toHex(ivKey)], [rec.key, rec.ivKey], `seq ${rec.seq}: record key and IV key`)
    const iv = deriveIv(ivKey, h(rec.r))
    t.equal(toHex(iv), rec.iv, `seq ${rec.seq}: IV`)
    const aad = recordAad(r.direction, rec.seq)
    t.equal(toHex(aad), rec.aad, `seq ${rec.seq}: AAD`)
    t.equal(rec.innerPlaintext, toHex(Buffer.from([rec.type])) + rec.payload, `seq ${rec.seq}: inner plaintext = type || payload`)
    const { ciphertext, tag } = ccmSeal(key, iv, h(rec.innerPlaintext), aad)
    t.same([toHex(ciphertext), toHex(tag)], [rec.ciphertext, rec.tag], `seq ${rec.seq}: ciphertext and tag`)
    t.equal(toHex(Buffer.concat([ciphertext, recordTail(iv, tag)])), rec.record, `seq ${rec.seq}: record bytes`)
    t.same(parseRecord(h(rec.record)), { ciphertext, iv, tag }, `seq ${rec.seq}: parsed from its tail`)
    t.equal(toHex(Buffer.concat([frameHeader(rec.record.length / 2), h(rec.record)])), rec.frame, `seq ${rec.seq}: frame`)
  }
  const sealer = new RecordProtector({ cipher: hs.cipher, secret: h(hs.secrets.c2s), direction: r.direction, keyUpdateInterval: r.keyUpdateInterval, random: scriptedRandom(r.list.map(x => h(x.r))) })
  t.same(r.list.map(x => toHex(Buffer.concat(sealer.seal(x.type, h(x.payload))))), r.list.map(x => x.record), 'RecordProtector.seal with the stored r values')
  t.equal(r.stream, r.list.map(x => x.frame).join(''), 'stream = the frames in order')
})

t.test('SPEC 5, 6.1: the server side releases both payloads, then ends cleanly (whole and 1-byte chunks)', async t => {
  const r = v.records
  for (const size of [r.stream.length / 2, 1]) {
    const keys = { cipher: hs.cipher, secret: h(hs.secrets.c2s), direction: r.direction, keyUpdateInterval: r.keyUpdateInterval }
    t.same(await feed(h(r.stream), size, { limit: 1 << 20 }, keys), { released: r.released, code: null }, `chunks of ${size}`)
  }
})

t.test('SPEC 2.2, 5, 6: each failure vector fails with its expect code and releases only what it says', async t => {
  const names = readdirSync(protocolVectorDir()).filter(n => n.endsWith('.json') && n !== HANDSHAKE_FILE && n !== 'transfer-messages.json' && !HELLO_FAILURES.includes(n)).sort()
  t.same(names, ['data-after-close.json', 'frame-too-large.json', 'handshake-frame-too-large.json', 'replayed-record.json', 'tampered-tag.json', 'truncated-no-close.json'], 'the failure vector files')
  for (const name of names) {
    const f = loadVectorFile<FailureVectorFile>(name)
    t.ok(f.stream.startsWith(f.frames.map(x => x.frame).join('')), `${name}: stream starts with its frames`)
    for (const size of [f.stream.length / 2, 1]) {
      const keys = { cipher: f.recordKeys.cipher, secret: h(f.recordKeys.secret), direction: f.recordKeys.direction, keyUpdateInterval: f.recordKeys.keyUpdateInterval }
      t.same(await feed(h(f.stream), size, f.decoder, keys), { released: f.released, code: f.expect }, `${name} (${f.spec}), chunks of ${size}: ${f.expect}`)
    }
  }
  const handshakeLimit = loadVectorFile<FailureVectorFile>('handshake-frame-too-large.json').decoder
  t.same(handshakeLimit, { limit: handshakeLimit.limit, smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT }, 'the handshake limit is the library\'s')
})

const HELLO_FAILURES = ['handshake-low-order-share.json', 'handshake-moved-secret.json', 'handshake-no-common-cipher.json', 'handshake-trailing-byte.json',
  'handshake-unauthorized-client.json', 'handshake-unknown-server-key.json', 'handshake-version-1.json']

t.test('SPEC 3.2, 3.4, 3.6, 12: each handshake failure vector fails with its expect code and alert', async t => {
  const names = readdirSync(protocolVectorDir()).filter(n => HELLO_FAILURES.includes(n)).sort()
  t.same(names, HELLO_FAILURES, 'the handshake failure vector files')
  for (const name of names) {
    const f = loadVectorFile<HandshakeFailureVectorFile>(name)
    const server = new ServerHandshake({ privateKey: serverKey, authorizedKeys: new AuthorizedKeys([parsePublicKey(v.keys.client.publicKeyPem)]), ciphers: f.serverCiphers })
    const ch = h(f.clientHello.message)
    t.equal(toHex(Buffer.concat([frameHeader(ch.length), ch])), f.clientHello.frame, `${name}: frame`)
    const outcome = await server.onClientHello(ch).then(reply => ({ reply, err: null }), (err: Refusal) => ({ reply: null, err }))
    if (f.failsAt === 'server') {
      t.equal(outcome.err?.code, f.expect, `${name}: the server refuses with ${f.expect}`)
      t.equal(outcome.err?.alert === undefined ? null : toHex(encodeAlert(outcome.err.alert)), f.alert, `${name}: alert ${f.alert ?? 'none'}`)
      continue
    }
    // The server answers as usual (no oracle); the confirmation inside cannot be of the client's k_c.
    t.ok(outcome.reply, `${name}: an ordinary ServerHello, no alert`)
    const sh = parseServerHello(outcome.reply!)
    const secrets = oaepDecrypt(clientKey, sh.encryptedSecrets, serverSecretLabel(ch, sh.bound))
    t.notOk(secrets.subarray(32).equals(serverConfirm(h(f.k_c!), ch)), `${name}: the confirmation fails at the client (${f.expect})`)
  }
})
