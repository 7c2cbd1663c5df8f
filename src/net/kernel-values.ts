// Values with a kernel meaning: interface names and indices, namespace paths,
// routing tables, rule priorities, metrics, lifetimes, route scopes and
// protocols. Errors through the coded-error kit.
import { statSync, statfsSync, type Stats } from 'node:fs'
import { fileKind } from '../file-kind'
import { IFINDEX_MAX, U32_MAX, invalidType, invalidValue, outOfRange, validateInteger } from './coded-errors'
import { linkNameProblem } from './link-name'
import type { LinkRef, RouteScope } from './types'

// ---------------------------------------------------------------------------
// Links

/** @internal */
export const WHITESPACE = /[ \t\n\v\f\r]/

/**
 * An interface name as the kernel's dev_valid_name() accepts it: 1-15 bytes,
 * not '.' or '..', without '/', ':', NUL or whitespace.
 */
export function validateLinkName(value: unknown, field = 'link'): string {
  if (typeof value !== 'string') invalidType(field, 'an interface name', value)
  const problem = linkNameProblem(value)
  if (problem) invalidValue(field, value, problem)
  return value
}

/**
 * A network namespace path as text: a non-empty string without NUL bytes (the
 * kernel would read it only up to the first NUL: another path). Touches no file.
 */
export function validateNetnsPath(value: unknown, field = 'netns'): string {
  if (typeof value !== 'string' || value === '') invalidType(field, 'a namespace path such as /run/netns/NAME', value)
  if (value.includes('\0')) invalidValue(field, value, 'contains a NUL byte, which no path can hold')
  return value
}

/** statfs(2) f_type of nsfs, where every namespace file lives (linux/magic.h). */
const NSFS_MAGIC = 0x6e736673
const NETNS_EXAMPLES = '(such as /run/netns/NAME or /proc/PID/ns/net)'

/**
 * A network namespace path (/run/netns/NAME, /proc/PID/ns/net); undefined
 * means the caller's own. Besides the text (validateNetnsPath), what the path
 * names is looked at without opening it: a FIFO, directory, device, socket or
 * a file outside nsfs is refused here, with the reason, because the addon
 * would only say EINVAL (it opens the file O_NONBLOCK and checks the fd, so
 * nothing blocks either way). A path that does not exist or cannot be looked
 * at is left for the open to report (ENOENT, EACCES).
 */
export function validateNetns(value: unknown, field = 'netns'): string | undefined {
  if (value === undefined) return undefined
  const netns = validateNetnsPath(value, field)
  let stats: Stats
  try {
    stats = statSync(netns)
  } catch {
    return netns
  }
  if (!stats.isFile()) invalidValue(field, netns, `is ${fileKind(stats)}, not a network namespace file ${NETNS_EXAMPLES}`)
  let type: number
  try {
    type = statfsSync(netns).type
  } catch {
    return netns
  }
  if (type !== NSFS_MAGIC) {
    invalidValue(field, netns, `is not a network namespace file: it is not on nsfs ${NETNS_EXAMPLES}`)
  }
  return netns
}


/** An interface index: a positive integer (ifindex is a C int). */
export function validateIfindex(value: unknown, field = 'link'): number {
  return validateInteger(value, field, 1, IFINDEX_MAX)
}

/** A link by name or index. */
export function validateLinkRef(value: unknown, field = 'link'): LinkRef {
  if (typeof value === 'number') return validateIfindex(value, field)
  if (typeof value === 'string') return validateLinkName(value, field)
  return invalidType(field, 'an interface name or index', value)
}

// ---------------------------------------------------------------------------
// Numbers with kernel meaning

/**
 * A routing table id: 1 to 2^32-1. 0 (RT_TABLE_UNSPEC) is refused because the
 * kernel reads it as "unspecified" and would pick a table for you. The
 * reserved tables 253 (default), 254 (main) and 255 (local) are accepted
 * because a caller only gets them by naming them.
 */
export function validateTable(value: unknown, field = 'table'): number {
  return validateInteger(value, field, 1, U32_MAX)
}

/**
 * A rule priority: 1 to 2^32-1. 0 is refused: it belongs to the local-table
 * rule, and in a delete the kernel reads 0 as "any priority", so a delete could
 * remove a different rule than the one named.
 */
export function validateRulePriority(value: unknown, field = 'priority'): number {
  return validateInteger(value, field, 1, U32_MAX)
}

/** A route metric (RTA_PRIORITY): 0 to 2^32-1. */
export function validateMetric(value: unknown, field = 'metric'): number {
  return validateInteger(value, field, 0, U32_MAX)
}

/** An address lifetime in seconds: 0 to 2^32-2, or Infinity / 2^32-1 for "forever". */
export function validateLifetime(value: unknown, field: string, min: number): number {
  if (value === Infinity || value === U32_MAX) return U32_MAX
  if (typeof value !== 'number') invalidType(field, 'a number of seconds or Infinity', value)
  if (!Number.isInteger(value) || value < min || value > U32_MAX - 1) {
    outOfRange(field, value, `an integer from ${min} to ${U32_MAX - 1} seconds, or Infinity`)
  }
  return value
}

/** @internal */
export const ROUTE_SCOPES: Record<RouteScope, number> = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 }
/** @internal */
export const PROTOCOLS: Record<string, number> = { kernel: 2, boot: 3, static: 4 }
/** rtm_type (RTN_*): what this library adds is unicast; 0 in a delete matches any. @internal */
export const ROUTE_TYPES = { any: 0, unicast: 1 } as const
/** rtm_protocol 0 (RTPROT_UNSPEC) in a delete matches any protocol. @internal */
export const PROTOCOL_ANY = 0

/** A route scope name to its number (RT_SCOPE_*). */
export function validateRouteScope(value: unknown, field = 'scope'): number {
  if (typeof value !== 'string') invalidType(field, `one of ${Object.keys(ROUTE_SCOPES).join(', ')}`, value)
  const scope = ROUTE_SCOPES[value as RouteScope]
  if (scope === undefined) invalidValue(field, value, `is not a route scope (${Object.keys(ROUTE_SCOPES).join(', ')})`)
  return scope
}

/** 'static' | 'boot' | 'kernel' | 0-255 to rtm_protocol. */
export function validateProtocol(value: unknown, field = 'protocol'): number {
  if (typeof value === 'string') {
    const protocol = PROTOCOLS[value]
    if (protocol === undefined) invalidValue(field, value, "is not a route protocol ('static', 'boot', 'kernel' or 0-255)")
    return protocol
  }
  if (typeof value !== 'number') invalidType(field, "'static', 'boot', 'kernel' or an integer 0-255", value)
  return validateInteger(value, field, 0, 255)
}

/** @internal */
export function validateSpecObject(value: unknown, field = 'spec'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalidType(field, 'an object', value)
  return value as Record<string, unknown>
}

/**
 * 'add' | 'delete'.
 * @internal
 */
export function validateOp(value: unknown, field = 'op'): 'add' | 'delete' {
  if (value !== 'add' && value !== 'delete') invalidValue(field, value, "is not 'add' or 'delete'")
  return value
}

/** @internal */
export function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') invalidType(field, 'a boolean', value)
  return value
}

