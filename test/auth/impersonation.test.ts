/**
 * Server impersonation (SPEC 3.1-3.5, 13.1-13.4), mounted the way an attacker would: a
 * man-in-the-middle on 127.0.0.1 built from the library's own message functions, between a real
 * client (`connect`) and a real server (`createServer`). Version 1 fell to the first of these:
 * an authorized client swapped its own key into a victim's ClientHello and the server echoed
 * the victim's k_c back to it. Each test asserts the victim's error code and that no data was
 * released to, or accepted from, the attacker.
 */
import t from 'tap'
import { once } from 'node:events'
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { connect } from '../../src/net.js'
import { SecureStream } from '../../src/session.js'
import { ClientHandshake } from '../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import {
  encodeClientHello, encodeFinished, encodeServerHello, parseClientHello, parseServerHello, serverHelloBound,
} from '../../src/handshake/messages.js'
import { clientSecretLabel, serverConfirm, serverSecretLabel } from '../../src/handshake/keyschedule.js'
import { oaepDecrypt, oaepEncrypt, spkiDer } from '../../src/crypto/rsa.js'
import { x25519KeyPair } from '../../src/crypto/x25519.js'
import { MSG, SECRET_LENGTH } from '../../src/constants.js'
import type { SecurePipeError } from '../../src/errors.js'
import { closeServer, frameReader, listen, openServerHello, rsaPairs, sendFrame, testServer, until, type FrameReader, type TestServer } from './wire.js'
import { fingerprint } from '../../src/keys/load.js'

const [server, victim, mallory, rotated] = await rsaPairs(2048, 2048, 2048, 2048)

async function realServer(): Promise<TestServer> {
  const s = await testServer({ privateKey: server!.privateKey, authorizedKeys: [victim!.publicKey, mallory!.publicKey] })
  s.server.on('handshakeError', () => {})
  return s
}

/** A man in the middle: each victim connection is handed to `attack` with a frame reader on it. */
async function middle(attack: (victim: Socket, frames: FrameReader) => Promise<void>): Promise<{ port: number, done: Promise<void>, close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let resolve!: () => void
  const done = new Promise<void>(r => { resolve = r })
  const mitm = netCreateServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    attack(socket, frameReader(socket)).finally(resolve)
  })
  const port = await listen(mitm)
  return { port, done, close: () => closeServer(mitm, sockets) }
}

/** A raw connection to the real server, for the attacker's own side. */
async function dialServer(port: number): Promise<{ socket: Socket, frames: FrameReader }> {
  const socket = netConnect({ host: '127.0.0.1', port })
  const frames = frameReader(socket)
  await once(socket, 'connect')
  return { socket, frames }
}

/** The victim: a real client that writes a secret as soon as it can. Its k_c is recorded for the assertions. */
function victimClient(port: number, opts: { serverPublicKey?: typeof server } = {}): { stream: Promise<SecureStream>, kc: () => Buffer, released: Buffer[] } {
  const drawn: Buffer[] = []
  const machine = new ClientHandshake({
    privateKey: victim!.privateKey, serverPublicKey: (opts.serverPublicKey ?? server)!.publicKey,
    random: n => { const b = randomBytes(n); drawn.push(Buffer.from(b)); return b },
  })
  const socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true })
  const stream = new SecureStream(socket, machine)
  const released: Buffer[] = []
  stream.on('data', (c: Buffer) => released.push(c))
  stream.write('the victim\'s secret')
  // An unexpected success is torn down at once, so that a broken check fails its test rather than hanging it.
  const secured = new Promise<SecureStream>((resolve, reject) => {
    stream.once('error', reject)
    stream.once('secure', () => { resolve(stream); setTimeout(() => stream.destroy(), 50) })
  })
  return { stream: secured, kc: () => drawn[0]!, released }
}

t.test('SPEC 3.1, 3.3, 13.1: an authorized insider who swaps its key into the victim\'s ClientHello learns nothing of k_c; the victim fails with ERR_AUTH', async t => {
  const s = await realServer()
  t.teardown(() => s.close())
  let learned: Buffer | null = null
  let victimHello: Buffer | null = null
  let victimFrames = 0
  const attacker = await middle(async (victimSocket, fromVictim) => {
    const vch = (await fromVictim.next())!
    victimHello = vch
    victimFrames++
    const parsed = parseClientHello(vch)
    // Mallory's own key and share, the victim's encrypted k_c: the v1 attack.
    const eph = x25519KeyPair()
    const swapped = encodeClientHello({ ...parsed, x25519: eph.publicKey, spki: spkiDer(mallory!.publicKey) })
    const up = await dialServer(s.port)
    sendFrame(up.socket, swapped)
    const serverHello = (await up.frames.next())!
    const { ks, confirm } = openServerHello(swapped, serverHello, mallory!.privateKey)
    learned = Buffer.concat([ks, confirm])
    // Her best answer to the victim: her own share, a k_s of her own, the confirmation the server gave her.
    const fields = { cipher: parseServerHello(serverHello).cipher, random: randomBytes(32), x25519: x25519KeyPair().publicKey }
    const sealed = oaepEncrypt(victim!.publicKey, Buffer.concat([randomBytes(SECRET_LENGTH), confirm]), serverSecretLabel(vch, serverHelloBound(fields)))
    sendFrame(victimSocket, encodeServerHello({ ...fields, encryptedSecrets: sealed }))
    while (await fromVictim.next()) victimFrames++
    up.socket.destroy()
  })
  t.teardown(() => attacker.close())
  const v = victimClient(attacker.port)
  await t.rejects(v.stream, { code: 'ERR_AUTH' }, 'the victim refuses the forged ServerHello')
  await attacker.done
  const kc = v.kc()
  t.ok(learned, 'the attacker got an answer from the real server')
  t.notOk(learned!.includes(kc), 'k_c is nowhere in what the server sealed to the attacker')
  t.notOk(learned!.subarray(SECRET_LENGTH).equals(serverConfirm(kc, victimHello!)), 'and the confirmation is not one for the victim\'s k_c')
  t.equal(victimFrames, 1, 'the victim sent its ClientHello and nothing else: no record reached the attacker')
  t.same(v.released, [], 'the victim released nothing')
  t.equal(s.streams.length, 0, 'the real server never completed a session')
})

t.test('SPEC 3.2, 13.1: the server\'s answer to a swapped ClientHello carries a confirmation of a random stand-in, not of k_c', async t => {
  // Machines only: the exact values, with the server's private key as the test's oracle.
  const honest = new ClientHandshake({ privateKey: victim!.privateKey, serverPublicKey: server!.publicKey })
  const vch = honest.clientHello
  const parsed = parseClientHello(vch)
  const kc = oaepDecrypt(server!.privateKey, parsed.encryptedSecret, clientSecretLabel(parsed.bound))
  const swapped = encodeClientHello({ ...parsed, spki: spkiDer(mallory!.publicKey) })
  const machine = new ServerHandshake({ privateKey: server!.privateKey, authorizedKeys: new AuthorizedKeys([victim!.publicKey, mallory!.publicKey]) })
  const reply = await machine.onClientHello(swapped)
  const { ks, confirm } = openServerHello(swapped, reply, mallory!.privateKey)
  t.notOk(Buffer.concat([ks, confirm]).includes(kc), 'k_c does not come back')
  t.notOk(confirm.equals(serverConfirm(kc, swapped)), 'the confirmation is of the fallback: the label bound k_c to the victim\'s ClientHello')
  t.notOk(confirm.equals(serverConfirm(kc, vch)), 'and useless against the victim\'s ClientHello')
  t.throws(() => honest.onServerHello(reply), { code: 'ERR_AUTH' }, 'forwarded to the victim, it fails')
})

t.test('SPEC 3.4, 3.5, 13.2: with the victim\'s stolen private key (key compromise), the attacker still cannot impersonate the server', async t => {
  const s = await realServer()
  t.teardown(() => s.close())
  let learned: Buffer | null = null
  const attacker = await middle(async (victimSocket, fromVictim) => {
    const vch = (await fromVictim.next())!
    const up = await dialServer(s.port)
    sendFrame(up.socket, vch) // forwarded unchanged
    const serverHello = (await up.frames.next())!
    const { ks, confirm } = openServerHello(vch, serverHello, victim!.privateKey) // the stolen key opens it
    learned = Buffer.concat([ks, confirm])
    // The confirmation is valid for this ClientHello, so she reuses it with her own share...
    const fields = { cipher: parseServerHello(serverHello).cipher, random: randomBytes(32), x25519: x25519KeyPair().publicKey }
    const sealed = oaepEncrypt(victim!.publicKey, Buffer.concat([ks, confirm]), serverSecretLabel(vch, serverHelloBound(fields)))
    sendFrame(victimSocket, encodeServerHello({ ...fields, encryptedSecrets: sealed }))
    // ...but without k_c she cannot key ServerFinished: she sends her best guess.
    if (await fromVictim.next()) sendFrame(victimSocket, encodeFinished(MSG.serverFinished, randomBytes(32)))
    while (await fromVictim.next()) { /* drain */ }
    up.socket.destroy()
  })
  t.teardown(() => attacker.close())
  const v = victimClient(attacker.port)
  const err = await v.stream.then(() => null, (e: SecurePipeError) => e)
  t.equal(err?.code, 'ERR_AUTH', 'the victim fails at ServerFinished')
  t.match(err?.message, /Finished/)
  await attacker.done
  t.notOk(learned!.includes(v.kc()), 'even the holder of the victim\'s private key never sees k_c')
  t.same(v.released, [], 'the victim released nothing')
})

t.test('SPEC 3.5: a ServerFinished with one bit flipped, or a forged one, is refused; nothing from the server is released', async t => {
  const cases: Array<[string, (f: Buffer) => Buffer]> = [
    ['one MAC bit flipped', f => { const b = Buffer.from(f); b[b.length - 1]! ^= 1; return b }],
    ['a random MAC', f => Buffer.concat([f.subarray(0, f.length - 32), randomBytes(32)])],
    ['the ClientFinished reflected', f => f],
  ]
  for (const [name, tamper] of cases) {
    const s = await testServer({ privateKey: server!.privateKey, authorizedKeys: [victim!.publicKey] })
    s.server.on('handshakeError', () => {})
    s.server.on('secureConnection', (st: SecureStream) => st.write('from the server, sent right after ServerFinished'))
    let recordsFromVictim = 0
    const proxy = await middle(async (victimSocket, fromVictim) => {
      const up = await dialServer(s.port)
      sendFrame(up.socket, (await fromVictim.next())!)
      sendFrame(victimSocket, (await up.frames.next())!) // ServerHello, untouched
      const clientFinished = (await fromVictim.next())!
      sendFrame(up.socket, clientFinished)
      const serverFinished = (await up.frames.next())!
      sendFrame(victimSocket, name.includes('reflected') ? Buffer.concat([serverFinished.subarray(0, 5), Buffer.from([MSG.serverFinished]), clientFinished.subarray(6)]) : tamper(serverFinished))
      const forward = (async () => { for (let f = await up.frames.next(); f; f = await up.frames.next()) sendFrame(victimSocket, f) })() // the server's records
      while (await fromVictim.next()) recordsFromVictim++
      up.socket.destroy()
      await forward
    })
    const v = victimClient(proxy.port)
    await t.rejects(v.stream, { code: 'ERR_AUTH' }, `${name}: ERR_AUTH`)
    await proxy.done
    t.same(v.released, [], `${name}: no record from the server was released`)
    t.equal(recordsFromVictim, 0, `${name}: the victim sent no record`)
    await proxy.close()
    await s.close()
  }
})

t.test('SPEC 3.1, 3.3, 13.3: an OAEP field moved into another handshake fails with ERR_AUTH', async t => {
  const authorized = new AuthorizedKeys([victim!.publicKey])
  const serverMachine = (): ServerHandshake => new ServerHandshake({ privateKey: server!.privateKey, authorizedKeys: authorized })
  // The client's field, moved from one ClientHello into another of the same client.
  const first = new ClientHandshake({ privateKey: victim!.privateKey, serverPublicKey: server!.publicKey })
  const second = new ClientHandshake({ privateKey: victim!.privateKey, serverPublicKey: server!.publicKey })
  const moved = encodeClientHello({ ...parseClientHello(second.clientHello), encryptedSecret: parseClientHello(first.clientHello).encryptedSecret })
  const reply = await serverMachine().onClientHello(moved)
  t.throws(() => second.onServerHello(reply), { code: 'ERR_AUTH' }, 'client side: the confirmation is not of its k_c')

  // The server's field, moved from one ServerHello into another answering the same ClientHello.
  const client = new ClientHandshake({ privateKey: victim!.privateKey, serverPublicKey: server!.publicKey })
  const a = parseServerHello(await serverMachine().onClientHello(client.clientHello))
  const b = parseServerHello(await serverMachine().onClientHello(client.clientHello))
  const spliced = encodeServerHello({ ...b, encryptedSecrets: a.encryptedSecrets })
  t.throws(() => client.onServerHello(spliced), { code: 'ERR_AUTH' }, 'the label binds the server\'s field to its own random and share')
})

t.test('SPEC 3.2, 13.4: a server holding two keys (rotation) serves clients pinned to either; a third key gets the server-key alert', async t => {
  const s = await testServer({ privateKey: [server!.privateKey, rotated!.privateKey], authorizedKeys: [victim!.publicKey] })
  t.teardown(() => s.close())
  for (const pinned of [server!, rotated!]) {
    const c = await connect({ port: s.port, privateKey: victim!.privateKey, serverPublicKey: pinned.publicKey })
    t.equal(c.peerFingerprint, fingerprint(pinned.publicKey), 'connected to the pinned key')
    await until(() => s.streams.length > 0)
    t.equal(s.streams.shift()!.localFingerprint, fingerprint(pinned.publicKey), 'the server sees which of its keys this client pinned')
    t.equal(c.localFingerprint, fingerprint(victim!.publicKey))
    c.destroy()
  }
  await t.rejects(connect({ port: s.port, privateKey: victim!.privateKey, serverPublicKey: mallory!.publicKey }), { code: 'ERR_AUTH', message: /does not hold the key you pinned/ })
})

t.test('SPEC 4.4: k_c, k_s and the fallback are zeroed once the handshake no longer needs them', async t => {
  const drawn: { client: Buffer[], server: Buffer[] } = { client: [], server: [] }
  const recorder = (into: Buffer[]) => (n: number): Buffer => { const b = randomBytes(n); into.push(b); return b }
  const client = new ClientHandshake({ privateKey: victim!.privateKey, serverPublicKey: server!.publicKey, random: recorder(drawn.client) })
  const machine = new ServerHandshake({ privateKey: server!.privateKey, authorizedKeys: new AuthorizedKeys([victim!.publicKey]), random: recorder(drawn.server) })
  const serverHello = await machine.onClientHello(client.clientHello)
  const { serverFinished, keys } = machine.onClientFinished(client.onServerHello(serverHello))
  const clientKeys = client.onServerFinished(serverFinished)
  const zero = Buffer.alloc(32)
  t.same(drawn.client[0], zero, 'client: k_c')
  t.same(drawn.server[0], zero, 'server: the fallback')
  t.same(drawn.server[1], zero, 'server: k_s')
  t.notSame(drawn.client[1], zero, 'the client random is public and stays')
  t.notSame(keys.send.secret, zero, 'the traffic secrets go to the record layer')
  t.same(keys.send.secret, clientKeys.receive.secret, 'and agree')
})

t.test('SPEC 3.2: a ClientHello refused by the replay check gets ERR_AUTH and no alert, before any RSA work', async t => {
  const seen = new Set<string>()
  const machine = (): ServerHandshake => new ServerHandshake({
    privateKey: server!.privateKey, authorizedKeys: new AuthorizedKeys([victim!.publicKey]),
    replayCheck: r => !seen.has(r.toString('hex')) && Boolean(seen.add(r.toString('hex'))),
  })
  const hello = new ClientHandshake({ privateKey: victim!.privateKey, serverPublicKey: server!.publicKey }).clientHello
  t.ok(await machine().onClientHello(hello), 'first time: answered')
  const err = await machine().onClientHello(hello).then(() => null, (e: SecurePipeError & { alert?: number }) => e)
  t.equal(err?.code, 'ERR_AUTH', 'the replay is refused')
  t.equal(err?.alert, undefined, 'without an alert')
})
