import t from 'tap'
import { EXIT_CODES, IntegrityError, SecurePipeError, toNetworkError } from '../../src/errors.js'

t.test('SPEC 9: errors carry stable codes and map to exit codes', async t => {
  const e = new IntegrityError()
  t.ok(e instanceof SecurePipeError)
  t.equal(e.code, 'ERR_INTEGRITY')
  t.equal(EXIT_CODES[e.code], 4)
  const n = toNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))
  t.equal(n.code, 'ERR_NETWORK')
  t.equal(EXIT_CODES[n.code], 5)
})
