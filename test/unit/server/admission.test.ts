import t from 'tap'
import { Admission, dropPercent, sourceOf, type Arrival } from '../../../src/server/admission.js'

const A = '127.0.1.0/24'
const B = '127.0.0.0/24'

function admission(extra: Partial<ConstructorParameters<typeof Admission>[0]> = {}, clock = { ms: 0 }): Admission<string> {
  return new Admission<string>({ maxHandshakes: 4, maxWaiting: 100, perSource: { handshakes: 2, waiting: 3, failureBurst: 10, failuresPerSecond: 1 }, random: () => 0.99, now: () => clock.ms, ...extra })
}

/** Arrive and say at once that the first message is whole: what started, or the refusal's code. */
function arriveReady(a: Admission<string>, source: string, item: string): string {
  const arrival: Arrival<string> = a.arrive(source, item, `${item}:1`)
  if (arrival.refusal) return arrival.refusal.code
  a.ready(item)
  const started: string[] = []
  for (let n = a.next(); n; n = a.next()) started.push(n.refusal ? `${n.item} ${n.refusal.code}` : n.item)
  return started.includes(item) ? 'start' : started.find(s => s.startsWith(`${item} `))?.split(' ')[1] ?? 'wait'
}

t.test('issue 8.5: a source runs at most perSource.handshakes at once and holds at most handshakes + waiting; the rest are refused with ERR_NETWORK naming the source and address', async t => {
  const a = admission()
  t.same(['a1', 'a2', 'a3', 'a4', 'a5'].map(x => arriveReady(a, A, x)), ['start', 'start', 'wait', 'wait', 'wait'])
  const refused = a.arrive(A, 'a6', '127.0.1.2:6')
  t.match(refused.refusal, { code: 'ERR_NETWORK', message: /127\.0\.1\.0\/24 already holds 5 unauthenticated connections \(perSource: 2 handshakes \+ 3 waiting\); the connection from 127\.0\.1\.2:6/ })
  t.equal(arriveReady(a, B, 'b1'), 'start', 'another source still starts at once')
  t.same({ active: a.active, waiting: a.waiting }, { active: 3, waiting: 3 })
})

t.test('issue 17.1: a connection takes no slot until its first message is whole, so sockets that send nothing never hold one', async t => {
  const a = admission()
  for (const x of ['i1', 'i2', 'i3', 'i4', 'i5']) t.same(a.arrive(A, x, x), {}, `${x} waits`)
  t.equal(a.next(), undefined, 'nothing ready, nothing starts')
  t.equal(arriveReady(a, B, 'b1'), 'start', 'a client that sent its ClientHello starts at once')
  t.same(a.heldBy(A), { running: 0, waiting: 5 })
})

t.test('issue 8.5: freed slots go to sources in turn, so a long queue from one source does not delay another', async t => {
  const a = admission({ perSource: { handshakes: 4, waiting: 50, failureBurst: 50 } })
  for (let i = 0; i < 4; i++) t.equal(arriveReady(a, A, `a${i}`), 'start')
  for (let i = 4; i < 10; i++) t.equal(arriveReady(a, A, `a${i}`), 'wait')
  t.equal(arriveReady(a, B, 'b0'), 'wait', 'every slot is taken')
  t.equal(arriveReady(a, B, 'b1'), 'wait')
  const order: string[] = []
  for (let i = 0; i < 4; i++) {
    a.finished(A, 'secure')
    order.push(a.next()!.item)
  }
  t.same(order, ['a4', 'b0', 'a5', 'b1'], 'A and B alternate although A queued first')
  t.equal(a.next(), undefined, 'no slot free')
})

t.test('issue 17.1: concurrent arrivals cannot overdraw the budget: each start reserves a token, so at most burst + rate x t start without success', async t => {
  const clock = { ms: 0 }
  // Room for 10 at once from one source, a budget of 3 then 1 a second.
  const a = admission({ maxHandshakes: 20, perSource: { handshakes: 10, waiting: 100, failureBurst: 3, failuresPerSecond: 1 } }, clock)
  const codes = Array.from({ length: 10 }, (_, i) => arriveReady(a, A, `a${i}`))
  t.same(codes, ['start', 'start', 'start', 'ERR_NETWORK', 'ERR_NETWORK', 'ERR_NETWORK', 'ERR_NETWORK', 'ERR_NETWORK', 'ERR_NETWORK', 'ERR_NETWORK'], 'three start, while none has failed yet')
  t.match(a.arrive(A, 'late', '127.0.1.2:9').refusal, { code: 'ERR_NETWORK', message: /too many handshakes without success from 127\.0\.1\.0\/24 .*127\.0\.1\.2:9 was closed unread/ })
  t.equal(arriveReady(a, B, 'b1'), 'start', 'another source is not affected')
  // Over 20 simulated seconds, a source that always fails starts at most 3 + 20.
  let started = 3
  for (let s = 1; s <= 20; s++) {
    clock.ms = s * 1000
    for (let i = 0; i < 10; i++) {
      if (arriveReady(a, A, `s${s}-${i}`) === 'start') started++
    }
    while (a.heldBy(A).running > 0) a.finished(A, 'failed')
  }
  t.equal(started, 3 + 20, 'the documented figure holds exactly: burst + 1 a second')
})

const BURST_2 = { perSource: { handshakes: 2, waiting: 3, failureBurst: 2, failuresPerSecond: 1 } }

t.test('issue 17.1: a waiting connection whose turn comes when its source has no token left is refused unread; successes give the token back', async t => {
  const a = admission({ perSource: { handshakes: 2, waiting: 3, failureBurst: 3, failuresPerSecond: 1 } })
  for (const x of ['a1', 'a2']) arriveReady(a, A, x)
  for (const x of ['a3', 'a4']) { t.same(a.arrive(A, x, x), {}, `${x} waits: one token is left`); a.ready(x) }
  a.finished(A, 'failed')
  t.same(a.next(), { item: 'a3', source: A }, 'a3 takes the last token')
  a.finished(A, 'failed')
  const turn = a.next()!
  t.equal(turn.item, 'a4')
  t.match(turn.refusal, { code: 'ERR_NETWORK', message: /too many handshakes without success/ }, 'its turn came, but the tokens are held or spent')
  a.finished(A, 'secure')
  t.equal(arriveReady(a, A, 'a5'), 'start', 'a success gave its token back')
  const ok = admission()
  for (let i = 0; i < 50; i++) {
    t.equal(arriveReady(ok, A, `a${i}`), 'start')
    ok.finished(A, 'secure')
  }
  t.equal(ok.active, 0, 'successful handshakes cost nothing')
})

t.test('issue 17.1: an IPv4 /24 neighbour shares the source budget; the next /24 does not', async t => {
  const a = admission(BURST_2)
  const one = a.sourceOf('198.51.100.7')
  const neighbour = a.sourceOf('198.51.100.200')
  const next = a.sourceOf('198.51.101.7')
  t.equal(one, '198.51.100.0/24')
  t.equal(neighbour, one, 'the same /24 is the same source')
  arriveReady(a, one, 'x1'); arriveReady(a, one, 'x2')
  a.finished(one, 'failed'); a.finished(one, 'failed') // the burst of 2 is spent from .7
  t.match(a.arrive(neighbour, 'y', '198.51.100.200:5').refusal, { code: 'ERR_NETWORK', message: /198\.51\.100\.0\/24/ }, '.200 is refused with it')
  t.equal(arriveReady(a, next, 'z'), 'start', 'the next /24 is another source')
})

t.test('issue 17.1, sshd PerSourcePenalties: a connection that times out without its first message penalizes its source; its source is refused until the penalty runs out', async t => {
  const clock = { ms: 0 }
  const a = admission({ perSource: { penalty: { seconds: 10, min: 15, max: 600 } } }, clock)
  for (const x of ['i1', 'i2']) a.arrive(A, x, x)
  t.equal(a.withdraw('i1', 'timeout'), true)
  t.same(a.arrive(A, 'i3', 'i3'), {}, '10 s of penalty is below the 15 s minimum: not yet enforced')
  a.withdraw('i2', 'timeout')
  t.match(a.arrive(A, 'i4', '127.0.1.2:4').refusal, { code: 'ERR_NETWORK', message: /127\.0\.1\.0\/24 is refused for 20 s more: its connections timed out .*127\.0\.1\.2:4 was closed unread/ })
  t.equal(arriveReady(a, B, 'b1'), 'start', 'another source is not affected')
  t.equal(a.withdraw('i3', 'closed'), true, 'a close costs nothing')
  clock.ms = 19_000
  t.ok(a.arrive(A, 'i5', 'i5').refusal, 'still refused after 19 s')
  clock.ms = 20_000
  t.same(a.arrive(A, 'i6', 'i6'), {}, 'served again once the penalty ran out')
  const slot = admission(BURST_2, clock)
  arriveReady(slot, A, 's1'); arriveReady(slot, A, 's2')
  slot.finished(A, 'timeout'); slot.finished(A, 'timeout')
  t.ok(slot.arrive(A, 's3', 's3').refusal, 'two handshakes that held their slot until the timeout penalize too')
  const ready = admission({}, clock)
  for (const x of ['r1', 'r2']) { ready.arrive(A, x, x); ready.ready(x) }
  ready.withdraw('r1', 'timeout') // waited for a slot, with its ClientHello read: the server was busy, not the peer
  ready.withdraw('r2', 'timeout')
  t.same(ready.arrive(A, 'r3', 'r3'), {}, 'a ready connection that waited too long costs its source nothing')
})

t.test('issue 17.1: at the global limits a source holding nothing is admitted: the newest waiting connection of the heaviest source is closed instead', async t => {
  const a = admission({ maxHandshakes: 2, maxWaiting: 6, perSource: { handshakes: 2, waiting: 10 } })
  for (let i = 0; i < 4; i++) a.arrive('s1', `p${i}`, `p${i}`)
  for (let i = 0; i < 2; i++) a.arrive('s2', `q${i}`, `q${i}`)
  t.match(a.arrive('s1', 'p9', 'p9').refusal, { code: 'ERR_NETWORK', message: /busy/ }, 'a source that holds some is refused')
  const honest = a.arrive('s3', 'h', '127.0.0.1:7') as { evicted?: unknown }
  t.match(honest.evicted, { item: 'p3', source: 's1', refusal: { code: 'ERR_NETWORK', message: /s1 holds the most waiting connections; the connection from p3 was closed unread to make room for 127\.0\.0\.1:7/ } })
  t.equal(a.waiting, 6)
  t.equal(a.ready('h'), true)
  t.equal(a.next()?.item, 'h', 'and it starts')
})

t.test('issue 8.5, sshd MaxStartups: between start and full, a new connection of a source that holds one is dropped with the linear probability; at full always', async t => {
  const m = { start: 10, rate: 30, full: 20 }
  t.same([9, 10, 15, 19, 20, 25].map(h => dropPercent(h, m)), [0, 30, 65, 93, 100, 100])
  for (const [draw, dropped] of [[0.64, true], [0.66, false]] as const) {
    const a = new Admission<string>({ maxHandshakes: 5, maxWaiting: 100, maxStartups: m, random: () => draw })
    for (let i = 0; i < 15; i++) t.same(a.arrive(`10.0.${i}.0/24`, `c${i}`, `10.0.${i}.1`), {})
    const d = a.arrive('10.0.0.0/24', 'x', '10.0.0.1:9')
    t.equal(d.refusal !== undefined, dropped, `draw ${draw} against 65%: ${dropped ? 'dropped' : 'admitted'}`)
    if (dropped) t.match(d.refusal, { code: 'ERR_NETWORK', message: /random early drop from 10/ })
    t.same(a.arrive('10.9.9.0/24', 'y', 'y'), {}, 'a source that holds nothing is never dropped at random')
  }
  let dropped = 0
  for (let i = 0; i < 100; i++) {
    const a = new Admission<string>({ maxHandshakes: 5, maxWaiting: 100, maxStartups: m, random: () => i / 100 })
    for (let j = 0; j < 15; j++) a.arrive(`10.0.${j}.0/24`, `c${j}`, 'x')
    if (a.arrive('10.0.0.0/24', 'x', 'x').refusal) dropped++
  }
  t.equal(dropped, 65, 'over a deterministic sweep of the draw, 65% are dropped at 15 held')
  const full = new Admission<string>({ maxHandshakes: 5, maxWaiting: 100, maxStartups: m, random: () => 0.999 })
  for (let j = 0; j < 20; j++) full.arrive(`10.0.${j}.0/24`, `c${j}`, 'x')
  t.match(full.arrive('10.0.0.0/24', 'x', 'x').refusal, { code: 'ERR_NETWORK', message: /busy/ }, 'at full even the luckiest draw is refused')
})

t.test('issue 8.5: withdraw takes a waiting connection out once; a running one is not waiting', async t => {
  const a = admission()
  arriveReady(a, A, 'a1'); arriveReady(a, A, 'a2'); arriveReady(a, A, 'a3')
  t.equal(a.withdraw('a3', 'closed'), true)
  t.equal(a.withdraw('a3', 'closed'), false)
  t.equal(a.withdraw('a1', 'closed'), false, 'a running one is not waiting')
  t.equal(a.waiting, 0)
  t.equal(a.next(), undefined, 'and it left the turn')
})

t.test('limits are checked when passed, naming the option', async t => {
  t.throws(() => admission({ maxHandshakes: 0 }), { name: 'RangeError', message: /maxHandshakes/ })
  t.throws(() => admission({ perSource: { handshakes: 1.5 } }), { message: /perSource\.handshakes/ })
  t.throws(() => admission({ perSource: { failuresPerSecond: 0 } }), { message: /failuresPerSecond/ })
  t.throws(() => admission({ perSource: { ipv4Prefix: 33 } }), { message: /perSource\.ipv4Prefix/ })
  t.throws(() => admission({ perSource: { penalty: { min: 20, max: 10 } } }), { message: /perSource\.penalty/ })
  t.throws(() => admission({ maxStartups: { start: 10, rate: 30, full: 5 } }), { message: /maxStartups/ })
  t.throws(() => admission({ maxStartups: { start: 1, rate: 130, full: 5 } }), { message: /maxStartups/ })
})

t.test('issue 17.1, sshd PerSourceNetBlockSize: sources are IPv4 /24 and IPv6 /64 blocks by default', async t => {
  t.equal(sourceOf('127.0.0.2'), '127.0.0.0/24')
  t.equal(sourceOf('127.0.7.2'), '127.0.7.0/24')
  t.equal(sourceOf('::ffff:10.1.2.3'), '10.1.2.0/24')
  t.equal(sourceOf('10.1.2.3', 32), '10.1.2.3', 'a /32 is the address alone')
  t.equal(sourceOf('10.1.2.3', 16), '10.1.0.0/16')
  t.equal(sourceOf('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(sourceOf('2001:0db8:0000:0001:ffff::9'), '2001:db8:0:1::/64')
  t.equal(sourceOf('2001:db8:0:1:aaaa:bbbb:cccc:dddd'), sourceOf('2001:db8:0:1::2'), 'one /64 is one source')
  t.not(sourceOf('2001:db8:0:1::1'), sourceOf('2001:db8:0:2::1'))
  t.equal(sourceOf('2001:db8:0:ff::1', 24, 56), '2001:db8:0:0::/56')
  t.equal(sourceOf('::1'), '0:0:0:0::/64')
  t.equal(sourceOf(undefined), 'unknown')
})
