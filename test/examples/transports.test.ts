/**
 * What is documented is executed: examples/child-process.mjs and examples/abort.mjs runs here as a user would run it, and its output is checked.
 */
import t from 'tap'
import { example } from '../helpers/examples.js'

t.test('examples/child-process.mjs: a secure stream over a child\'s stdin/stdout carries 1 MB intact', async t => {
  const lines = await example('examples/child-process.mjs')
  const [got, sent, exit] = lines
  t.match(got, /^child received 1000000 bytes, sha256 [0-9a-f]{16}$/)
  t.equal(got!.split('sha256 ')[1], sent!.split('sha256 ')[1], 'both ends hash the same bytes')
  t.equal(exit, 'child exited with code 0')
})

t.test('examples/abort.mjs: an aborted pipeline destroys the sender\'s stream; the receiver sees no clean end', async t => {
  const [sender, receiver, ...rest] = await example('examples/abort.mjs')
  t.equal(sender, 'sender: cancelled (AbortError), the secure stream is destroyed')
  // The receiver sees the cut as a missing close record, or as the reset that caused it.
  t.match(receiver, /^receiver: the transfer did not complete \((ERR_TRUNCATED|ERR_NETWORK)\); nothing to keep$/)
  t.same(rest, [])
})
