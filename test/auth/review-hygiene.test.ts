/**
 * Review (SPEC 4.4): "a traffic secret and its keys [are zeroed] once ... the stream is
 * destroyed". A SecureStream destroyed as soon as its handshake completes (what SecureServer
 * does to a session over `maxConnectionsPerKey`, or an application that refuses a peer in its
 * 'secure' handler) must not leave its traffic secrets in memory. Real sockets on 127.0.0.1;
 * the server machine records the keys it hands to the record layer.
 */
import t from 'tap'
import { createServer as netCreateServer, type Socket } from 'node:net'
import { connect } from '../../src/net.js'
import { SecureStream } from '../../src/session.js'
import { AuthorizedKeys, ServerHandshake, type ServerHandshakeOptions } from '../../src/handshake/server.js'
import type { SessionKeys } from '../../src/handshake/keyschedule.js'
import type { SecurePipeError } from '../../src/errors.js'
import { closeServer, listen, rsaPairs, until } from './wire.js'

const [server, client] = await rsaPairs(2048, 2048)

/** A server machine that keeps a reference to the session keys it hands out. */
class RecordingServer extends ServerHandshake {
  handed: SessionKeys | null = null
  constructor(opts: ServerHandshakeOptions) { super(opts) }
  override onClientFinished(frame: Buffer): { serverFinished: Buffer, keys: SessionKeys } {
    const out = super.onClientFinished(frame)
    this.handed = out.keys
    return out
  }
}

t.test('SPEC 4.4: a stream destroyed in its \'secure\' handler (a refused session) zeroes both traffic secrets', async t => {
  const machine = new RecordingServer({ privateKey: server!.privateKey, authorizedKeys: new AuthorizedKeys([client!.publicKey]) })
  const sockets = new Set<Socket>()
  const released: Buffer[] = []
  let destroyed = false
  const listener = netCreateServer({ allowHalfOpen: true }, socket => {
    sockets.add(socket)
    const stream = new SecureStream(socket, machine)
    stream.on('error', () => {})
    stream.on('data', (c: Buffer) => released.push(c))
    // As SecureServer does for a session over maxConnectionsPerKey (src/net.ts #start).
    stream.once('secure', () => { stream.destroy(); destroyed = true })
  })
  const port = await listen(listener)
  t.teardown(() => closeServer(listener, sockets))

  const c = await connect({ port, privateKey: client!.privateKey, serverPublicKey: server!.publicKey })
  const clientEnd = new Promise<SecurePipeError | null>(resolve => { c.once('error', resolve); c.once('close', () => resolve(null)) })
  c.write('sent to a session the server refused')
  await until(() => destroyed)
  await new Promise(r => setTimeout(r, 50)) // every pending microtask and tick of the teardown
  const keys = machine.handed!
  t.ok(keys, 'the handshake completed and handed its keys on')
  const zero = Buffer.alloc(32)
  t.same(keys.send.secret, zero, 'server to client traffic secret zeroed')
  t.same(keys.receive.secret, zero, 'client to server traffic secret zeroed')
  t.same(released, [], 'nothing released')
  const err = await clientEnd
  t.match(err?.code ?? 'closed', /ERR_TRUNCATED|ERR_NETWORK|closed/, 'the client sees the session end without a close record')
  c.destroy()
})
