/**
 * SPEC 3.4, 4.2 at the client: a server that answers with a low-order X25519 share (so the
 * shared secret would be all zero, and the session keys would depend on k_c and k_s alone) is
 * refused with ERR_AUTH, and the client sends nothing more: no ClientFinished, no alert.
 * The hostile server is built from the library's own message functions and holds the pinned
 * server key, so everything else in its ServerHello is right: the share is the only fault.
 */
import t from 'tap'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { connect } from '../../src/net.js'
import { encodeServerHello, parseClientHello, serverHelloBound } from '../../src/handshake/messages.js'
import { clientSecretLabel, serverConfirm, serverSecretLabel } from '../../src/handshake/keyschedule.js'
import { oaepDecrypt, oaepEncrypt, parseSpki } from '../../src/crypto/rsa.js'
import { x25519KeyPair } from '../../src/crypto/x25519.js'
import { MSG, SECRET_LENGTH } from '../../src/constants.js'
import { hex, loadWycheproof, type XdhGroup } from '../helpers/wycheproof.js'
import { fakeServer, rsaPairs, sendFrame } from './wire.js'

const [server, client] = await rsaPairs(2048, 2048)

/**
 * The low-order points of Curve25519 and its twist (0, 1, the two points of order 8, p - 1, p,
 * p + 1), each also with bit 255 set, which RFC 7748 section 5 says a receiver must mask.
 */
const CANONICAL = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
]
const LOW_ORDER = CANONICAL.flatMap(p => [p, p.slice(0, 62) + (parseInt(p.slice(62), 16) | 0x80).toString(16)])

/** What the client sent after the ServerHello, and when it hung up. */
interface Answer { after: Buffer, closed: Promise<unknown> }

/** A server holding the pinned key, honest except that its X25519 share is `share`. */
async function serverWithShare(share: Buffer): Promise<{ port: number, answer: Promise<Answer>, close(): Promise<void> }> {
  let resolve!: (a: Answer) => void
  const answer = new Promise<Answer>(r => { resolve = r })
  const fake = await fakeServer((helloFrame, socket: Socket) => {
    const ch = parseClientHello(helloFrame)
    const kc = oaepDecrypt(server!.privateKey, ch.encryptedSecret, clientSecretLabel(ch.bound))
    const fields = { cipher: ch.ciphers[0]!, random: randomBytes(32), x25519: share }
    const secrets = Buffer.concat([randomBytes(SECRET_LENGTH), serverConfirm(kc, helloFrame)])
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c)) // only bytes sent after the ClientHello arrive here
    const closed = once(socket, 'close')
    sendFrame(socket, encodeServerHello({ ...fields, encryptedSecrets: oaepEncrypt(parseSpki(ch.spki), secrets, serverSecretLabel(helloFrame, serverHelloBound(fields))) }))
    resolve({ get after() { return Buffer.concat(chunks) }, closed })
  })
  return { port: fake.port, answer, close: () => fake.close() }
}

t.test('SPEC 4.2: the list is every public key Wycheproof marks ZeroSharedSecret', async t => {
  const zero = new Set(loadWycheproof<XdhGroup>('x25519_test.json').testGroups.flatMap(g => g.tests)
    .filter(v => v.flags.includes('ZeroSharedSecret')).map(v => v.public))
  t.same([...zero].sort(), [...LOW_ORDER].sort(), `${LOW_ORDER.length} encodings`)
})

t.test('SPEC 4.2 (control): the same hostile server with an ordinary share gets a ClientFinished', async t => {
  const s = await serverWithShare(x25519KeyPair().publicKey)
  t.teardown(() => s.close())
  const connecting = connect({ port: s.port, privateKey: client!.privateKey, serverPublicKey: server!.publicKey, handshakeTimeoutMs: 2000 })
  connecting.catch(() => {}) // no ServerFinished ever comes: the client times out
  const answer = await s.answer
  const deadline = Date.now() + 5000
  while (answer.after.length === 0 && Date.now() < deadline) await new Promise(r => setTimeout(r, 5))
  // A frame of a 1-byte varint length, then the message: magic (4), version (1), type (1), MAC (32).
  t.equal(answer.after[1 + 5], MSG.clientFinished, 'the client answered with ClientFinished: only the share differs below')
  await t.rejects(connecting, 'and then waits in vain for ServerFinished')
})

t.test('SPEC 3.4, 4.2: a ServerHello with a low-order X25519 share fails with ERR_AUTH; no ClientFinished, no alert, no data', async t => {
  for (const point of LOW_ORDER) {
    const s = await serverWithShare(hex(point))
    const connecting = connect({ port: s.port, privateKey: client!.privateKey, serverPublicKey: server!.publicKey, handshakeTimeoutMs: 5000 })
    await t.rejects(connecting, { code: 'ERR_AUTH', message: /invalid X25519 share/ }, `${point}: ERR_AUTH`)
    const answer = await s.answer
    await answer.closed
    t.equal(answer.after.length, 0, `${point}: the client sent nothing after the ServerHello, and hung up`)
    await s.close()
  }
})
