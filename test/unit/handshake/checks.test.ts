/**
 * Handshake checks that mutation testing (`npm run mutate`) found no test for: the client
 * refuses a cipher it did not offer even from the real key holder (SPEC 3.4), each side's keys
 * run in the direction SPEC 5.3 gives them, an alert is only an alert-type message (SPEC 3.6),
 * and the state machines refuse empty key and cipher lists when built.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { DIRECTION, MSG, ALERT, MAGIC, VERSION, type CipherName } from '../../../src/constants.js'
import { oaepDecrypt, oaepEncrypt } from '../../../src/crypto/rsa.js'
import { x25519KeyPair } from '../../../src/crypto/x25519.js'
import { ClientHandshake } from '../../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../../src/handshake/server.js'
import { clientSecretLabel, serverConfirm, serverSecretLabel } from '../../../src/handshake/keyschedule.js'
import { encodeServerHello, parseClientHello, parseServerHello, serverHelloBound } from '../../../src/handshake/messages.js'
import { testKeys } from '../../helpers/keys.js'

/**
 * A server that holds the pinned key (so it can read k_c and confirm it) but answers with the
 * cipher it likes, built from the library's own message functions.
 */
async function keyHolderServerHello(clientHello: Buffer, cipher: CipherName): Promise<Buffer> {
  const { server, client } = await testKeys()
  const ch = parseClientHello(clientHello)
  const kc = oaepDecrypt(server.privateKey, ch.encryptedSecret, clientSecretLabel(ch.bound))
  const fields = { cipher, random: randomBytes(32), x25519: x25519KeyPair().publicKey }
  const sealed = Buffer.concat([randomBytes(32), serverConfirm(kc, clientHello)])
  return encodeServerHello({ ...fields, encryptedSecrets: oaepEncrypt(client.publicKey, sealed, serverSecretLabel(clientHello, serverHelloBound(fields))) })
}

t.test('SPEC 3.4: a ServerHello choosing a cipher the client did not offer is ERR_VERSION, even from the key holder; no ClientFinished', async t => {
  const { server, client } = await testKeys()
  const offer = (): ClientHandshake => new ClientHandshake({ privateKey: client.privateKey, serverPublicKey: server.publicKey, ciphers: ['aes-128-ccm'] })
  const control = offer()
  t.ok(control.onServerHello(await keyHolderServerHello(control.clientHello, 'aes-128-ccm')).length > 0, 'control: the same forged answer with the offered cipher is accepted')
  const victim = offer()
  const downgraded = await keyHolderServerHello(victim.clientHello, 'aes-256-ccm')
  let clientFinished: Buffer | undefined
  t.throws(() => { clientFinished = victim.onServerHello(downgraded) }, { code: 'ERR_VERSION' })
  t.equal(clientFinished, undefined, 'the client answered nothing')
})

t.test('SPEC 4.3, 5.3: the client sends under c2s (direction 0), the server under s2c (direction 1); one side\'s send is the other\'s receive', async t => {
  const { server, client } = await testKeys()
  const c = new ClientHandshake({ privateKey: client.privateKey, serverPublicKey: server.publicKey })
  const s = new ServerHandshake({ privateKey: server.privateKey, authorizedKeys: new AuthorizedKeys([client.publicKey]) })
  const { serverFinished, keys: sk } = s.onClientFinished(c.onServerHello(await s.onClientHello(c.clientHello)))
  const ck = c.onServerFinished(serverFinished)
  t.same([ck.send.direction, ck.receive.direction], [DIRECTION.c2s, DIRECTION.s2c], 'client')
  t.same([sk.send.direction, sk.receive.direction], [DIRECTION.s2c, DIRECTION.c2s], 'server')
  t.ok(ck.send.secret.equals(sk.receive.secret) && ck.receive.secret.equals(sk.send.secret), 'secrets pair up')
  t.notOk(ck.send.secret.equals(ck.receive.secret), 'the two directions have different secrets')
  for (const k of [ck.send, ck.receive, sk.send, sk.receive]) {
    t.equal(k.cipher, 'aes-128-ccm')
    t.equal(k.secret.length, 32)
  }
})

t.test('SPEC 3.6: a ServerHello-type message of one byte is malformed, not an alert', async t => {
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION])])
  t.throws(() => parseServerHello(Buffer.concat([header, Buffer.from([MSG.serverHello, ALERT.auth])])), { code: 'ERR_VERSION' })
  t.throws(() => parseServerHello(Buffer.concat([header, Buffer.from([MSG.alert, ALERT.auth])])), { code: 'ERR_AUTH' }, 'control: the real alert')
})

t.test('SPEC 3.1, 3.2: an empty cipher list or an empty server key list is refused when the machine is built', async t => {
  const { server, client } = await testKeys()
  t.throws(() => new ClientHandshake({ privateKey: client.privateKey, serverPublicKey: server.publicKey, ciphers: [] }), RangeError)
  t.throws(() => new ServerHandshake({ privateKey: [], authorizedKeys: new AuthorizedKeys([client.publicKey]) }), RangeError)
})
