/**
 * The full stack over real sockets on 127.0.0.1 (connect / createServer): round trips compared by
 * SHA-256, both directions at once, half-close (SPEC 6.3), what both ends learn from the
 * handshake, and a transport cut mid-stream (SPEC 6.2).
 */
import t from 'tap'
import { once } from 'node:events'
import { createConnection, type AddressInfo } from 'node:net'
import { ClientHandshake } from '../../src/handshake/client.js'
import { createServer } from '../../src/net.js'
import { SecureStream } from '../../src/session.js'
import { DEFAULT_RECORD_SIZE, MAX_RECORD_SIZE } from '../../src/constants.js'
import { fingerprint } from '../../src/keys/load.js'
import { testKeys } from '../helpers/keys.js'
import { securePair } from '../helpers/net.js'
import { collect, patterned, settle, sha256 } from '../helpers/streams.js'

const R = DEFAULT_RECORD_SIZE
const MiB = 1024 * 1024

t.before(() => testKeys())

t.test('SPEC 5.5, 6.1: round trips of 0 B, 1 B, R-1, R, R+1 and 10 MiB through a server that echoes', async t => {
  for (const [size, recordSize] of [[0, R], [1, R], [R - 1, R], [R, R], [R + 1, R], [10 * MiB, R], [2049, 1024]] as const) {
    const pair = await securePair({ recordSize })
    try {
      pair.server.pipe(pair.server) // echo; the server's end follows the client's
      const payload = patterned(size, size)
      const back = collect(pair.client)
      pair.client.end(payload)
      const got = await back
      t.equal(got.length, size, `${size} B (record size ${recordSize}): length`)
      t.equal(sha256(got), sha256(payload), `${size} B (record size ${recordSize}): SHA-256`)
    } finally {
      await pair.cleanup()
    }
  }
})

t.test('SPEC 6: both directions at once, 5 MiB each way', async t => {
  const pair = await securePair()
  try {
    const up = patterned(5 * MiB, 1)
    const down = patterned(5 * MiB, 2)
    const atServer = collect(pair.server)
    const atClient = collect(pair.client)
    // Several writes each way, interleaved by the event loop.
    for (let off = 0; off < up.length; off += MiB) {
      pair.client.write(up.subarray(off, off + MiB))
      pair.server.write(down.subarray(off, off + MiB))
    }
    pair.client.end()
    pair.server.end()
    const [s, c] = await Promise.all([atServer, atClient])
    t.equal(sha256(s), sha256(up), 'the server got the client\'s 5 MiB')
    t.equal(sha256(c), sha256(down), 'the client got the server\'s 5 MiB')
  } finally {
    await pair.cleanup()
  }
})

t.test('SPEC 6.3: half-close: the client ends, then still receives the server\'s reply', async t => {
  const pair = await securePair({ allowHalfOpen: true }) // issue 17 s6: opted in; the default ends with the peer (half-close-default.test.ts)
  try {
    const events: string[] = []
    pair.client.once('finish', () => events.push('client finish'))
    const reply = collect(pair.client)
    pair.client.on('data', () => events.push('client data'))
    pair.client.end('request')
    const request = await collect(pair.server)
    events.push('server end')
    t.equal(request.toString(), 'request', 'the server read the whole request, then its end')
    pair.server.end(Buffer.from('reply after your end'))
    t.equal((await reply).toString(), 'reply after your end', 'the client received the reply after ending')
    t.same(events.slice(0, 2).sort(), ['client finish', 'server end'], 'the client had finished before any reply')
    t.equal(events[2], 'client data')
  } finally {
    await pair.cleanup()
  }
})

t.test('SPEC 6.3: half-close the other way: the server ends first, the client still sends after the server\'s end', async t => {
  const pair = await securePair({ allowHalfOpen: true }) // issue 17 s6: opted in; the default ends with the peer (half-close-default.test.ts)
  try {
    const atServer = collect(pair.server)
    pair.server.end('greeting')
    t.equal((await collect(pair.client)).toString(), 'greeting', 'the client read the server\'s data and its end')
    pair.client.end('answer after your end')
    t.equal((await atServer).toString(), 'answer after your end')
  } finally {
    await pair.cleanup()
  }
})

t.test('SPEC 5.5: a receiver accepts records up to 1 MiB whatever its own record size; 1-byte records work', async t => {
  for (const [recordSize, size] of [[MAX_RECORD_SIZE, 2 * MAX_RECORD_SIZE + 1], [1, 3000]] as const) {
    const pair = await securePair({ recordSize, server: { recordSize: DEFAULT_RECORD_SIZE } })
    try {
      const payload = patterned(size, 5)
      const got = collect(pair.server)
      pair.client.end(payload)
      t.equal(sha256(await got), sha256(payload), `client record size ${recordSize}, server ${DEFAULT_RECORD_SIZE}: ${size} B arrive`)
    } finally {
      await pair.cleanup()
    }
  }
})

t.test('SPEC 4.1: both ends agree on the handshake hash; each knows the other\'s key fingerprint', async t => {
  const keys = await testKeys()
  const pair = await securePair()
  try {
    const { client, server } = pair
    t.ok(client.handshakeHash && client.handshakeHash.length === 32, 'a 32-byte handshake hash')
    t.same(client.handshakeHash, server.handshakeHash, 'identical handshake hash')
    t.equal(client.peerFingerprint, fingerprint(keys.server.publicKey), 'the client sees the server key')
    t.equal(server.peerFingerprint, fingerprint(keys.client.publicKey), 'the server sees the client key')
    t.not(client.peerFingerprint, server.peerFingerprint)
    t.equal(client.cipher, server.cipher, 'the same cipher')
    const other = await securePair()
    t.notSame(other.client.handshakeHash, client.handshakeHash, 'another session has another handshake hash')
    await other.cleanup()
  } finally {
    await pair.cleanup()
  }
})

t.test('SPEC 6.2: a transport cut mid-stream is ERR_TRUNCATED or ERR_NETWORK at the receiver, never a clean end', async t => {
  const payload = patterned(MiB, 11)
  for (const mode of ['fin', 'rst'] as const) {
    for (const cutAfter of [1000, 70_000, 300_000]) {
      const pair = await securePair({ proxy: { cutAfter, mode } })
      try {
        pair.client.on('error', () => {}) // the sender may see the reset too; not what this test is about
        const outcome = settle(pair.server)
        pair.client.end(payload)
        const o = await outcome
        const what = `${mode} after ${cutAfter} bytes`
        t.ok(o.error && ['ERR_TRUNCATED', 'ERR_NETWORK'].includes(o.error.code ?? ''), `${what}: ${o.error?.code}`)
        if (mode === 'fin') t.equal(o.error?.code, 'ERR_TRUNCATED', `${what}: a FIN before close is truncation`)
        t.notOk(o.ended, `${what}: no clean end`)
        t.ok(o.data.length < payload.length && o.data.equals(payload.subarray(0, o.data.length)), `${what}: released only a prefix (${o.data.length} bytes)`)
      } finally {
        await pair.cleanup()
      }
    }
  }
})

t.test('a write\'s callback comes once its chunk is sealed: the writer may refill the same buffer, even before the handshake ends (README, issue 11)', async t => {
  const keys = await testKeys()
  const N = 64
  let deliver!: (got: Promise<Buffer>) => void
  const received = new Promise<Buffer>(resolve => { deliver = resolve })
  const listener = createServer({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey] }, s => deliver(collect(s)))
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const socket = createConnection({ host: '127.0.0.1', port: (listener.address() as AddressInfo).port, allowHalfOpen: true })
  const client = new SecureStream(socket, new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey }))
  try {
    // The first writes go in before the handshake completes: they wait for the keys, so their callbacks must too.
    const buf = Buffer.alloc(1024)
    for (let i = 0; i < N; i++) {
      buf.fill(i)
      await new Promise<void>((resolve, reject) => client.write(buf, err => err ? reject(err) : resolve()))
    }
    client.end()
    const got = await received
    const want = Buffer.concat(Array.from({ length: N }, (_, i) => Buffer.alloc(1024, i)))
    t.equal(got.length, want.length, 'every byte arrived')
    t.equal(sha256(got), sha256(want), 'each chunk arrived as it was when written, not as the buffer was refilled after its callback')
  } finally {
    client.destroy()
    listener.close()
  }
})
