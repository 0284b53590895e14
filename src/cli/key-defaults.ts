/**
 * Where `send` and `recv` find keys (issue 10): flags first (`--key`, `--authorized`,
 * `--server-key`, so `serverPK.pem` files keep working), then the key home (identity,
 * authorized_keys, the pin for HOST:PORT or HOST), then the old per-role files under ./keys
 * (migration). When nothing is found the message says which command to run.
 */
import { existsSync } from 'node:fs'
import type { KeyObject } from 'node:crypto'
import { findPin, hasIdentity, keyHome, KeyError, listAuthorized, loadAuthorizedKeys, loadPublicKey, reloadOnChange, type KeyHome } from '../index.js'
import { formatAddress, type Address } from './address.js'
import { formatError } from './report.js'
import { printNote } from './visible.js'

/** The seed's defaults, one key pair per role (README "Migrating from keys/"). */
const LEGACY = {
  listen: { own: 'keys/server.pem', peers: 'keys/clientPK.pem' },
  connect: { own: 'keys/client.pem', peers: 'keys/serverPK.pem' },
} as const

/** The flags that name key files; `TransferArgs` extends it (options.ts imports this file, not the reverse). */
export interface KeyArgs { key?: string, authorized?: string, serverKey?: string, quiet?: boolean }

export interface RoleKeys {
  own: string
  /**
   * Load the authorized keys now (an error is thrown here, before listening), and return the
   * lookup the server calls at each connection (issue 17 section 2): the list is read again only
   * when its file changed (`reloadOnChange`), so `secure-pipe revoke` takes effect at the next
   * connection. A list that later fails to load refuses everyone (logged once per change).
   */
  authorizedKeys(): () => readonly KeyObject[]
  serverKey(address: Address): { serverPublicKey: KeyObject, pinnedIn: string }
}

export function roleKeys(args: KeyArgs, mode: 'listen' | 'connect', home: KeyHome = keyHome()): RoleKeys {
  const legacy = !hasIdentity(home) && existsSync(LEGACY[mode].own) ? LEGACY[mode] : undefined
  let noted = false
  const old = (path: string): string => {
    if (!noted && args.quiet !== true) {
      printNote(`secure-pipe: using the old default ${path}; run \`secure-pipe init\` once to get one identity for both roles in ${home.dir}`)
    }
    noted = true
    return path
  }
  return {
    own: args.key ?? (legacy ? old(legacy.own) : ownIdentity(home)),
    authorizedKeys: () => args.authorized !== undefined ? perConnection([args.authorized], () => loadAuthorizedKeys(args.authorized!))
      : legacy ? perConnection([old(legacy.peers)], () => loadAuthorizedKeys(legacy.peers)) : perConnection([home.dir, home.authorizedKeys], () => homeAuthorized(home)),
    serverKey: address => args.serverKey !== undefined ? { serverPublicKey: loadPublicKey(args.serverKey), pinnedIn: args.serverKey }
      : legacy ? { serverPublicKey: loadPublicKey(old(legacy.peers)), pinnedIn: legacy.peers } : homePin(home, address),
  }
}

/** `load` now (throws), then at each connection again if `paths` changed; a failed reload is logged once and refuses every key. */
function perConnection(paths: readonly string[], load: () => readonly KeyObject[]): () => readonly KeyObject[] {
  const current = reloadOnChange(paths, load)
  const none: readonly KeyObject[] = []
  let reported: unknown
  return () => {
    try {
      return current()
    } catch (err) {
      if (err !== reported) printNote(`${formatError(err)}; every connection is refused until that is fixed`)
      reported = err
      return none
    }
  }
}

function ownIdentity(home: KeyHome): string {
  if (hasIdentity(home)) return home.identity
  throw new KeyError(`there is no identity in ${home.dir}: run \`secure-pipe init\` once on this machine (or pass --key FILE)`)
}

function homeAuthorized(home: KeyHome): KeyObject[] {
  const entries = listAuthorized(home)
  if (entries.length === 0) {
    throw new KeyError(`no peer may connect yet (${home.authorizedKeys} lists none): run \`secure-pipe authorize KEY\` with the line the peer's \`secure-pipe id\` prints (or pass --authorized FILE)`)
  }
  return entries.map(e => e.key)
}

function homePin(home: KeyHome, address: Address): { serverPublicKey: KeyObject, pinnedIn: string } {
  const target = formatAddress(address)
  const pin = findPin(home, target.toLowerCase(), address.host.toLowerCase()) // host names are case-insensitive; pins are stored lowercased
  if (!pin) {
    throw new KeyError(`no key is pinned for ${target} in ${home.pins}: run \`secure-pipe pin ${target} KEY\` with the line \`secure-pipe id\` prints on that machine (or pass --server-key FILE)`)
  }
  return { serverPublicKey: pin.key, pinnedIn: `${home.pins} (pin for ${pin.target})` }
}
