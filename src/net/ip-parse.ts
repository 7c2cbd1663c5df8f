// IP addresses and CIDRs as the facade takes them: canonical text, the family,
// prefix lengths, host bits. Errors through the coded-error kit.
import { isIPv4, isIPv6 } from 'node:net'
import ipaddr from 'ipaddr.js'
import { invalidType, invalidValue, outOfRange, showValue, validateInteger, type ValidationError } from './coded-errors'
import type { Family } from './types'

/** @internal */
export function familyBits(family: Family): number {
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

