// `vip-announcer lab`: runs the namespace demonstration and prints its report.
// Ctrl-C aborts it; the demo's own cleanup removes every namespace it made.
import { formatLabReport, runLab } from '../lab/demo'
import type { LabCommandOptions } from './options'

export async function labCommand(options: LabCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const abort = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    out.write(`\n${signal}: cleaning up...\n`)
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const report = await runLab({ keep: options.keep, signal: abort.signal, out: options.json ? process.stderr : (out as any) })
    out.write(options.json ? JSON.stringify(report, null, 2) + '\n' : formatLabReport(report))
    return 0
  } catch (error) {
    if (abort.signal.aborted) return 130
    throw error
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
