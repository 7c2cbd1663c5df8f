// `vip-announcer <run|check|lab>`: argument dispatch. `run` and `lab` are
// injected (CliDependencies) so the integrator plugs them in without touching
// parsing; until then they report that they are not available.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, loadVclusterConfig } from '../config'
import { closest } from '../config/suggest'
import { checkCommand } from './check/command'
import type { CheckDependencies } from './check/checks'
import { UsageError } from './flags'
import { COMMANDS, HELP, MAIN_HELP, type CommandName } from './help'
import { parseCheckArgs, parseLabArgs, parseRunArgs, type LabCommandOptions, type RunCommandOptions } from './options'

export interface Output {
  write(text: string): unknown
}

export interface CliDependencies {
  /** Runs the announcer until stopped; resolves to the exit code (void: 0). */
  runCommand(options: RunCommandOptions): Promise<number | void>
  /** Runs the namespace demonstration; resolves to the exit code (void: 0). */
  labCommand(options: LabCommandOptions): Promise<number | void>
  /** Probes for `check` (default: iproute2/arping adapter and /proc/self/status). */
  check?: CheckDependencies
  stdout: Output
  stderr: Output
}

/** Exit codes. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

// Required on use, so `--help` and `check` don't load the announcer.
/* eslint-disable @typescript-eslint/no-require-imports */
const defaults: CliDependencies = {
  runCommand: async (options) => (require('./run') as typeof import('./run')).runCommand(options),
  labCommand: async (options) => (require('./lab') as typeof import('./lab')).labCommand(options),
  stdout: process.stdout,
  stderr: process.stderr,
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Parses `argv` (without node and script), runs the command and resolves to
 * the exit code: 0 success, 1 failure, 2 usage error. Never throws.
 */
export async function main(argv: string[], overrides: Partial<CliDependencies> = {}): Promise<number> {
  const deps: CliDependencies = { ...defaults, ...overrides }
  let command: CommandName | undefined
  try {
    const [first, ...rest] = argv
    if (first === undefined) throw new UsageError('missing command (run, check or lab)')
    if (first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined
      if (topic !== undefined && !isCommand(topic)) throw new UsageError(`no help for unknown command '${topic}'`)
      deps.stdout.write(topic ? HELP[topic] : MAIN_HELP)
      return EXIT.ok
    }
    if (first === '--version') {
      deps.stdout.write(`${version()}\n`)
      return EXIT.ok
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option '${first}' (options go after the command)`)
    if (!isCommand(first)) {
      const near = closest(first, COMMANDS)
      throw new UsageError(`unknown command '${first}'${near ? ` (did you mean '${near}'?)` : ''}`)
    }
    command = first
    const beforeTerminator = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'))
    if (beforeTerminator.includes('-h') || beforeTerminator.includes('--help')) {
      deps.stdout.write(HELP[command])
      return EXIT.ok
    }
    switch (command) {
      case 'check':
        return await checkCommand(parseCheckArgs(rest), deps.stdout, deps.check)
      case 'lab':
        return (await deps.labCommand(parseLabArgs(rest))) ?? EXIT.ok
      case 'run': {
        const args = parseRunArgs(rest)
        const config = await loadVclusterConfig(args.configPath)
        if (!config.enabled) {
          deps.stdout.write(`kube-vip is disabled in ${args.configPath} (controlPlane.advanced.kubeVip.enabled is not true): nothing to announce\n`)
          return EXIT.ok
        }
        return (await deps.runCommand({ ...args, config })) ?? EXIT.ok
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const helpFor = error.command ?? command
      deps.stderr.write(`vip-announcer: ${error.message}\nRun 'vip-announcer ${helpFor ? `${helpFor} ` : ''}--help' for usage.\n`)
      return EXIT.usage
    }
    if (error instanceof ConfigError) {
      deps.stderr.write(`${error.message}\n`)
      return EXIT.failure
    }
    const err = error as Error
    deps.stderr.write(`vip-announcer${command ? ` ${command}` : ''}: ${err?.message ?? String(error)}\n`)
    if (process.env.VIP_ANNOUNCER_DEBUG) deps.stderr.write(`${err?.stack}\n`)
    return EXIT.failure
  }
}

/** Entry point for bin/vip-announcer.js: runs `main` on process.argv and sets the exit code. */
export async function cli(argv: string[] = process.argv.slice(2), overrides: Partial<CliDependencies> = {}): Promise<void> {
  process.exitCode = await main(argv, overrides)
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name)
}

/** package.json sits two levels up from both src/cli and dist/cli. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}

if (require.main === module) void cli()
