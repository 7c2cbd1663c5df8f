// `vip-announcer lab`: runs the namespace demonstration and prints its report.
// Ctrl-C aborts it (io.signal); the demo's own cleanup removes every
// namespace it made.
import type { Writable } from 'node:stream'
import { EXIT, signalName, type Command, type CommandIo } from './command'
import { LAB_TEXT } from './help'
import { LAB_FLAGS, labArgs, type LabCommandOptions } from './options'

/** Runs the demonstration; resolves to the exit code. */
export type Demonstrate = (options: LabCommandOptions, io: CommandIo) => Promise<number>

export function createLabCommand(demonstrate: Demonstrate = demonstrateInNamespaces): Command<typeof LAB_FLAGS> {
  return {
    ...LAB_TEXT,
    flags: LAB_FLAGS,
    run: (flags, io) => demonstrate(labArgs(flags), io),
  }
}

async function demonstrateInNamespaces(options: LabCommandOptions, io: CommandIo): Promise<number> {
  // Required on use: the demo pulls in the capture code and child processes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { formatLabReport, runLab } = require('../lab/demo') as typeof import('../lab/demo')
  const onAbort = () => io.stdout.write(`\n${signalName(io.signal)}: cleaning up...\n`)
  io.signal.addEventListener('abort', onAbort, { once: true })
  try {
    // runLab only calls write() on its progress stream.
    const progress = (options.json ? io.stderr : io.stdout) as Writable
    const report = await runLab({ keep: options.keep, signal: io.signal, out: progress })
    io.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : formatLabReport(report))
    return EXIT.ok
  } catch (error) {
    if (io.signal.aborted) return EXIT.interrupted
    throw error
  } finally {
    io.signal.removeEventListener('abort', onAbort)
  }
}
