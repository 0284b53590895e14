import t from 'tap'
import { EventEmitter } from 'node:events'
import { ConnectionCaps } from '../../../src/server/caps.js'

function stream(key: string, n: number): EventEmitter & { peerFingerprint: string, remoteAddress: string } {
  return Object.assign(new EventEmitter(), { peerFingerprint: key, remoteAddress: `127.0.0.1:${n}` })
}

t.test('issue 8.3: established connections are capped per key and in total; a closed one frees its place', async t => {
  const caps = new ConnectionCaps(3, 2)
  const a1 = stream('SHA256:a', 1)
  t.equal(caps.add(a1), undefined)
  t.equal(caps.add(stream('SHA256:a', 2)), undefined)
  t.match(caps.add(stream('SHA256:a', 3)), { code: 'ERR_NETWORK', message: /client key SHA256:a already holds its maximum of 2 connections \(maxConnectionsPerKey\); the session from 127\.0\.0\.1:3/ })
  t.equal(caps.add(stream('SHA256:b', 4)), undefined, 'another key still gets in')
  t.equal(caps.total, 3)
  t.match(caps.refusal('127.0.0.1:5'), { code: 'ERR_NETWORK', message: /maximum of 3 established connections \(maxConnections\); the connection from 127\.0\.0\.1:5/ })
  t.match(caps.add(stream('SHA256:c', 6)), { code: 'ERR_NETWORK', message: /maxConnections/ })
  a1.emit('close')
  t.equal(caps.total, 2)
  t.equal(caps.refusal('x'), undefined)
  t.equal(caps.add(stream('SHA256:a', 7)), undefined, 'key a has room again')
  t.throws(() => new ConnectionCaps(0, 1), { message: /maxConnections/ })
  t.throws(() => new ConnectionCaps(1, 0), { message: /maxConnectionsPerKey/ })
})
