/**
 * Backpressure through the whole stack over a real socket: against a receiver that reads a
 * little at a time, the sender's buffers stay bounded by the high-water marks and `write()`
 * tells the writer to wait.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { once } from 'node:events'
import { DEFAULT_RECORD_SIZE, recordFrameLimit } from '../../src/constants.js'
import { frameHeader } from '../../src/framing/frame.js'
import { securePair } from '../helpers/net.js'
import { patterned, sha256 } from '../helpers/streams.js'

const CHUNK = 16 * 1024
// More than the loopback socket buffers absorb (about 9 MB here), so the JavaScript buffers must fill.
const TOTAL = 16 * 1024 * 1024
const STALL_TICKS = 2000 // at most 2000 checks, 5 ms apart, for the writer to stall
const SLOW_TICKS = 100 // then 100 reads of SLOW_READ bytes, 2 ms apart
const SLOW_READ = 24 * 1024

t.test('SPEC 7: a slow reader bounds the sender\'s buffered bytes, and write() returns false', async t => {
  const pair = await securePair({ exposeClientSocket: true })
  const { client, server } = pair
  const socket = pair.clientSocket!
  try {
    const R = DEFAULT_RECORD_SIZE
    // A writer that waits for 'drain' has at most hwm - 1 bytes queued plus the chunk that crossed it.
    // The socket is fed by a pipe that pauses when write() returns false: at most its hwm - 1 plus
    // the largest single chunk FrameEncoder emits (one whole frame: varint + R + 31 bytes).
    const largestFrame = frameHeader(recordFrameLimit(R)).length + recordFrameLimit(R)
    const senderBound = (client.writableHighWaterMark - 1 + CHUNK) + (socket.writableHighWaterMark - 1 + largestFrame)
    // The receiver pauses its decrypt stage when push() returns false: hwm plus one record's payload.
    const receiverBound = server.readableHighWaterMark + R
    t.comment(`sender bound ${senderBound} B = (${client.writableHighWaterMark} - 1 + ${CHUNK}) + (${socket.writableHighWaterMark} - 1 + ${largestFrame})`)

    let maxSender = 0
    let maxSocket = 0
    let maxReceiver = 0
    const sample = (): void => {
      maxSender = Math.max(maxSender, client.writableLength + socket.writableLength)
      maxSocket = Math.max(maxSocket, socket.writableLength)
      maxReceiver = Math.max(maxReceiver, server.readableLength)
    }

    const payload = patterned(TOTAL, 3)
    let refusals = 0
    let waiting = false
    const writer = (async () => {
      for (let off = 0; off < TOTAL; off += CHUNK) {
        const more = client.write(payload.subarray(off, off + CHUNK))
        sample()
        if (!more) {
          refusals++
          waiting = true
          await once(client, 'drain')
          waiting = false
          sample()
        }
      }
      client.end()
    })()

    // Read nothing until the writer waits for 'drain' with the socket's own buffer full: every
    // buffer below the sender (kernel included) is then full.
    server.pause()
    let stalled = false
    for (let i = 0; i < STALL_TICKS && !stalled; i++) {
      await sleep(5)
      sample()
      stalled = waiting && socket.writableLength >= socket.writableHighWaterMark
    }
    t.ok(stalled, 'the writer stalled behind a full socket buffer')

    const received: Buffer[] = []
    for (let i = 0; i < SLOW_TICKS; i++) {
      await sleep(2)
      sample()
      const n = Math.min(SLOW_READ, server.readableLength)
      const c = (n > 0 ? server.read(n) : server.read(0)) as Buffer | null
      if (c) received.push(c)
    }
    const slowBytes = received.reduce((a, c) => a + c.length, 0)
    t.ok(slowBytes > 0 && slowBytes < TOTAL, `the slow phase read ${slowBytes} of ${TOTAL} bytes`)

    // Then read the rest at full speed; the writer finishes once the data drains.
    server.on('data', (c: Buffer) => { received.push(c); sample() })
    server.resume()
    await Promise.all([once(server, 'end'), writer])

    t.ok(refusals > 0, `write() returned false ${refusals} times`)
    t.ok(maxSocket >= socket.writableHighWaterMark, `the socket buffer reached its high-water mark (${maxSocket} B)`)
    t.ok(maxSender <= senderBound, `sender buffered at most ${maxSender} B (bound ${senderBound} B)`)
    t.ok(maxReceiver <= receiverBound, `receiver buffered at most ${maxReceiver} B (bound ${receiverBound} B)`)
    t.equal(sha256(Buffer.concat(received)), sha256(payload), 'every byte arrived, in order')
  } finally {
    await pair.cleanup()
  }
})
