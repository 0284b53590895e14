/** Shared by the handshake and ping-pong workers: key loading and connecting for each kind. */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import tls from 'node:tls'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'

export const SUITE = 'TLS_AES_128_CCM_SHA256'
export const KINDS = ['sp', 'tls', 'tls-mutual']

export async function loadLib(root) {
  return import(pathToFileURL(join(root, 'build', 'src', 'index.js')).href)
}

const isKeyObject = (k) => k && typeof k === 'object' && typeof k.asymmetricKeyType === 'string'

/** The library's loader given a path, else given the PEM, else Node's own parser. */
export async function loadKey(loader, path, type) {
  for (const arg of [path, readFileSync(path)]) {
    try {
      const k = await loader?.(arg)
      if (isKeyObject(k)) return k
    } catch { /* try the next form */ }
  }
  return type === 'private' ? createPrivateKey(readFileSync(path)) : createPublicKey(readFileSync(path))
}

export function tlsServerOptions(keys, kind) {
  return {
    cert: readFileSync(keys.serverCert), key: readFileSync(keys.serverKey),
    minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: SUITE,
    ...(kind === 'tls-mutual' ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(keys.clientCert) } : {}),
  }
}

export function tlsClientOptions(keys, kind, port) {
  return {
    host: '127.0.0.1', port, ca: readFileSync(keys.serverCert),
    minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: SUITE,
    ...(kind === 'tls-mutual' ? { cert: readFileSync(keys.clientCert), key: readFileSync(keys.clientKey) } : {}),
  }
}

export function checkSuite(socket) {
  const c = socket.getCipher()
  if (c?.name !== SUITE || socket.getProtocol() !== 'TLSv1.3') {
    throw new Error(`negotiated ${c?.name} ${socket.getProtocol()}, not ${SUITE} TLSv1.3`)
  }
}

/** A connect function for the kind: resolves to a stream after the handshake. */
export async function connector(kind, keys, root, port) {
  if (kind === 'sp') {
    const lib = await loadLib(root)
    const privateKey = await loadKey(lib.loadPrivateKey, keys.spClient, 'private')
    const serverPublicKey = await loadKey(lib.loadPublicKey, keys.spServerPub, 'public')
    return () => lib.connect({ host: '127.0.0.1', port, privateKey, serverPublicKey })
  }
  const base = tlsClientOptions(keys, kind, port)
  return () => new Promise((resolve, reject) => {
    const s = tls.connect(base, () => {
      try { checkSuite(s) } catch (err) { s.destroy(); reject(err); return }
      resolve(s)
    })
    s.once('error', reject)
  })
}

export function readKeysArg(json) {
  return JSON.parse(json)
}
