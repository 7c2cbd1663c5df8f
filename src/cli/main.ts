// `vip-announcer <command>`: finds the command, parses its flags against its
// spec, runs it with the process's outputs and stop signal, and turns what it
// throws into a message and an exit code.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError } from '../config'
import { closest } from '../config/suggest'
import { createCheckCommand } from './check/command'
import { EXIT, Interrupted, type Command, type CommandIo } from './command'
import { parseFlags, UsageError } from './flags'
import { mainHelp } from './help'
import { createLabCommand } from './lab'
import { createRunCommand } from './run'

export { EXIT } from './command'

/** The commands `vip-announcer` offers, in help order. */
export function defaultCommands(): Command[] {
  return [createRunCommand(), createCheckCommand(), createLabCommand()]
}

/**
 * Runs the command named by `argv` (without node and script) and resolves to
 * the exit code: 0 success, 1 failure, 2 usage error, 130 interrupted. Never
 * throws.
 */
export async function main(argv: string[], io: CommandIo, commands: readonly Command[] = defaultCommands()): Promise<number> {
  let command: Command | undefined
  try {
    const [first, ...rest] = argv
    const names = commands.map((c) => c.name)
    const find = (name: string) => commands.find((c) => c.name === name)
    if (first === undefined) throw new UsageError(`missing command (${names.slice(0, -1).join(', ')} or ${names.at(-1)})`)
    if (first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined
      const about = topic === undefined ? undefined : find(topic)
      if (topic !== undefined && !about) throw new UsageError(`no help for unknown command '${topic}'`)
      io.stdout.write(about ? about.help : mainHelp(commands))
      return EXIT.ok
    }
    if (first === '--version') {
      io.stdout.write(`${version()}\n`)
      return EXIT.ok
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option '${first}' (options go after the command)`)
    command = find(first)
    if (!command) {
      const near = closest(first, names)
      throw new UsageError(`unknown command '${first}'${near ? ` (did you mean '${near}'?)` : ''}`)
    }
    // --help wins over every other flag, even invalid ones.
    const beforeTerminator = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'))
    if (beforeTerminator.includes('-h') || beforeTerminator.includes('--help')) {
      io.stdout.write(command.help)
      return EXIT.ok
    }
    return await command.run(parseFlags(command.name, rest, command.flags), io)
  } catch (error) {
    const name = command ? ` ${command.name}` : ''
    if (error instanceof UsageError) {
      const helpFor = error.command ?? command?.name
      io.stderr.write(`vip-announcer: ${error.message}\nRun 'vip-announcer ${helpFor ? `${helpFor} ` : ''}--help' for usage.\n`)
      return EXIT.usage
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`)
      return EXIT.failure
    }
    if (error instanceof Interrupted) {
      io.stderr.write(`vip-announcer${name}: ${error.message}\n`)
      return EXIT.interrupted
    }
    const err = error as Error
    io.stderr.write(`vip-announcer${name}: ${err?.message ?? String(error)}\n`)
    if (process.env.VIP_ANNOUNCER_DEBUG) io.stderr.write(`${err?.stack}\n`)
    return EXIT.failure
  }
}

/**
 * The process's one SIGINT/SIGTERM handler: the first signal aborts the
 * returned signal (reason: Interrupted) so the command cleans up and returns;
 * a second one means the operator does not want to wait, so the handlers go
 * and the signal is raised again with its default action (the process ends,
 * killed by it, as it would have been without a handler).
 */
export function stopSignals(stderr: { write(text: string): unknown } = process.stderr): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const names: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']
  const dispose = () => {
    for (const name of names) process.off(name, onSignal)
  }
  function onSignal(name: NodeJS.Signals) {
    if (!controller.signal.aborted) return controller.abort(new Interrupted(name))
    dispose()
    stderr.write(`vip-announcer: second ${name}: exiting without waiting for the cleanup\n`)
    process.kill(process.pid, name)
  }
  for (const name of names) process.on(name, onSignal)
  return { signal: controller.signal, dispose }
}

/** Entry point for bin/vip-announcer.js: runs `main` on process.argv and sets the exit code. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<void> {
  const stop = stopSignals()
  try {
    process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, signal: stop.signal })
  } finally {
    stop.dispose()
  }
}

/** package.json sits two levels up from both src/cli and dist/cli. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

if (require.main === module) void cli()
