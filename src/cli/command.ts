// The one shape of a subcommand: its flags and a `run` that gets the parsed
// flags and the process's outputs and stop signal as values, so a test drives
// a command in-process with strings for outputs and its own AbortController.
import type { FlagSpec, FlagValues } from './flags'

export interface Output {
  write(text: string): unknown
}

export interface CommandIo {
  stdout: Output
  stderr: Output
  /**
   * Aborted when the process is asked to stop (SIGINT, SIGTERM: main.ts);
   * `reason` is an `Interrupted` naming the signal. A command stops what it
   * is doing, cleans up and returns.
   */
  signal: AbortSignal
}

/** The `reason` of `CommandIo.signal`: the process received `signal`. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted'
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`)
  }
}

/** Exit codes. `interrupted` is 128 + SIGINT, as a shell reports Ctrl-C. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const

export type FlagSpecs = Record<string, FlagSpec>

export interface Command<S extends FlagSpecs = FlagSpecs> {
  name: string
  /** One line for the command list of `vip-announcer --help`. */
  summary: string
  /** The text `vip-announcer NAME --help` prints. */
  help: string
  flags: S
  /**
   * Runs with the flags parsed against `flags` (main.ts rejects anything
   * else first) and resolves to the exit code. Throws UsageError for a bad
   * flag value, ConfigError for an invalid vcluster.yaml; main.ts prints both.
   */
  run(args: FlagValues<S>, io: CommandIo): Promise<number>
}

/** Resolves when `signal` aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

/** The signal name behind an aborted `CommandIo.signal`. */
export function signalName(signal: AbortSignal): string {
  return signal.reason instanceof Interrupted ? signal.reason.signal : String(signal.reason)
}
