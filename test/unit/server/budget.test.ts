import t from 'tap'
import { FailureBudget } from '../../../src/server/budget.js'

t.test('issue 8.5: a failure budget is a token bucket per source, bounded in sources', async t => {
  const clock = { ms: 0 }
  const b = new FailureBudget(3, 2, () => clock.ms, 2)
  t.equal(b.left('a'), 3, 'a new source has the whole burst')
  for (let i = 0; i < 5; i++) b.charge('a')
  t.equal(b.left('a'), 0, 'never below zero')
  clock.ms = 500
  t.equal(b.left('a'), 1, '2 a second: one back after 500 ms')
  clock.ms = 10_000
  t.equal(b.left('a'), 3, 'never above the burst')
  t.equal(b.size, 0, 'a refilled source is forgotten')
  b.charge('a'); b.charge('b'); b.charge('c')
  t.equal(b.size, 2, 'at most maxSources stored')
  t.equal(b.left('a'), 3, 'the oldest was forgotten (forgiven)')
  t.equal(b.left('c'), 2)
})
