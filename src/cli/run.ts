// `vip-announcer run`: the flags and vcluster.yaml are checked here; the
// announcer itself (announce.ts) is loaded only once they are valid.
import { loadVclusterConfig } from '../config'
import { EXIT, type Command, type CommandIo } from './command'
import { RUN_TEXT } from './help'
import { RUN_FLAGS, runArgs, type RunCommandOptions } from './options'

/** Holds and announces the VIP until io.signal aborts; resolves to the exit code. */
export type Announce = (options: RunCommandOptions, io: CommandIo) => Promise<number>

// Required on use: it loads the announcer and the native addon.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const announceOnUse: Announce = (options, io) => (require('./announce') as typeof import('./announce')).announce(options, io)

export function createRunCommand(announce: Announce = announceOnUse): Command<typeof RUN_FLAGS> {
  return {
    ...RUN_TEXT,
    flags: RUN_FLAGS,
    async run(flags, io) {
      const args = runArgs(flags)
      const config = await loadVclusterConfig(args.configPath)
      if (!config.enabled) {
        io.stdout.write(`kube-vip is disabled in ${args.configPath} (controlPlane.advanced.kubeVip.enabled is not true): nothing to announce\n`)
        return EXIT.ok
      }
      return announce({ ...args, config }, io)
    },
  }
}
