// Logging goes through whatever the host passes: pino, console, or anything
// with the same method shape. No logger dependency is forced on hosts.

/** One logging method: pino's (fields, message) or console's (message, ...args). */
export type LogMethod = (objOrMsg: unknown, ...args: unknown[]) => void

/**
 * Where the announcer logs: pino, console, or anything with these methods.
 * Each is called as `(fields, message)`, pino's argument order.
 */
export interface Logger {
  /** Optional: detail such as an announcement that could not be sent while the link was down. */
  debug?: LogMethod
  /** Transitions: campaigning, elected, deposed, leader, follower, stopped. */
  info: LogMethod
  /** Things that need attention but were handled: leftovers removed, VIP restored, link down, guard fenced. */
  warn: LogMethod
  /** Errors, the same that are emitted as 'error' events. */
  error: LogMethod
}

const noop: LogMethod = () => {}

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }

/**
 * Calls `logger[level](fields, message)` — pino's argument order. console
 * accepts the same call and prints both.
 */
export function log(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  const method = logger[level]
  if (typeof method === 'function') method.call(logger, fields, message)
}
