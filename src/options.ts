// VipAnnouncer options: their types, defaults and validation. Everything is
// checked at construction, so a bad option never leaves a half-configured host.
import ipaddr from 'ipaddr.js'
import type { LeaderElector } from './elector'
import type { Logger } from './logger'
import { resolveSchedule, type AnnounceScheduleOptions, type ResolvedSchedule } from './schedule'

export interface RoutingOptions {
  /**
   * Routing table for VIP-sourced traffic. Default 30100: clear of the kernel's
   * tables (253-255) and of the ones CNIs commonly use (Cilium 2004/2005,
   * kube-router 77-79, kube-vip 198).
   */
  table?: number
  /**
   * Priority of the `from VIP lookup TABLE` rule: before the main table's
   * 32766 and after the local table's 0. Default 1000.
   */
  priority?: number
  /** rtm_protocol tag of the routes this library installs, so stale cleanup removes only its own. Default 118. */
  protocol?: number
}

export interface VipAnnouncerOptions {
  /** The virtual IP(s): IPv4 and/or IPv6 literals. */
  vip: string | string[]
  /** Interface to put the VIP on (e.g. 'eth0', or 'net1' with Multus). */
  interface: string
  /**
   * Gateway in CIDR notation ('192.0.2.1/24'), one per address family. When
   * set, traffic sourced from the VIP is routed through it (policy routing).
   */
  gateway?: string | string[]
  /** Decides who is leader. */
  elector: LeaderElector
  /** Network namespace to operate in (e.g. /run/netns/cp1) without moving the process. */
  netns?: string
  /** The announcement schedule; IPv4 frame kinds. */
  announce?: AnnounceScheduleOptions & {
    /** Gratuitous ARP forms to send: some switches honour only one. Default both. */
    arp?: Array<'request' | 'reply'>
  }
  routing?: RoutingOptions
  /**
   * The VIP is removed this long before the lease deadline, to absorb the
   * time removal takes and scheduling jitter. Default 200 ms.
   */
  fenceMarginMs?: number
  /**
   * At start, remove a VIP, rules and routes this library left behind (an
   * earlier crash). Turn off only if several replicas share one network
   * namespace, where "left behind" can't be told from "the leader's". Default true.
   */
  cleanStaleOnStart?: boolean
  /** pino/console-shaped logger; default silent. */
  logger?: Logger
}

export interface ResolvedVip {
  address: string
  family: 4 | 6
  prefixLength: 32 | 128
}

export interface ResolvedGateway {
  address: string
  family: 4 | 6
  prefixLength: number
  /** The subnet, 'network/prefix', normalised. */
  subnet: string
  network: string
}

export interface ResolvedOptions {
  vips: ResolvedVip[]
  interface: string
  gateways: ResolvedGateway[]
  elector: LeaderElector
  netns?: string
  schedule: ResolvedSchedule
  arpKinds: Array<'request' | 'reply'>
  table: number
  priority: number
  protocol: number
  fenceMarginMs: number
  cleanStaleOnStart: boolean
}

function invalid(field: string, value: unknown, expected: string): TypeError {
  return Object.assign(new TypeError(`${field}: ${JSON.stringify(value)} ${expected}`), { code: 'ERR_INVALID_ARG_VALUE', field })
}

function outOfRange(field: string, value: unknown, expected: string): RangeError {
  return Object.assign(new RangeError(`${field}: ${JSON.stringify(value)} ${expected}`), { code: 'ERR_OUT_OF_RANGE', field })
}

export function parseIp(field: string, value: unknown): ipaddr.IPv4 | ipaddr.IPv6 {
  if (typeof value !== 'string' || !ipaddr.isValid(value) || value.includes('/')) {
    throw invalid(field, value, 'is not an IPv4 or IPv6 address')
  }
  // ipaddr.isValid accepts legacy forms like '10.1' or '0x0a000001'; a VIP must be written plainly.
  if (!value.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(value)) {
    throw invalid(field, value, 'is not a dotted-quad IPv4 address')
  }
  const parsed = ipaddr.parse(value)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    throw invalid(field, value, 'is an IPv4-mapped IPv6 address; write the IPv4 address instead')
  }
  return parsed
}

function parseGateway(field: string, value: unknown): ResolvedGateway {
  if (typeof value !== 'string' || !value.includes('/')) {
    throw invalid(field, value, 'must be the gateway address with its subnet prefix, e.g. "192.0.2.1/24"')
  }
  const [addressText, prefixText] = value.split('/')
  const address = parseIp(field, addressText)
  const family = address.kind() === 'ipv4' ? 4 : 6
  const max = family === 4 ? 32 : 128
  const prefixLength = Number(prefixText)
  if (!/^\d{1,3}$/.test(prefixText) || prefixLength > max) {
    throw outOfRange(field, value, `has an invalid prefix: expected /0 to /${max}`)
  }
  const network = ipaddr.parse(
    family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(value).toString()
      : networkOfIPv6(address as ipaddr.IPv6, prefixLength),
  )
  return {
    address: address.toString(),
    family,
    prefixLength,
    network: network.toString(),
    subnet: `${network.toString()}/${prefixLength}`,
  }
}

function networkOfIPv6(address: ipaddr.IPv6, prefixLength: number): string {
  const bytes = address.toByteArray()
  for (let bit = prefixLength; bit < 128; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7))
  return ipaddr.fromByteArray(bytes).toString()
}

function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(field, value, `must be an integer from ${min} to ${max}`)
  }
  return value
}

// Linux's dev_valid_name: 1-15 bytes, not '.' or '..', no '/', ':' or whitespace.
export function checkInterfaceName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, value, 'must be a non-empty interface name')
  if (Buffer.byteLength(value) > 15) throw invalid(field, value, 'is longer than 15 bytes (IFNAMSIZ)')
  if (value === '.' || value === '..' || /[/:\s]/.test(value)) throw invalid(field, value, 'is not a valid Linux interface name')
  return value
}

export function resolveOptions(options: VipAnnouncerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalid('options', options, 'must be an object')
  const vipList = Array.isArray(options.vip) ? options.vip : [options.vip]
  if (vipList.length === 0 || options.vip === undefined) throw invalid('vip', options.vip, 'must name at least one address')
  const vips: ResolvedVip[] = []
  vipList.forEach((value, index) => {
    const field = Array.isArray(options.vip) ? `vip[${index}]` : 'vip'
    const parsed = parseIp(field, value)
    const family = parsed.kind() === 'ipv4' ? 4 : 6
    const address = parsed.toString()
    if (vips.some((v) => v.address === address)) throw invalid(field, value, 'is listed twice')
    if (parsed.range() === 'unspecified' || parsed.range() === 'multicast' || parsed.range() === 'broadcast' || parsed.range() === 'loopback') {
      throw invalid(field, value, `is a ${parsed.range()} address and cannot be a VIP`)
    }
    vips.push({ address, family, prefixLength: family === 4 ? 32 : 128 })
  })

  const iface = checkInterfaceName('interface', options.interface)

  const gatewayList = options.gateway === undefined ? [] : Array.isArray(options.gateway) ? options.gateway : [options.gateway]
  const gateways = gatewayList.map((value, index) =>
    parseGateway(Array.isArray(options.gateway) ? `gateway[${index}]` : 'gateway', value),
  )
  for (const family of [4, 6] as const) {
    if (gateways.filter((g) => g.family === family).length > 1) {
      throw invalid('gateway', options.gateway, `names more than one IPv${family} gateway`)
    }
  }
  for (const gateway of gateways) {
    const sameFamily = vips.filter((v) => v.family === gateway.family)
    if (sameFamily.length === 0) {
      throw invalid('gateway', gateway.subnet, `is IPv${gateway.family} but no VIP is: a gateway must match the VIP's family`)
    }
    const subnet = ipaddr.parseCIDR(gateway.subnet)
    for (const vip of sameFamily) {
      if (!ipaddr.parse(vip.address).match(subnet)) {
        throw invalid('vip', vip.address, `is outside the gateway's subnet ${gateway.subnet}`)
      }
      if (vip.address === gateway.address) throw invalid('vip', vip.address, 'is the gateway address itself')
    }
  }

  const elector = options.elector
  if (!elector || typeof elector.start !== 'function' || typeof elector.stop !== 'function' || typeof elector.on !== 'function') {
    throw invalid('elector', elector === undefined ? undefined : typeof elector, 'must be a LeaderElector (start, stop, on)')
  }
  if (options.netns !== undefined && (typeof options.netns !== 'string' || !options.netns.startsWith('/'))) {
    throw invalid('netns', options.netns, 'must be an absolute path such as /run/netns/NAME')
  }
  const arpKinds = options.announce?.arp ?? ['request', 'reply']
  if (!Array.isArray(arpKinds) || arpKinds.length === 0 || arpKinds.some((k) => k !== 'request' && k !== 'reply')) {
    throw invalid('announce.arp', arpKinds, "must be a non-empty list of 'request' and/or 'reply'")
  }
  const routing = options.routing ?? {}
  const table = checkInt('routing.table', routing.table ?? 30100, 1, 0xffffffff)
  if (table === 253 || table === 254 || table === 255) {
    throw outOfRange('routing.table', table, 'is a kernel table (default/main/local); choose a dedicated one')
  }
  return {
    vips,
    interface: iface,
    gateways,
    elector,
    netns: options.netns,
    schedule: resolveSchedule(options.announce),
    arpKinds: [...new Set(arpKinds)],
    table,
    priority: checkInt('routing.priority', routing.priority ?? 1000, 1, 32765),
    protocol: checkInt('routing.protocol', routing.protocol ?? 118, 5, 255),
    fenceMarginMs: checkInt('fenceMarginMs', options.fenceMarginMs ?? 200, 0, 60_000),
    cleanStaleOnStart: options.cleanStaleOnStart ?? true,
  }
}
