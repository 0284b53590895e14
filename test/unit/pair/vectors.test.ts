/**
 * SPEC 14.7: our pairing exchange against test/vectors/pake/pair-exchange.json, both roles
 * replayed frame by frame, and every intermediate recomputed from SPEC 14.2 to 14.5 with the
 * primitives alone (scrypt, SPAKE2, HKDF, AES-256-CCM), as an outside implementer would. Then
 * a sender that knows the code but breaks one rule at a time.
 */
import { readFileSync } from 'node:fs'
import { scryptSync } from 'node:crypto'
import t from 'tap'
import { p256 } from '@noble/curves/nist.js'
import { ccmSeal } from '../../../src/crypto/ccm.js'
import { hkdf, sha256 } from '../../../src/crypto/kdf.js'
import { pairPassword, PairReceiver, PairSender } from '../../../src/pair/exchange.js'
import { confirmPrefix, encodeConfirm } from '../../../src/pair/messages.js'
import { parseSshPublicKey, sshFingerprint } from '../../../src/keys/openssh.js'
import { scriptedRandom } from '../../helpers/fixed.js'
import { vectorFile } from '../../helpers/vectors.js'

interface PairVector {
  inputs: { code: string, scrypt: { password: string, salt: string, N: number, r: number, p: number, length: number }, xRandom: string, yRandom: string, senderIdLine: string, receiverIdLine: string }
  values: Record<string, string>
  messages: { hello: string, reply: string, confirm: string, done: string }
}
const v = JSON.parse(readFileSync(vectorFile('pake/pair-exchange.json'), 'utf8')) as PairVector
const h = (s: string): Buffer => Buffer.from(s, 'hex')
const m = { hello: h(v.messages.hello), reply: h(v.messages.reply), confirm: h(v.messages.confirm), done: h(v.messages.done) }
const fp = (line: string): string => sshFingerprint(parseSshPublicKey(line, 'vector').key)

async function receiver(): Promise<PairReceiver> {
  return new PairReceiver({ password: await pairPassword(v.inputs.code), idLine: v.inputs.receiverIdLine, random: scriptedRandom([h(v.inputs.yRandom)]) })
}

t.test('SPEC 14.7: S replays the vector: HELLO, then CONFIRM for REPLY, then R\'s key from DONE', async t => {
  const s = new PairSender({ password: await pairPassword(v.inputs.code), idLine: v.inputs.senderIdLine, bothWays: false, random: scriptedRandom([h(v.inputs.xRandom)]) })
  t.equal(s.hello().toString('hex'), v.messages.hello, 'HELLO')
  t.equal(s.onReply(m.reply).toString('hex'), v.messages.confirm, 'CONFIRM')
  t.equal(s.onDone(m.done).fingerprint, fp(v.inputs.receiverIdLine), 'R\'s key')
})

t.test('SPEC 14.7: R replays the vector: REPLY for HELLO, S\'s key from CONFIRM, then DONE', async t => {
  const r = await receiver()
  t.equal(r.onHello(m.hello).toString('hex'), v.messages.reply, 'REPLY')
  t.equal(r.onConfirm(m.confirm).fingerprint, fp(v.inputs.senderIdLine), 'S\'s key')
  t.equal(r.done().toString('hex'), v.messages.done, 'DONE')
})

t.test('SPEC 14.2 to 14.5 from the primitives alone reproduce every value and frame', async t => {
  const sc = v.inputs.scrypt
  const raw = scryptSync(h(sc.password), h(sc.salt), sc.length, { N: sc.N, r: sc.r, p: sc.p, maxmem: 256 * sc.N * sc.r })
  const n = p256.Point.Fn.ORDER
  t.equal((BigInt('0x' + raw.toString('hex')) % n).toString(16).padStart(64, '0'), v.values.w!, 'w = scrypt(code) mod n')
  t.equal((BigInt('0x' + v.inputs.xRandom) % n).toString(16).padStart(64, '0'), v.values.x!, 'x = 48 random bytes mod n')
  t.equal(h(v.values.TT!).subarray(-32).toString('hex'), v.values.w!, 'TT ends with len(w) || w')
  const hashTT = sha256(h(v.values.TT!))
  t.equal(hashTT.subarray(0, 16).toString('hex'), v.values.Ke!, 'Ke || Ka = SHA-256(TT)')
  t.equal(hkdf(h(v.values.Ka!), Buffer.alloc(0), Buffer.concat([Buffer.from('ConfirmationKeys'), h(v.values.aad!)]), 32).toString('hex'), v.values.KcA! + v.values.KcB!, 'KcA || KcB with HELLO\'s header and flags as AAD')
  t.equal(m.hello.subarray(0, 7).toString('hex'), v.values.aad!, 'the AAD is HELLO\'s first 7 bytes')
  t.equal(m.reply.subarray(6, 71).toString('hex'), v.values.pB!, 'REPLY carries pB')
  t.equal(m.reply.subarray(71).toString('hex'), v.values.cB!, 'then cB')
  const h1 = sha256(m.hello, m.reply)
  t.equal(h1.toString('hex'), v.values.H1!, 'H1')
  const ks = hkdf(h(v.values.Ke!), h1, 'secure-pipe pair v1 sender id', 32)
  const kr = hkdf(h(v.values.Ke!), h1, 'secure-pipe pair v1 receiver id', 32)
  t.equal(ks.toString('hex'), v.values.k_s!, 'k_s')
  t.equal(kr.toString('hex'), v.values.k_r!, 'k_r')
  const prefix = Buffer.concat([m.confirm.subarray(0, 6), h(v.values.cA!)])
  const sealedS = ccmSeal(ks, Buffer.alloc(12), Buffer.from(v.inputs.senderIdLine), sha256(h1, prefix))
  t.equal(Buffer.concat([prefix, sealedS.ciphertext, sealedS.tag]).toString('hex'), v.messages.confirm, 'CONFIRM = header || cA || AES-256-CCM(k_s, 0, S id line, SHA-256(H1 || header || cA))')
  const h2 = sha256(m.hello, m.reply, m.confirm)
  const sealedR = ccmSeal(kr, Buffer.alloc(12), Buffer.from(v.inputs.receiverIdLine), sha256(h2, m.done.subarray(0, 6)))
  t.equal(Buffer.concat([m.done.subarray(0, 6), sealedR.ciphertext, sealedR.tag]).toString('hex'), v.messages.done, 'DONE = header || AES-256-CCM(k_r, 0, R id line, SHA-256(H2 || header))')
})

t.test('SPEC 14.4: a sender that knows the code but sends a wrong cA (its id sealed correctly) is ERR_AUTH', async t => {
  const r = await receiver()
  r.onHello(m.hello)
  const badCa = Buffer.from(h(v.values.cA!))
  badCa[0]! ^= 1
  const h1 = h(v.values.H1!)
  const sealed = ccmSeal(h(v.values.k_s!), Buffer.alloc(12), Buffer.from(v.inputs.senderIdLine), sha256(h1, confirmPrefix(badCa)))
  t.throws(() => r.onConfirm(encodeConfirm({ cA: badCa, sealed: Buffer.concat([sealed.ciphertext, sealed.tag]) })), { code: 'ERR_AUTH' })
  t.throws(() => r.done(), { code: 'ERR_AUTH' }, 'and no DONE follows')
})

t.test('SPEC 14.3: unknown HELLO flags, a wrong version and a short REPLY are ERR_AUTH', async t => {
  const flags = Buffer.from(m.hello)
  flags[6] = 0x02
  await t.rejects(async () => (await receiver()).onHello(flags), { code: 'ERR_AUTH' }, 'unknown flag')
  const version = Buffer.from(m.hello)
  version[4] = 2
  await t.rejects(async () => (await receiver()).onHello(version), { code: 'ERR_AUTH' }, 'version 2')
  const s = new PairSender({ password: await pairPassword(v.inputs.code), idLine: v.inputs.senderIdLine, bothWays: false, random: scriptedRandom([h(v.inputs.xRandom)]) })
  s.hello()
  t.throws(() => s.onReply(m.reply.subarray(0, -1)), { code: 'ERR_AUTH' }, 'a REPLY one byte short')
})
