// Parsers for the three kube-vip values: the endpoint (VIP:port), the gateway
// (G/P) and the interface name. Pure functions: a value or a problem with what
// would be valid, so the schema can report every problem at once.
import ipaddr from 'ipaddr.js'
import { MAX_LINK_NAME_BYTES, linkNameProblem } from '../net/link-name'

/** An IP address family: 4 or 6 (exported as `ConfigFamily`). */
export type Family = 4 | 6

/** A problem with one value: what is wrong and what would be valid. */
export interface Problem {
  problem: string
  expected: string
}
export type Parsed<T> = { value: T } | Problem

export interface Endpoint {
  /** Canonical text of the VIP ('10.100.0.100', '2001:db8::10'). */
  vip: string
  port: number
  family: Family
  address: ipaddr.IPv4 | ipaddr.IPv6
}

export interface Gateway {
  /** Canonical text of the gateway address. */
  address: string
  prefixLength: number
  /** CIDR of the gateway's subnet ('10.100.0.0/24', '2001:db8::/64'). */
  network: string
  family: Family
  parsed: ipaddr.IPv4 | ipaddr.IPv6
}

export const ENDPOINT_EXPECTED = 'an IP address and port: 10.100.0.100:8443, or [2001:db8::10]:8443 for IPv6'
export const GATEWAY_EXPECTED = 'the gateway address with its subnet prefix length: 10.100.0.1/24, or 2001:db8::1/64'
export const INTERFACE_EXPECTED = 'a Linux interface name of 1-15 bytes without "/", ":", "%" or whitespace, e.g. eth0 or net1'

/** Linux IFNAMSIZ (16) less the terminating NUL. */
export const MAX_INTERFACE_NAME_BYTES = MAX_LINK_NAME_BYTES

/** Parses `controlPlane.endpoint`: an IP literal and a port; IPv6 in brackets. */
export function parseEndpoint(text: string): Parsed<Endpoint> {
  const fail = (problem: string, expected = ENDPOINT_EXPECTED): Problem => ({ problem, expected })
  if (text.trim() === '') return fail('is empty')
  if (/\s/.test(text)) return fail(`${quote(text)} contains whitespace`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return fail(`${quote(text)} is a URL; give host:port without a scheme or path`)

  let host: string
  let portText: string | undefined
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text)
  if (bracketed) {
    host = bracketed[1]
    portText = bracketed[2]
    if (!host.includes(':')) return fail(`${quote(text)} puts brackets around ${quote(host)}: brackets are only for IPv6 addresses`)
  } else {
    const colons = text.split(':').length - 1
    if (colons > 1) {
      const plain = ipv6Literal(text) ? text : undefined
      return fail(
        plain
          ? `${quote(text)} is an IPv6 address without brackets and port`
          : `${quote(text)} has several colons: an IPv6 address must be in brackets`,
        `[IPv6]:port, e.g. [${plain ?? '2001:db8::10'}]:8443`,
      )
    }
    const colon = text.lastIndexOf(':')
    host = colon < 0 ? text : text.slice(0, colon)
    portText = colon < 0 ? undefined : text.slice(colon + 1)
  }

  if (portText === undefined) return fail(`${quote(text)} has no port`, `host:port, e.g. ${bracketed ? `[${host}]` : host}:8443`)
  if (!/^\d{1,5}$/.test(portText)) return fail(`port ${quote(portText)} in ${quote(text)} is not a number`, 'a port number 1-65535, e.g. 10.100.0.100:8443')
  const port = Number(portText)
  if (port < 1 || port > 65535) return fail(`port ${port} in ${quote(text)} is out of range`, 'a port number 1-65535, e.g. 10.100.0.100:8443')

  if (host === '') return fail(`${quote(text)} has no host`)
  const address = parseIpLiteral(host)
  if ('problem' in address) return address
  const unusable = vipAddressProblem(address.value)
  if (unusable) return fail(`${quote(host)} is ${unusable} and cannot be a virtual IP`, 'a unicast address on the nodes\' layer-2 network, e.g. 10.100.0.100:8443')
  return { value: { vip: address.value.toString(), port, family: familyOf(address.value), address: address.value } }
}

/** Parses `controlPlane.advanced.kubeVip.gateway`: G/P with the prefix required. */
export function parseGateway(text: string): Parsed<Gateway> {
  const fail = (problem: string, expected = GATEWAY_EXPECTED): Problem => ({ problem, expected })
  if (text.trim() === '') return fail('is empty')
  if (/\s/.test(text)) return fail(`${quote(text)} contains whitespace`)
  const slash = text.indexOf('/')
  if (slash < 0) {
    const lone = parseIpLiteral(text)
    const example = 'value' in lone ? `${lone.value.toString()}/${familyOf(lone.value) === 4 ? 24 : 64}` : '10.100.0.1/24'
    return fail(`${quote(text)} has no prefix length: policy routing needs the gateway's subnet`, `CIDR notation, e.g. ${example}`)
  }
  const host = text.slice(0, slash)
  const prefixText = text.slice(slash + 1)
  const address = parseIpLiteral(host)
  if ('problem' in address) return { problem: address.problem, expected: GATEWAY_EXPECTED }
  const family = familyOf(address.value)
  const maxPrefix = family === 4 ? 32 : 128
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return fail(`prefix length ${quote(prefixText)} in ${quote(text)} is not 0-${maxPrefix}`, `an IPv${family} prefix length, e.g. ${host}/${family === 4 ? 24 : 64}`)
  }
  const gateway = checkGateway(address.value, Number(prefixText))
  if ('reason' in gateway) return fail(`${quote(text)} ${gateway.reason}`, gateway.expected)
  return { value: gateway.value }
}

// ---------------------------------------------------------------------------
// The rules for a VIP and its gateway beyond their syntax. One implementation,
// used by the configuration (above) and by the VipAnnouncer options
// (src/options.ts), so the API accepts exactly what the config accepts. Each
// gives a reason phrased to follow the value as written: the config says
// `"192.0.2.1/0" has prefix /0, ...`, the API `gateway: "192.0.2.1/0" has prefix /0, ...`.

/** Why a value breaks a rule (to follow the value in a message), and what would be valid. */
export interface RuleViolation {
  reason: string
  expected: string
}

/**
 * Why `address` cannot be a VIP, as a noun phrase ('a multicast address'), or
 * undefined: the unspecified, limited broadcast, multicast, loopback and IPv6
 * link-local (it would need a zone) addresses.
 */
export function vipAddressProblem(address: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  const bad = unusableAsGateway(address)
  if (bad) return bad
  if (address.kind() === 'ipv6' && address.range() === 'linkLocal') return 'a link-local address (it needs a zone)'
  return undefined
}

/**
 * A gateway address with its subnet's prefix length, checked: the prefix is
 * neither /0 (everything on-link) nor a host prefix (no room for a VIP), and
 * the address is not unspecified, broadcast, multicast or loopback, nor the
 * subnet's network or broadcast (IPv4 up to /30) or subnet-router anycast
 * (IPv6 up to /126) address.
 */
export function checkGateway(address: ipaddr.IPv4 | ipaddr.IPv6, prefixLength: number): { value: Gateway } | RuleViolation {
  const family = familyOf(address)
  const host = address.toString()
  const example = `the subnet's prefix length, e.g. ${host}/${family === 4 ? 24 : 64}`
  if (prefixLength === 0) return { reason: 'has prefix /0, which would make every address on-link', expected: example }
  if (prefixLength === (family === 4 ? 32 : 128)) {
    return { reason: `has prefix /${prefixLength}, which leaves no room for the VIP in the gateway's subnet`, expected: example }
  }
  const unusable = unusableAsGateway(address)
  if (unusable) return { reason: `is ${unusable} and cannot be a gateway`, expected: GATEWAY_EXPECTED }
  const network = networkOf(address, prefixLength)
  const gateway: Gateway = { address: host, prefixLength, network: `${network.toString()}/${prefixLength}`, family, parsed: address }
  const special = specialHostAddress(address, gateway)
  if (special) {
    return { reason: `is the ${special} address of ${gateway.network}, not a host`, expected: `a host address in the subnet, e.g. ${firstHost(gateway)}/${prefixLength}` }
  }
  return { value: gateway }
}

/**
 * Why the VIP cannot be used with this gateway (to follow the VIP in a
 * message), or undefined: it must be of the gateway's family, inside its
 * subnet, not the gateway itself and not the subnet's network, broadcast or
 * subnet-router anycast address.
 */
export function vipGatewayProblem(vip: ipaddr.IPv4 | ipaddr.IPv6, gateway: Gateway): string | undefined {
  const family = familyOf(vip)
  if (family !== gateway.family) return `is IPv${family} but the gateway ${gateway.address}/${gateway.prefixLength} is IPv${gateway.family}`
  if (!vip.match(gateway.parsed, gateway.prefixLength)) return `is outside the gateway's subnet ${gateway.network}`
  if (vip.toString() === gateway.address) return 'is the gateway address itself'
  const special = specialHostAddress(vip, gateway)
  if (special) return `is the ${special} address of ${gateway.network}`
  return undefined
}

/** Checks an interface name (the rule is the network facade's: src/net/link-name.ts). */
export function checkInterfaceName(name: string): Problem | undefined {
  const problem = linkNameProblem(name)
  if (problem === undefined) return undefined
  return { problem: name === '' ? problem : `${quote(name)} ${problem}`, expected: INTERFACE_EXPECTED }
}

/** The VIP must be a host of the gateway's subnet other than the gateway itself. */
export function checkVipInGatewaySubnet(endpoint: Endpoint, gateway: Gateway): Problem | undefined {
  const expected = `an address in ${gateway.network} other than the gateway ${gateway.address}${
    gateway.family === 4 && gateway.prefixLength <= 30 ? ` and the network and broadcast addresses` : gateway.family === 6 && gateway.prefixLength <= 126 ? ' and the subnet-router anycast address' : ''
  }, e.g. ${exampleVip(gateway, endpoint.port)}`
  const reason = vipGatewayProblem(endpoint.address, gateway)
  return reason ? { problem: `VIP ${endpoint.vip} ${reason}`, expected } : undefined
}

function parseIpLiteral(text: string): Parsed<ipaddr.IPv4 | ipaddr.IPv6> {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { value: ipaddr.IPv4.parse(text) }
  if (text.includes('%')) return { problem: `${quote(text)} has a zone index, which a VIP cannot use`, expected: 'a global IPv6 address, e.g. 2001:db8::10' }
  const v6 = ipv6Literal(text)
  if (v6) {
    if (v6.isIPv4MappedAddress()) {
      return { problem: `${quote(text)} is an IPv4-mapped IPv6 address`, expected: `the IPv4 form, ${v6.toIPv4Address().toString()}` }
    }
    return { value: v6 }
  }
  if (/^[\d.]+$/.test(text)) return { problem: `${quote(text)} is not a valid dotted-quad IPv4 address`, expected: 'four decimal numbers 0-255, e.g. 10.100.0.100' }
  return {
    problem: `${quote(text)} is a hostname, not an IP address: kube-vip announces an address with ARP, so it must be a literal`,
    expected: 'an IP literal, e.g. 10.100.0.100:8443 or [2001:db8::10]:8443',
  }
}

function ipv6Literal(text: string): ipaddr.IPv6 | undefined {
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined
  return ipaddr.IPv6.parse(text)
}

function familyOf(address: ipaddr.IPv4 | ipaddr.IPv6): Family {
  return address.kind() === 'ipv4' ? 4 : 6
}

function unusableAsGateway(address: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  const range = address.range()
  const names: Record<string, string> = {
    unspecified: 'the unspecified address',
    broadcast: 'the limited broadcast address',
    multicast: 'a multicast address',
    loopback: 'a loopback address',
  }
  return names[range]
}

function networkOf(address: ipaddr.IPv4 | ipaddr.IPv6, prefixLength: number): ipaddr.IPv4 | ipaddr.IPv6 {
  const cidr = `${address.toString()}/${prefixLength}`
  return address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr)
}

/**
 * 'network' or 'broadcast' when the address is one of the subnet's non-host
 * addresses. IPv4 /31 (RFC 3021) and IPv6 /127 (RFC 6164) have none; IPv6 has
 * no broadcast but the all-zero host is the subnet-router anycast address.
 */
function specialHostAddress(address: ipaddr.IPv4 | ipaddr.IPv6, subnet: Gateway): string | undefined {
  const text = address.toString()
  if (subnet.family === 4) {
    if (subnet.prefixLength > 30) return undefined
    if (text === ipaddr.IPv4.networkAddressFromCIDR(subnet.network).toString()) return 'network'
    if (text === ipaddr.IPv4.broadcastAddressFromCIDR(subnet.network).toString()) return 'broadcast'
    return undefined
  }
  if (subnet.prefixLength > 126) return undefined
  return text === ipaddr.IPv6.networkAddressFromCIDR(subnet.network).toString() ? 'subnet-router anycast (network)' : undefined
}

function offsetAddress(base: ipaddr.IPv4 | ipaddr.IPv6, offset: number): string {
  const bytes = base.toByteArray()
  let carry = offset
  for (let i = bytes.length - 1; i >= 0 && carry > 0; i--) {
    const sum = bytes[i] + carry
    bytes[i] = sum & 0xff
    carry = sum >> 8
  }
  return ipaddr.fromByteArray(bytes).toString()
}

function firstHost(subnet: Gateway): string {
  return offsetAddress(networkOf(subnet.parsed, subnet.prefixLength), 1)
}

/** A plausible VIP for messages: the 100th host (or the first free one in tiny subnets). */
function exampleVip(gateway: Gateway, port: number): string {
  const network = networkOf(gateway.parsed, gateway.prefixLength)
  const hostBits = (gateway.family === 4 ? 32 : 128) - gateway.prefixLength
  const candidates = hostBits < 8 ? [1, 2, 0] : gateway.family === 4 ? [100, 101] : [0x100, 0x101]
  for (const offset of candidates) {
    const text = offsetAddress(network, offset)
    const parsed = ipaddr.parse(text)
    if (text !== gateway.address && parsed.match(gateway.parsed, gateway.prefixLength) && !specialHostAddress(parsed, gateway)) {
      return gateway.family === 4 ? `${text}:${port}` : `[${text}]:${port}`
    }
  }
  return gateway.family === 4 ? `10.100.0.100:${port}` : `[2001:db8::10]:${port}`
}

function quote(text: string): string {
  return JSON.stringify(text)
}
