import { ConfigError } from '../../src/config'

/** Runs `fn` and returns the ConfigError it throws (anything else is rethrown; no throw fails). */
export function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}
