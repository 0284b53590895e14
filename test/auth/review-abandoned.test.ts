/**
 * Review (SPEC 3.2, 3.7, 4.4, 13.5): a server handshake abandoned while its ClientHello step is
 * waiting (on the `authorize` callback, or on the RSA work on the thread pool) must do no more
 * work and keep no secret. Mounted as an attacker would: a raw client on 127.0.0.1 sends a
 * ClientHello that names an authorized key (public: it is in every ClientHello) and resets the
 * connection, or stalls until the handshake deadline, while the server's step is still waiting.
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer as netCreateServer, type Socket } from 'node:net'
import { SecureStream } from '../../src/session.js'
import { ServerHandshake, type ServerHandshakeOptions } from '../../src/handshake/server.js'
import type { SecurePipeError } from '../../src/errors.js'
import { closeServer, finishedFrom, handBuiltHello, listen, openServerHello, rawConnect, rsaPairs, sendFrame, until } from './wire.js'
import { spkiDer } from '../../src/crypto/rsa.js'

const [server, client] = await rsaPairs(2048, 2048)

/** A server machine that records the ServerHello it computed (whether or not it was sent). */
class RecordingServer extends ServerHandshake {
  computed: Buffer | null = null
  constructor(opts: ServerHandshakeOptions) { super(opts) }
  override async onClientHello(frame: Buffer): Promise<Buffer> {
    const serverHello = await super.onClientHello(frame)
    this.computed = serverHello
    return serverHello
  }
}

for (const how of ['reset by the client', 'handshake deadline'] as const) {
  t.test(`SPEC 4.4, 13.5: a handshake abandoned (${how}) while authorize is pending does no RSA work afterwards and keeps no secret`, async t => {
    let allow!: (ok: boolean) => void
    const decided = new Promise<boolean>(resolve => { allow = resolve })
    let drawsAfterAbandon = 0
    let abandoned = false
    const machine = new RecordingServer({
      privateKey: server!.privateKey,
      authorize: () => decided, // an application's database lookup, still running
      // The fallback, k_s and server_random are drawn only once the RSA step has started.
      random: n => { if (abandoned) drawsAfterAbandon++; return Buffer.alloc(n, 7) },
    })
    const sockets = new Set<Socket>()
    let serverError: SecurePipeError | null = null
    const released: Buffer[] = []
    const listener = netCreateServer({ allowHalfOpen: true }, socket => {
      sockets.add(socket)
      const stream = new SecureStream(socket, machine, how === 'handshake deadline' ? { handshakeTimeoutMs: 300 } : {})
      stream.on('data', (c: Buffer) => released.push(c))
      stream.on('error', (e: SecurePipeError) => { serverError = e; abandoned = true })
    })
    const port = await listen(listener)
    t.teardown(() => closeServer(listener, sockets))

    const hello = handBuiltHello({ spki: spkiDer(client!.publicKey), serverPublicKey: server!.publicKey })
    const attacker = await rawConnect(port)
    sendFrame(attacker.socket, hello.frame)
    if (how === 'reset by the client') {
      await new Promise(r => setTimeout(r, 50)) // the server has read the ClientHello and is in authorize
      attacker.socket.resetAndDestroy()
    }
    await until(() => serverError !== null, 3000)
    t.match(serverError!.code, how === 'handshake deadline' ? 'ERR_TIMEOUT' : /ERR_NETWORK|ERR_TRUNCATED/, 'the server stream failed')

    allow(true) // the lookup answers after the connection is gone
    await new Promise(r => setTimeout(r, 300)) // time for any RSA work the server would still do
    attacker.socket.destroy()
    t.equal(drawsAfterAbandon, 0, 'no fallback, k_s or random drawn after the handshake was abandoned: no RSA work for a dead connection')
    t.equal(machine.computed, null, 'no ServerHello (and so no handshake secret) computed after the handshake was abandoned')
    if (machine.computed) {
      // Evidence of what is left in memory: the abandoned machine still finishes a handshake.
      const { ks } = openServerHello(hello.frame, machine.computed, client!.privateKey)
      const finished = finishedFrom(hello, machine.computed, hello.kc, ks)
      t.throws(() => machine.onClientFinished(finished), 'the wiped machine refuses a ClientFinished')
    }
    t.same(released, [], 'nothing released')
  })
}

t.test('SPEC 13.5, docs/operations.md: a client that resets its connection does not free a handshake slot while its step still runs', async t => {
  const { createServer } = await import('../../src/net.js')
  let pending = 0
  let most = 0
  const answers: Array<(ok: boolean) => void> = []
  const s = createServer({
    privateKey: server!.privateKey, maxHandshakes: 1,
    authorize: () => { pending++; most = Math.max(most, pending); return new Promise<boolean>(resolve => answers.push(ok => { pending--; resolve(ok) })) },
  })
  s.on('handshakeError', () => {})
  const port = await listen(s)
  const sockets: Socket[] = []
  s.on('connection', (c: Socket) => sockets.push(c))
  t.teardown(async () => { answers.forEach(a => a(false)); await closeServer(s, sockets) })
  for (let i = 0; i < 3; i++) {
    const c = await rawConnect(port)
    sendFrame(c.socket, handBuiltHello({ spki: spkiDer(client!.publicKey), serverPublicKey: server!.publicKey }).frame)
    await until(() => answers.length > i || s.handshakes.waiting > 0, 2000).catch(() => {})
    c.socket.resetAndDestroy()
    await once(c.socket, 'close')
    await new Promise(r => setTimeout(r, 50))
  }
  t.ok(most <= 1, `at most maxHandshakes (1) ClientHello steps run at once (saw ${most})`)
  answers.forEach(a => a(false))
})
