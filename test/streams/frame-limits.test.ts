/**
 * FrameDecoder's limit options (SPEC 2.2, 7), in the cases mutation testing found unchecked:
 * the small limit binds only while smallFrames frames remain, and a failed decoder keeps its
 * first error's cause (errors are translated with the original as `cause`).
 */
import t from 'tap'
import { FrameDecoder, frameHeader } from '../../src/framing/frame.js'
import { settle } from '../helpers/streams.js'

function frame(length: number): Buffer {
  return Buffer.concat([frameHeader(length), Buffer.alloc(length, 7)])
}

t.test('SPEC 2.2, 7: with smallFrames 0 (or absent) a smallLimit has no effect; the limit alone applies', async t => {
  for (const smallFrames of [0, undefined]) {
    const d = new FrameDecoder({ limit: 1000, smallLimit: 10, ...(smallFrames === undefined ? {} : { smallFrames }) })
    d.end(Buffer.concat([frame(500), frame(1000)]))
    const o = await settle(d)
    t.equal(o.error, null, `smallFrames ${smallFrames}: frames over smallLimit pass`)
    t.equal(o.events, 2, 'both frames came out')
  }
})

t.test('SPEC 2.2: ERR_FRAME_TOO_LARGE carries the decoder\'s own error as its cause', async t => {
  const d = new FrameDecoder({ limit: 10 })
  d.end(frame(11))
  const o = await settle(d)
  t.equal(o.error?.code, 'ERR_FRAME_TOO_LARGE')
  t.type(o.error?.cause, Error, 'the original error is kept')
  t.equal(o.events, 0, 'no frame came out')
})
