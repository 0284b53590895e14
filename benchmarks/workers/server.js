// Usage: node benchmarks/workers/server.js --kind sp|tls|tls-mutual --mode hs|echo --keys JSON --root DIR
// A server on 127.0.0.1 (port 0; prints 'listening on 127.0.0.1:PORT' on stderr) that either
// completes handshakes and closes (hs) or echoes what it reads (echo). It exits when its stdin
// closes, and in any case after 15 minutes.
import tls from 'node:tls'
import { parseArgs } from 'node:util'
import { KINDS, checkSuite, loadKey, loadLib, readKeysArg, tlsServerOptions } from './common.js'

const { values: a } = parseArgs({ options: { kind: { type: 'string' }, mode: { type: 'string' }, keys: { type: 'string' }, root: { type: 'string' } } })
const die = (msg) => { process.stderr.write(`server: ${msg}\n`); process.exit(3) }
if (!KINDS.includes(a.kind) || !['hs', 'echo'].includes(a.mode) || !a.keys || !a.root) die('usage: --kind sp|tls|tls-mutual --mode hs|echo --keys JSON --root DIR')
const keys = readKeysArg(a.keys)
let errors = 0
const noteError = (err) => { if (++errors <= 3) process.stderr.write(`server: connection error: ${err?.message ?? err}\n`) }

function serve(stream) {
  stream.on('error', noteError)
  if (typeof stream.setNoDelay === 'function') stream.setNoDelay(true)
  if (a.mode === 'echo') stream.on('data', (d) => stream.write(d))
  else stream.resume()
  stream.on('end', () => stream.end())
}

let server
if (a.kind === 'sp') {
  const lib = await loadLib(a.root)
  const privateKey = await loadKey(lib.loadPrivateKey, keys.spServer, 'private')
  const authorized = await loadKey(lib.loadPublicKey, keys.spClientPub, 'public')
  server = lib.createServer({ privateKey, authorizedKeys: [authorized] }, serve)
} else {
  server = tls.createServer(tlsServerOptions(keys, a.kind), (s) => {
    try { checkSuite(s) } catch (err) { die(err.message) }
    serve(s)
  })
  server.on('tlsClientError', noteError)
}
let listening = false
server.on('error', (err) => (listening ? noteError(err) : die(`cannot listen: ${err.message}`)))
for (const ev of ['clientError', 'handshakeError']) server.on?.(ev, noteError)
server.listen(0, '127.0.0.1', () => {
  listening = true
  process.stderr.write(`listening on 127.0.0.1:${server.address().port}\n`)
})
process.stdin.on('close', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
setTimeout(() => die('still running after 15 minutes; exiting'), 15 * 60_000).unref()
