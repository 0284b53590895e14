/**
 * SPEC 8: the delivery receipt between `send` and `recv`, checked against a peer written here
 * with the library's public API, so each side of the CLI is tested against an independent
 * implementation of the 44-byte format.
 */
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { connect, createServer, loadAuthorizedKeys, loadPrivateKey, loadPublicKey } from '../../src/index.js'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitForListening, type Teardown } from '../helpers/cli.js'

const keys = makeKeys(tempDir(t))
type Stream = Awaited<ReturnType<typeof connect>>

function receipt(count: number, digest: Buffer): Buffer {
  const b = Buffer.alloc(44)
  b.write('SPRC', 0, 'ascii')
  b.writeBigUInt64BE(BigInt(count), 4)
  digest.copy(b, 12)
  return b
}

/** A listening peer that reads everything, then answers with `answer(bytes, record tag digest)`. */
async function fakeReceiver(t: Teardown, answer: (count: number, digest: Buffer, s: Stream) => void): Promise<number> {
  const server = createServer({ privateKey: loadPrivateKey(keys.server), authorizedKeys: loadAuthorizedKeys(keys.clientPK) }, s => {
    let count = 0
    s.on('data', (c: Buffer) => { count += c.length })
    s.on('end', () => answer(count, s.tagDigest('received')!, s))
    s.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return (server.address() as { port: number }).port
}

async function sendTo(t: Teardown, port: number, data: Buffer) {
  const send = spawnCli(t, ['send', ...connectArgs(keys, port), '-'], { stdin: 'pipe' })
  send.child.stdin!.end(data)
  return send.done
}

t.test('SPEC 8.3: send exits 0 on a matching receipt from an independent receiver', async t => {
  const port = await fakeReceiver(t, (n, d, s) => s.end(receipt(n, d)))
  const r = await sendTo(t, port, randomBytes(300_000))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /receipt verified/)
})

const bad: Array<[string, (n: number, d: Buffer, s: Stream) => void]> = [
  ['a wrong byte count', (n, d, s) => s.end(receipt(n - 1, d))],
  ['a wrong tag digest', (n, d, s) => { const x = Buffer.from(d); x[0] ^= 1; s.end(receipt(n, x)) }],
  ['a wrong magic', (n, d, s) => { const x = receipt(n, d); x[0] = 0x58; s.end(x) }],
  ['too few bytes', (n, d, s) => s.end(receipt(n, d).subarray(0, 43))],
  ['too many bytes', (n, d, s) => s.end(Buffer.concat([receipt(n, d), Buffer.from('!')]))],
]
for (const [what, answer] of bad) {
  t.test(`SPEC 8.3: ${what} in the receipt is exit 4 (ERR_RECEIPT)`, async t => {
    const r = await sendTo(t, await fakeReceiver(t, answer), randomBytes(100_000))
    t.equal(r.code, 4, r.stderr)
    t.match(r.stderr, /^secure-pipe: [^\n]+ \(ERR_RECEIPT\)\n$/)
  })
}

t.test('SPEC 8.3: an authenticated end without a receipt is exit 5: the receiver may not have the data', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (_n, _d, s) => s.end()), randomBytes(10_000))
  t.equal(r.code, 5, r.stderr)
  t.match(r.stderr, /receiver may not have the data.*\(ERR_NETWORK\)\n$/)
})

t.test('SPEC 8.3: a connection dropped instead of a receipt is exit 5', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (_n, _d, s) => s.destroy()), randomBytes(10_000))
  t.equal(r.code, 5, r.stderr)
  t.match(r.stderr, /receiver may not have the data/)
})

t.test('SPEC 8.2: recv answers with exactly SPRC || uint64 BE count || record tag digest, then its close', async t => {
  const dir = tempDir(t)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), join(dir, 'r.out')])
  const port = await waitForListening(recv)
  const data = randomBytes(200_003)
  const s = await connect({ host: '127.0.0.1', port, privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) })
  const chunks: Buffer[] = []
  s.on('data', (c: Buffer) => chunks.push(c))
  s.end(data)
  await once(s, 'end') // SPEC 8.2: the receiver's authenticated close follows the receipt
  const sent = s.tagDigest('sent')!
  t.same(Buffer.concat(chunks), receipt(data.length, sent))
  t.notSame(sent, createHash('sha256').update(data).digest(), 'not a hash of the data: of the record tags')
  t.equal((await recv.done).code, 0)
})

t.test('SPEC 8.2: --sha256 prints the content hash at both ends, in sha256sum\'s form; without it neither end hashes', async t => {
  const dir = tempDir(t)
  const data = randomBytes(300_001)
  const src = join(dir, 'in.bin')
  writeFileSync(src, data)
  const expected = createHash('sha256').update(data).digest('hex')
  for (const flag of [['--sha256'], []]) {
    const out = join(dir, `out${flag.length}.bin`)
    const recv = spawnCli(t, ['recv', ...listenArgs(keys), ...flag, out])
    const send = spawnCli(t, ['send', ...connectArgs(keys, await waitForListening(recv)), ...flag, src])
    const [s, r] = await Promise.all([send.done, recv.done])
    t.equal(s.code, 0, s.stderr)
    t.equal(r.code, 0, r.stderr)
    if (flag.length) {
      t.match(s.stderr, new RegExp(`^${expected}  ${src.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), 'the sender prints HEX  FILE')
      t.match(r.stderr, new RegExp(`^${expected}  `, 'm'), 'the receiver prints the same hash')
    } else {
      t.notMatch(s.stderr + r.stderr, /[0-9a-f]{64}/, 'no hash printed (none computed)')
    }
  }
})
