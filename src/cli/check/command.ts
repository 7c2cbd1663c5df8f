// `vip-announcer check`: run the preflight checks, print, return the exit code.
import type { CheckCommandOptions } from '../options'
import { readEffectiveCapabilities } from './capabilities'
import { runChecks, type CheckDependencies } from './checks'
import { countStatuses, formatReport, reportJson } from './report'

export const defaultCheckDependencies: CheckDependencies = {
  // Required on use: it loads the native addon, which `--help` must not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createProbe: (netns) => (require('./native-probe') as typeof import('./native-probe')).createNativeProbe(netns),
  readCapabilities: () => readEffectiveCapabilities(),
}

/** Exit code 0 when no check failed (including kube-vip disabled), 1 otherwise. */
export async function checkCommand(
  options: CheckCommandOptions,
  out: { write(text: string): unknown },
  deps: CheckDependencies = defaultCheckDependencies,
): Promise<number> {
  const report = await runChecks(options.configPath, options.netns, deps)
  out.write(options.json ? reportJson(report) : formatReport(report))
  return countStatuses(report).FAIL > 0 ? 1 : 0
}
