/**
 * issue 8 sections 3 and 4, SPEC 6.1, 8.5: the verified close record is the end of the peer's
 * direction, whatever its socket does: a receiver commits and answers the receipt on it, and a
 * sender accepts a receipt followed by a close record. A receiver that goes silent after the
 * handshake costs the sender at most --receipt-timeout (ERR_TIMEOUT, exit 5).
 * The peers are built from the library's own pieces and keep their sockets open and silent.
 */
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeManifest, encodePlan, encodeReady, encodeReceipt, loadPrivateKey, loadPublicKey, type SessionKeys } from '../../src/index.js'
import { RecordProtector } from '../../src/record/protector.js'
import { RECORD_TYPE } from '../../src/constants.js'
import { frameHeader } from '../../src/framing/frame.js'
import { splitFrames } from '../helpers/streams.js'
import { connectArgs, listenArgs, makeKeys, spawnCli, tempDir, waitForListening } from '../helpers/cli.js'
import { clientSession, honestBytes, readUntilClose, sealFrame, serverSession } from '../helpers/hostile.js'

const dir = tempDir(t)
const files = makeKeys(dir)
const asClient = { privateKey: loadPrivateKey(files.client), serverPublicKey: loadPublicKey(files.serverPK) }
const asServer = { privateKey: loadPrivateKey(files.server), authorizedKeys: [loadPublicKey(files.clientPK)] }

/** SPEC 8.5, computed independently: SHA-256 over the last 16 bytes (the tag, SPEC 5.4) of each record. */
function tagDigestOf(records: readonly Buffer[]): Buffer {
  const h = createHash('sha256')
  for (const r of records) h.update(r.subarray(r.length - 16))
  return h.digest()
}

/** The sender's plaintext for one file holding `data` (SPEC 8.1, 8.3, 8.4): manifest, empty plan, content. */
function transferOf(data: Buffer): Buffer {
  return Buffer.concat([encodeManifest([{ type: 'file', name: 'f.bin', mode: 0o644, mtimeMs: 0, size: data.length }], { resume: false }), encodePlan([]), data])
}

/** The receipt the peer must get for plaintext `plain` sent as `wire` (SPEC 8.5). */
function receiptFor(plain: Buffer, wire: Buffer): Buffer {
  return encodeReceipt({ bytes: plain.length, digest: tagDigestOf(splitFrames(wire)), done: 1, outcome: 'durable' })
}

/** An honest flight of the whole transfer in one go (the receiver's Ready is not waited for), remembering its bytes. */
function remembered(data: Buffer): { flight: (keys: SessionKeys) => { bytes: Buffer }, wire: () => Buffer, plain: Buffer } {
  let wire: Buffer = Buffer.alloc(0)
  const plain = transferOf(data)
  return { flight: keys => { const f = honestBytes(keys, plain); wire = f.bytes; return f }, wire: () => wire, plain }
}

t.test('SPEC 6.1, 8.5: recv FILE (listening) commits and sends the receipt on the close record while the sender\'s socket stays open', async t => {
  const data = randomBytes(100_000)
  const out = join(dir, 'listen.out')
  const recv = spawnCli(t, ['recv', ...listenArgs(files), out])
  const sent = remembered(data)
  const peer = await clientSession(await waitForListening(recv), asClient, sent.flight)
  const answer = await readUntilClose(peer)
  t.same(answer, Buffer.concat([encodeReady([]), receiptFor(sent.plain, sent.wire())]), 'Ready, the receipt, then the receiver\'s close record')
  t.notOk(peer.socket.writableEnded, 'the sender never half-closed')
  const r = await recv.done
  t.equal(r.code, 0, r.stderr)
  t.ok(readFileSync(out).equals(data), 'FILE holds the data')
  peer.socket.destroy()
})

t.test('SPEC 6.1, 8.5: recv --connect FILE does the same against a server that keeps its socket open', async t => {
  const data = randomBytes(70_000)
  const out = join(dir, 'connect.out')
  const sent = remembered(data)
  const server = await serverSession(asServer, sent.flight)
  t.teardown(() => server.close())
  const recv = spawnCli(t, ['recv', ...connectArgs(files, server.port), out])
  t.same(await readUntilClose(await server.session), Buffer.concat([encodeReady([]), receiptFor(sent.plain, sent.wire())]), 'Ready, receipt, then close record')
  const r = await recv.done
  t.equal(r.code, 0, r.stderr)
  t.ok(readFileSync(out).equals(data), 'FILE holds the data')
})

/** A receiver that answers the first record (the manifest) with Ready, reads the rest to the close, then answers with `answer` and a close record, socket left open. */
async function answeringReceiver(answer: (plain: Buffer, wire: Buffer) => Buffer | null): Promise<{ port: number, close(): void, received: Promise<Buffer> }> {
  const server = await serverSession(asServer)
  const received = server.session.then(async s => {
    const inbound = new RecordProtector(s.keys.receive)
    const out = new RecordProtector(s.keys.send)
    const records: Buffer[] = []
    const plain: Buffer[] = []
    for (let i = 0; i < 100_000; i++) {
      const frame = await s.frames.next(10_000)
      if (!frame) throw new Error('the sender ended without a close record')
      records.push(Buffer.from(frame))
      const record = inbound.open(frame)
      if (record.type === RECORD_TYPE.close) break
      if (plain.length === 0) s.socket.write(sealFrame(out, RECORD_TYPE.data, encodeReady([])))
      plain.push(Buffer.from(record.payload))
    }
    const data = Buffer.concat(plain)
    const wire = Buffer.concat(records.flatMap(r => [frameHeader(r.length), r]))
    const reply = answer(data, wire)
    if (reply) s.socket.write(Buffer.concat([sealFrame(out, RECORD_TYPE.data, reply), sealFrame(out, RECORD_TYPE.close, Buffer.alloc(0))]))
    return data
  })
  received.catch(() => {})
  return { port: server.port, close: () => server.close(), received }
}

t.test('SPEC 6.1, 8.5: send --connect accepts a receipt followed by the close record, without the receiver\'s FIN', async t => {
  const data = randomBytes(300_000)
  const receiver = await answeringReceiver((plain, wire) => encodeReceipt({ bytes: plain.length, digest: tagDigestOf(splitFrames(wire)), done: 1, outcome: 'durable' }))
  t.teardown(() => receiver.close())
  const send = spawnCli(t, ['send', ...connectArgs(files, receiver.port), '-'], { stdin: 'pipe' })
  send.child.stdin!.end(data)
  const s = await send.done
  t.equal(s.code, 0, s.stderr)
  t.match(s.stderr, /receipt verified/)
  const plain = await receiver.received
  t.ok(plain.subarray(plain.length - data.length).equals(data), 'the data ends the transfer')
})

/** A receiver that completes the handshake and then says nothing, socket open. */
async function silentReceiver(): Promise<{ port: number, close(): void }> {
  return serverSession(asServer, (_keys: SessionKeys) => ({ bytes: Buffer.alloc(0) }))
}

t.test('SPEC 8.3: send --connect to a receiver silent after the handshake ends with ERR_TIMEOUT (exit 5) after --receipt-timeout', async t => {
  const receiver = await silentReceiver()
  t.teardown(() => receiver.close())
  const send = spawnCli(t, ['send', ...connectArgs(files, receiver.port), '--receipt-timeout', '1', '-'], { stdin: 'pipe' })
  send.child.stdin!.end(randomBytes(10_000))
  const s = await send.done
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, /^secure-pipe: no answer to the transfer manifest within 1 s .*the receiver may not have the data \(ERR_TIMEOUT\)\n$/)
})

t.test('SPEC 8.5.2: send --connect to a receiver that answered Ready, then stays silent after the data, ends with ERR_TIMEOUT (exit 5)', async t => {
  const receiver = await answeringReceiver(() => null)
  t.teardown(() => receiver.close())
  const send = spawnCli(t, ['send', ...connectArgs(files, receiver.port), '--receipt-timeout', '1', '-'], { stdin: 'pipe' })
  send.child.stdin!.end(randomBytes(10_000))
  const s = await send.done
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, /^secure-pipe: no delivery receipt after the end of the data within 1 s .*the receiver may not have the data \(ERR_TIMEOUT\)\n$/)
})

t.test('SPEC 8.3: send --listen with a client silent after the handshake ends with ERR_TIMEOUT (exit 5)', async t => {
  const send = spawnCli(t, ['send', ...listenArgs(files), '--receipt-timeout', '0.5', '-'], { stdin: 'pipe' })
  send.child.stdin!.end(randomBytes(10_000))
  const peer = await clientSession(await waitForListening(send), asClient)
  const s = await send.done
  peer.socket.destroy()
  t.equal(s.code, 5, s.stderr)
  t.match(s.stderr, /no answer to the transfer manifest within 0\.5 s.*\(ERR_TIMEOUT\)\n$/)
})

t.test('SPEC 8.5.2: --receipt-timeout must be a positive number of seconds (exit 2)', async t => {
  const s = await spawnCli(t, ['send', ...connectArgs(files, 9), '--receipt-timeout', '0', '-'], { stdin: 'pipe' }).done
  t.equal(s.code, 2)
  t.match(s.stderr, /--receipt-timeout expects a positive number of seconds \(ERR_USAGE\)\n$/)
})
