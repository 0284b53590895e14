/**
 * Ctrl-C and SIGTERM during a transfer (issue 3): stop the progress display, tear the
 * connection down, print one line and exit 130 (SIGINT) or 143 (SIGTERM). Partial output is
 * removed by the exit hook of atomic-file.ts, which runs on every exit path.
 *
 * @example const release = onInterrupt(() => stream.destroy()); ...; release()
 */
import { EXIT_SIGNAL, reportInterrupt } from './report.js'

type Signal = keyof typeof EXIT_SIGNAL

export function onInterrupt(teardown: () => void): () => void {
  const handler = (signal: Signal): void => {
    try { teardown() } catch { /* exiting anyway */ }
    reportInterrupt(signal, `secure-pipe: interrupted by ${signal}; any transfer in progress was abandoned and its partial output removed (${signal})`)
    process.exit(EXIT_SIGNAL[signal])
  }
  const signals: Signal[] = ['SIGINT', 'SIGTERM']
  for (const s of signals) process.on(s, handler)
  return () => { for (const s of signals) process.off(s, handler) }
}
