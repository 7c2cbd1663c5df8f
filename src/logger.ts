// Logging goes through whatever the host passes: pino, console, or anything
// with the same method shape. No logger dependency is forced on hosts.

/** One logging method: pino's (fields, message) or console's (message, ...args). */
export type LogMethod = (objOrMsg: unknown, ...args: unknown[]) => void

export interface Logger {
  debug?: LogMethod
  info: LogMethod
  warn: LogMethod
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
