// The coded-error kit of the network facade (and of the announcer options and
// the configuration loader): a mistake surfaces as a TypeError/RangeError
// naming the field and showing the value, with the `code`s Node uses
// ('ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE').
import { inspect } from 'node:util'
import type { Family } from './types'

export type ValidationCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE'

/** A TypeError or RangeError from validation: `code` as Node's, `field` the offending input. */
export type ValidationError = (TypeError | RangeError) & {
  /** 'ERR_INVALID_ARG_TYPE' (wrong type), 'ERR_INVALID_ARG_VALUE' (malformed) or 'ERR_OUT_OF_RANGE'. */
  code: ValidationCode
  /** The name of the input that was refused ('address', 'prefixLength', 'link', ...). */
  field: string
}

/**
 * Shows a value in an error message: strings quoted, everything else as `util.inspect` prints it.
 * @internal
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  return inspect(value, { depth: 1, breakLength: Infinity })
}

function fail(kind: 'type' | 'range', code: ValidationCode, field: string, message: string): never {
  const error = (kind === 'type' ? new TypeError(message) : new RangeError(message)) as ValidationError
  error.code = code
  error.field = field
  throw error
}

/** Throws a TypeError 'ERR_INVALID_ARG_TYPE': `field: expected <expected>, received <value>`. */
export function invalidType(field: string, expected: string, value: unknown): never {
  return fail('type', 'ERR_INVALID_ARG_TYPE', field, `${field}: expected ${expected}, received ${showValue(value)}`)
}

/** Throws a TypeError 'ERR_INVALID_ARG_VALUE': `field: <value> <reason>`. */
export function invalidValue(field: string, value: unknown, reason: string): never {
  return fail('type', 'ERR_INVALID_ARG_VALUE', field, `${field}: ${showValue(value)} ${reason}`)
}

/** Throws a RangeError 'ERR_OUT_OF_RANGE': `field: <value> is out of range (<range>)`. */
export function outOfRange(field: string, value: unknown, range: string): never {
  return fail('range', 'ERR_OUT_OF_RANGE', field, `${field}: ${showValue(value)} is out of range (${range})`)
}

/** An integer in [min, max], else a TypeError (not a number) or RangeError. */
export function validateInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number') invalidType(field, 'an integer', value)
  if (!Number.isInteger(value) || value < min || value > max) outOfRange(field, value, `an integer from ${min} to ${max}`)
  return value
}

/** @internal */
export const U32_MAX = 0xffffffff
/** @internal */
export const IFINDEX_MAX = 0x7fffffff

/** 4 or 6. */
export function validateFamily(value: unknown, field = 'family'): Family {
  if (value !== 4 && value !== 6) {
    if (typeof value !== 'number') invalidType(field, '4 or 6', value)
    invalidValue(field, value, 'is not an address family (4 or 6)')
  }
  return value
}

