/**
 * issue 8 section 3: a SecureStream's error has a listener from the first byte to the last. A
 * bad record that arrives with ServerFinished fails the stream before the application has
 * attached anything; the process does not crash, and a consumer attached later still gets the
 * error with its code (SPEC 5.4). Both ends: `connect` and `createServer`.
 * SPEC 6.1: the verified close record ends the stream, with the transport still open.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { connect, createServer, type SecureStream } from '../../src/index.js'
import { testKeys } from '../helpers/keys.js'
import { waitFor } from '../helpers/cli.js'
import { attackBytes, clientSession, honestBytes, serverSession } from '../helpers/hostile.js'
import { collect, runThrough, sealToWire } from '../helpers/streams.js'
import { DecryptStage } from '../../src/record/decrypt.js'
import { FrameDecoder } from '../../src/framing/frame.js'
import { DEFAULT_RECORD_SIZE, DIRECTION, recordFrameLimit } from '../../src/constants.js'

function sink(): Writable {
  return new Writable({ write(_c, _e, cb) { cb() } })
}

t.test('SPEC 5.4: connect(): a bad record in the same write as ServerFinished, consumed only after the stream failed', async t => {
  const keys = await testKeys()
  const server = await serverSession({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey] }, k => attackBytes('flip-tag', k))
  t.teardown(() => server.close())
  const s = await connect({ port: server.port, privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  await waitFor(() => s.destroyed, 'the stream to fail with nobody listening')
  t.equal((s.errored as { code?: string } | null)?.code, 'ERR_INTEGRITY', 'the first error is kept')
  await t.rejects(pipeline(s, sink()), { code: 'ERR_INTEGRITY' }, 'a late pipeline reports it')
})

t.test('SPEC 5.4: createServer(): a bad record right after ServerFinished, before the handler attaches anything', async t => {
  const keys = await testKeys()
  let accepted: SecureStream | undefined
  const listener = createServer({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey] }, s => { accepted = s })
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  t.teardown(() => { listener.close() })
  const peer = await clientSession((listener.address() as AddressInfo).port, { privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey }, k => attackBytes('replay', k))
  t.teardown(() => peer.socket.destroy())
  await waitFor(() => accepted?.destroyed === true, 'the accepted stream to fail with nobody listening')
  await t.rejects(pipeline(accepted!, sink()), { code: 'ERR_INTEGRITY' }, 'a late pipeline reports it')
})

t.test('SPEC 6.1: the verified close record ends the readable side while the peer\'s socket stays open', async t => {
  const keys = await testKeys()
  const data = Buffer.from('everything, then the close record')
  const server = await serverSession({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey] }, k => honestBytes(k, data))
  t.teardown(() => server.close())
  const s = await connect({ port: server.port, privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  t.ok((await collect(s)).equals(data), 'the data, then the end')
  t.notOk((await server.session).socket.writableEnded, 'the peer never ended its socket')
  s.destroy()
})

t.test('SPEC 6.1: DecryptStage ends at the verified close record while its input stays open', async t => {
  const keys = { cipher: 'aes-128-ccm' as const, secret: Buffer.alloc(32, 7), direction: DIRECTION.c2s }
  const data = Buffer.from('then the close record, and the input never ends')
  const wire = await sealToWire([data], keys)
  const o = await runThrough([wire], [new FrameDecoder({ limit: recordFrameLimit(DEFAULT_RECORD_SIZE) }), new DecryptStage({ keys: { ...keys, secret: Buffer.from(keys.secret) } })], { end: false })
  t.ok(o.ended, 'ended')
  t.equal(o.error, null)
  t.ok(o.data.equals(data))
})
