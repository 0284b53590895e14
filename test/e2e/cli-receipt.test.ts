/**
 * SPEC 8.5: the delivery receipt between `send` and `recv`, checked against a peer written here
 * with the library's message functions, so each side of the CLI is tested against a receiver
 * that answers whatever a test asks.
 */
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import {
  ByteQueue, connect, createServer, encodeManifest, encodePlan, encodeReady, encodeReceipt, loadAuthorizedKeys, loadPrivateKey, loadPublicKey,
  ManifestDecoder, takeReady, takeReceipt,
} from '../../src/index.js'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitForListening, type Teardown } from '../helpers/cli.js'

const keys = makeKeys(tempDir(t))
type Stream = Awaited<ReturnType<typeof connect>>
const fakeServers: Array<ReturnType<typeof createServer>> = []

/** A complete receipt for one entry (SPEC 8.5). */
function receipt(count: number, digest: Buffer): Buffer {
  return encodeReceipt({ bytes: count, digest, done: 1, outcome: 'durable' })
}

/** A listening peer that reads the manifest, answers Ready with no offers, reads everything, then answers with `answer(bytes, record tag digest)`. */
async function fakeReceiver(t: Teardown, answer: (count: number, digest: Buffer, s: Stream) => void): Promise<number> {
  const server = createServer({ privateKey: loadPrivateKey(keys.server), authorizedKeys: loadAuthorizedKeys(keys.clientPK) }, s => {
    let count = 0
    const manifest = new ManifestDecoder()
    let ready = false
    s.on('data', (c: Buffer) => {
      count += c.length
      if (!ready && manifest.push(c)) { ready = true; s.write(encodeReady([])) }
    })
    s.on('end', () => answer(count, s.tagDigest('received')!, s))
    s.on('error', () => {})
  })
  fakeServers.push(server)
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

t.test('SPEC 8.5.2: send exits 0 on a matching receipt from an independent receiver', async t => {
  const port = await fakeReceiver(t, (n, d, s) => s.end(receipt(n, d)))
  const r = await sendTo(t, port, randomBytes(300_000))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /receipt verified/)
})

const bad: Array<[string, (n: number, d: Buffer, s: Stream) => void]> = [
  ['a wrong byte count', (n, d, s) => s.end(receipt(n - 1, d))],
  ['a wrong tag digest', (n, d, s) => { const x = Buffer.from(d); x[0] ^= 1; s.end(receipt(n, x)) }],
  ['a wrong magic', (n, d, s) => { const x = receipt(n, d); x[0] = 0x58; s.end(x) }],
  ['too few entries done, without a reason', (n, d, s) => s.end(encodeReceipt({ bytes: n, digest: d, done: 0, outcome: 'durable' }))],
  ['too many bytes', (n, d, s) => s.end(Buffer.concat([receipt(n, d), Buffer.from('!')]))],
]
for (const [what, answer] of bad) {
  t.test(`SPEC 8.5.2: ${what} in the receipt is exit 4 (ERR_RECEIPT)`, async t => {
    const r = await sendTo(t, await fakeReceiver(t, answer), randomBytes(100_000))
    t.equal(r.code, 4, r.stderr)
    t.match(r.stderr, /^secure-pipe: [^\n]+ \(ERR_RECEIPT\)\n$/)
  })
}

t.test('SPEC 8.5.2: an authenticated end without a receipt is exit 5: the receiver may not have the data', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (_n, _d, s) => s.end()), randomBytes(10_000))
  t.equal(r.code, 5, r.stderr)
  t.match(r.stderr, /receiver may not have the data.*\(ERR_NETWORK\)\n$/)
})

t.test('SPEC 8.5: too few bytes of a receipt before the end is exit 5: no receipt, the receiver may not have the data', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (n, d, s) => s.end(receipt(n, d).subarray(0, 43))), randomBytes(10_000))
  t.equal(r.code, 5, r.stderr)
  t.match(r.stderr, /without a delivery receipt.*\(ERR_NETWORK\)\n$/)
})

t.test('SPEC 8.5.2: a failure receipt is exit with the receiver\'s code and its reason, naming what was written', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (n, d, s) => s.end(encodeReceipt({ bytes: n, digest: d, done: 0, outcome: 'durable', error: { code: 'ERR_IO', message: 'cannot write x: no space left on the device' } }))), randomBytes(10_000))
  t.equal(r.code, 2, r.stderr)
  t.match(r.stderr, /^secure-pipe: the receiver failed the stream: cannot write x: no space left on the device; nothing was written \(ERR_IO\)\n$/)
})

t.test('SPEC 8.8: a receipt with a code is a failure even when its count, digest and done match', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (n, d, s) => s.end(encodeReceipt({ bytes: n, digest: d, done: 1, outcome: 'durable', error: { code: 'ERR_PROTOCOL', message: 'data came after the last entry' } }))), randomBytes(10_000))
  t.equal(r.code, 4, r.stderr)
  t.notMatch(r.stderr, /receipt verified/, 'never reported as delivered')
  t.match(r.stderr, /data came after the last entry.*\(ERR_PROTOCOL\)\n$/)
})

t.test('SPEC 8.8: a receipt followed by the end of the transport without the close record is exit 5 (ERR_NETWORK)', async t => {
  const sockets: Array<import('node:net').Socket> = []
  const port = await fakeReceiver(t, (n, d, s) => { s.write(receipt(n, d), () => sockets.at(-1)!.end()) })
  const server = fakeServers.at(-1)!
  server.on('connection', (socket: import('node:net').Socket) => sockets.push(socket))
  const r = await sendTo(t, port, randomBytes(10_000))
  t.equal(r.code, 5, r.stderr)
  t.notMatch(r.stderr, /receipt verified/, 'the receipt alone does not count')
  t.match(r.stderr, /\(ERR_NETWORK\)\n$/)
})

t.test('SPEC 8.5.2: a connection dropped instead of a receipt is exit 5', async t => {
  const r = await sendTo(t, await fakeReceiver(t, (_n, _d, s) => s.destroy()), randomBytes(10_000))
  t.equal(r.code, 5, r.stderr)
  t.match(r.stderr, /receiver may not have the data/)
})

t.test('SPEC 8.3, 8.5: recv answers the manifest with Ready, and the data with exactly one receipt over the record tags, then its close', async t => {
  const dir = tempDir(t)
  const recv = spawnCli(t, ['recv', ...listenArgs(keys), join(dir, 'r.out')])
  const port = await waitForListening(recv)
  const data = randomBytes(200_003)
  const s = await connect({ host: '127.0.0.1', port, privateKey: loadPrivateKey(keys.client), serverPublicKey: loadPublicKey(keys.serverPK) })
  const q = new ByteQueue()
  const manifest = encodeManifest([{ type: 'file', name: 'r.bin', mode: 0o600, mtimeMs: 0, size: data.length }], { resume: false })
  s.on('data', (c: Buffer) => q.push(c))
  s.write(manifest)
  while (q.length < 8) await once(s, 'data')
  t.same(takeReady(q, [{ type: 'file', name: 'r.bin', mode: 0o600, mtimeMs: 0, size: data.length }]), [], 'Ready, no offers')
  const plan = encodePlan([])
  s.end(Buffer.concat([plan, data]))
  await once(s, 'end') // SPEC 8.5: the receiver's authenticated close follows the receipt
  const sent = s.tagDigest('sent')!
  t.same(takeReceipt(q), { bytes: manifest.length + plan.length + data.length, digest: sent, done: 1, outcome: 'durable' })
  t.equal(q.length, 0, 'nothing after the receipt')
  t.notSame(sent, createHash('sha256').update(data).digest(), 'not a hash of the data: of the record tags')
  t.equal((await recv.done).code, 0)
})

t.test('SPEC 8.5.3: --sha256 prints the content hash at both ends, in sha256sum\'s form; without it neither end hashes', async t => {
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
      t.match(s.stderr, new RegExp(`^${expected}  in\\.bin$`, 'm'), 'the sender prints HEX  NAME')
      t.match(r.stderr, new RegExp(`^${expected}  `, 'm'), 'the receiver prints the same hash')
    } else {
      t.notMatch(s.stderr + r.stderr, /[0-9a-f]{64}/, 'no hash printed (none computed)')
    }
  }
})
