/**
 * `secure-pipe pair` under attack (SPEC 14.6), through the library on 127.0.0.0/8: a wrong
 * code, a man in the middle that alters a message in each direction (and one that runs its own
 * SPAKE2 with a guessed code), a replayed transcript each way, an expired code, a second
 * attempt, and the listener's budget, deadline and frame limit. Each failure is ERR_AUTH on
 * both ends (or the documented refusal), and nothing is written on either side.
 */
import t from 'tap'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { listenPair, pairWith, pairPassword, PairReceiver, PairSender, type KeyHome, type ListenPairOptions, type PairListener } from '../../src/index.js'
import type { TapTest } from '../helpers/wycheproof.js'
import { decodeHello, encodeHello, PAIR_MSG } from '../../src/pair/messages.js'
import { ownIdLine } from '../../src/pair/record.js'
import { FrameChannel } from '../../src/pair/channel.js'
import { ended, flipFromEnd, manInTheMiddle, pairHome, rawClient, wroteAnything, type Tamper } from '../helpers/pair.js'

const CODE = '7-crate-swoop'
const OTHER = '8-crate-swoop'

async function listen(t: TapTest, home: KeyHome, extra: Partial<ListenPairOptions> = {}): Promise<PairListener> {
  const l = await listenPair({ home, port: 0, code: CODE, ...extra })
  t.teardown(() => l.close())
  return l
}
function homes(t: TapTest): { r: KeyHome, s: KeyHome } {
  return { r: pairHome(t, 0), s: pairHome(t, 1) }
}

function sender(s: KeyHome, port: number, code = CODE, bothWays = false) {
  return pairWith({ home: s, host: '127.0.0.1', port, code, pinAs: '127.0.0.1', bothWays })
}

t.test('the right code pairs: R authorizes S, S pins R; the lines returned are the lines written', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r)
  const [got, sent] = await Promise.all([l.result, sender(s, l.address.port)])
  t.same(got.written.map(w => w.file), [r.authorizedKeys])
  t.same(sent.written.map(w => w.file), [s.pins])
  t.ok(readFileSync(r.authorizedKeys, 'utf8').includes(got.written[0]!.line + '\n'), 'R: the line is in authorized_keys')
  t.ok(readFileSync(s.pins, 'utf8').includes(sent.written[0]!.line + '\n'), 'S: the line is in known_peers')
  t.ok(ownIdLine(s).startsWith(got.written[0]!.line.split(' ').slice(0, 2).join(' ')), 'R recorded S\'s own key')
  t.ok(sent.written[0]!.line.startsWith('127.0.0.1 ' + ownIdLine(r).split(' ').slice(0, 2).join(' ')), 'S pinned R\'s own key for the host')
})

t.test('--both-ways: each side writes both files', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r)
  const [got, sent] = await Promise.all([l.result, sender(s, l.address.port, CODE, true)])
  t.same(got.written.map(w => w.file), [r.authorizedKeys, r.pins])
  t.same(sent.written.map(w => w.file), [s.pins, s.authorizedKeys])
  t.match(got.written[1]!.line, /^127\.0\.0\.1 ssh-rsa /, 'R pins S for the address S came from')
})

/** Both ends fail with ERR_AUTH and neither home has a key list. */
async function bothFail(t: TapTest, l: PairListener, s: Promise<unknown>, r: KeyHome, sHome: KeyHome): Promise<void> {
  await t.rejects(s, { code: 'ERR_AUTH' }, 'S: ERR_AUTH')
  await t.rejects(l.result, { code: 'ERR_AUTH' }, 'R: ERR_AUTH')
  t.notOk(wroteAnything(r), 'R wrote nothing')
  t.notOk(wroteAnything(sHome), 'S wrote nothing')
}

t.test('a wrong code: ERR_AUTH on both ends, nothing written', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r)
  await bothFail(t, l, sender(s, l.address.port, OTHER), r, s)
})

const tampers: Array<[string, Tamper]> = [
  ['S to R: HELLO\'s both-ways flag set (it is in SPAKE2\'s AAD)', (d, i, f) => d === 's2r' && i === 0 ? encodeHello({ ...decodeHello(f), bothWays: true }) : f],
  ['S to R: HELLO\'s pA altered', (d, i, f) => d === 's2r' && i === 0 ? flipFromEnd(f, 7) : f],
  ['S to R: CONFIRM\'s cA altered', (d, i, f) => d === 's2r' && i === 1 ? flipFromEnd(f, f.length - 8) : f],
  ['S to R: CONFIRM\'s sealed key altered (cA intact)', (d, i, f) => d === 's2r' && i === 1 ? flipFromEnd(f, 20) : f],
  ['R to S: REPLY\'s cB altered', (d, i, f) => d === 'r2s' && i === 0 ? flipFromEnd(f, 1) : f],
  ['R to S: REPLY\'s pB altered', (d, i, f) => d === 'r2s' && i === 0 ? flipFromEnd(f, 40) : f],
]

for (const [what, tamper] of tampers) {
  t.test(`a man in the middle alters a message, ${what}: ERR_AUTH on both ends, nothing written`, async t => {
    const { r, s } = homes(t)
    const l = await listen(t, r)
    const fromS: Buffer[] = []
    const port = await manInTheMiddle(t, l.address.port, (d, i, f) => {
      if (d === 's2r') fromS.push(f)
      return tamper(d, i, f)
    })
    await bothFail(t, l, sender(s, port), r, s)
    // SPEC 14.4: S sends CONFIRM (cA and its sealed key) only after cB verified.
    if (what.startsWith('R to S')) t.same(fromS.slice(1).map(f => f[5]), [PAIR_MSG.abort], 'S answered the bad REPLY with ABORT, not CONFIRM')
  })
}

t.test('R to S: DONE altered, the last message: S fails with ERR_AUTH and writes nothing (R has recorded S\'s confirmed key, SPEC 14.6)', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r)
  const port = await manInTheMiddle(t, l.address.port, (d, i, f) => d === 'r2s' && i === 1 ? flipFromEnd(f, 3) : f)
  await t.rejects(sender(s, port), { code: 'ERR_AUTH' }, 'S: ERR_AUTH')
  t.notOk(wroteAnything(s), 'S wrote nothing')
  const got = await l.result
  t.same(got.written.map(w => w.file), [r.authorizedKeys], 'R: both confirmations had passed, so it recorded S (the one asymmetric case)')
})

t.test('a man in the middle with its own SPAKE2 and a guessed code (its one online guess): ERR_AUTH on both ends, nothing written', async t => {
  const { r, s } = homes(t)
  const evil = pairHome(t, 2)
  const l = await listen(t, r)
  const guess = await pairPassword(OTHER)
  const server = createServer({ allowHalfOpen: true }, async victim => {
    const toS = new FrameChannel(victim, 20_000, 'mitm as R')
    const asR = new PairReceiver({ password: guess, idLine: ownIdLine(evil) })
    const asS = new PairSender({ password: guess, idLine: ownIdLine(evil), bothWays: false })
    const toR = await rawClient(t, l.address.port)
    try {
      toR.send(asS.hello())
      toS.send(asR.onHello(await toS.next()))
      toR.send(asS.onReply(await toR.next())) // fails: R's cB is for the real code
    } catch {
      toR.finish()
    }
    try { asR.onConfirm(await toS.next()) } catch { toS.finish() } // fails: S's cA is for the real code
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  await bothFail(t, l, sender(s, (server.address() as { port: number }).port), r, s)
})

/** A genuine exchange between two in-memory machines with CODE: the recorded transcript. */
async function recordedTranscript(s: KeyHome, r: KeyHome): Promise<{ hello: Buffer, reply: Buffer, confirm: Buffer, done: Buffer }> {
  const password = await pairPassword(CODE)
  const a = new PairSender({ password, idLine: ownIdLine(s), bothWays: false })
  const b = new PairReceiver({ password, idLine: ownIdLine(r) })
  const hello = a.hello()
  const reply = b.onHello(hello)
  const confirm = a.onReply(reply)
  b.onConfirm(confirm)
  const done = b.done()
  a.onDone(done)
  return { hello, reply, confirm, done }
}

t.test('a replayed transcript, S to R: the recorded HELLO and CONFIRM against a listener with the same code: ERR_AUTH, nothing written', async t => {
  const { r, s } = homes(t)
  const old = await recordedTranscript(s, r)
  const l = await listen(t, r)
  const c = await rawClient(t, l.address.port)
  c.send(old.hello)
  const reply = await c.next()
  t.equal(reply[5], PAIR_MSG.reply, 'the listener answers with a fresh REPLY')
  t.not(reply.toString('hex'), old.reply.toString('hex'), 'its pB is new')
  c.send(old.confirm)
  const abort = await c.next()
  t.equal(abort[5], PAIR_MSG.abort, 'the replayed CONFIRM gets ABORT')
  await t.rejects(l.result, { code: 'ERR_AUTH' })
  t.notOk(wroteAnything(r), 'R wrote nothing')
})

t.test('a replayed transcript, R to S: a fake listener replays the recorded REPLY and DONE: ERR_AUTH, nothing written', async t => {
  const { r, s } = homes(t)
  const old = await recordedTranscript(s, r)
  const server = createServer({ allowHalfOpen: true }, async socket => {
    const c = new FrameChannel(socket, 20_000, 'replayer')
    await c.next().catch(() => {})
    c.send(old.reply)
    await c.next().catch(() => {})
    c.finish(old.done)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  await t.rejects(sender(s, (server.address() as { port: number }).port), { code: 'ERR_AUTH' })
  t.notOk(wroteAnything(s), 'S wrote nothing')
})

t.test('an expired code: the listener reports ERR_AUTH, a sender with the right code afterwards gets ERR_AUTH, nothing written', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r, { codeTtlMs: 50 })
  await t.rejects(l.result, { code: 'ERR_AUTH', message: /expired/ })
  await t.rejects(sender(s, l.address.port), { code: 'ERR_AUTH', message: /already used or has expired/ })
  t.notOk(wroteAnything(r), 'R wrote nothing')
  t.notOk(wroteAnything(s), 'S wrote nothing')
})

t.test('a second attempt: after a wrong code, the right code gets ERR_AUTH; nothing written', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r)
  await bothFail(t, l, sender(s, l.address.port, OTHER), r, s)
  await t.rejects(sender(s, l.address.port), { code: 'ERR_AUTH', message: /already used or has expired/ })
  t.notOk(wroteAnything(r), 'R wrote nothing')
  t.notOk(wroteAnything(s), 'S wrote nothing')
})

t.test('a second attempt while the first is in progress: the right code gets ERR_AUTH; the stalled first one ends ERR_AUTH; nothing written', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r)
  const hello = new PairSender({ password: await pairPassword(OTHER), idLine: ownIdLine(s), bothWays: false }).hello()
  const attacker = await rawClient(t, l.address.port)
  attacker.send(hello)
  t.equal((await attacker.next())[5], PAIR_MSG.reply, 'the attacker\'s HELLO claimed the code')
  await t.rejects(sender(s, l.address.port), { code: 'ERR_AUTH', message: /already used or has expired/ })
  attacker.socket.end()
  await t.rejects(l.result, { code: 'ERR_AUTH' })
  t.notOk(wroteAnything(r), 'R wrote nothing')
  t.notOk(wroteAnything(s), 'S wrote nothing')
})

t.test('the per-source failure budget: a source (a /24) that failed too often is closed unread, even with a valid HELLO; another source still pairs', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r, { failureBurst: 2, failuresPerSecond: 0.001 })
  for (let i = 0; i < 2; i++) {
    const junk = await rawClient(t, l.address.port, '127.0.1.2')
    junk.send(Buffer.from('not a pairing message'))
    t.equal((await junk.next())[5], PAIR_MSG.abort, `junk ${i + 1}: ABORT`)
  }
  const late = await rawClient(t, l.address.port, '127.0.1.2')
  late.send(new PairSender({ password: await pairPassword(CODE), idLine: ownIdLine(s), bothWays: false }).hello())
  await t.rejects(late.next(), /closed/, 'closed without an answer')
  const [got] = await Promise.all([l.result, sender(s, l.address.port)])
  t.same(got.written.map(w => w.file), [r.authorizedKeys], 'the code was not used up: 127.0.0.1 pairs')
})

t.test('the listener\'s deadline and frame limit: a silent connection and an oversized frame are closed, and do not use up the code', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r, { handshakeTimeoutMs: 300 })
  const silent = await rawClient(t, l.address.port)
  await ended(silent.socket)
  t.pass('the silent connection was closed at the deadline')
  const big = await rawClient(t, l.address.port)
  // A varint length of 5121 bytes, over PAIR_FRAME_LIMIT, and the body: refused at the prefix,
  // the connection closes with no answer (a frame read whole would get ABORT malformed).
  big.socket.write(Buffer.concat([Buffer.from([0x81, 0x28]), Buffer.alloc(5121, 0x41)]))
  await t.rejects(big.next(), /closed/, 'the oversized frame closed its connection unanswered')
  const [got] = await Promise.all([l.result, sender(s, l.address.port)])
  t.equal(got.written.length, 1, 'the code still pairs')
})

t.test('a sender that stalls after HELLO: the listener ends the attempt at its deadline with ERR_AUTH; nothing written', async t => {
  const { r, s } = homes(t)
  const l = await listen(t, r, { handshakeTimeoutMs: 300 })
  const hello = new PairSender({ password: await pairPassword(CODE), idLine: ownIdLine(s), bothWays: false }).hello()
  const stall = await rawClient(t, l.address.port)
  stall.send(hello)
  await t.rejects(l.result, { code: 'ERR_AUTH', message: /did not complete within/ })
  t.notOk(wroteAnything(r), 'R wrote nothing')
})
