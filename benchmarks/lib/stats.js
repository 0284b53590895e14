/** Small statistics over rounds: median, min, max. */

export function median(xs) {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (!v.length) return NaN
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

export function summarize(xs) {
  const v = xs.filter(Number.isFinite)
  return { median: median(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN, n: v.length }
}

/** Percentile p (0..100) by nearest rank. */
export function percentile(xs, p) {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (!v.length) return NaN
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]
}

/** Rotate a list by `k` so that round k starts with a different contender. */
export function rotate(list, k) {
  if (!list.length) return list
  const s = k % list.length
  return [...list.slice(s), ...list.slice(0, s)]
}
