// What `vip-announcer run` does once its flags and vcluster.yaml are valid:
// one announcer until io.signal aborts (SIGTERM/SIGINT), then a clean stop
// (VIP, rule and routes removed, leadership released). Loaded on use by
// run.ts, so `--help` and `check` never load the announcer.
import { VipAnnouncer } from '../announcer'
import { monotonicNow } from '../clock'
import type { Logger } from '../logger'
import { aborted, signalName, type CommandIo, type Output } from './command'
import { createElector } from './electors'
import type { RunCommandOptions } from './options'

/** A logger that prints one line per record: text for people, JSON for programs. */
export function lineLogger(out: Output, json: boolean): Logger {
  const write = (level: string) => (fields: unknown, message?: unknown) => {
    const record = typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : {}
    const msg = typeof fields === 'string' ? fields : String(message ?? '')
    if (json) {
      // `mono` (CLOCK_MONOTONIC ms) lets a reader on the same host order lines
      // from several processes exactly (the lab's timeline does).
      out.write(JSON.stringify({ time: new Date().toISOString(), mono: Number(monotonicNow().toFixed(3)), level, msg, ...record }) + '\n')
    } else {
      const extras = Object.entries(record)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      out.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extras.length ? ' ' + extras.join(' ') : ''}\n`)
    }
  }
  return { info: write('info'), warn: write('warn'), error: write('error') }
}

/** Resolves to the exit code once the announcer has stopped. */
export async function announce(options: RunCommandOptions, io: CommandIo): Promise<number> {
  const { config } = options
  const logger = lineLogger(io.stdout, options.json)
  const elector = await createElector(options.elector, { identity: options.identity, vip: config.vip })
  const announcer = new VipAnnouncer({
    vip: config.vip,
    interface: config.interface,
    gateway: config.gateway ? `${config.gateway.address}/${config.gateway.prefixLength}` : undefined,
    elector,
    netns: options.netns,
    logger,
    conflict: { policy: options.conflictPolicy, probeIntervalMs: options.probeIntervalMs },
  })
  logger.info({ config: options.configPath, elector: options.elector.kind, identity: options.identity }, 'starting')
  // State changes are logged by the announcer; these add the network-facing events.
  announcer.on('announced', (e) => {
    if (e.reason !== 'repeat' && e.reason !== 'refresh') logger.info({ vip: e.vip, reason: e.reason, frames: e.count, kinds: e.kinds.join('+') }, 'announced')
  })
  announcer.on('link', (e) => logger.info({ interface: e.interface, state: e.state }, 'link'))
  announcer.on('error', () => {}) // already logged by the announcer; never crash on a reported error
  await announcer.start()
  await aborted(io.signal)
  logger.info({ signal: signalName(io.signal) }, 'stopping')
  await announcer.stop()
  return 0
}
