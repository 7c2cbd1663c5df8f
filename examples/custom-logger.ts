// Logging: the announcer calls `logger[level](fields, message)`, pino's
// argument order, for every state change (elected, leader, follower, fenced,
// restored, leftovers cleaned...). Pass pino itself (`logger: pino()`),
// `console` (it prints both arguments), or a few lines of your own like the
// JSON-lines logger below. Without a logger the announcer is silent; its
// events carry the same information.
//
// In your project the import is `from 'vip-announcer'`; this file imports
// '../src' so it runs from a checkout.
//
//   node --import tsx examples/custom-logger.ts --vip 192.0.2.100 --interface eth0 [--level debug]
//
// runs a single replica (StaticElector, as single-replica.ts) that logs JSON
// lines to stdout until SIGTERM/SIGINT. Needs CAP_NET_ADMIN and CAP_NET_RAW.
import { parseArgs } from 'node:util'
import { StaticElector, VipAnnouncer, type Logger } from '../src'

const LEVELS = ['debug', 'info', 'warn', 'error'] as const
type Level = (typeof LEVELS)[number]

/** One JSON object per line: time, level, msg and the announcer's fields (vips, interface, reason...). */
export function jsonLinesLogger(write: (line: string) => void, minimum: Level = 'info', base: Record<string, unknown> = {}): Logger {
  const method = (level: Level) => (fields: unknown, message?: unknown) => {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(minimum)) return
    const record = typeof fields === 'object' && fields !== null ? fields : { msg: String(fields) }
    write(JSON.stringify({ time: new Date().toISOString(), level, ...base, ...record, ...(message !== undefined && { msg: String(message) }) }))
  }
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') }
}

/** For loggers that take the message first (winston, bunyan-style `log(msg, meta)`). */
export function messageFirst(target: Record<Level, (message: string, meta: object) => void>): Logger {
  const method = (level: Level) => (fields: unknown, message?: unknown) => target[level](String(message ?? ''), typeof fields === 'object' && fields !== null ? fields : {})
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      vip: { type: 'string' },
      interface: { type: 'string' },
      netns: { type: 'string' },
      level: { type: 'string', default: 'info' },
    },
  })
  if (!values.vip || !values.interface) throw new Error('usage: custom-logger.ts --vip ADDRESS --interface NAME [--netns PATH] [--level debug|info|warn|error]')
  if (!(LEVELS as readonly string[]).includes(values.level!)) throw new RangeError(`--level: ${JSON.stringify(values.level)} is not one of ${LEVELS.join(', ')}`)
  const logger = jsonLinesLogger((line) => process.stdout.write(line + '\n'), values.level as Level, { pid: process.pid })
  const announcer = new VipAnnouncer({ vip: values.vip, interface: values.interface, netns: values.netns, elector: new StaticElector(), logger })
  // Errors are logged through the logger already; the listener only keeps them from being thrown.
  announcer.on('error', () => {})

  let stopping: Promise<void> | undefined
  const shutdown = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'stopping')
      await announcer.stop()
    })()
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
  await announcer.start()
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`cannot run: ${error.message}`)
    process.exitCode = 1
  })
}
