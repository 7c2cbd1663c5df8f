// Input validation for the network facade. Everything a caller hands to
// `Netlink` passes through here before it reaches C++, so a mistake surfaces as
// a TypeError/RangeError naming the field and showing the value, with the same
// `code`s Node uses ('ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE',
// 'ERR_OUT_OF_RANGE'), and never as a half-applied change or a kernel EINVAL.
// The helpers are exported for the announcer and the configuration loader.
import { statSync, statfsSync, type Stats } from 'node:fs'
import { isIPv4, isIPv6 } from 'node:net'
import { inspect } from 'node:util'
import ipaddr from 'ipaddr.js'
import type { AddressSpec, Family, LinkRef, RouteScope, RouteSpec, RuleSpec } from './types'
import { fileKind } from '../file-kind'
import { linkNameProblem } from './link-name'

/** Error codes of the validation errors (as Node's own argument errors). */
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

const U32_MAX = 0xffffffff
const IFINDEX_MAX = 0x7fffffff

/** 4 or 6. */
export function validateFamily(value: unknown, field = 'family'): Family {
  if (value !== 4 && value !== 6) {
    if (typeof value !== 'number') invalidType(field, '4 or 6', value)
    invalidValue(field, value, 'is not an address family (4 or 6)')
  }
  return value
}

function familyBits(family: Family): number {
  return family === 4 ? 32 : 128
}

// ---------------------------------------------------------------------------
// Addresses

/** A parsed address in its canonical text form ('192.0.2.10', '2001:db8::10'). */
export interface ParsedAddress {
  /** 4 or 6. */
  family: Family
  /** The address in canonical form: as written for IPv4, RFC 5952 for IPv6. */
  address: string
}

/** A parsed prefix: the address part as written (canonicalised) and its length. */
export interface ParsedCidr extends ParsedAddress {
  /** The length after '/', or the full width (32, 128) for a bare address accepted as a host prefix. */
  prefixLength: number
}

/**
 * Parses an IPv4 (dotted quad, no leading zeros, no hex or short forms) or IPv6
 * address. IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are rejected: the
 * kernel would install a literal IPv6 address no IPv4 peer can reach, so the
 * caller is told to write the IPv4 address instead. Zone ids ('%eth0') are
 * rejected: the link is a separate field. With `family`, the other family is
 * an error too.
 */
export function parseAddress(value: unknown, field = 'address', family?: Family): ParsedAddress {
  if (typeof value !== 'string') invalidType(field, 'an IP address string', value)
  // node:net's checks come first: they are strict (dotted quads only, no
  // leading zeros) and cheap, while ipaddr.js throws internally on a miss,
  // which costs tens of microseconds per call.
  let parsed: ParsedAddress
  if (isIPv4(value)) {
    parsed = { family: 4, address: value }
  } else if (isIPv6(value)) {
    if (value.includes('%')) invalidValue(field, value, 'has a zone id; give the link separately')
    let v6: ipaddr.IPv6
    try {
      v6 = ipaddr.IPv6.parse(value)
    } catch {
      invalidValue(field, value, 'is not an IPv4 or IPv6 address')
    }
    if (v6.isIPv4MappedAddress()) {
      invalidValue(field, value, `is an IPv4-mapped IPv6 address; write the IPv4 address "${v6.toIPv4Address().toString()}"`)
    }
    parsed = { family: 6, address: v6.toRFC5952String() }
  } else if (value.includes('/')) {
    invalidValue(field, value, 'is a prefix; give the address alone')
  } else {
    invalidValue(field, value, 'is not an IPv4 or IPv6 address')
  }
  if (family !== undefined && parsed.family !== family) {
    invalidValue(field, value, `is IPv${parsed.family} but IPv${family} is required here`)
  }
  return parsed
}

/** A prefix length for a family: an integer 0-32 (IPv4) or 0-128 (IPv6). */
export function validatePrefixLength(value: unknown, family: Family, field = 'prefixLength'): number {
  if (typeof value !== 'number') invalidType(field, 'an integer', value)
  const bits = familyBits(family)
  if (!Number.isInteger(value) || value < 0 || value > bits) outOfRange(field, value, `0 to ${bits} for IPv${family}`)
  return value
}

function addressBytes(parsed: ParsedAddress): number[] {
  return ipaddr.parse(parsed.address).toByteArray()
}

function bytesToAddress(bytes: number[]): string {
  const address = ipaddr.fromByteArray(bytes)
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString()
}

/** The network address of a prefix (host bits cleared). */
export function networkAddress(parsed: ParsedCidr): string {
  const bytes = addressBytes(parsed)
  for (let bit = parsed.prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7))
  return bytesToAddress(bytes)
}

/** Options of `parseCidr`. */
export interface CidrOptions {
  /** Require this family. */
  family?: Family
  /** Accept a bare address as a host prefix (/32, /128). Default false. */
  allowBareAddress?: boolean
  /** Accept set host bits ('192.0.2.10/24', an interface address). Default false: a prefix must be a network. */
  allowHostBits?: boolean
}

/**
 * Parses 'address/length'. By default the prefix must be a network (no host
 * bits set: '198.51.100.1/24' is refused, naming '198.51.100.0/24'); set
 * `allowHostBits` for interface-style CIDRs such as '192.0.2.10/24'.
 */
export function parseCidr(value: unknown, field = 'cidr', options: CidrOptions = {}): ParsedCidr {
  if (typeof value !== 'string') invalidType(field, 'a CIDR string (address/prefix)', value)
  const slash = value.lastIndexOf('/')
  if (slash < 0) {
    if (!options.allowBareAddress) invalidValue(field, value, 'is not in CIDR notation (address/prefix length)')
    const parsed = parseAddressIn(value, field, options.family, value)
    return { ...parsed, prefixLength: familyBits(parsed.family) }
  }
  const parsed = parseAddressIn(value.slice(0, slash), field, options.family, value)
  const lengthText = value.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lengthText)) invalidValue(field, value, 'has no valid prefix length after "/"')
  const prefixLength = Number(lengthText)
  if (prefixLength > familyBits(parsed.family)) {
    outOfRange(field, value, `prefix length 0 to ${familyBits(parsed.family)} for IPv${parsed.family}`)
  }
  const cidr = { ...parsed, prefixLength }
  if (!options.allowHostBits) {
    const network = networkAddress(cidr)
    if (network !== cidr.address) invalidValue(field, value, `has host bits set (the network is "${network}/${prefixLength}")`)
  }
  return cidr
}

// parseAddress, but errors show the whole CIDR the caller wrote.
function parseAddressIn(text: string, field: string, family: Family | undefined, whole: string): ParsedAddress {
  try {
    return parseAddress(text, field, family)
  } catch (error) {
    const e = error as ValidationError
    if (e.code === 'ERR_INVALID_ARG_VALUE' && text !== whole) {
      invalidValue(field, whole, e.message.slice(`${field}: ${showValue(text)} `.length))
    }
    throw error
  }
}

// ---------------------------------------------------------------------------
// Links

const WHITESPACE = /[ \t\n\v\f\r]/

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

const ROUTE_SCOPES: Record<RouteScope, number> = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 }
const PROTOCOLS: Record<string, number> = { kernel: 2, boot: 3, static: 4 }

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

function validateSpecObject(value: unknown, field = 'spec'): Record<string, unknown> {
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

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') invalidType(field, 'a boolean', value)
  return value
}

// ---------------------------------------------------------------------------
// Specs. The normalised forms are what the addon takes, minus the link, which
// the facade resolves to an ifindex with its own socket (names are per
// namespace).

/** A validated AddressSpec. */
export interface NormalizedAddress {
  /** The link as given (name or index); the Netlink handle resolves it. */
  link: LinkRef
  /** The family of `address`. */
  family: Family
  /** The address in canonical form. */
  address: string
  /** Checked against the family. */
  prefixLength: number
  /** IPv4 only; absent in a delete. */
  label?: string
  /** Present (true) only for IPv6 adds that asked for it. */
  nodad?: boolean
  /**
   * Seconds, 2^32-1 (0xffffffff) for forever; equals `validLifetime` when only
   * that was given. Absent when neither lifetime was given (forever).
   */
  preferredLifetime?: number
  /** Seconds, 2^32-1 (0xffffffff) for forever. Absent when neither lifetime was given (forever). */
  validLifetime?: number
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
