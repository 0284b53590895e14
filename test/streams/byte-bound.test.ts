/**
 * issue 8 section 3, SPEC 7: a peer that passed the handshake cannot make a stalled receiver
 * buffer more than a fixed number of bytes. The peer sends 1 MiB records (the largest allowed)
 * as fast as the socket takes them to a server whose application reads nothing; once the server
 * has stopped reading its socket, the bytes it read (socket.bytesRead) must stay under
 * INBOUND_BUFFER_BOUND. Measured in bytes, not in time.
 */
import t from 'tap'
import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import { createServer, MAX_RECORD_SIZE, type SecureStream } from '../../src/index.js'
import { INBOUND_BUFFER_BOUND } from '../../src/session.js'
import { RecordProtector } from '../../src/record/protector.js'
import { RECORD_TYPE } from '../../src/constants.js'
import { testKeys } from '../helpers/keys.js'
import { waitFor } from '../helpers/cli.js'
import { clientSession, sealFrame } from '../helpers/hostile.js'

const MiB = 1024 * 1024
const RECORDS = 64 // far more than any bound: the peer is stopped by backpressure, not by running out

t.test('SPEC 7: 1 MiB records to a stalled consumer: the server reads at most INBOUND_BUFFER_BOUND bytes from its socket', async t => {
  const keys = await testKeys()
  let serverSocket: Socket | undefined
  let accepted: SecureStream | undefined
  const listener = createServer({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey] }, s => { accepted = s })
  listener.once('connection', (s: Socket) => { serverSocket = s })
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const peer = await clientSession((listener.address() as AddressInfo).port, { privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
  t.teardown(() => { peer.socket.destroy(); accepted?.destroy(); listener.close() })

  const out = new RecordProtector(peer.keys.send)
  const record = Buffer.alloc(MAX_RECORD_SIZE, 0x5a)
  let written = 0
  void (async () => {
    for (let i = 0; i < RECORDS && !peer.socket.destroyed; i++) {
      written++
      if (!peer.socket.write(sealFrame(out, RECORD_TYPE.data, record))) await once(peer.socket, 'drain')
    }
  })().catch(() => {})

  // Stalled: the server's socket has stopped reading (paused by backpressure) with the peer still
  // holding unsent records. Checked on two consecutive looks so a pause between drains does not count.
  let paused = 0
  await waitFor(() => {
    paused = serverSocket?.readableFlowing === false && written < RECORDS && peer.socket.writableLength > 0 ? paused + 1 : 0
    return paused >= 2
  }, 'the server to stop reading', 30_000)
  const read = serverSocket!.bytesRead
  t.comment(`server read ${(read / MiB).toFixed(2)} MiB from its socket; bound ${(INBOUND_BUFFER_BOUND / MiB).toFixed(2)} MiB; peer wrote ${written} records`)
  t.ok(read <= INBOUND_BUFFER_BOUND, `server read ${read} B <= ${INBOUND_BUFFER_BOUND} B`)
  t.ok(read >= MAX_RECORD_SIZE, 'the server did read (the test measures a real stall)')
})
