// Usage: node benchmarks/workers/node-send.js --proto tls|net --port PORT [--ca CERT]
// Sends stdin to 127.0.0.1:PORT with 64 KiB high-water marks, then ends the connection.
// TLS: TLS 1.3 only, TLS_AES_128_CCM_SHA256 only, server certificate checked against --ca,
// and the negotiated suite is checked before any data is sent.
import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'

const HWM = 64 * 1024
const SUITE = 'TLS_AES_128_CCM_SHA256'
const { values: a } = parseArgs({ options: { proto: { type: 'string' }, port: { type: 'string' }, ca: { type: 'string' } } })
const die = (msg) => { process.stderr.write(`node-send: ${msg}\n`); process.exit(3) }
const port = Number(a.port)
if (!['tls', 'net'].includes(a.proto) || !(port > 0)) die('usage: --proto tls|net --port PORT [--ca CERT]')

function open() {
  return new Promise((resolve, reject) => {
    const s = a.proto === 'tls'
      ? tls.connect({ host: '127.0.0.1', port, ca: readFileSync(a.ca), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: SUITE, highWaterMark: HWM }, () => resolve(s))
      : net.connect({ host: '127.0.0.1', port, highWaterMark: HWM }, () => resolve(s))
    s.once('error', reject)
  })
}

try {
  const socket = await open()
  if (a.proto === 'tls') {
    const c = socket.getCipher()
    if (c?.name !== SUITE || socket.getProtocol() !== 'TLSv1.3') die(`negotiated ${c?.name} ${socket.getProtocol()}, not ${SUITE} TLSv1.3`)
  }
  socket.resume() // nothing comes back; do not let an unread close_notify stall the close
  await pipeline(process.stdin, socket)
} catch (err) {
  die(err.message)
}
