/**
 * SPEC 14.1: pairing codes: their entropy, that every part is drawn from the whole range,
 * normalization of what a user types, and refusal (ERR_USAGE) of what cannot be a code.
 */
import t from 'tap'
import { CODE_BITS, newPairingCode, normalizeCode } from '../../../src/pair/code.js'
import { WORDS } from '../../../src/pair/wordlist.js'

t.test('SPEC 14.1: 1,295 distinct lower-case words, none holding the separator; at least 20 bits per code', async t => {
  t.equal(WORDS.length, 1295)
  t.equal(new Set(WORDS).size, WORDS.length, 'no duplicates')
  t.ok(WORDS.every(w => /^[a-z]{3,5}$/.test(w)), '3 to 5 letters a-z')
  t.ok(CODE_BITS >= 20, `${CODE_BITS.toFixed(1)} bits`)
  t.equal(CODE_BITS.toFixed(1), '27.3')
})

t.test('SPEC 14.1: the number and each word come from one uniform draw over the whole range', async t => {
  const asked: number[] = []
  const draws = [0, 1294, 98]
  const code = newPairingCode(n => { asked.push(n); return draws.shift()! })
  t.same(asked, [1295, 1295, 99], 'a draw below the list\'s length per word, below 99 for the number')
  t.equal(code, `99-${WORDS[0]}-${WORDS[1294]}`)
  for (let i = 0; i < 20; i++) {
    const real = newPairingCode()
    t.equal(normalizeCode(real), real, `${real} is already normalized`)
  }
})

t.test('SPEC 14.1: normalization: case, spaces, underscores, runs of dashes, leading zeros', async t => {
  t.equal(normalizeCode(' 07  Crate_SWOOP '), '7-crate-swoop')
  t.equal(normalizeCode('7--crate - swoop'), '7-crate-swoop')
})

t.test('SPEC 14.1: what cannot be a code is ERR_USAGE', async t => {
  for (const bad of ['', 'crate-swoop', '7-crate', '7-crate-swoop-acid', '0-crate-swoop', '100-crate-swoop', 'x-crate-swoop', '7-crate-swoopy', '7-cr\u00e4te-swoop']) {
    t.throws(() => normalizeCode(bad), { code: 'ERR_USAGE' }, JSON.stringify(bad))
  }
})
