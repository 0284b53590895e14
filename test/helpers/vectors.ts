/**
 * Paths of files under `test/vectors/`, from the source tree (`test/helpers/`) and the compiled
 * one (`build/test/helpers/`) alike: tsc does not copy the data into build/.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The absolute path of `test/vectors/<name>`. */
export function vectorFile(name: string): string {
  for (const base of ['../vectors/', '../../../test/vectors/']) {
    const path = fileURLToPath(new URL(base + name, import.meta.url))
    if (existsSync(path)) return path
  }
  throw new Error(`test/vectors/${name} not found`)
}
