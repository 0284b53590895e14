/**
 * Real sockets on 127.0.0.1, port 0: a connected pair of SecureStreams (`securePair`) and a
 * small TCP proxy that forwards client-to-server bytes and cuts the connection after N of them
 * (`cutProxy`), to test what a receiver does when the transport dies mid-stream.
 */
import { createConnection, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { connect, createServer, type SecureServer, type ServerOptions } from '../../src/net.js'
import { SecureStream, type SessionOptions } from '../../src/session.js'
import { ClientHandshake } from '../../src/handshake/client.js'
import { testKeys } from './keys.js'

export interface SecurePairOptions extends SessionOptions {
  /** Put a cutting proxy between client and server. */
  proxy?: CutOptions
  /**
   * Build the client from its own socket (as `connect` does internally) so the test can see the
   * socket; otherwise the client comes from `connect`.
   */
  exposeClientSocket?: boolean
  /** Extra server options (for example another authorized key list). */
  server?: Partial<ServerOptions>
}

export interface SecurePair {
  client: SecureStream
  server: SecureStream
  listener: SecureServer
  /** The server's raw socket for this connection. */
  serverSocket: Socket
  /** The client's raw socket (only with `exposeClientSocket`). */
  clientSocket: Socket | null
  proxy: CutProxy | null
  /** Destroy both streams, the proxy and the listener. */
  cleanup(): Promise<void>
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port
}

/** Start a server on 127.0.0.1:0, connect a client to it (through a proxy if asked), and complete the handshake. */
export async function securePair(opts: SecurePairOptions = {}): Promise<SecurePair> {
  const { proxy: proxyOpts, exposeClientSocket, server: serverExtra, ...session } = opts
  const keys = await testKeys()
  const listener = createServer({ privateKey: keys.server.privateKey, authorizedKeys: [keys.client.publicKey], ...session, ...serverExtra })
  let serverSocket: Socket | null = null
  listener.once('connection', (s: Socket) => { serverSocket = s })
  const serverStream = new Promise<SecureStream>((resolve, reject) => {
    listener.once('secureConnection', resolve)
    listener.once('handshakeError', reject)
  })
  listener.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  const proxy = proxyOpts ? await cutProxy(port(listener), proxyOpts) : null
  const target = proxy ? proxy.port : port(listener)
  let clientSocket: Socket | null = null
  let clientStream: Promise<SecureStream>
  if (exposeClientSocket) {
    clientSocket = createConnection({ host: '127.0.0.1', port: target, allowHalfOpen: true })
    const machine = new ClientHandshake({ privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey })
    const s = new SecureStream(clientSocket, machine, session)
    clientStream = new Promise((resolve, reject) => {
      s.once('secure', () => resolve(s))
      s.once('error', reject)
    })
  } else {
    clientStream = connect({ host: '127.0.0.1', port: target, privateKey: keys.client.privateKey, serverPublicKey: keys.server.publicKey, ...session })
  }
  const [client, server] = await Promise.all([clientStream, serverStream])
  return {
    client, server, listener, clientSocket, proxy,
    serverSocket: serverSocket!,
    async cleanup() {
      client.destroy()
      server.destroy()
      proxy?.close()
      await new Promise<void>(resolve => listener.close(() => resolve()))
    },
  }
}

export interface CutOptions {
  /** Client-to-server bytes forwarded before the cut. */
  cutAfter: number
  /** 'fin' ends the server-side connection cleanly at the TCP level; 'rst' resets it. */
  mode: 'fin' | 'rst'
}

export interface CutProxy {
  port: number
  /** Resolves once the cut happened. */
  cut: Promise<void>
  close(): void
}

/**
 * A one-connection TCP proxy on 127.0.0.1:0 to `targetPort`. Server-to-client bytes pass
 * freely; client-to-server bytes pass until `cutAfter`, then both connections are torn down.
 */
export async function cutProxy(targetPort: number, opts: CutOptions): Promise<CutProxy> {
  let onCut!: () => void
  const cut = new Promise<void>(resolve => { onCut = resolve })
  const sockets: Socket[] = []
  const server = createTcpServer({ allowHalfOpen: true }, down => {
    const up = createConnection({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true })
    sockets.push(down, up)
    for (const s of [down, up]) s.on('error', () => {})
    up.pipe(down)
    let left = opts.cutAfter
    down.on('data', (chunk: Buffer) => {
      if (left <= 0) return
      const head = chunk.subarray(0, left)
      left -= head.length
      const more = up.write(head)
      if (left > 0) {
        if (!more) { down.pause(); up.once('drain', () => down.resume()) }
        return
      }
      // The cut: the server side sees a FIN (or a reset) in the middle of the stream.
      if (opts.mode === 'rst') up.resetAndDestroy()
      else up.end()
      down.destroy()
      onCut()
    })
    down.on('end', () => up.end())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: port(server),
    cut,
    close() {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}
