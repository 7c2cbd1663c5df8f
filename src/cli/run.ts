// `vip-announcer run`: one announcer from a vcluster.yaml until SIGTERM/SIGINT,
// then a clean stop (VIP, rule and routes removed, leadership released).
import type { Writable } from 'node:stream'
import { VipAnnouncer } from '../announcer'
import { monotonicNow } from '../clock'
import type { Logger } from '../logger'
import { createElector } from './electors'
import type { RunCommandOptions } from './options'

export interface RunIo {
  stdout: Writable
  stderr: Writable
  /** Resolves when the command should stop (signals); injectable for tests. */
  stopSignal?: Promise<string>
}

function signalPromise(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (signal: string) => resolve(signal)
    process.once('SIGTERM', handler)
    process.once('SIGINT', handler)
  })
}

/** A logger that prints one line per record: text for people, JSON for programs. */
export function lineLogger(out: Writable, json: boolean): Logger {
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

/** Returns the process exit code. */
export async function runCommand(options: RunCommandOptions, io: RunIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
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
  const stop = io.stopSignal ?? signalPromise()
  await announcer.start()
  const signal = await stop
  logger.info({ signal }, 'stopping')
  await announcer.stop()
  return 0
}
