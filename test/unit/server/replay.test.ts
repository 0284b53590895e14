import t from 'tap'
import { randomBytes } from 'node:crypto'
import { ReplayCache } from '../../../src/server/replay.js'

t.test('issue 8.5: the replay cache refuses an exact replay of a ClientHello random, and forgets the oldest beyond its capacity', async t => {
  const seen = new ReplayCache(3)
  const [r1, r2, r3, r4] = Array.from({ length: 4 }, () => randomBytes(32))
  t.equal(seen.fresh(r1!), true)
  t.equal(seen.fresh(Buffer.from(r1!)), false, 'the same bytes in another buffer are a replay')
  const flipped = Buffer.from(r1!)
  flipped[31]! ^= 1
  t.equal(seen.fresh(flipped), true, 'one bit changed is not this cache\'s business (the OAEP label catches it)')
  t.equal(seen.fresh(r2!), true)
  t.equal(seen.size, 3)
  t.equal(seen.fresh(r3!), true, 'r1 is forgotten now')
  t.equal(seen.size, 3, 'bounded')
  t.equal(seen.fresh(r1!), true, 'a replay older than the capacity costs one RSA operation again')
  t.equal(seen.fresh(r4!), true)
  t.equal(seen.fresh(r4!), false)
  t.throws(() => new ReplayCache(0), RangeError)
})
