import t from 'tap'
import { FailureBudget } from '../../../src/server/budget.js'
import { Penalties } from '../../../src/server/penalty.js'

t.test('issue 17.1: a budget is a token bucket per source: take reserves, refund gives back, bounded in sources', async t => {
  const clock = { ms: 0 }
  const b = new FailureBudget(3, 2, () => clock.ms, 2)
  t.equal(b.left('a'), 3, 'a new source has the whole burst')
  t.same(Array.from({ length: 5 }, () => b.take('a')), [true, true, true, false, false], 'three reserved, then none')
  t.equal(b.left('a'), 0, 'never below zero')
  b.refund('a')
  t.equal(b.left('a'), 1, 'a success gives its token back')
  clock.ms = 500
  t.equal(b.left('a'), 2, '2 a second: one back after 500 ms')
  clock.ms = 10_000
  t.equal(b.left('a'), 3, 'never above the burst')
  t.equal(b.size, 0, 'a source refilled by time is forgotten')
  b.refund('a')
  t.equal(b.size, 0, 'a refund up to the burst stores nothing')
  t.equal(b.left('a'), 3, 'nor by a refund')
  b.take('a'); b.take('b'); b.take('c')
  t.equal(b.size, 2, 'at most maxSources stored')
  t.equal(b.left('a'), 3, 'the oldest was forgotten (forgiven)')
  t.equal(b.left('c'), 2)
})

t.test('issue 17.1: penalties accumulate per source, are enforced from min, run down 1 s a second, and stop at max', async t => {
  const clock = { ms: 0 }
  const p = new Penalties({ seconds: 10, min: 15, max: 30 }, () => clock.ms, 2)
  p.add('a')
  t.equal(p.refusedFor('a'), 0, '10 s is below min')
  p.add('a')
  t.equal(p.refusedFor('a'), 20)
  for (let i = 0; i < 5; i++) p.add('a')
  t.equal(p.refusedFor('a'), 30, 'at most max ahead')
  clock.ms = 25_000
  t.equal(p.refusedFor('a'), 5, 'enforced until it has run out, also below min')
  clock.ms = 30_000
  t.equal(p.refusedFor('a'), 0)
  t.equal(p.size, 0, 'a spent penalty is forgotten')
  p.add('b'); p.add('c'); p.add('d')
  t.equal(p.size, 2, 'at most maxSources stored')
})

t.test('issue 17.1: an enforced penalty stays enforced when a new one arrives below min; min itself is enforced', async t => {
  const clock = { ms: 0 }
  const p = new Penalties({ seconds: 10, min: 15, max: 30 }, () => clock.ms)
  p.add('a'); p.add('a')
  clock.ms = 18_000
  t.equal(p.refusedFor('a'), 2, '2 s of an enforced penalty left')
  p.add('a')
  t.equal(p.refusedFor('a'), 12, 'still refused: 12 s, below min, but the source was already enforced')
  const exact = new Penalties({ seconds: 15, min: 15, max: 30 }, () => clock.ms)
  exact.add('b')
  t.equal(exact.refusedFor('b'), 15, 'a penalty of exactly min seconds is enforced')
})
