/**
 * Properties (fast-check, fixed seeds, bounded runs):
 *  - any payload cut into any chunks round-trips through encrypt / frame / decrypt (SPEC 2, 5);
 *  - any byte string fed to FrameDecoder -> DecryptStage ends in a typed error and releases
 *    nothing it should not (SPEC 5.4, 6.2);
 *  - any byte string fed to a server ends in a typed error or the handshake timeout, never a
 *    crash (SPEC 3, 7): through the HandshakeStage directly, and a few times over a socket.
 */
import t from 'tap'
import fc from 'fast-check'
import { once } from 'node:events'
import { createConnection, type AddressInfo } from 'node:net'
import { HANDSHAKE_FRAMES, HANDSHAKE_FRAME_LIMIT, MAGIC, MAX_RECORD_SIZE, recordFrameLimit } from '../../src/constants.js'
import { SecurePipeError } from '../../src/errors.js'
import { FrameDecoder, frameHeader } from '../../src/framing/frame.js'
import { ClientHandshake } from '../../src/handshake/client.js'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import { HandshakeStage } from '../../src/handshake/stream.js'
import { createServer } from '../../src/net.js'
import { testKeys } from '../helpers/keys.js'
import { cutAt, openWire, patterned, runThrough, sealToWire, type Outcome } from '../helpers/streams.js'

const SEED = 0x5ec0de
const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex')
const KEYS = { cipher: 'aes-128-ccm' as const, secret: KEY, direction: 0 }
const SMALL_RECORD = 1024

const RECORD_ERRORS = ['ERR_INTEGRITY', 'ERR_TRUNCATED', 'ERR_FRAME_TOO_LARGE']
const SERVER_ERRORS = ['ERR_VERSION', 'ERR_FRAME_TOO_LARGE', 'ERR_TRUNCATED', 'ERR_AUTH', 'ERR_NETWORK', 'ERR_TIMEOUT']

function typed(o: Outcome, codes: readonly string[]): boolean {
  return o.error instanceof SecurePipeError && codes.includes(o.error.code) && !o.ended
}

function frames(bodies: readonly Uint8Array[]): Buffer {
  return Buffer.concat(bodies.flatMap(b => [frameHeader(b.length), Buffer.from(b)]))
}

t.test('SPEC 2, 5: any payload up to 200 KiB, cut into any chunks, round-trips with a small record size', async t => {
  const payloadArb = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }).map(a => Buffer.from(a)),
    fc.record({ length: fc.integer({ min: 0, max: 200 * 1024 }), seed: fc.nat() }).map(({ length, seed }) => patterned(length, seed)),
  )
  const recordSizeArb = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 512, max: 4096 }))
  await fc.assert(fc.asyncProperty(payloadArb, recordSizeArb, fc.array(fc.nat(), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 }),
    async (payload0, recordSize, writeCuts, wireCuts) => {
      // Keep the record count bounded (at most about 1000 records per run).
      const payload = payload0.subarray(0, recordSize * 1000)
      const writes = cutAt(payload, writeCuts.map(c => c % (payload.length + 1)))
      const wire = await sealToWire(writes, KEYS, recordSize)
      const o = await openWire(cutAt(wire, wireCuts.map(c => c % (wire.length + 1))), KEYS, recordSize)
      return o.error === null && o.ended && o.data.equals(payload)
    }), { seed: SEED, numRuns: 100 })
  t.pass('100 runs')
})

t.test('SPEC 5.4, 6.2: any byte string fed to FrameDecoder -> DecryptStage ends in a typed error, releasing nothing', async t => {
  const valid = await sealToWire([patterned(300, 1), patterned(300, 2)], KEYS, SMALL_RECORD)
  const wrongKey = await sealToWire([patterned(300, 1)], { cipher: 'aes-128-ccm' as const, secret: Buffer.alloc(32, 9), direction: 0 }, SMALL_RECORD)
  const inputArb = fc.oneof(
    // Raw bytes, framed random bodies (they reach DecryptStage), a stream under another key.
    fc.uint8Array({ maxLength: 4096 }).map(a => Buffer.from(a)),
    fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 6 }).map(frames),
    fc.constant(wrongKey),
    // The first record of a valid stream damaged: one byte changed.
    fc.record({ at: fc.integer({ min: 0, max: 330 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
      const b = Buffer.from(valid)
      b[at]! ^= xor
      return b
    }),
  )
  await fc.assert(fc.asyncProperty(inputArb, fc.array(fc.nat(), { maxLength: 20 }), async (input, cuts) => {
    const o = await openWire(cutAt(input, cuts.map(c => c % (input.length + 1))), KEYS, SMALL_RECORD)
    return typed(o, RECORD_ERRORS) && o.data.length === 0
  }), { seed: SEED, numRuns: 100 })

  // A valid stream damaged anywhere, or cut short: the same, except records before the damage may be released.
  const plain = Buffer.concat([patterned(300, 1), patterned(300, 2)])
  const damageArb = fc.oneof(
    fc.record({ at: fc.nat({ max: valid.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
      const b = Buffer.from(valid)
      b[at]! ^= xor
      return b
    }),
    fc.nat({ max: valid.length - 1 }).map(n => valid.subarray(0, n)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map(extra => Buffer.concat([valid, extra])),
  )
  await fc.assert(fc.asyncProperty(damageArb, async input => {
    const o = await openWire([input], KEYS, SMALL_RECORD)
    return typed(o, RECORD_ERRORS) && [0, 300, 600].includes(o.data.length) && o.data.equals(plain.subarray(0, o.data.length))
  }), { seed: SEED, numRuns: 100 })
  t.pass('200 runs')
})

t.test('SPEC 3, 7: any byte string fed to a server handshake ends in a typed error or its timeout, never a crash', async t => {
  const keys = await testKeys()
  const authorized = new AuthorizedKeys([keys.client.publicKey])
  const hello = (privateKey: typeof keys.client.privateKey): Buffer => new ClientHandshake({ privateKey, serverPublicKey: keys.server.publicKey }).clientHello
  const hellos = [hello(keys.client.privateKey), hello(keys.stranger.privateKey)]
  const header = fc.record({ version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })), type: fc.integer({ min: 0, max: 16 }) })

  const inputArb = fc.oneof(
    // Raw bytes; messages with the right magic and random bodies; real ClientHellos, damaged or
    // followed by random frames (a forged ClientFinished among them).
    fc.uint8Array({ maxLength: 2048 }).map(a => Buffer.from(a)),
    fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 300 })).map(([h, body]) => Buffer.concat([MAGIC, Buffer.from([h.version, h.type]), body])), { minLength: 1, maxLength: 3 }).map(frames),
    fc.record({ which: fc.nat({ max: 1 }), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }).map(({ which, at, xor }) => {
      const h = Buffer.from(hellos[which]!)
      h[at % h.length]! ^= xor
      return frames([h])
    }),
    fc.record({ which: fc.nat({ max: 1 }), rest: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 2 }), finished: fc.uint8Array({ minLength: 32, maxLength: 32 }) })
      .map(({ which, rest, finished }) => frames([hellos[which]!, Buffer.concat([MAGIC, Buffer.from([1, 3]), finished]), ...rest])),
  )
  const seen = new Map<string, number>()
  await fc.assert(fc.asyncProperty(inputArb, fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), async (input, end, cuts) => {
    const sent: Buffer[] = []
    const stage = new HandshakeStage({
      machine: new ServerHandshake({ privateKey: keys.server.privateKey, authorizedKeys: authorized }),
      send: (f, done) => { sent.push(f); done?.() },
      timeoutMs: 25,
    })
    const decoder = new FrameDecoder({ limit: recordFrameLimit(MAX_RECORD_SIZE), smallFrames: HANDSHAKE_FRAMES, smallLimit: HANDSHAKE_FRAME_LIMIT })
    const o = await runThrough(cutAt(input, cuts.map(c => c % (input.length + 1))), [decoder, stage], { end, timeoutMs: 5000 })
    const code = o.error?.code ?? 'none'
    seen.set(code, (seen.get(code) ?? 0) + 1)
    const keysRejected = await stage.keys.then(() => false, () => true)
    return typed(o, SERVER_ERRORS) && o.events === 0 && keysRejected && !stage.complete
  }), { seed: SEED, numRuns: 100 })
  t.comment(`codes: ${JSON.stringify(Object.fromEntries(seen))}`)
  // The generators reach every stage: framing, message parsing, key checks, the end and the deadline.
  for (const code of ['ERR_VERSION', 'ERR_AUTH', 'ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_TRUNCATED']) t.ok(seen.has(code), `some runs ended in ${code}`)
})

t.test('SPEC 3, 7: any byte string sent to a real server over a socket ends in handshakeError with a typed code', async t => {
  const keys = await testKeys()
  const server = createServer({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey], handshakeTimeoutMs: 100 })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const hello = new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey }).clientHello
  const inputArb = fc.oneof(
    fc.uint8Array({ maxLength: 1024 }).map(a => Buffer.from(a)),
    fc.uint8Array({ maxLength: 64 }).map(a => Buffer.concat([frames([hello]), frames([a])])),
    fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
      const h = Buffer.from(hello)
      h[at % h.length]! ^= xor
      return frames([h])
    }),
  )
  try {
    await fc.assert(fc.asyncProperty(inputArb, fc.boolean(), async (input, end) => {
      const failed = new Promise<Error & { code?: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no handshakeError within 5 s')), 5000)
        server.once('handshakeError', (err: Error) => { clearTimeout(timer); resolve(err) })
      })
      const socket = createConnection({ host: '127.0.0.1', port })
      socket.on('error', () => {})
      socket.resume()
      socket.write(input)
      if (end) socket.end()
      const err = await failed
      socket.destroy()
      return err instanceof SecurePipeError && SERVER_ERRORS.includes(err.code)
    }), { seed: SEED, numRuns: 10 })
    t.pass('10 connections')
  } finally {
    await new Promise(resolve => server.close(resolve))
  }
})
