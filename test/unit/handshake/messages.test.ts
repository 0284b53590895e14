/**
 * handshake/messages.ts (SPEC 3.1, 3.2, 3.6): encode/parse round trips, exact layouts, and
 * malformed messages (truncated, extended, wrong magic, wrong version, wrong type).
 */
import t from 'tap'
import { ALERT, MSG } from '../../../src/constants.js'
import {
  clientHelloBound, encodeAlert, encodeClientHello, serverHelloBound, encodeFinished, encodeServerHello,
  parseClientHello, parseFinished, parseServerHello, type ClientHello, type ServerHello,
} from '../../../src/handshake/messages.js'
import { patterned } from '../../helpers/streams.js'

const CH: ClientHello = {
  ciphers: ['aes-128-ccm', 'aes-256-ccm'],
  random: patterned(32, 1),
  x25519: patterned(32, 2),
  serverKeyId: patterned(32, 10),
  spki: patterned(294, 3),
  encryptedSecret: patterned(256, 4),
}
const SH: ServerHello = { cipher: 'aes-256-ccm', random: patterned(32, 5), x25519: patterned(32, 6), encryptedSecrets: patterned(256, 7) }
const MAC = patterned(32, 8)

const parsers: [string, Buffer, (b: Buffer) => unknown][] = [
  ['ClientHello', encodeClientHello(CH), parseClientHello],
  ['ServerHello', encodeServerHello(SH), parseServerHello],
  ['ClientFinished', encodeFinished(MSG.clientFinished, MAC), b => parseFinished(b, MSG.clientFinished)],
  ['ServerFinished', encodeFinished(MSG.serverFinished, MAC), b => parseFinished(b, MSG.serverFinished)],
]

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

t.test('SPEC 3.1: ClientHello layout and round trip', async t => {
  const frame = encodeClientHello(CH)
  const bound = Buffer.concat([Buffer.from('SPIP'), Buffer.from([2, MSG.clientHello, 2, 1, 2]), CH.random, CH.x25519, CH.serverKeyId, u16(294), CH.spki])
  t.same(frame, Buffer.concat([bound, u16(256), CH.encryptedSecret]))
  t.same(parseClientHello(frame), { ...CH, bound }, 'bound: every byte before the OAEP field (its label covers them)')
  t.same(clientHelloBound(CH), bound)
})

t.test('SPEC 3.1: ServerHello layout and round trip', async t => {
  const frame = encodeServerHello(SH)
  const bound = Buffer.concat([Buffer.from('SPIP'), Buffer.from([2, MSG.serverHello, 2]), SH.random, SH.x25519])
  t.same(frame, Buffer.concat([bound, u16(256), SH.encryptedSecrets]))
  t.same(parseServerHello(frame), { ...SH, bound })
  t.same(serverHelloBound(SH), bound)
})

t.test('SPEC 3.5: Finished messages: layout, round trip, and each only as its own type', async t => {
  const cf = encodeFinished(MSG.clientFinished, MAC)
  const sf = encodeFinished(MSG.serverFinished, MAC)
  t.same(cf, Buffer.concat([Buffer.from('SPIP'), Buffer.from([2, MSG.clientFinished]), MAC]))
  t.same(parseFinished(cf, MSG.clientFinished), MAC)
  t.same(parseFinished(sf, MSG.serverFinished), MAC)
  t.throws(() => parseFinished(cf, MSG.serverFinished), { code: 'ERR_VERSION' }, 'a ClientFinished is not a ServerFinished')
  t.throws(() => parseServerHello(cf), { code: 'ERR_VERSION' }, 'a Finished is not a ServerHello')
  t.throws(() => parseClientHello(encodeServerHello(SH)), { code: 'ERR_VERSION' }, 'a ServerHello is not a ClientHello')
})

t.test('SPEC 3.2: unknown cipher ids in a ClientHello are skipped; an unknown cipher in a ServerHello is refused', async t => {
  const frame = Buffer.from(encodeClientHello(CH))
  frame[7] = 9 // first offered id: unknown
  t.same(parseClientHello(frame).ciphers, ['aes-256-ccm'])
  const sh = Buffer.from(encodeServerHello(SH))
  sh[6] = 9
  t.throws(() => parseServerHello(sh), { code: 'ERR_VERSION' })
})

t.test('SPEC 3.2: every truncation and any extension of every message is ERR_VERSION', async t => {
  for (const [name, frame, parse] of parsers) {
    let failures = 0
    for (let len = 0; len < frame.length; len++) {
      try { parse(frame.subarray(0, len)) } catch (e) { if ((e as { code?: string }).code === 'ERR_VERSION') failures++ }
    }
    t.equal(failures, frame.length, `${name}: all ${frame.length} truncations fail with ERR_VERSION`)
    for (const extra of [Buffer.from([0]), patterned(100, 9)]) {
      t.throws(() => parse(Buffer.concat([frame, extra])), { code: 'ERR_VERSION' }, `${name} + ${extra.length} bytes`)
    }
  }
})

t.test('SPEC 3.2: a wrong magic is ERR_VERSION', async t => {
  for (const [name, frame, parse] of parsers) {
    const bad = Buffer.from(frame)
    bad[3] = 0x51 // 'SPIQ'
    t.throws(() => parse(bad), { code: 'ERR_VERSION', message: /SPIP/ }, name)
  }
})

t.test('SPEC 3.2, 12: version 1 (and 3) is ERR_VERSION, and the error names both versions', async t => {
  for (const version of [1, 3]) {
    for (const [name, frame, parse] of parsers) {
      const other = Buffer.from(frame)
      other[4] = version
      t.throws(() => parse(other), { code: 'ERR_VERSION', message: new RegExp(`version ${version}\\b.*version 2\\b`) }, `${name} v${version}`)
    }
    t.throws(() => parseServerHello(Buffer.from([...Buffer.from('SPIP'), version, MSG.alert, ALERT.auth])), { code: 'ERR_VERSION', message: new RegExp(`version ${version}\\b`) }, `a version-${version} alert`)
  }
})

t.test('SPEC 3.1: a ClientHello offering no cipher is malformed', async t => {
  const none = encodeClientHello({ ...CH, ciphers: [] })
  t.throws(() => parseClientHello(none), { code: 'ERR_VERSION', message: /no cipher/ })
})

t.test('SPEC 3.6: an alert in place of ServerHello becomes its error; anywhere else it is malformed', async t => {
  t.same(encodeAlert(ALERT.auth), Buffer.from([...Buffer.from('SPIP'), 2, MSG.alert, ALERT.auth]))
  t.throws(() => parseServerHello(encodeAlert(ALERT.auth)), { code: 'ERR_AUTH' }, 'auth alert')
  t.throws(() => parseServerHello(encodeAlert(ALERT.version)), { code: 'ERR_VERSION' }, 'version alert')
  t.throws(() => parseServerHello(encodeAlert(ALERT.cipher)), { code: 'ERR_VERSION' }, 'cipher alert')
  t.throws(() => parseServerHello(encodeAlert(ALERT.serverKey)), { code: 'ERR_AUTH', message: /does not hold the key you pinned/ }, 'unknown server key alert')
  t.throws(() => parseServerHello(encodeAlert(99)), { code: 'ERR_VERSION', message: /unknown alert reason 99/ }, 'unknown alert reason')
  t.throws(() => parseFinished(encodeAlert(ALERT.auth), MSG.serverFinished), { code: 'ERR_VERSION' }, 'alert in place of ServerFinished: alerts answer only a ClientHello')
  t.throws(() => parseFinished(encodeAlert(ALERT.auth), MSG.clientFinished), { code: 'ERR_VERSION' }, 'alert in place of ClientFinished')
  t.throws(() => parseClientHello(encodeAlert(ALERT.auth)), { code: 'ERR_VERSION' }, 'a server does not act on alerts')
  t.throws(() => parseServerHello(Buffer.concat([encodeAlert(ALERT.auth), Buffer.from([0])])), { code: 'ERR_VERSION' }, 'an extended alert is malformed')
})
