// The request specs (addresses, routes, rules, list filters) the facade
// normalises before they reach C++: never a half-applied change or a kernel
// EINVAL for a caller's mistake.
import { U32_MAX, invalidType, invalidValue, outOfRange, validateFamily } from './coded-errors'
import { parseAddress, parseCidr, validatePrefixLength, type ParsedCidr } from './ip-parse'
import {
  PROTOCOLS,
  ROUTE_SCOPES,
  WHITESPACE,
  optionalBoolean,
  validateLifetime,
  validateLinkRef,
  validateMetric,
  validateProtocol,
  validateRouteScope,
  validateRulePriority,
  validateSpecObject,
  validateTable,
} from './kernel-values'
import type { AddressSpec, Family, LinkRef, RouteSpec, RuleSpec } from './types'

// ---------------------------------------------------------------------------
// Specs. The normalised forms are what the addon takes, minus the link, which
// the facade resolves to an ifindex with its own socket (names are per
// namespace).

/**
 * A validated AddressSpec: `family` added, `address` in canonical form,
 * `prefixLength` checked against the family, `label` only for IPv4 and absent
 * in a delete, `nodad` present (true) only for IPv6 adds that asked for it,
 * and the lifetimes in seconds with 2^32-1 (0xffffffff) for forever:
 * `preferredLifetime` equals `validLifetime` when only that was given, both
 * absent when neither was (forever).
 */
export interface NormalizedAddress extends AddressSpec {
  family: Family
}

/**
 * Validates an AddressSpec. For 'delete' only link, address and prefixLength
 * count (other fields are ignored). `nodad` is ignored for IPv4 (it has no
 * DAD); `label` is IPv4 only and must be 1-15 bytes without NUL or
 * whitespace (that it starts with the interface name is checked once the name
 * is known). Lifetimes: seconds or Infinity; validLifetime >= 1; a lone
 * validLifetime also sets preferredLifetime; preferred <= valid.
 */
export function validateAddressSpec(spec: unknown, op: 'add' | 'delete' = 'add'): NormalizedAddress {
  const s = validateSpecObject(spec)
  const link = validateLinkRef(s.link)
  const { family, address } = parseAddress(s.address, 'address')
  const prefixLength = validatePrefixLength(s.prefixLength, family)
  const normalized: NormalizedAddress = { link, family, address, prefixLength }
  if (op === 'delete') return normalized

  if (s.label !== undefined) {
    if (typeof s.label !== 'string') invalidType('label', 'a string', s.label)
    if (family !== 4) invalidValue('label', s.label, 'is not allowed: labels are IPv4 only')
    const bytes = Buffer.byteLength(s.label)
    if (bytes < 1 || bytes > 15) invalidValue('label', s.label, `must be 1 to 15 bytes (got ${bytes})`)
    // eslint-disable-next-line no-control-regex
    if (/[\0-\x1f\x7f]/.test(s.label) || WHITESPACE.test(s.label)) invalidValue('label', s.label, 'has control characters or whitespace')
    normalized.label = s.label
  }
  if (optionalBoolean(s.nodad, 'nodad') && family === 6) normalized.nodad = true
  if (s.preferredLifetime !== undefined || s.validLifetime !== undefined) {
    const valid = s.validLifetime === undefined ? U32_MAX : validateLifetime(s.validLifetime, 'validLifetime', 1)
    const preferred = s.preferredLifetime === undefined ? valid : validateLifetime(s.preferredLifetime, 'preferredLifetime', 0)
    if (preferred > valid) {
      outOfRange('preferredLifetime', s.preferredLifetime, `must not exceed validLifetime (${s.validLifetime})`)
    }
    normalized.preferredLifetime = preferred
    normalized.validLifetime = valid
  }
  return normalized
}

/** A validated RouteSpec. */
export interface NormalizedRoute {
  /** Given, or taken from the destination, gateway or source. */
  family: Family
  /** Routing table id; 254 (main) when not given. */
  table: number
  /** Network address; absent for a default route. */
  destination?: string
  /** Prefix length of the destination; 0 for a default route. */
  destinationLength: number
  /** Next-hop address in canonical form. */
  gateway?: string
  /** Output interface as given; the Netlink handle resolves it. */
  link?: LinkRef
  /** RT_SCOPE_*; absent in a delete when not given (matches any). */
  scope?: number
  /** Preferred source address (RTA_PREFSRC) in canonical form. */
  source?: string
  /** rtm_protocol; absent in a delete when not given (matches any). */
  protocol?: number
  /** Present (true) only when asked for; a gateway is then present too. */
  onlink?: boolean
  /** RTA_PRIORITY, when given. */
  metric?: number
}

/**
 * Validates a RouteSpec. `destination` is 'default' or a network CIDR (a bare
 * address means a host route); every address in the spec must have the same
 * family, which `family` may state (it is required for a 'default' route
 * without gateway or source). For 'add': a link or a gateway is required,
 * `onlink` needs a gateway, scope defaults to 'link' without a gateway and
 * 'universe' with one, protocol to 'static', table to 254 (main).
 */
export function validateRouteSpec(spec: unknown, op: 'add' | 'delete' = 'add'): NormalizedRoute {
  const s = validateSpecObject(spec)
  let family = s.family === undefined ? undefined : validateFamily(s.family)
  const table = s.table === undefined ? 254 : validateTable(s.table)

  if (s.destination === undefined) invalidType('destination', "a CIDR or 'default'", s.destination)
  let destination: ParsedCidr | undefined
  if (s.destination !== 'default') {
    destination = parseCidr(s.destination, 'destination', { family, allowBareAddress: true })
    family = destination.family
  }
  const gateway = s.gateway === undefined ? undefined : parseAddress(s.gateway, 'gateway', family)
  family ??= gateway?.family
  const source = s.source === undefined ? undefined : parseAddress(s.source, 'source', family)
  family ??= source?.family
  if (family === undefined) invalidValue('family', s.family, "is required for a 'default' route without gateway or source")

  const normalized: NormalizedRoute = {
    family,
    table,
    destinationLength: destination?.prefixLength ?? 0,
  }
  if (destination && destination.prefixLength > 0) normalized.destination = destination.address
  if (gateway) normalized.gateway = gateway.address
  if (source) normalized.source = source.address
  if (s.link !== undefined) normalized.link = validateLinkRef(s.link)
  if (s.metric !== undefined) normalized.metric = validateMetric(s.metric)
  if (optionalBoolean(s.onlink, 'onlink')) {
    if (!gateway) invalidValue('onlink', s.onlink, 'needs a gateway')
    normalized.onlink = true
  }
  if (s.scope !== undefined) normalized.scope = validateRouteScope(s.scope)
  if (s.protocol !== undefined) normalized.protocol = validateProtocol(s.protocol)
  if (op === 'add') {
    if (!gateway && normalized.link === undefined) invalidValue('link', s.link, 'is required for a route without a gateway')
    normalized.scope ??= gateway ? ROUTE_SCOPES.universe : ROUTE_SCOPES.link
    normalized.protocol ??= PROTOCOLS.static
  }
  return normalized
}

/** A validated RuleSpec. */
export interface NormalizedRule {
  /** Given, or taken from `source`. */
  family: Family
  /** Network address; absent for "from all". */
  source?: string
  /** Prefix length of `source`; 0 for "from all". */
  sourceLength: number
  /** The table to look up (1 to 2^32-1). */
  table: number
  /** Rule priority (1 to 2^32-1). */
  priority: number
}

/**
 * Validates a RuleSpec. `source` is a network CIDR or a bare address (a host
 * prefix); without it the rule matches all sources and `family` is required.
 */
export function validateRuleSpec(spec: unknown): NormalizedRule {
  const s = validateSpecObject(spec)
  let family = s.family === undefined ? undefined : validateFamily(s.family)
  let source: ParsedCidr | undefined
  if (s.source !== undefined) {
    source = parseCidr(s.source, 'source', { family, allowBareAddress: true })
    family = source.family
  }
  if (family === undefined) invalidValue('family', s.family, 'is required for a rule without source')
  const table = validateTable(s.table)
  const priority = validateRulePriority(s.priority)
  const normalized: NormalizedRule = { family, sourceLength: source?.prefixLength ?? 0, table, priority }
  if (source && source.prefixLength > 0) normalized.source = source.address
  return normalized
}

/**
 * Validates `{ link?, family? }` list filters.
 * @internal
 */
export function validateListFilter(filter: unknown, fields: ReadonlyArray<'link' | 'family' | 'table'>): {
  /** The validated link filter, when `fields` allows it and it was given. */
  link?: LinkRef
  /** The validated family filter, when `fields` allows it and it was given. */
  family?: Family
  /** The validated table filter, when `fields` allows it and it was given. */
  table?: number
} {
  if (filter === undefined) return {}
  const f = validateSpecObject(filter, 'filter')
  const result: { link?: LinkRef; family?: Family; table?: number } = {}
  if (fields.includes('link') && f.link !== undefined) result.link = validateLinkRef(f.link)
  if (fields.includes('family') && f.family !== undefined) result.family = validateFamily(f.family)
  if (fields.includes('table') && f.table !== undefined) result.table = validateTable(f.table)
  return result
}

// Re-exported spec types so that consumers of the validators need one import.
export type { AddressSpec, RouteSpec, RuleSpec }

