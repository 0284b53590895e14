/**
 * Loads Project Wycheproof vector files from `test/vectors/wycheproof/` (see the README there).
 * Paths are relative to this module, so the helper works from the compiled tree
 * (`build/test/helpers/`) and from the source tree (`test/helpers/`) alike.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type t from 'tap'

/** The type of a subtest's `t`, with tap's built-in assertion plugins. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/** Every test in every Wycheproof file has these fields; the rest depends on the schema. */
export interface WycheproofTest {
  tcId: number
  comment: string
  flags: string[]
  result: 'valid' | 'invalid' | 'acceptable'
}

export interface WycheproofGroup<T extends WycheproofTest> {
  type: string
  tests: T[]
}

export interface WycheproofFile<G extends WycheproofGroup<WycheproofTest>> {
  algorithm: string
  schema: string
  numberOfTests: number
  notes: Record<string, unknown>
  testGroups: G[]
}

/** `AeadTest` (aes_ccm_test.json). Sizes in bits. */
export interface AeadTest extends WycheproofTest { key: string, iv: string, aad: string, msg: string, ct: string, tag: string }
export interface AeadGroup extends WycheproofGroup<AeadTest> { keySize: number, ivSize: number, tagSize: number }

/** `RsaesOaepDecrypt` (rsa_oaep_*_test.json). */
export interface OaepTest extends WycheproofTest { msg: string, ct: string, label: string }
export interface OaepGroup extends WycheproofGroup<OaepTest> {
  keySize: number
  sha: string
  mgf: string
  mgfSha: string
  privateKeyPkcs8: string
  privateKeyPem: string
}

/** `HkdfTest` (hkdf_sha256_test.json). `size` is in bytes, `keySize` in bits. */
export interface HkdfTest extends WycheproofTest { ikm: string, salt: string, info: string, size: number, okm: string }
export interface HkdfGroup extends WycheproofGroup<HkdfTest> { keySize: number }

/** `MacTest` (hmac_sha256_test.json). Sizes in bits. */
export interface MacTest extends WycheproofTest { key: string, msg: string, tag: string }
export interface MacGroup extends WycheproofGroup<MacTest> { keySize: number, tagSize: number }

/** `XdhComp` (x25519_test.json): raw 32-byte keys. */
export interface XdhTest extends WycheproofTest { public: string, private: string, shared: string }
export interface XdhGroup extends WycheproofGroup<XdhTest> { curve: string }

// Source: test/helpers/ -> ../vectors/wycheproof/. Compiled: build/test/helpers/ -> ../../../test/vectors/wycheproof/
// (tsc does not copy the JSON into build/, so the compiled helper reads the source folder).
const CANDIDATES = [
  new URL('../vectors/wycheproof/', import.meta.url),
  new URL('../../../test/vectors/wycheproof/', import.meta.url),
]

/** The folder holding the vector files. */
export function vectorDir(): URL {
  for (const dir of CANDIDATES) {
    if (existsSync(fileURLToPath(new URL('LICENSE', dir)))) return dir
  }
  throw new Error('test/vectors/wycheproof/ not found next to the test tree')
}

/** Parse one vector file by name, e.g. `loadWycheproof<AeadGroup>('aes_ccm_test.json')`. */
export function loadWycheproof<G extends WycheproofGroup<WycheproofTest>>(name: string): WycheproofFile<G> {
  if (!/^[a-z0-9_]+\.json$/.test(name)) throw new Error(`not a vector file name: ${name}`)
  const file = JSON.parse(readFileSync(new URL(name, vectorDir()), 'utf8')) as WycheproofFile<G>
  // Guard against a truncated or swapped file: the header count must match the tests present.
  const present = file.testGroups.reduce((n, g) => n + g.tests.length, 0)
  if (present !== file.numberOfTests) throw new Error(`${name}: numberOfTests ${file.numberOfTests} but ${present} tests present`)
  return file
}

/** Hex to Buffer. */
export function hex(s: string): Buffer {
  return Buffer.from(s, 'hex')
}

/** Tally of results, for asserting how many vectors a test file ran. */
export interface Counts { total: number, valid: number, invalid: number, acceptable: number }

export function newCounts(): Counts {
  return { total: 0, valid: 0, invalid: 0, acceptable: 0 }
}

export function tally(counts: Counts, test: WycheproofTest): void {
  counts.total++
  counts[test.result]++
}

/** Short label for assertion messages: `tcId 12 [ModifiedTag] comment`. */
export function describe(test: WycheproofTest): string {
  return `tcId ${test.tcId} [${test.flags.join(',')}]${test.comment ? ' ' + test.comment : ''}`
}
