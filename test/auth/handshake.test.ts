/**
 * Handshake authentication (SPEC 3) over real sockets on 127.0.0.1: pinned server key,
 * authorized client keys, proof of possession at Finished, and the no-oracle rule for RSA-OAEP.
 * Hand-built peers use the message, key-schedule and crypto modules directly.
 */
import t from 'tap'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { connect } from '../../src/net.js'
import { ClientHandshake } from '../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import { encodeAlert, encodeClientHello, encodeFinished, encodeServerHello, parseClientHello, parseFinished, parseServerHello, serverHelloBound, type Refusal } from '../../src/handshake/messages.js'
import { clientFinishedMac, clientSecretLabel, deriveKeys, serverConfirm, serverSecretLabel } from '../../src/handshake/keyschedule.js'
import { oaepDecrypt, oaepEncrypt, parseSpki } from '../../src/crypto/rsa.js'
import { x25519KeyPair } from '../../src/crypto/x25519.js'
import { ALERT, MSG, RECORD_TYPE, SECRET_LENGTH } from '../../src/constants.js'
import type { SecurePipeError } from '../../src/errors.js'
import { fakeServer, finishedFrom, handBuiltHello, keyedRawClient, openServerHello, rawConnect, rsaPairs, sendFrame, spkiDer, testServer, type TestServer } from './wire.js'

const [server, client, victim, mallory, wrongServer] = await rsaPairs(2048, 2048, 2048, 2048, 2048)

async function authServer(): Promise<TestServer> {
  return testServer({ privateKey: server!.privateKey, authorizedKeys: [client!.publicKey, victim!.publicKey] })
}

function handshakeError(s: TestServer): Promise<SecurePipeError> {
  return once(s.server, 'handshakeError').then(([err]) => err as SecurePipeError)
}

/** SPEC 4.2, 3.5: the ClientFinished a hand-built client computes from what it believes k_c and k_s are. */
function parseFinishedOk(frame: Buffer): boolean {
  return parseFinished(frame, MSG.serverFinished).length === 32
}

t.test('SPEC 3.2, 3.6: a client that pinned a key the server does not hold gets ERR_AUTH from the server-key alert', async t => {
  const s = await authServer()
  t.teardown(() => s.close())
  const serverSide = handshakeError(s)
  await t.rejects(connect({ port: s.port, privateKey: client!.privateKey, serverPublicKey: wrongServer!.publicKey }), { code: 'ERR_AUTH', message: /does not hold the key you pinned/ })
  t.equal((await serverSide).code, 'ERR_AUTH')
  t.equal(s.streams.length, 0)

  const raw = await rawConnect(s.port)
  t.teardown(() => raw.socket.destroy())
  sendFrame(raw.socket, handBuiltHello({ spki: spkiDer(client!.publicKey), serverPublicKey: wrongServer!.publicKey }).frame)
  t.same(await raw.frames.next(), encodeAlert(ALERT.serverKey), 'on the wire: one server-key alert, before any RSA work')
  t.equal(await raw.frames.next(), null, 'then the server closes')
})

t.test('SPEC 3.2, 3.6: an unauthorized client gets ERR_AUTH from the alert; the server reports ERR_AUTH', async t => {
  const s = await authServer()
  t.teardown(() => s.close())
  const serverSide = handshakeError(s)
  await t.rejects(connect({ port: s.port, privateKey: mallory!.privateKey, serverPublicKey: server!.publicKey }), { code: 'ERR_AUTH' })
  t.equal((await serverSide).code, 'ERR_AUTH')

  const raw = await rawConnect(s.port)
  t.teardown(() => raw.socket.destroy())
  sendFrame(raw.socket, handBuiltHello({ spki: spkiDer(mallory!.publicKey), serverPublicKey: server!.publicKey }).frame)
  t.same(await raw.frames.next(), encodeAlert(ALERT.auth), 'on the wire: one auth alert')
  t.equal(await raw.frames.next(), null, 'then the server closes')
  t.equal(s.streams.length, 0)
})

t.test('SPEC 3.5: a client presenting an authorized key it does not own fails at Finished, with no alert', async t => {
  const s = await authServer()
  t.teardown(() => s.close())
  const { socket, frames } = await rawConnect(s.port)
  t.teardown(() => socket.destroy())
  const serverSide = handshakeError(s)
  // Mallory presents the victim's public key; k_c she chose herself, so she knows it.
  const hello = handBuiltHello({ spki: spkiDer(victim!.publicKey), serverPublicKey: server!.publicKey })
  sendFrame(socket, hello.frame)
  const serverHello = (await frames.next())!
  t.throws(() => openServerHello(hello.frame, serverHello, mallory!.privateKey), 'k_s is sealed to the victim: Mallory cannot open it')
  sendFrame(socket, finishedFrom(hello, serverHello, hello.kc, randomBytes(SECRET_LENGTH)))
  t.equal((await serverSide).code, 'ERR_AUTH', 'the server fails at ClientFinished')
  t.equal(await frames.next(), null, 'no alert and no ServerFinished: the server just closes (SPEC 3.6)')
  t.equal(s.streams.length, 0)
})

t.test('SPEC 3.5: state machines: a mismatched private key fails with ERR_AUTH on both sides', async t => {
  const machine = new ServerHandshake({ privateKey: server!.privateKey, authorizedKeys: new AuthorizedKeys([victim!.publicKey]) })
  // The honest client code, holding Mallory's private key, with its ClientHello's key swapped for the victim's.
  const honest = new ClientHandshake({ privateKey: mallory!.privateKey, serverPublicKey: server!.publicKey })
  const forged = encodeClientHello({ ...parseClientHello(honest.clientHello), spki: spkiDer(victim!.publicKey) })
  const serverHello = await machine.onClientHello(forged)
  t.throws(() => honest.onServerHello(serverHello), { code: 'ERR_AUTH' }, 'the client cannot open the secrets sealed to the presented key')

  // A guessed k_s gives a ClientFinished the server refuses, without an alert.
  const guessed = deriveKeys(forged, serverHello, randomBytes(3 * SECRET_LENGTH))
  let err: Partial<Refusal> | undefined
  try { machine.onClientFinished(encodeFinished(MSG.clientFinished, clientFinishedMac(guessed))) } catch (e) { err = e as Refusal }
  t.equal(err?.code, 'ERR_AUTH')
  t.equal(err?.alert, undefined, 'a Finished failure carries no alert')
})

t.test('SPEC 3.4: a ServerHello whose confirmation of k_c is wrong fails the client with ERR_AUTH', async t => {
  // Each case gets the client's real k_c (the fake server holds the server key) and answers wrongly.
  const cases: Array<[string, (kc: Buffer, clientHello: Buffer) => Buffer, boolean]> = [
    ['the v1 echo, k_c || k_s', kc => Buffer.concat([kc, randomBytes(SECRET_LENGTH)]), true],
    ['confirm with its last bit flipped', (kc, ch) => { const c = serverConfirm(kc, ch); c[31]! ^= 1; return Buffer.concat([randomBytes(SECRET_LENGTH), c]) }, true],
    ['confirm over another ClientHello', kc => Buffer.concat([randomBytes(SECRET_LENGTH), serverConfirm(kc, randomBytes(100))]), true],
    ['k_s without confirm', () => randomBytes(SECRET_LENGTH), true],
    ['the right plaintext under an empty label', (kc, ch) => Buffer.concat([randomBytes(SECRET_LENGTH), serverConfirm(kc, ch)]), false],
  ]
  for (const [name, plaintext, labelled] of cases) {
    const fake = await fakeServer((helloFrame, socket) => {
      const ch = parseClientHello(helloFrame)
      const kc = oaepDecrypt(server!.privateKey, ch.encryptedSecret, clientSecretLabel(ch.bound))
      const fields = { cipher: ch.ciphers[0]!, random: randomBytes(32), x25519: x25519KeyPair().publicKey }
      const label = labelled ? serverSecretLabel(helloFrame, serverHelloBound(fields)) : Buffer.alloc(0)
      sendFrame(socket, encodeServerHello({ ...fields, encryptedSecrets: oaepEncrypt(parseSpki(ch.spki), plaintext(kc, helloFrame), label) }))
    })
    await t.rejects(connect({ port: fake.port, privateKey: client!.privateKey, serverPublicKey: server!.publicKey }), { code: 'ERR_AUTH' }, name)
    await fake.close()
  }
})

t.test('SPEC 3.2: an OAEP ciphertext the server cannot open draws an ordinary ServerHello, then ERR_AUTH at Finished', async t => {
  const s = await authServer()
  t.teardown(() => s.close())
  const cases: Array<[string, (kc: Buffer) => Buffer | undefined]> = [
    ['a valid ciphertext (baseline)', () => undefined],
    ['256 random bytes', () => randomBytes(256)],
    ['k_c sealed to another key', kc => oaepEncrypt(wrongServer!.publicKey, kc, Buffer.alloc(0))],
    ['k_c sealed under another ClientHello\'s label', kc => oaepEncrypt(server!.publicKey, kc, clientSecretLabel(randomBytes(64)))],
    ['a valid ciphertext of 31 bytes', kc => oaepEncrypt(server!.publicKey, kc.subarray(1), Buffer.alloc(0))],
    ['an empty ciphertext', () => Buffer.alloc(0)],
  ]
  let baselineLength = 0
  for (const [name, bad] of cases) {
    const { socket, frames } = await rawConnect(s.port)
    const kc = randomBytes(SECRET_LENGTH)
    const badSecret = bad(kc)
    const baseline = badSecret === undefined
    const hello = handBuiltHello({ spki: spkiDer(client!.publicKey), serverPublicKey: server!.publicKey, kc, ...(badSecret ? { encryptedSecret: badSecret } : {}) })
    sendFrame(socket, hello.frame)
    const serverHello = (await frames.next())!
    parseServerHello(serverHello) // throws if it were an alert
    baselineLength ||= serverHello.length
    t.equal(serverHello.length, baselineLength, `${name}: same ServerHello shape as the baseline`)
    const { ks, confirm } = openServerHello(hello.frame, serverHello, client!.privateKey)
    t.equal(confirm.equals(serverConfirm(kc, hello.frame)), baseline, `${name}: the confirmation is ${baseline ? 'of our k_c' : 'of a random stand-in'}`)
    t.notOk(Buffer.concat([ks, confirm]).includes(kc), `${name}: k_c itself never comes back`)
    const serverSide = baseline ? once(s.server, 'secureConnection') : handshakeError(s)
    sendFrame(socket, finishedFrom(hello, serverHello, kc, ks))
    const [outcome, reply] = await Promise.all([serverSide, frames.next()])
    if (baseline) {
      t.ok(reply && parseFinishedOk(reply), `${name}: completes with a ServerFinished`)
    } else {
      t.equal((outcome as SecurePipeError).code, 'ERR_AUTH', `${name}: fails at Finished`)
      t.equal(reply, null, `${name}: no alert`)
    }
    socket.destroy()
  }
})

t.test('SPEC 3.5: a record frame in place of ClientFinished is refused and nothing is delivered', async t => {
  const s = await authServer()
  t.teardown(() => s.close())
  const { socket, frames, sealer, finished } = await keyedRawClient(s.port, client!, server!.publicKey)
  t.teardown(() => socket.destroy())
  const serverSide = handshakeError(s)
  // A correctly keyed data record, then the genuine ClientFinished.
  sendFrame(socket, Buffer.concat(sealer.seal(RECORD_TYPE.data, Buffer.from('early data'))))
  sendFrame(socket, finished)
  const err = await serverSide
  t.ok(err.code === 'ERR_VERSION' || err.code === 'ERR_AUTH', `refused with ${err.code}`)
  t.equal(await frames.next(), null, 'no ServerFinished, no alert')
  t.equal(s.streams.length, 0, 'no secure stream, so no data was delivered')
})
