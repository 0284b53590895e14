// Usage: node benchmarks/workers/node-recv.js --proto tls|net --out FILE [--cert C --key K]
// Accepts one connection on 127.0.0.1 (port 0; prints 'listening on 127.0.0.1:PORT' on stderr)
// and writes what arrives to FILE with fs.createWriteStream (64 KiB high-water marks).
// TLS: TLS 1.3 only, TLS_AES_128_CCM_SHA256 only, and the negotiated suite is checked.
import { createWriteStream, readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'

const HWM = 64 * 1024
const SUITE = 'TLS_AES_128_CCM_SHA256'
const { values: a } = parseArgs({ options: { proto: { type: 'string' }, out: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } })
const die = (msg) => { process.stderr.write(`node-recv: ${msg}\n`); process.exit(3) }
if (!a.out || !['tls', 'net'].includes(a.proto)) die('usage: --proto tls|net --out FILE [--cert C --key K]')

async function receive(socket) {
  server.close()
  if (a.proto === 'tls') {
    const c = socket.getCipher()
    if (c?.name !== SUITE || socket.getProtocol() !== 'TLSv1.3') die(`negotiated ${c?.name} ${socket.getProtocol()}, not ${SUITE} TLSv1.3`)
  }
  let bytes = 0
  socket.on('data', (d) => { bytes += d.length })
  await pipeline(socket, createWriteStream(a.out, { highWaterMark: HWM }))
  process.stderr.write(`received ${bytes} bytes\n`)
  process.exit(0)
}

const onConn = (s) => receive(s).catch((err) => die(err.message))
const server = a.proto === 'tls'
  ? tls.createServer({
    cert: readFileSync(a.cert), key: readFileSync(a.key),
    minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3',
    ciphers: SUITE, // Node takes TLS 1.3 suites from `ciphers`; a `ciphersuites` option is ignored
    highWaterMark: HWM,
  }, onConn)
  : net.createServer({ highWaterMark: HWM }, onConn)
server.on('tlsClientError', (err) => die(`TLS handshake failed: ${err.message}`))
server.listen(0, '127.0.0.1', () => process.stderr.write(`listening on 127.0.0.1:${server.address().port}\n`))
