/**
 * issue 5: a short fixed-seed run of every fuzz target (targets.ts), so `npm test` replays the
 * same inputs each time; `npm run fuzz` runs more from a fresh seed. Plus the baseline each
 * property relies on, and what the fuzzer found about alerts (SPEC 3.6).
 */
import t from 'tap'
import { testKeys } from '../helpers/keys.js'
import { ClientHandshake } from '../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import { encodeAlert } from '../../src/handshake/messages.js'
import { ALERT } from '../../src/constants.js'
import { TARGETS, fuzzTarget, runClientTarget, runRecordTarget, runServerTarget } from './targets.js'
import { judge } from './judge.js'
import { IntegrityError } from '../../src/errors.js'

const SEED = 0x5eed
const RUNS = 200
const keys = await testKeys()
const untouched = { edits: [], stopAt: null, extra: null }

t.test('SPEC 3, 5, 6: the unmodified sequences the fuzzer alters succeed with the plaintext', async t => {
  await t.resolves(runServerTarget(keys, untouched), 'server: ClientHello, ClientFinished, data, close')
  await t.resolves(runClientTarget(keys, untouched), 'client: ServerHello, ServerFinished, data, close')
  await t.resolves(runRecordTarget({ writes: [Buffer.from('hello'), Buffer.alloc(70)], recordSize: 16, keyUpdateInterval: 2, frameOps: [], byteOps: [], chunks: [1] }), 'records, 1-byte chunks, key updates')
  await t.resolves(runServerTarget(keys, { ...untouched, stopAt: 1 }), 'server: cut after the ClientHello is a typed failure (ERR_NETWORK)')
})

t.test('issue 5: the property rejects what it must (so a passing run means something)', async t => {
  const plain = Buffer.from('plaintext')
  const outcome = (o: { error?: Error, ended?: boolean, data?: Buffer }) => ({ error: o.error ?? null, ended: o.ended ?? false, data: o.data ?? Buffer.alloc(0), events: 0 })
  t.throws(() => judge(outcome({ error: new TypeError('boom') }), true, plain), /not a typed SecurePipeError/, 'an untyped error')
  t.throws(() => judge(outcome({ ended: true, data: Buffer.from('other') }), true, plain), /did not fail/, 'altered input that succeeds with other data')
  t.throws(() => judge(outcome({ error: new IntegrityError(), data: Buffer.from('pla-') }), true, plain), /not a prefix/, 'released bytes that were never sent')
  t.throws(() => judge(outcome({ error: new IntegrityError() }), false, plain), /unmodified sequence failed/, 'the valid sequence failing')
  t.doesNotThrow(() => judge(outcome({ error: new IntegrityError(), data: Buffer.from('plain') }), true, plain), 'a typed error after a verified prefix')
})

for (const target of TARGETS) {
  t.test(`issue 5: fuzz ${target}, ${RUNS} runs, seed ${SEED}: only typed SecurePipeErrors, success only when unmodified`, async t => {
    const r = await fuzzTarget(target, keys, { runs: RUNS, seed: SEED })
    t.notOk(r.failed, r.failed ? `${r.error}\ncounterexample: ${r.counterexample}\nreplay: npm run fuzz -- --target ${target} --seed ${r.seed} --path ${r.path}` : `${r.numRuns} runs`)
    t.equal(r.numRuns, RUNS)
    t.ok((r.stats.get('ok (unmodified)') ?? 0) > 0, 'the valid sequence came up and succeeded')
  })
}

/** The server's error for an Alert where its ClientFinished should be. */
async function serverOnAlert(reason: number): Promise<string | undefined> {
  const client = new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  const server = new ServerHandshake({ privateKey: keys.server.privateKey, authorizedKeys: new AuthorizedKeys([keys.client.publicKey]) })
  await server.onClientHello(client.clientHello)
  try {
    server.onClientFinished(encodeAlert(reason))
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'accepted'
}

// Found by the fuzzer: open() once turned an Alert into its error for every message type but
// ClientHello, so a client could make a server log "the server refused this client's key".
t.test('SPEC 3.6: an Alert in place of ClientFinished is a malformed message (ERR_VERSION), not an alert from a server', async t => {
  t.equal(await serverOnAlert(ALERT.auth), 'ERR_VERSION', 'Alert(key not authorized) as ClientFinished')
  t.equal(await serverOnAlert(ALERT.cipher), 'ERR_VERSION', 'Alert(no common cipher) as ClientFinished')
})
