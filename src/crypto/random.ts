/** The one source of randomness. Tests may inject a deterministic one through documented test-only options. */
import { randomBytes } from 'node:crypto'

export type RandomSource = (length: number) => Buffer

export const secureRandom: RandomSource = length => randomBytes(length)
