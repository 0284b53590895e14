/**
 * The record stages' key hygiene and limits (SPEC 4.4, 5.5), in the cases mutation testing
 * found unchecked: destroying a stage zeroes the traffic secret it owns, a stage destroyed before
 * its keys arrive closes without error, and 1 MiB is an allowed record size.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { MAX_RECORD_SIZE } from '../../../src/constants.js'
import { DecryptStage } from '../../../src/record/decrypt.js'
import { EncryptStage, checkRecordSize } from '../../../src/record/encrypt.js'
import type { RecordKeys } from '../../../src/record/protector.js'
import { settle } from '../../helpers/streams.js'

const stages = {
  EncryptStage: (keys: RecordKeys | Promise<RecordKeys>) => new EncryptStage({ keys }),
  DecryptStage: (keys: RecordKeys | Promise<RecordKeys>) => new DecryptStage({ keys }),
}

t.test('SPEC 4.4: destroying a record stage zeroes the traffic secret it was given', async t => {
  for (const [name, make] of Object.entries(stages)) {
    const secret = randomBytes(32)
    const stage = make({ cipher: 'aes-128-ccm', secret, direction: 0 })
    await new Promise(resolve => setImmediate(resolve)) // the keys (a plain value here) are taken up
    t.notOk(secret.equals(Buffer.alloc(32)), `${name}: the secret is live while the stage is`)
    stage.destroy()
    await settle(stage)
    t.ok(secret.equals(Buffer.alloc(32)), `${name}: zeroed by destroy()`)
  }
})

t.test('a record stage destroyed before its keys arrive closes without an error', async t => {
  for (const [name, make] of Object.entries(stages)) {
    const stage = make(new Promise<RecordKeys>(() => {}))
    stage.destroy()
    const o = await settle(stage)
    t.equal(o.error, null, name)
    t.ok(stage.destroyed, `${name} is destroyed`)
  }
})

t.test('SPEC 5.5: record sizes 1 and 1 MiB are allowed, 0 and 1 MiB + 1 are refused', async t => {
  t.equal(checkRecordSize(1), 1)
  t.equal(checkRecordSize(MAX_RECORD_SIZE), MAX_RECORD_SIZE)
  t.throws(() => checkRecordSize(0), RangeError)
  t.throws(() => checkRecordSize(MAX_RECORD_SIZE + 1), RangeError)
})
