/**
 * Key material for one run, made fresh in the run directory under benchmarks/tmp:
 *  - TLS: RSA-3072 self-signed certificates (server with SAN IP:127.0.0.1, and a client one for
 *    mutual TLS), made with the openssl CLI, or with node-forge when the CLI is missing.
 *  - secure-pipe: RSA-3072 key pairs server.pem/serverPK.pem and client.pem/clientPK.pem
 *    (PKCS#8 / SPKI PEM, mode 0600), the files `secure-pipe keygen` writes.
 *  - an OPENSSL_CONF file for socat that allows only TLS 1.3 with TLS_AES_128_CCM_SHA256.
 */
import { generateKeyPair } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { cmd, run, tail } from './proc.js'

const genKeyPair = promisify(generateKeyPair)
export const TLS_SUITE = 'TLS_AES_128_CCM_SHA256'

async function rsaPem(bits = 3072) {
  const { privateKey, publicKey } = await genKeyPair('rsa', { modulusLength: bits })
  return {
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    pub: publicKey.export({ format: 'pem', type: 'spki' }),
  }
}

async function certWithOpenssl(dir, name, cn, san) {
  const key = join(dir, `${name}-key.pem`)
  const cert = join(dir, `${name}-cert.pem`)
  const r = await run(cmd('openssl', 'req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`), { timeoutMs: 60_000 })
  if (r.code !== 0) throw new Error(`openssl req failed: ${tail(r.stderr)}`)
  return { key, cert }
}

async function certWithForge(dir, name, cn) {
  const forge = (await import('node-forge')).default
  const { key: keyPem } = await rsaPem()
  const priv = forge.pki.privateKeyFromPem(keyPem)
  const c = forge.pki.createCertificate()
  c.publicKey = forge.pki.setRsaPublicKey(priv.n, priv.e)
  c.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8))
  c.validity.notBefore = new Date(Date.now() - 3600e3)
  c.validity.notAfter = new Date(Date.now() + 2 * 86400e3)
  const attrs = [{ name: 'commonName', value: cn }]
  c.setSubject(attrs)
  c.setIssuer(attrs)
  c.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }])
  c.sign(priv, forge.md.sha256.create())
  const key = join(dir, `${name}-key.pem`)
  const cert = join(dir, `${name}-cert.pem`)
  writeFileSync(key, keyPem, { mode: 0o600 })
  writeFileSync(cert, forge.pki.certificateToPem(c))
  return { key, cert }
}

export async function makeKeys(dir, { haveOpenssl }) {
  mkdirSync(dir, { recursive: true })
  const make = haveOpenssl ? certWithOpenssl : certWithForge
  const [server, client, spServer, spClient] = await Promise.all([
    make(dir, 'tls-server', 'localhost', 'IP:127.0.0.1,DNS:localhost'),
    make(dir, 'tls-client', 'bench-client', 'DNS:bench-client'),
    rsaPem(), rsaPem(),
  ])
  const sp = {
    dir,
    server: join(dir, 'server.pem'), serverPub: join(dir, 'serverPK.pem'),
    client: join(dir, 'client.pem'), clientPub: join(dir, 'clientPK.pem'),
  }
  writeFileSync(sp.server, spServer.key, { mode: 0o600 })
  writeFileSync(sp.serverPub, spServer.pub)
  writeFileSync(sp.client, spClient.key, { mode: 0o600 })
  writeFileSync(sp.clientPub, spClient.pub)
  const opensslConf = join(dir, 'openssl-ccm.cnf')
  writeFileSync(opensslConf, [
    'openssl_conf = default_conf',
    '[default_conf]', 'ssl_conf = ssl_sect',
    '[ssl_sect]', 'system_default = system_default_sect',
    '[system_default_sect]', 'MinProtocol = TLSv1.3', 'MaxProtocol = TLSv1.3', `Ciphersuites = ${TLS_SUITE}`, '',
  ].join('\n'))
  for (const f of [server.key, server.cert, client.key, client.cert]) {
    if (!existsSync(f)) throw new Error(`key generation did not write ${f}`)
  }
  return { tls: { server, client }, sp, opensslConf }
}
