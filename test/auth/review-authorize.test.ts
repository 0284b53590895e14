/**
 * Review (SPEC 3.2 step 3, 3.6, 9): an `authorize` callback that throws or rejects (the
 * application's database is down) is a refusal of the client key: ERR_AUTH with alert 1 at
 * the client, ERR_AUTH with the callback's error as `cause` at the server, and no RSA work.
 * Today it surfaces as ERR_NETWORK on both sides, with no alert. Real sockets on 127.0.0.1.
 */
import t from 'tap'
import { connect } from '../../src/net.js'
import type { SecurePipeError } from '../../src/errors.js'
import { rsaPairs, testServer } from './wire.js'

const [server, client] = await rsaPairs(2048, 2048)

for (const how of ['throws', 'rejects'] as const) {
  t.test(`SPEC 3.2 step 3: an authorize callback that ${how} refuses the key with ERR_AUTH and alert 1`, async t => {
    const failure = new Error('authorization database unreachable')
    const s = await testServer({
      privateKey: server!.privateKey,
      authorize: how === 'throws' ? () => { throw failure } : () => Promise.reject(failure),
    })
    t.teardown(() => s.close())
    const serverErrors: SecurePipeError[] = []
    s.server.on('handshakeError', (e: SecurePipeError) => serverErrors.push(e))
    await t.rejects(connect({ port: s.port, privateKey: client!.privateKey, serverPublicKey: server!.publicKey }),
      { code: 'ERR_AUTH', message: /refused this client's key/ }, 'the client is told its key was refused (alert 1)')
    t.equal(serverErrors[0]?.code, 'ERR_AUTH', 'the server reports ERR_AUTH')
    t.equal((serverErrors[0] as Error | undefined)?.cause, failure, 'with the callback\'s error as its cause')
    t.equal(s.streams.length, 0, 'no session was established')
  })
}
