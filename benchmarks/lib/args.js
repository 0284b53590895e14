/** Command-line flags of `npm run bench` (node benchmarks/run.js --help). */

export const ALL_SECTIONS = ['bulk', 'crypto', 'handshake', 'pingpong', 'memory', 'rsa', 'cpu', 'files', 'tunnel', 'startup']

const UNITS = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30,
}

/** '1GiB' -> 1073741824, '100MB' -> 1e8, '4096' -> 4096. */
export function parseSize(text) {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(String(text))
  if (!m) throw new Error(`cannot read size '${text}' (examples: 256MiB, 1GiB, 500MB)`)
  const unit = UNITS[(m[2] || 'b').toLowerCase()]
  if (!unit) throw new Error(`unknown unit in size '${text}' (use B, KB, MB, GB, KiB, MiB, GiB)`)
  const n = Math.round(Number(m[1]) * unit)
  if (!(n > 0)) throw new Error(`size must be positive: '${text}'`)
  return n
}

export function formatSize(n) {
  for (const [u, f] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]]) {
    if (n >= f && n % (f / 16) === 0) return `${n / f} ${u}`
  }
  return `${n} B`
}

export const HELP = `Usage: node benchmarks/run.js [flags]   (npm run bench -- [flags])

  --size SIZE          bulk stream size (default 1GiB; e.g. 256MiB, 2GiB, 500MB)
  --rounds N           rounds per measurement, contenders interleaved (default 3)
  --only LIST          sections, comma-separated: ${ALL_SECTIONS.join(',')} (default all)
  --contenders LIST    bulk contenders to run, comma-separated ids or prefixes (default all)
  --mem-sizes LIST     sizes for the memory section (default 256MiB,4GiB)
  --mem-rounds N       rounds for the memory section (default 3; the target takes the median)
  --seconds S          seconds per timed sample in crypto/handshake/pingpong/rsa (default 2)
  --timeout S          per-contender timeout in seconds for bulk/memory (default 30 + size at 10 MB/s)
  --out FILE           where to write the report (default benchmarks/RESULTS.md)
  --keep               keep benchmarks/tmp/run-* after the run
  -h, --help           this text

Writes benchmarks/RESULTS.md; raw numbers go to benchmarks/tmp/last-results.json.`

export function parseArgs(argv) {
  const opts = {
    size: 2 ** 30, rounds: 3, only: [...ALL_SECTIONS], contenders: null,
    memSizes: [256 * 2 ** 20, 4 * 2 ** 30], memRounds: 3, seconds: 2,
    timeout: null, out: null, keep: false, help: false,
  }
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(0, eq) : a
    const value = () => {
      if (eq > 0) return a.slice(eq + 1)
      if (i + 1 >= argv.length) throw new Error(`${name} needs a value`)
      return argv[++i]
    }
    const int = (v, what) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, got '${v}'`)
      return n
    }
    switch (name) {
      case '--size': opts.size = parseSize(value()); break
      case '--rounds': opts.rounds = int(value(), '--rounds'); break
      case '--only': {
        opts.only = list(value())
        const bad = opts.only.filter((s) => !ALL_SECTIONS.includes(s))
        if (bad.length) throw new Error(`unknown section(s) ${bad.join(', ')}; known: ${ALL_SECTIONS.join(', ')}`)
        break
      }
      case '--contenders': opts.contenders = list(value()); break
      case '--mem-sizes': opts.memSizes = list(value()).map(parseSize); break
      case '--mem-rounds': opts.memRounds = int(value(), '--mem-rounds'); break
      case '--seconds': {
        opts.seconds = Number(value())
        if (!(opts.seconds > 0 && opts.seconds <= 60)) throw new Error('--seconds must be in (0, 60]')
        break
      }
      case '--timeout': opts.timeout = int(value(), '--timeout'); break
      case '--out': opts.out = value(); break
      case '--keep': opts.keep = true; break
      case '-h': case '--help': opts.help = true; break
      default: throw new Error(`unknown flag '${a}' (see --help)`)
    }
  }
  return opts
}
