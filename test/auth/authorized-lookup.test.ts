/**
 * issue 17 section 2, the library side: `createServer({ authorizedKeys: () => keys })` asks at
 * each connection, as sshd reads authorized_keys; a revoked key is refused (ERR_AUTH) from the
 * next connection on, while a session already open continues (as with sshd). A lookup that
 * throws refuses (fail closed). And a key option that is not a KeyObject names its type.
 */
import t from 'tap'
import { once } from 'node:events'
import type { KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { connect, createServer, type SecureStream } from '../../src/index.js'
import { pem, testKeys } from '../helpers/keys.js'

t.test('issue 17 s2: a function for authorizedKeys is asked per connection; revocation refuses the next one, an open session continues', async t => {
  const k = await testKeys()
  let allowed: readonly KeyObject[] = [k.client.publicKey]
  let asked = 0
  const received: Buffer[] = []
  const server = createServer({ privateKey: k.server.privateKey, authorizedKeys: () => { asked++; return allowed } }, s => { s.on('data', (c: Buffer) => received.push(c)) })
  const errors: string[] = []
  server.on('handshakeError', err => errors.push(err.code))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const port = (server.address() as { port: number }).port
  const dial = (): Promise<SecureStream> => connect({ port, privateKey: k.client.privateKey, serverPublicKey: k.server.publicKey })

  const open = await dial()
  const atStart = asked
  allowed = [k.stranger.publicKey] // revoked
  await t.rejects(dial(), { code: 'ERR_AUTH' }, 'the next connection is refused')
  t.ok(asked > atStart, 'the lookup was asked again for that connection')
  t.same(errors, ['ERR_AUTH'])
  open.write('still here')
  for (let i = 0; i < 100 && Buffer.concat(received).toString() !== 'still here'; i++) await new Promise(r => setTimeout(r, 20))
  t.equal(Buffer.concat(received).toString(), 'still here', 'the session opened before the revocation continues')
  open.destroy()

  allowed = []
  await t.rejects(dial(), { code: 'ERR_AUTH' }, 'an emptied list refuses everyone, the server keeps running')
  allowed = [k.client.publicKey]
  const again = await dial()
  t.ok(again.peerFingerprint, 'authorized again: accepted')
  again.destroy()
  const err = new Error('authorized_keys is unreadable')
  const failing = createServer({ privateKey: k.server.privateKey, authorizedKeys: (() => { let n = 0; return () => { if (n++ > 0) throw err; return [k.client.publicKey] } })() })
  failing.listen(0, '127.0.0.1')
  await once(failing, 'listening')
  t.teardown(() => failing.close())
  const seen = once(failing, 'handshakeError')
  await t.rejects(connect({ port: (failing.address() as { port: number }).port, privateKey: k.client.privateKey, serverPublicKey: k.server.publicKey }), { code: 'ERR_AUTH' }, 'a lookup that throws refuses (fail closed)')
  const [reported] = await seen as [Error & { cause?: unknown }]
  t.equal(reported.cause, err, 'the lookup\'s error is the refusal\'s cause')
})

t.test('issue 17 s6: createServer({ authorizedKeys: [buffer] }) names the type and how to load a key', async t => {
  const k = await testKeys()
  const bytes = Buffer.from(pem(k.client.publicKey))
  t.throws(() => createServer({ privateKey: k.server.privateKey, authorizedKeys: [bytes as unknown as KeyObject] }),
    { name: 'TypeError', message: /^authorizedKeys\[0\]: expected a public RSA KeyObject, got a Buffer \(the bytes of a key file are not a key\); load it first: loadPublicKey\(path\) for a key file, or crypto\.createPublicKey\(pem\)$/ })
  t.throws(() => createServer({ privateKey: readFileSync as unknown as KeyObject, authorizedKeys: [k.client.publicKey] }), { message: /privateKey: expected a private RSA KeyObject, got a function; load it first: loadPrivateKey\(path\)/ })
  t.throws(() => createServer({ privateKey: k.server.privateKey, authorizedKeys: () => [pem(k.client.publicKey) as unknown as KeyObject] }), { message: /got a string \(the text of a key file is not a key\)/ }, 'a lookup is checked once at createServer')
})
