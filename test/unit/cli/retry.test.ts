/**
 * issue 19 §3: which failures `send --retry` tries again, and the backoff: doubling from
 * --retry-delay, capped, each wait drawn from the upper half of its step (jitter).
 */
import t from 'tap'
import { isRetryable, MAX_RETRY_DELAY_MS, retryPolicy } from '../../../src/cli/retry.js'
import { AuthError, IntegrityError, KeyError, NetworkError, ProtocolError, SecurePipeError, TimeoutError, TransferFailedError, TruncatedError, UsageError, type ErrorCode } from '../../../src/index.js'

t.test('issue 19 §3: a network failure, a timeout or a cut is retried; nothing else', async t => {
  t.ok(isRetryable(new NetworkError('reset')))
  t.ok(isRetryable(new TimeoutError('no receipt')))
  t.ok(isRetryable(new TruncatedError('cut')))
  for (const e of [new AuthError('refused'), new KeyError('no key'), new UsageError('bad flag'), new IntegrityError('tampered'), new ProtocolError('bad'), new SecurePipeError('ERR_VERSION', 'old'), new Error('bug')]) {
    t.notOk(isRetryable(e), `not ${(e as { code?: string }).code ?? e.message}`)
  }
  // The receiver answered (a refusal or a failure receipt, SPEC 8.5.1): whatever its code, asking again gives the same answer.
  for (const code of ['ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_TRUNCATED', 'ERR_IO'] as ErrorCode[]) {
    t.notOk(isRetryable(new TransferFailedError(code, 'the receiver refused the transfer', 0, 1)), `a receiver's ${code} receipt`)
  }
})

t.test('issue 19 §3: at most N further attempts', async t => {
  const p = retryPolicy({ retry: 2 })
  const cut = new NetworkError('reset')
  t.same([1, 2, 3].map(n => p.retryable(cut, n)), [true, true, false])
  t.notOk(retryPolicy({}).retryable(cut, 1), 'no --retry: no retry')
  for (const bad of [-1, 1.5, Number.NaN, 100_000]) t.throws(() => retryPolicy({ retry: bad }), { code: 'ERR_USAGE' })
  t.throws(() => retryPolicy({ retry: 1, retryDelay: 0 }), { code: 'ERR_USAGE', message: /--retry-delay/ })
})

t.test('issue 19 §3: the delay doubles from the base, is capped, and is jittered within the upper half', async t => {
  const p = retryPolicy({ retry: 40, retryDelay: 1 })
  const low = (n: number): number => p.delayMs(n, () => 0)
  const high = (n: number): number => p.delayMs(n, () => 1)
  t.same([1, 2, 3, 4, 5, 6].map(high), [1000, 2000, 4000, 8000, 16000, MAX_RETRY_DELAY_MS])
  t.same([1, 2, 3].map(low), [500, 1000, 2000])
  t.equal(high(40), MAX_RETRY_DELAY_MS, 'capped however many attempts')
  t.equal(low(40), MAX_RETRY_DELAY_MS / 2)
  t.equal(retryPolicy({ retry: 1 }).delayMs(1, () => 1), 1000, 'default base 1 s')
})
