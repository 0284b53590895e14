/**
 * Cross-checks with node-forge, an independent pure-JS implementation: RSA-OAEP-SHA256 with
 * MGF1-SHA256 both ways (SPEC 3.1), plus key loading (SPEC 3.7) and the key fingerprint (SPEC 3).
 * One 2048-bit key, generated once by the project; forge never generates keys (too slow).
 */
import t from 'tap'
import forge from 'node-forge'
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto'
import { generateRsaKeyPair, keyId, oaepDecrypt, oaepDecryptOrFallback, oaepEncrypt, parsePrivateKey, parsePublicKey } from '../../src/crypto/rsa.js'
import { sshFingerprint as fingerprint } from '../../src/keys/openssh.js'
import { loadWycheproof, type OaepGroup } from '../helpers/wycheproof.js'

const pair = generateRsaKeyPair(2048)
const privateKey = parsePrivateKey(pair.privateKeyPem)
const publicKey = parsePublicKey(pair.publicKeyPem)
const forgePrivate = forge.pki.privateKeyFromPem(pair.privateKeyPem)
const forgePublic = forge.pki.publicKeyFromPem(pair.publicKeyPem)

/** forge's OAEP options: SHA-256 for the label hash and for MGF1 (forge's MGF1 default is SHA-1). */
function oaep(mgfHash: forge.md.MessageDigest = forge.md.sha256.create(), label?: Buffer): object {
  return { md: forge.md.sha256.create(), mgf1: { md: mgfHash }, ...(label ? { label: label.toString('binary') } : {}) }
}
const toForge = (b: Buffer): string => b.toString('binary')
const fromForge = (s: string): Buffer => Buffer.from(s, 'binary')

const LABEL = Buffer.concat([Buffer.from('secure-pipe v2 client secret'), randomBytes(32)])

t.test('SPEC 3.1: a labelled secret encrypted by forge (OAEP SHA-256, MGF1-SHA256) decrypts with oaepDecrypt and oaepDecryptOrFallback', async t => {
  for (let i = 0; i < 4; i++) {
    const secret = randomBytes(32)
    const ct = fromForge(forgePublic.encrypt(toForge(secret), 'RSA-OAEP', oaep(undefined, LABEL)))
    t.equal(ct.length, 256, 'a 2048-bit ciphertext')
    t.same(oaepDecrypt(privateKey, ct, LABEL), secret)
    t.same(await oaepDecryptOrFallback(privateKey, ct, LABEL, Buffer.alloc(32, 7)), secret, 'WebCrypto on the thread pool agrees')
  }
})

t.test('SPEC 3.2: oaepDecryptOrFallback gives the fallback for a wrong label, a bad ciphertext or a plaintext of another length', async t => {
  const fallback = randomBytes(32)
  const secret = randomBytes(32)
  const ct = oaepEncrypt(publicKey, secret, LABEL)
  const flipped = Buffer.from(ct)
  flipped[10]! ^= 1
  const cases: [string, Buffer, Buffer][] = [
    ['wrong label', ct, Buffer.from('other')],
    ['flipped ciphertext bit', flipped, LABEL],
    ['31-byte plaintext', oaepEncrypt(publicKey, secret.subarray(1), LABEL), LABEL],
    ['33-byte plaintext', oaepEncrypt(publicKey, Buffer.concat([secret, Buffer.from([1])]), LABEL), LABEL],
    ['ciphertext one byte short', ct.subarray(1), LABEL],
    ['ciphertext one byte long', Buffer.concat([Buffer.alloc(1), ct]), LABEL],
  ]
  for (const [what, c, label] of cases) t.same(await oaepDecryptOrFallback(privateKey, c, label, fallback), fallback, what)
  t.same(await oaepDecryptOrFallback(privateKey, ct, LABEL, fallback), secret, 'the honest ciphertext still decrypts')
})

/**
 * A ciphertext whose first byte is 00, from a fixed key (Wycheproof's 2048-bit OAEP key) and
 * fixed OAEP seeds (forge's encoder takes a seed), so the same one comes out every run: the
 * search stops at the same seed each time, well inside its bound.
 */
// forge's OAEP encoder (lib/pkcs1.js) is not in @types/node-forge.
const pkcs1 = (forge as unknown as { pkcs1: { encode_rsa_oaep(key: forge.pki.rsa.PublicKey, message: string, options: object): string } }).pkcs1

function leadingZeroCiphertext(secret: Buffer, label: Buffer): { key: KeyObject, ct: Buffer, seed: number } {
  const group = loadWycheproof<OaepGroup>('rsa_oaep_2048_sha256_mgf1sha256_test.json').testGroups[0]!
  const key = parsePrivateKey(group.privateKeyPem)
  const forgeKey = forge.pki.publicKeyFromPem(createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString())
  for (let seed = 0; seed < 4096; seed++) {
    const oaepSeed = createHash('sha256').update(`secure-pipe oaep seed ${seed}`).digest()
    const em = fromForge(pkcs1.encode_rsa_oaep(forgeKey, toForge(secret), { ...oaep(undefined, label), seed: toForge(oaepSeed) }))
    const ct = publicEncrypt({ key: createPublicKey(key), padding: constants.RSA_NO_PADDING }, em)
    if (ct[0] === 0) return { key, ct, seed }
  }
  throw new Error('no ciphertext starting with 00 among 4096 fixed seeds')
}

t.test('SPEC 3.2, RFC 8017 7.1.2 step 1: a ciphertext shorter than the modulus is refused even when it is the same integer (leading 00 dropped)', async t => {
  const secret = Buffer.alloc(32, 0x5e)
  const fallback = Buffer.alloc(32, 0xfa)
  const { key, ct, seed } = leadingZeroCiphertext(secret, LABEL)
  t.comment(`fixed seed ${seed} gives a ciphertext starting with 00`)
  t.equal(ct.length, 256, 'a full-length ciphertext')
  t.same(await oaepDecryptOrFallback(key, ct, LABEL, fallback), secret, 'at full length it decrypts to the secret (forge\'s OAEP encoding, raw RSA)')
  const short = ct.subarray(1)
  t.same(await oaepDecryptOrFallback(key, short, LABEL, fallback), fallback, '255 bytes, the same integer: the fallback, not the secret')
  t.throws(() => oaepDecrypt(key, short, LABEL), RangeError, 'oaepDecrypt refuses it too')
  t.same(oaepDecrypt(key, ct, LABEL), secret, 'and decrypts the full-length one')
})

t.test('SPEC 3.1: a secret encrypted by oaepEncrypt decrypts with forge', async t => {
  for (let i = 0; i < 4; i++) {
    const secret = randomBytes(32)
    const ct = oaepEncrypt(publicKey, secret, LABEL)
    t.same(fromForge(forgePrivate.decrypt(toForge(ct), 'RSA-OAEP', oaep(undefined, LABEL))), secret)
  }
})

t.test('SPEC 3.1: labels agree with forge; MGF1-SHA1 or a wrong label is refused', async t => {
  const secret = randomBytes(32)
  const label = Buffer.from('secure-pipe test label')
  const labelled = fromForge(forgePublic.encrypt(toForge(secret), 'RSA-OAEP', oaep(undefined, label)))
  t.same(oaepDecrypt(privateKey, labelled, label), secret, 'same label decrypts')
  t.throws(() => oaepDecrypt(privateKey, labelled, Buffer.alloc(0)), 'missing label refused')
  t.throws(() => oaepDecrypt(privateKey, labelled, Buffer.from('other label')), 'wrong label refused')
  const sha1Mgf = fromForge(forgePublic.encrypt(toForge(secret), 'RSA-OAEP', oaep(forge.md.sha1.create())))
  t.throws(() => oaepDecrypt(privateKey, sha1Mgf, Buffer.alloc(0)), 'MGF1-SHA1 ciphertext refused: the wrapper uses MGF1-SHA256')
})

t.test('SPEC 3.7: PKCS#1 and PKCS#8 private keys, SPKI and PKCS#1 public keys load', async t => {
  const pkcs1Private = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()
  const pkcs1Public = publicKey.export({ format: 'pem', type: 'pkcs1' }).toString()
  t.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/, 'generated private key is PKCS#8')
  t.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/, 'generated public key is SPKI')
  t.match(pkcs1Private, /^-----BEGIN RSA PRIVATE KEY-----/, 'PKCS#1 private export')
  t.match(pkcs1Public, /^-----BEGIN RSA PUBLIC KEY-----/, 'PKCS#1 public export')
  t.ok(parsePrivateKey(pkcs1Private).equals(privateKey), 'PKCS#1 private')
  t.ok(parsePrivateKey(Buffer.from(pair.privateKeyPem)).equals(privateKey), 'PKCS#8 private, as a Buffer')
  t.ok(parsePublicKey(pkcs1Public).equals(publicKey), 'PKCS#1 public')
  t.ok(parsePublicKey(pair.privateKeyPem).equals(publicKey), 'a private key PEM yields its public half')
  t.equal(privateKey.asymmetricKeyDetails?.modulusLength, 2048, '2048 bits')
})

t.test('SPEC 3.7: encrypted, undersized, non-RSA and garbage keys give ERR_KEY', async t => {
  const encrypted = {
    pkcs8: privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'correct horse' }).toString(),
    pkcs1: privateKey.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-256-cbc', passphrase: 'correct horse' }).toString(),
  }
  for (const [name, pem] of Object.entries(encrypted)) {
    t.throws(() => parsePrivateKey(pem), { code: 'ERR_KEY' }, `encrypted ${name} private key`)
  }
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
  t.throws(() => parsePrivateKey(small.privateKey.export({ format: 'pem', type: 'pkcs8' })), { code: 'ERR_KEY' }, '1024-bit private')
  t.throws(() => parsePublicKey(small.publicKey.export({ format: 'pem', type: 'spki' })), { code: 'ERR_KEY' }, '1024-bit public')
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.throws(() => parsePrivateKey(ec.privateKey.export({ format: 'pem', type: 'pkcs8' })), { code: 'ERR_KEY' }, 'EC private')
  t.throws(() => parsePublicKey(ec.publicKey.export({ format: 'pem', type: 'spki' })), { code: 'ERR_KEY' }, 'EC public')
  const truncated = pair.privateKeyPem.slice(0, 200) + '\n-----END PRIVATE KEY-----\n'
  const garbage = { empty: '', text: 'not a key', random: randomBytes(300), truncated }
  for (const [name, bytes] of Object.entries(garbage)) {
    t.throws(() => parsePrivateKey(bytes), { code: 'ERR_KEY' }, `${name}: private`)
    t.throws(() => parsePublicKey(bytes), { code: 'ERR_KEY' }, `${name}: public`)
  }
  t.throws(() => generateRsaKeyPair(1024), RangeError, 'generateRsaKeyPair refuses 1024 bits')
})

t.test('SPEC 1.5: forge and Node agree on the SPKI DER the key id hashes', async t => {
  // The SPKI DER comes from forge, so the expected value does not reuse the project's export.
  const spki = fromForge(forge.asn1.toDer(forge.pki.publicKeyToAsn1(forgePublic)).getBytes())
  t.same(spki, createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), 'forge and Node agree on the SPKI DER')
  t.same(keyId(publicKey), createHash('sha256').update(spki).digest(), 'key id = SHA-256(SPKI DER)')
})

t.test('issue 10: fingerprint is SHA256: + unpadded base64 of sha256(ssh-rsa blob), as ssh-keygen -l prints', async t => {
  // The ssh-rsa blob (RFC 4253 section 6.6) comes from forge, so the expected value does not reuse the project's export.
  const blob = Buffer.from(forge.ssh.publicKeyToOpenSSH(forgePublic).split(' ')[1]!, 'base64')
  const expected = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
  t.equal(fingerprint(publicKey), expected, 'from the public key')
  t.equal(fingerprint(privateKey), expected, 'from the private key')
  t.equal(fingerprint(createPrivateKey(pair.privateKeyPem)), expected, 'from an unchecked KeyObject')
  t.match(fingerprint(publicKey), /^SHA256:[A-Za-z0-9+/]{43}$/, '43 base64 characters, no padding')
})
