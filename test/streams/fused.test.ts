/**
 * Issue 18, decision 3: SecureStream seals, frames, deframes and opens records itself after the
 * handshake; the composable stages (EncryptStage -> FrameEncoder, FrameDecoder -> DecryptStage)
 * must give the same wire and read it. Over a real socket on 127.0.0.1, a SecureStream server
 * against a peer built from the library's handshake machine (test/helpers/hostile.ts), both
 * record paths fed the same deterministic random source (SessionOptions.random, test-only):
 *  - the bytes the SecureStream writes after the handshake equal the stages' output, byte for byte;
 *  - the stages read the SecureStream's output back to the plaintext and its close record;
 *  - the SecureStream reads the stages' output back to the plaintext and ends at its close record.
 * A small record size and key update interval put several records in one chunk and key updates
 * in the middle of a chunk (the IVs of a chunk are computed in batches, crypto/ccm-iv.ts).
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AuthorizedKeys, ServerHandshake } from '../../src/handshake/server.js'
import { FrameDecoder, FrameEncoder } from '../../src/framing/frame.js'
import { DecryptStage } from '../../src/record/decrypt.js'
import { EncryptStage } from '../../src/record/encrypt.js'
import type { RecordKeys } from '../../src/record/protector.js'
import { SecureStream } from '../../src/session.js'
import type { RandomSource } from '../../src/crypto/random.js'
import { testKeys } from '../helpers/keys.js'
import { clientSession } from '../helpers/hostile.js'
import { collect, patterned, randomSizes, sha256 } from '../helpers/streams.js'

const RECORD_SIZE = 1000
const KEY_UPDATE_INTERVAL = 7
const CHUNKS = randomSizes(0xf05ed, 40, 5000) // 1 to 5,000 bytes: 1 to 5 records each

/** A deterministic random source (the same bytes for every instance made with the same seed). */
function counterRandom(seed: number): RandomSource {
  let n = seed
  return length => {
    const out = Buffer.alloc(length)
    for (let i = 0; i < length; i++) out[i] = (n = (Math.imul(n, 1103515245) + 12345) >>> 0) >>> 24
    return out
  }
}

const copy = (k: RecordKeys, extra: Partial<RecordKeys> = {}): RecordKeys => ({ ...k, secret: Buffer.from(k.secret), keyUpdateInterval: KEY_UPDATE_INTERVAL, ...extra })

/** Plaintext chunks through the stages: EncryptStage -> FrameEncoder, collected as wire bytes. */
async function stagesSeal(chunks: Buffer[], keys: RecordKeys): Promise<Buffer> {
  const framer = new FrameEncoder()
  const out = collect(framer)
  await pipeline(Readable.from(chunks, { objectMode: false }), new EncryptStage({ keys, recordSize: RECORD_SIZE }), framer)
  return out
}

t.test('issue 18 decision 3: SecureStream\'s own record path and the stages write the same bytes and read each other\'s', async t => {
  const keys = await testKeys()
  const plain = patterned(CHUNKS.reduce((a, b) => a + b, 0), 18)
  const chunks: Buffer[] = []
  for (let off = 0, i = 0; off < plain.length; off += CHUNKS[i++]!) chunks.push(plain.subarray(off, off + CHUNKS[i]!))

  let server: SecureStream | undefined
  const listener = createTcpServer({ allowHalfOpen: true })
  const accepted = new Promise<SecureStream>(resolve => listener.once('connection', (socket: Socket) => {
    listener.close()
    const machine = new ServerHandshake({ privateKey: keys.server.privateKey, authorizedKeys: new AuthorizedKeys([keys.client.publicKey]) })
    server = new SecureStream(socket, machine, { recordSize: RECORD_SIZE, keyUpdateInterval: KEY_UPDATE_INTERVAL, random: counterRandom(42) })
    resolve(server)
  }))
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const peer = await clientSession((listener.address() as AddressInfo).port, { privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  const stream = await accepted
  t.teardown(() => { peer.socket.destroy(); server?.destroy() })
  await stream.secure
  stream.on('error', err => t.fail(`server: ${err.message}`))

  // The server's records from here on: the handshake is over on both ends.
  const wire: Buffer[] = []
  peer.socket.on('data', (c: Buffer) => wire.push(c))
  const peerEnded = once(peer.socket, 'end')
  for (const c of chunks) stream.write(c)
  stream.end()
  await peerEnded
  const fusedWire = Buffer.concat(wire)

  // 1. Byte-identical: the stages with the server's sending keys and the same random source.
  const stagesWire = await stagesSeal(chunks, copy(peer.keys.receive, { random: counterRandom(42) }))
  t.equal(fusedWire.length, stagesWire.length, 'the same number of wire bytes')
  t.ok(fusedWire.equals(stagesWire), 'the same wire bytes, record for record')

  // 2. The stages read the SecureStream's records: all the plaintext, then its close record.
  const decrypt = new DecryptStage({ keys: copy(peer.keys.receive) })
  const opened = collect(decrypt)
  await pipeline(Readable.from([fusedWire], { objectMode: false }), new FrameDecoder(), decrypt)
  t.equal(sha256(await opened), sha256(plain), 'the stages opened every byte the SecureStream sealed')
  t.ok(decrypt.peerClosed, 'and its close record')
  t.same(decrypt.tagDigest, stream.tagDigest('sent'), 'SPEC 8.5: the same tag digest on both paths')

  // 3. The SecureStream reads the stages' records (sealed with the peer's sending keys).
  const received = collect(stream)
  peer.socket.end(await stagesSeal(chunks, copy(peer.keys.send)))
  t.equal(sha256(await received), sha256(plain), 'the SecureStream opened every byte the stages sealed')
  t.ok(stream.readableEnded, 'and ended at their close record')
})
