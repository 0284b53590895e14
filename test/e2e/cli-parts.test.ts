/**
 * issue 3: the CLI's pure helpers in-process: HOST:PORT parsing, the SPEC 8 receipt codec and
 * the one-line error format with its exit codes (SPEC 9).
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { AuthError, IntegrityError, NetworkError, ReceiptError, UsageError } from '../../src/index.js'
import { formatAddress, parseAddress } from '../../src/cli/address.js'
import { checkReceipt, encodeReceipt, RECEIPT_LENGTH } from '../../src/cli/receipt.js'
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

t.test('SPEC 8.2: the receipt is SPRC || uint64 BE count || SHA-256', async t => {
  const digest = createHash('sha256').update('abc').digest()
  const r = encodeReceipt(3, digest)
  t.equal(r.length, RECEIPT_LENGTH)
  t.equal(r.length, 44)
  t.equal(r.toString('hex'), '53505243' + '0000000000000003' + digest.toString('hex'))
  t.equal(encodeReceipt(2 ** 40, digest).readBigUInt64BE(4), 2n ** 40n, 'counts beyond 32 bits')
})

t.test('SPEC 8.3: receipt checks', async t => {
  const digest = createHash('sha256').update('abc').digest()
  const good = encodeReceipt(3, digest)
  t.doesNotThrow(() => checkReceipt(good, 3, digest))
  t.throws(() => checkReceipt(good, 4, digest), { code: 'ERR_RECEIPT' }, 'count')
  t.throws(() => checkReceipt(good, 3, Buffer.alloc(32)), { code: 'ERR_RECEIPT' }, 'hash')
  t.throws(() => checkReceipt(good.subarray(0, 43), 3, digest), { code: 'ERR_RECEIPT' }, 'short')
  t.throws(() => checkReceipt(Buffer.concat([Buffer.from('XPRC'), good.subarray(4)]), 3, digest), { code: 'ERR_RECEIPT' }, 'magic')
  t.throws(() => checkReceipt(Buffer.alloc(0), 3, digest), { code: 'ERR_NETWORK', message: /may not have the data/ }, 'no receipt')
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
