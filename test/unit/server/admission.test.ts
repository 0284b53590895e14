import t from 'tap'
import { Admission, dropPercent, sourceOf } from '../../../src/server/admission.js'

const A = '127.0.0.2'
const B = '127.0.0.1'

function admission(extra: Partial<ConstructorParameters<typeof Admission>[0]> = {}, clock = { ms: 0 }): Admission<string> {
  return new Admission<string>({ maxHandshakes: 4, maxWaiting: 100, perSource: { handshakes: 2, waiting: 3, failureBurst: 2, failuresPerSecond: 1 }, random: () => 0.99, now: () => clock.ms, ...extra })
}

t.test('issue 8.5: a source runs at most perSource.handshakes at once; the rest wait, then are refused with ERR_NETWORK naming the source and address', async t => {
  const a = admission()
  t.same(['a1', 'a2', 'a3', 'a4', 'a5'].map(x => a.arrive(A, x, `${A}:1`)).slice(0, 5).map(d => typeof d === 'string' ? d : d.code), ['start', 'start', 'wait', 'wait', 'wait'])
  const refused = a.arrive(A, 'a6', `${A}:6`)
  t.match(refused, { code: 'ERR_NETWORK', message: /127\.0\.0\.2 already has 2 handshakes running and 3 waiting; the connection from 127\.0\.0\.2:6/ })
  t.equal(a.arrive(B, 'b1', `${B}:1`), 'start', 'another source still starts at once')
  t.same({ active: a.active, waiting: a.waiting }, { active: 3, waiting: 3 })
})

t.test('issue 8.5: freed slots go to sources in turn, so a long queue from one source does not delay another', async t => {
  const a = admission({ perSource: { handshakes: 4, waiting: 50 } })
  for (let i = 0; i < 4; i++) t.equal(a.arrive(A, `a${i}`, A), 'start')
  for (let i = 4; i < 10; i++) t.equal(a.arrive(A, `a${i}`, A), 'wait')
  t.equal(a.arrive(B, 'b0', B), 'wait', 'every slot is taken')
  t.equal(a.arrive(B, 'b1', B), 'wait')
  const order: string[] = []
  for (let i = 0; i < 4; i++) {
    a.finished(A, false)
    order.push(a.next()!.item)
  }
  t.same(order, ['a4', 'b0', 'a5', 'b1'], 'A and B alternate although A queued first')
  t.equal(a.next(), undefined, 'no slot free')
})

t.test('issue 8.5: failed handshakes spend the source budget; with none left it is refused unread, also when its turn comes; it refills with time', async t => {
  const clock = { ms: 0 }
  const a = admission({}, clock)
  a.arrive(A, 'a1', A); a.arrive(A, 'a2', A); a.arrive(A, 'a3', A)
  a.finished(A, true)
  a.finished(A, true) // the burst of 2 is spent
  const waiting = a.next()!
  t.equal(waiting.item, 'a3')
  t.match(waiting.refusal, { code: 'ERR_NETWORK', message: /too many failed handshakes from 127\.0\.0\.2/ }, 'its turn came, but the budget is gone')
  t.match(a.arrive(A, 'a4', `${A}:4`), { code: 'ERR_NETWORK', message: /too many failed handshakes from 127\.0\.0\.2 .*127\.0\.0\.2:4 was closed unread/ })
  t.equal(a.arrive(B, 'b1', B), 'start', 'another source is not affected')
  t.equal(a.arrive(A, 'a5', A) === 'start', false, 'still nothing after 0 s')
  clock.ms = 1000
  t.equal(a.arrive(A, 'a6', A), 'start', 'one token back after 1 s at 1 a second')
  t.same({ active: a.active, waiting: a.waiting }, { active: 2, waiting: 0 })
})

t.test('issue 8.5: successful handshakes cost nothing', async t => {
  const a = admission()
  for (let i = 0; i < 50; i++) {
    t.equal(a.arrive(A, `a${i}`, A), 'start')
    a.finished(A, false)
  }
  t.equal(a.active, 0)
})

t.test('issue 8.5, sshd MaxStartups: between start and full, a new connection is dropped with the linear probability; at full always', async t => {
  const m = { start: 10, rate: 30, full: 20 }
  t.same([9, 10, 15, 19, 20, 25].map(h => dropPercent(h, m)), [0, 30, 65, 93, 100, 100])
  // Hold 15 unauthenticated connections from 15 sources, then try new ones with a known random draw.
  for (const [draw, dropped] of [[0.64, true], [0.66, false]] as const) {
    const a = new Admission<string>({ maxHandshakes: 5, maxWaiting: 100, maxStartups: m, random: () => draw })
    for (let i = 0; i < 15; i++) t.equal(typeof a.arrive(`10.0.0.${i}`, `c${i}`, `10.0.0.${i}`), 'string')
    const d = a.arrive('10.0.1.1', 'x', '10.0.1.1:9')
    t.equal(typeof d !== 'string', dropped, `draw ${draw} against 65%: ${dropped ? 'dropped' : 'admitted'}`)
    if (dropped) t.match(d, { code: 'ERR_NETWORK', message: /random early drop from 10/ })
  }
  // Over many draws, the share dropped at 15 held is 65% (a deterministic sweep of the draw).
  let dropped = 0
  for (let i = 0; i < 100; i++) {
    const a = new Admission<string>({ maxHandshakes: 5, maxWaiting: 100, maxStartups: m, random: () => i / 100 })
    for (let j = 0; j < 15; j++) a.arrive(`10.0.0.${j}`, `c${j}`, 'x')
    if (a.arrive('10.0.1.1', 'x', 'x') !== 'wait') dropped++
  }
  t.equal(dropped, 65)
  const full = new Admission<string>({ maxHandshakes: 5, maxWaiting: 100, maxStartups: m, random: () => 0.999 })
  for (let j = 0; j < 20; j++) full.arrive(`10.0.0.${j}`, `c${j}`, 'x')
  t.match(full.arrive('10.0.1.1', 'x', 'x'), { code: 'ERR_NETWORK', message: /busy/ }, 'at full even the luckiest draw is refused')
})

t.test('issue 8.5: withdraw takes a waiting connection out of the queue once', async t => {
  const a = admission()
  a.arrive(A, 'a1', A); a.arrive(A, 'a2', A); a.arrive(A, 'a3', A)
  t.equal(a.withdraw(A, 'a3'), true)
  t.equal(a.withdraw(A, 'a3'), false)
  t.equal(a.withdraw(A, 'a1'), false, 'a running one is not waiting')
  t.equal(a.waiting, 0)
})

t.test('limits are checked when passed, naming the option', async t => {
  t.throws(() => admission({ maxHandshakes: 0 }), { name: 'RangeError', message: /maxHandshakes/ })
  t.throws(() => admission({ perSource: { handshakes: 1.5 } }), { message: /perSource\.handshakes/ })
  t.throws(() => admission({ perSource: { failuresPerSecond: 0 } }), { message: /failuresPerSecond/ })
  t.throws(() => admission({ maxStartups: { start: 10, rate: 30, full: 5 } }), { message: /maxStartups/ })
  t.throws(() => admission({ maxStartups: { start: 1, rate: 130, full: 5 } }), { message: /maxStartups/ })
})

t.test('issue 8.5: sources are IPv4 addresses and IPv6 /64 prefixes', async t => {
  t.equal(sourceOf('127.0.0.2'), '127.0.0.2')
  t.equal(sourceOf('::ffff:10.1.2.3'), '10.1.2.3')
  t.equal(sourceOf('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(sourceOf('2001:0db8:0000:0001:ffff::9'), '2001:db8:0:1::/64')
  t.equal(sourceOf('2001:db8:0:1:aaaa:bbbb:cccc:dddd'), sourceOf('2001:db8:0:1::2'), 'one /64 is one source')
  t.not(sourceOf('2001:db8:0:1::1'), sourceOf('2001:db8:0:2::1'))
  t.equal(sourceOf('::1'), '0:0:0:0::/64')
  t.equal(sourceOf(undefined), 'unknown')
})
