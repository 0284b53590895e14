/**
 * Messages for failures at the network edge (issue 10): every one names the address, a failed
 * server proof names the file the key was pinned in, a refusal says what to run on the other
 * machine, and the listener's log names the refused key by fingerprint when the handshake
 * reports it.
 */
import { AuthError, formatSshPublicKey, NetworkError, parsePublicKeyText, SecurePipeError, sshFingerprint, TimeoutError, toNetworkError } from '../index.js'
import { formatAddress } from './address.js'
import type { Role } from './options.js'

type ConnectRole = Extract<Role, { mode: 'connect' }>

/** A failed connect, rewritten to name the address, the pin file, or what to authorize. */
export function connectError(err: unknown, role: ConnectRole): SecurePipeError {
  const addr = formatAddress(role.address)
  const e = toNetworkError(err)
  if (e.code === 'ERR_AUTH' && /could not prove it holds|does not hold the key you pinned/.test(e.message)) {
    return new AuthError(`the server at ${addr} could not prove it holds the key pinned in ${role.pinnedIn} (${sshFingerprint(role.serverPublicKey)}): that pin is wrong (compare it with \`secure-pipe id\` on ${role.address.host}) or someone is in the middle`, { cause: err })
  }
  if (e.code === 'ERR_AUTH' && /refused this client's key/.test(e.message)) {
    return new AuthError(`the server at ${addr} does not accept this machine's key ${sshFingerprint(role.privateKey)}: on that machine run \`secure-pipe authorize\` with the line \`secure-pipe id\` prints here`, { cause: err })
  }
  return withAddress(e, `connecting to ${addr}`)
}

/** A failed listen, naming the address; a refused privileged port or a foreign address says what to do (issue 17 section 6). */
export function listenError(err: unknown, role: Pick<Role, 'address'>): SecurePipeError {
  const where = `cannot listen on ${formatAddress(role.address)}`
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EACCES' || code === 'EPERM') {
    const fix = role.address.port < 1024
      ? `ports below 1024 need privileges: use a port of 1024 or more (--listen ${formatAddress({ ...role.address, port: 7070 })}), or allow node to bind them (sudo setcap cap_net_bind_service=+ep "$(command -v node)")`
      : 'the system does not allow this program to listen there'
    return new NetworkError(`${where}: permission denied; ${fix}`, { cause: err })
  }
  if (code === 'EADDRNOTAVAIL') return new NetworkError(`${where}: that address is not one of this machine's; use one it has, or 0.0.0.0 for all`, { cause: err })
  return withAddress(toNetworkError(err), where)
}

function withAddress(e: SecurePipeError, where: string): SecurePipeError {
  const message = `${where}: ${e.message}`
  if (e.code === 'ERR_NETWORK') return new NetworkError(message, { cause: e.cause ?? e })
  if (e.code === 'ERR_TIMEOUT') return new TimeoutError(message, { cause: e.cause ?? e })
  return new SecurePipeError(e.code, message, { cause: e })
}

/**
 * For the listener's log: the key a refused client presented, when the handshake error carries
 * it as `peerSpki` (SPKI DER), with the command that would allow it.
 */
export function refusedKeyNote(err: unknown): string {
  const spki = (err as { peerSpki?: unknown } | undefined)?.peerSpki
  if (!Buffer.isBuffer(spki)) return ''
  try {
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`
    const key = parsePublicKeyText(pem, 'the refused key')
    return `; the client's key is ${sshFingerprint(key)}; to allow it: secure-pipe authorize ${formatSshPublicKey(key)}`
  } catch {
    return ''
  }
}
