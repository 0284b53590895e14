import t from 'tap'
import { NetworkError, AuthError, TimeoutError } from '../../../src/errors.js'
import { FailureSummary, type FailureReport } from '../../../src/server/summary.js'

t.test('issue 8.5: failures are reported once on their own per source and interval, then as counts by code', async t => {
  const reports: FailureReport[] = []
  const s = new FailureSummary(60_000, r => reports.push(r))
  s.add('127.0.0.2', '127.0.0.2:1000', new AuthError('first'))
  for (let i = 0; i < 500; i++) s.add('127.0.0.2', `127.0.0.2:${1001 + i}`, i % 5 ? new AuthError('x') : new NetworkError('y'))
  s.add('127.0.0.1', '127.0.0.1:5', new TimeoutError('z'))
  t.same(reports.map(r => r.kind), ['first', 'first'], '501 failures from one source and one from another: two reports so far')
  t.match(reports[0], { source: '127.0.0.2', address: '127.0.0.2:1000', error: { code: 'ERR_AUTH', message: 'first' } })
  s.flush()
  t.equal(reports.length, 3, 'one report of counts when the interval ends, none for the source with a single failure')
  t.match(reports[2], { kind: 'repeated', source: '127.0.0.2', total: 500, counts: { ERR_AUTH: 400, ERR_NETWORK: 100 } })
  s.add('127.0.0.2', '127.0.0.2:9', new AuthError('next interval'))
  t.match(reports[3], { kind: 'first', error: { message: 'next interval' } }, 'a new interval reports the first failure again')
  s.flush()
})

t.test('issue 8.5: beyond maxSources, sources share one report', async t => {
  const reports: FailureReport[] = []
  const s = new FailureSummary(60_000, r => reports.push(r), 2)
  for (let i = 0; i < 10; i++) s.add(`10.0.0.${i}`, `10.0.0.${i}:1`, new AuthError('x'))
  s.flush()
  t.equal(reports.length, 3)
  t.match(reports[2], { kind: 'repeated', source: 'other sources', total: 8 })
  t.throws(() => new FailureSummary(0, () => {}), RangeError)
})
