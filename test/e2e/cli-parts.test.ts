/**
 * issue 3: the CLI's pure helpers in-process: HOST:PORT parsing and the one-line error format with its exit codes (SPEC 9).
 */
import t from 'tap'
import { AuthError, IntegrityError, NetworkError, ReceiptError, UsageError } from '../../src/index.js'
import { formatAddress, parseAddress } from '../../src/cli/address.js'
import { exitCodeFor, formatError } from '../../src/cli/report.js'

t.test('issue 3: --listen/--connect addresses', async t => {
  t.same(parseAddress('', '--listen'), { host: '127.0.0.1', port: 7070 }, 'empty means the default')
  t.same(parseAddress('0.0.0.0:0', '--listen'), { host: '0.0.0.0', port: 0 })
  t.same(parseAddress(':9000', '--listen'), { host: '127.0.0.1', port: 9000 })
  t.same(parseAddress('9000', '--listen'), { host: '127.0.0.1', port: 9000 })
  t.same(parseAddress('[::1]:7070', '--connect'), { host: '::1', port: 7070 })
  t.same(parseAddress('example.org:22', '--connect'), { host: 'example.org', port: 22 })
  for (const bad of ['host', 'host:', 'host:99999', 'a:b', '[::1]']) {
    t.throws(() => parseAddress(bad, '--connect'), { code: 'ERR_USAGE' }, bad)
  }
  t.equal(formatAddress({ host: '::1', port: 1 }), '[::1]:1')
  t.equal(formatAddress({ host: '127.0.0.1', port: 1 }), '127.0.0.1:1')
})

t.test('SPEC 9: one line `secure-pipe: <message> (<CODE>)` and the exit code table', async t => {
  t.equal(formatError(new AuthError('no\nway')), 'secure-pipe: no; way (ERR_AUTH)')
  t.equal(exitCodeFor(new UsageError('x')), 2)
  t.equal(exitCodeFor(new AuthError('x')), 3)
  t.equal(exitCodeFor(new IntegrityError()), 4)
  t.equal(exitCodeFor(new ReceiptError('x')), 4)
  t.equal(exitCodeFor(new NetworkError('x')), 5)
  t.equal(exitCodeFor(new Error('bug')), 1)
  t.match(formatError(new TypeError('bug')), /^secure-pipe: unexpected error: bug.*\(ERR_UNEXPECTED\)$/)
})
