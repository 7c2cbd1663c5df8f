// `vip-announcer check`: run the preflight checks, print, return the exit code.
import { EXIT, type Command } from '../command'
import { CHECK_TEXT } from '../help'
import { CHECK_FLAGS, checkArgs } from '../options'
import { readEffectiveCapabilities } from './capabilities'
import { runChecks, type CheckDependencies } from './checks'
import { countStatuses, formatReport, reportJson } from './report'

export const defaultCheckDependencies: CheckDependencies = {
  // Required on use: it loads the native addon, which `--help` and the
  // config-only checks must not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createProbe: (netns) => (require('./host-probe') as typeof import('./host-probe')).createHostProbe(netns),
  readCapabilities: () => readEffectiveCapabilities(),
}

/** Exit code 0 when no check failed (including kube-vip disabled), 1 otherwise. */
export function createCheckCommand(deps: CheckDependencies = defaultCheckDependencies): Command<typeof CHECK_FLAGS> {
  return {
    ...CHECK_TEXT,
    flags: CHECK_FLAGS,
    async run(flags, io) {
      const options = checkArgs(flags)
      const report = await runChecks(options.configPath, options.netns, deps, io.signal)
      io.stdout.write(options.json ? reportJson(report) : formatReport(report))
      return countStatuses(report).FAIL > 0 ? EXIT.failure : EXIT.ok
    },
  }
}
