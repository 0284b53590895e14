/**
 * yargs' validation messages rewritten as sentences (issue 10): what was wrong and what to type
 * instead, with "did you mean" for a mistyped option. Nothing of yargs' own wording
 * (`Unknown arguments: outptu-dir, outptuDir`, `Implications failed`) reaches the user.
 *
 * @example usageSentence('Unknown argument: outptu-dir', { options: ['output-dir'], argv: ['--outptu-dir'] })
 *   // 'unknown option --outptu-dir; did you mean --output-dir?'
 */

/** What a rule may use: the options known where parsing stopped, the raw arguments, the command. */
export interface UsageContext { options: readonly string[], argv: readonly string[], command?: string }

type Rule = [RegExp, (m: RegExpExecArray, ctx: UsageContext) => string]

const flag = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`)

const RULES: Rule[] = [
  [/^Unknown arguments?: (.+)$/s, (m, ctx) => unknownOptions(m[1]!.split(/,\s*/), ctx)],
  [/^Implications failed:\s*(\S+) -> (\S+)/s, m => `${flag(m[1]!)} needs ${flag(m[2]!)} as well`],
  [/^Arguments (\S+) and (\S+) are mutually exclusive$/, m => `give either ${flag(m[1]!)} or ${flag(m[2]!)}, not both`],
  [/^Missing required arguments?: (.+)$/, m => `${m[1]!.split(/,\s*/).map(flag).join(' and ')} is required`],
  [/^Not enough arguments following: (\S+)$/, m => `${flag(m[1]!)} needs a value`],
  [/^Not enough non-option arguments: got \d+, need at least (\d+)$/, (m, ctx) => `${ctx.command ?? 'this command'} needs ${m[1]} more argument${m[1] === '1' ? '' : 's'}`],
  [/^Too many non-option arguments: got (\d+), maximum of (\d+)$/, m => `too many arguments (${m[1]} given, at most ${m[2]})`],
  [/^Invalid values:\s*Argument: (\S+), Given: (.+), Choices: (.+)$/s, m => `${flag(m[1]!)} must be one of ${m[3]!.replace(/"/g, '')} (got ${m[2]!.replace(/"/g, '')})`],
  [/^Unknown commands?: (.+)$/, m => `unknown command ${m[1]}`],
  [/^Did you mean (\S+)\?$/, m => `unknown command; did you mean ${m[1]}?`],
]

/** One sentence for a yargs failure; unknown wordings pass through unchanged. */
export function usageSentence(message: string, ctx: UsageContext): string {
  for (const [re, say] of RULES) {
    const m = re.exec(message.trim())
    if (m) return say(m, ctx)
  }
  return message.trim()
}

/** yargs lists `outptu-dir` and its camelCase twin `outptuDir`; report each once, with the nearest known option. */
function unknownOptions(names: string[], ctx: UsageContext): string {
  const kebab = new Set(names.filter(n => n.includes('-')).map(camel))
  const shown = names.filter(n => !kebab.has(n))
  return shown.map(n => {
    if (!ctx.argv.some(a => a.replace(/^-+/, '').split('=')[0] === n && a.startsWith('-'))) return `unexpected argument ${n}`
    const near = nearest(n, ctx.options)
    return `unknown option ${flag(n)}${near ? `; did you mean ${flag(near)}?` : ''}`
  }).join('; ')
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

/** The known option within edit distance 3 (and under half the name's length), if any. */
function nearest(name: string, options: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.min(3, Math.ceil(name.length / 2))
  for (const o of options) {
    if (o.length < 2 || /[A-Z]/.test(o)) continue
    const d = distance(name, o)
    if (d <= bestDistance) { best = o; bestDistance = d }
  }
  return best
}

/** Levenshtein distance, two rows. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}
