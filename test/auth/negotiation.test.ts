/**
 * Handshake negotiation and limits (SPEC 3.2, 3.6, 3.7, 7) over real sockets on 127.0.0.1:
 * versions, ciphers, RSA key sizes, the handshake deadline and the cap on concurrent handshakes.
 */
import t from 'tap'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { connect, createServer } from '../../src/net.js'
import { encodeAlert, encodeServerHello, parseClientHello } from '../../src/handshake/messages.js'
import { frameHeader } from '../../src/framing/frame.js'
import { oaepEncrypt, parseSpki } from '../../src/crypto/rsa.js'
import { x25519KeyPair } from '../../src/crypto/x25519.js'
import { ALERT, RECORD_TYPE, type CipherName } from '../../src/constants.js'
import type { SecurePipeError } from '../../src/errors.js'
import type { SecureStream } from '../../src/session.js'
import { collect, fakeServer, handBuiltHello, keyedRawClient, rawConnect, rsaPairs, sendFrame, spkiDer, testServer, until, type TestServer } from './wire.js'

const [server, client, weak] = await rsaPairs(2048, 2048, 1024)

async function plainServer(extra: { ciphers?: CipherName[], handshakeTimeoutMs?: number, maxHandshakes?: number } = {}): Promise<TestServer> {
  return testServer({ privateKey: server!.privateKey, authorizedKeys: [client!.publicKey], ...extra })
}

function handshakeError(s: TestServer): Promise<SecurePipeError> {
  return once(s.server, 'handshakeError').then(([err]) => err as SecurePipeError)
}

function dial(port: number, extra: { ciphers?: CipherName[], handshakeTimeoutMs?: number } = {}): Promise<SecureStream> {
  return connect({ port, privateKey: client!.privateKey, serverPublicKey: server!.publicKey, ...extra })
}

/** Send `text` from the client and read it on the server: proof the session works. */
async function roundTrip(s: TestServer, c: SecureStream, text: string): Promise<string> {
  await until(() => s.streams.length > 0)
  const received = collect(s.streams.at(-1)!)
  c.end(text)
  return (await received).toString()
}

/** SPEC 12: a version-1 ClientHello as v1 clients sent it: no server key id, k_c under an empty OAEP label. */
function v1ClientHello(): Buffer {
  const spki = spkiDer(client!.publicKey)
  const len = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff])
  const ct = oaepEncrypt(server!.publicKey, randomBytes(32), Buffer.alloc(0))
  return Buffer.concat([Buffer.from('SPIP'), Buffer.from([1, 1, 2, 1, 2]), randomBytes(32), x25519KeyPair().publicKey, len(spki.length), spki, len(ct.length), ct])
}

t.test('SPEC 3.2, 3.6, 12: a version-1 ClientHello draws a version alert; the error names both versions', async t => {
  const s = await plainServer()
  t.teardown(() => s.close())
  const { socket, frames } = await rawConnect(s.port)
  t.teardown(() => socket.destroy())
  const serverSide = handshakeError(s)
  sendFrame(socket, v1ClientHello())
  const alert = (await frames.next())!
  t.same(alert, encodeAlert(ALERT.version), 'one version alert: SPIP 02 0f 02')
  t.same(alert, Buffer.from('5350495002' + '0f02', 'hex'))
  t.equal(await frames.next(), null, 'then the server closes')
  const err = await serverSide
  t.match(err, { code: 'ERR_VERSION', message: /version 1/ })
  t.match(err.message, /version 2/)
  t.equal(s.streams.length, 0)
})

t.test('SPEC 3.2, 3.6: a client gets ERR_VERSION naming both versions from a version-1 alert or a version-3 ServerHello', async t => {
  const replies: Array<[string, (hello: Buffer) => Buffer, RegExp]> = [
    ['a v1 server\'s version alert', () => Buffer.from('5350495001' + '0f02', 'hex'), /version 1.*version 2/],
    ['a version-3 ServerHello', helloFrame => {
      const ch = parseClientHello(helloFrame)
      const reply = encodeServerHello({ cipher: ch.ciphers[0]!, random: randomBytes(32), x25519: x25519KeyPair().publicKey, encryptedSecrets: oaepEncrypt(parseSpki(ch.spki), randomBytes(64), Buffer.alloc(0)) })
      reply[4] = 3
      return reply
    }, /version 3.*version 2/],
  ]
  for (const [what, reply, message] of replies) {
    const fake = await fakeServer((helloFrame, socket) => sendFrame(socket, reply(helloFrame)))
    await t.rejects(dial(fake.port), { code: 'ERR_VERSION', message }, what)
    await fake.close()
  }
})

t.test('SPEC 3.2, 3.6: no common cipher fails the client with ERR_VERSION', async t => {
  const s = await plainServer({ ciphers: ['aes-256-ccm'] })
  t.teardown(() => s.close())
  const serverSide = handshakeError(s)
  await t.rejects(dial(s.port, { ciphers: ['aes-128-ccm'] }), { code: 'ERR_VERSION' })
  t.equal((await serverSide).code, 'ERR_VERSION')
  t.equal(s.streams.length, 0)
})

t.test('SPEC 3.1, 3.3: aes-128-ccm and aes-256-ccm both negotiate', async t => {
  const cases: Array<[string, CipherName[] | undefined, CipherName[] | undefined, CipherName]> = [
    ['client offers only aes-128-ccm', ['aes-128-ccm'], undefined, 'aes-128-ccm'],
    ['client offers only aes-256-ccm', ['aes-256-ccm'], undefined, 'aes-256-ccm'],
    ['defaults: the client\'s first choice', undefined, undefined, 'aes-128-ccm'],
    ['server allows only aes-256-ccm', undefined, ['aes-256-ccm'], 'aes-256-ccm'],
  ]
  for (const [name, offered, allowed, expected] of cases) {
    const s = await plainServer(allowed ? { ciphers: allowed } : {})
    const c = await dial(s.port, offered ? { ciphers: offered } : {})
    t.equal(c.cipher, expected, `${name}: client side`)
    t.equal(await roundTrip(s, c, `via ${expected}`), `via ${expected}`, `${name}: data flows`)
    const peer = s.streams[0]!
    t.equal(peer.cipher, expected, `${name}: server side`)
    t.same(peer.handshakeHash, c.handshakeHash, `${name}: same th on both ends`)
    c.destroy()
    await s.close()
  }
})

t.test('SPEC 3.7: RSA keys under 2048 bits are refused with ERR_KEY', async t => {
  await t.rejects(async () => connect({ port: 1, privateKey: weak!.privateKey, serverPublicKey: server!.publicKey }), { code: 'ERR_KEY' }, 'client private key')
  await t.rejects(async () => connect({ port: 1, privateKey: client!.privateKey, serverPublicKey: weak!.publicKey }), { code: 'ERR_KEY' }, 'pinned server key')
  t.throws(() => createServer({ privateKey: weak!.privateKey, authorizedKeys: [client!.publicKey] }), { code: 'ERR_KEY' }, 'server private key')
  t.throws(() => createServer({ privateKey: server!.privateKey, authorizedKeys: [client!.publicKey, weak!.publicKey] }), { code: 'ERR_KEY' }, 'an authorized key')

  // A hand-built client presenting a 1024-bit key it owns: not authorized, so refused before any RSA work.
  const s = await plainServer()
  t.teardown(() => s.close())
  const { socket, frames } = await rawConnect(s.port)
  t.teardown(() => socket.destroy())
  const serverSide = handshakeError(s)
  sendFrame(socket, handBuiltHello({ spki: spkiDer(weak!.publicKey), serverPublicKey: server!.publicKey }).frame)
  t.same(await frames.next(), encodeAlert(ALERT.auth))
  t.equal((await serverSide).code, 'ERR_AUTH')
})

t.test('SPEC 3.7: a silent peer times the handshake out with ERR_TIMEOUT', async t => {
  const s = await plainServer({ handshakeTimeoutMs: 300 })
  t.teardown(() => s.close())
  const serverSide = handshakeError(s)
  const started = Date.now()
  const { socket } = await rawConnect(s.port)
  t.teardown(() => socket.destroy())
  t.equal((await serverSide).code, 'ERR_TIMEOUT', 'server, against a client that sends nothing')
  t.ok(Date.now() - started >= 250, 'not before the deadline')

  const fake = await fakeServer(() => {})
  t.teardown(() => fake.close())
  await t.rejects(dial(fake.port, { handshakeTimeoutMs: 300 }), { code: 'ERR_TIMEOUT' }, 'client, against a server that never answers')
})

t.test('SPEC 7: with maxHandshakes 1, a stalled connection delays an honest client until it times out', async t => {
  const s = await plainServer({ maxHandshakes: 1, handshakeTimeoutMs: 400 })
  t.teardown(() => s.close())
  const stalledError = handshakeError(s)
  const stalled = await rawConnect(s.port)
  t.teardown(() => stalled.socket.destroy())
  // A whole ClientHello, then silence: only a connection whose first frame is whole takes a slot (SPEC 7.3).
  sendFrame(stalled.socket, handBuiltHello({ spki: spkiDer(client!.publicKey), serverPublicKey: server!.publicKey }).frame)
  await until(() => s.server.handshakes.active === 1)
  const started = Date.now()
  const pending = dial(s.port, { handshakeTimeoutMs: 5000 })
  await until(() => s.server.handshakes.waiting === 1)
  t.same(s.server.handshakes, { active: 1, waiting: 1 }, 'the second connection waits for the slot')
  const c = await pending
  const clientErrors: SecurePipeError[] = []
  c.on('error', (e: SecurePipeError) => clientErrors.push(e))
  t.teardown(() => c.destroy())
  const waited = Date.now() - started
  t.equal((await stalledError).code, 'ERR_TIMEOUT', 'the stalled connection timed out')
  t.ok(waited >= 300 && waited < 3000, `the honest client completed after the stalled one gave up (${waited} ms)`)
  // Past the waiting connection's own arrival deadline, its session must still work.
  await new Promise(r => setTimeout(r, Math.max(0, started + 600 - Date.now())))
  t.same(clientErrors.map(e => e.code), [], 'the server did not cut the session at the waiting deadline')
  t.equal(await roundTrip(s, c, 'after the wait'), 'after the wait', 'the session outlives the wait deadline')
})

t.test('SPEC 2.3, 3.7: a ClientHello frame cut off is ERR_TRUNCATED; an end between handshake frames is ERR_NETWORK', async t => {
  const s = await plainServer()
  t.teardown(() => s.close())
  const hello = handBuiltHello({ spki: spkiDer(client!.publicKey), serverPublicKey: server!.publicKey }).frame
  const cases: Array<[string, Buffer, string]> = [
    ['half a frame', Buffer.concat([frameHeader(hello.length), hello.subarray(0, 100)]), 'ERR_TRUNCATED'],
    ['half a varint', Buffer.from([0x80]), 'ERR_TRUNCATED'],
    ['nothing at all', Buffer.alloc(0), 'ERR_NETWORK'],
  ]
  for (const [what, bytes, code] of cases) {
    const { socket } = await rawConnect(s.port)
    const serverSide = handshakeError(s)
    socket.end(bytes)
    t.equal((await serverSide).code, code, `${what}: ${code}`)
    socket.destroy()
  }
  t.equal(s.streams.length, 0)
})

t.test('SPEC 3.5: records that arrive in the same write as ClientFinished are records: the server releases them', async t => {
  const s = await plainServer()
  t.teardown(() => s.close())
  const { socket, sealer, finished } = await keyedRawClient(s.port, client!, server!.publicKey)
  t.teardown(() => socket.destroy())
  const body = (parts: Buffer[]): Buffer => { const b = Buffer.concat(parts); return Buffer.concat([frameHeader(b.length), b]) }
  const secured = once(s.server, 'secureConnection')
  // ClientFinished, a data record and the close record in one write (a client that did not wait is still refused by 3.5's MUST NOT; the server reads what is valid).
  socket.write(Buffer.concat([body([finished]), body(sealer.seal(RECORD_TYPE.data, Buffer.from('right behind'))), body(sealer.seal(RECORD_TYPE.close, Buffer.alloc(0)))]))
  const [stream] = (await secured) as [SecureStream]
  const [chunk] = (await once(stream, 'data')) as [Buffer]
  t.equal(chunk.toString(), 'right behind')
})
