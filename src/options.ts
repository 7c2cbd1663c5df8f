// VipAnnouncer options: their types, defaults and validation. Everything is
// checked at construction, so a bad option never leaves a half-configured host.
import ipaddr from 'ipaddr.js'
import { checkGateway, vipAddressProblem, vipGatewayProblem, type Gateway } from './config/addresses'
import type { LeaderElector } from './elector'
import { invalidType, invalidValue, outOfRange, parseAddress, parseCidr, validateInteger, validateLinkName, validateNetnsPath } from './net/validate'
import type { Logger } from './logger'
import type { ConflictPolicy } from './conflict'
import { resolveSchedule, type AnnounceScheduleOptions, type ResolvedSchedule } from './schedule'

/** The guard's default nice value (VipAnnouncerOptions.guardNice). */
export const DEFAULT_GUARD_NICE = -10

/**
 * Policy routing for traffic sourced from the VIP, installed while leader when
 * a `gateway` is configured: a `from VIP lookup TABLE` rule and that table's
 * routes through the gateway.
 */
export interface RoutingOptions {
  /**
   * Routing table for VIP-sourced traffic, 1 to 2^32-1 except 253-255. Default
   * 30100: clear of the kernel's tables (253-255) and of the ones CNIs commonly
   * use (Cilium 2004/2005, kube-router 77-79, kube-vip 198).
   */
  table?: number
  /**
   * Priority of the `from VIP lookup TABLE` rule, 1 to 32765: before the main
   * table's 32766 and after the local table's 0. Default 1000.
   */
  priority?: number
  /**
   * rtm_protocol tag (5 to 255) of the routes this library installs, so stale
   * cleanup removes only its own. Default 118.
   */
  protocol?: number
}

/**
 * Options of the VipAnnouncer constructor, all checked there: an invalid one
 * throws a TypeError or RangeError naming the field.
 */
export interface VipAnnouncerOptions {
  /**
   * The virtual IP(s): IPv4 and/or IPv6 literals, each added as a host address
   * (/32 or /128). Not unspecified, loopback, multicast or broadcast addresses.
   */
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
  /**
   * Network namespace to operate in (an absolute path, e.g. /run/netns/cp1)
   * without moving the process. Needs CAP_SYS_ADMIN. Default: the process's own.
   */
  netns?: string
  /** The announcement schedule; IPv4 frame kinds. */
  announce?: AnnounceScheduleOptions & {
    /** Gratuitous ARP forms to send: some switches honour only one. Default both. */
    arp?: Array<'request' | 'reply'>
  }
  /** Table, rule priority and route protocol of the policy routing; used only with `gateway`. */
  routing?: RoutingOptions
  /**
   * The VIP is removed this long before the lease deadline, to absorb the
   * time removal takes and scheduling jitter. 0 to 60000 ms; default 200 ms.
   */
  fenceMarginMs?: number
  /**
   * The guard's nice value, -20 to 19; default -10. The guard removes the VIP
   * when this process dies and, as a follower, takes it over: both must run
   * at once on a host whose CPUs are busy (the dying process's own exit
   * competes with it), so it asks for a higher priority than the host's
   * processes. Raising it needs CAP_SYS_NICE (or RLIMIT_NICE); without it the
   * guard logs one warning and runs at the priority it inherited. 0 keeps that
   * priority without asking.
   */
  guardNice?: number
  /**
   * At start, remove a VIP, rules and routes this library left behind (an
   * earlier crash). Turn off only if several replicas share one network
   * namespace, where "left behind" can't be told from "the leader's". Default true.
   */
  cleanStaleOnStart?: boolean
  /** pino/console-shaped logger; default silent. */
  logger?: Logger
  /**
   * Address-conflict detection while leader (docs/conflicts.md): what to do
   * when another host answers for the VIP, and how often to probe for one.
   */
  conflict?: ConflictOptions
}

/** Address-conflict handling (docs/conflicts.md). */
export interface ConflictOptions {
  /**
   * 'yield' (default): another host claiming the VIP makes this replica give
   * it up and report the conflict. 'defend': keep it and announce again, at
   * most once per DEFEND_INTERVAL_MS (10 s, RFC 5227 §2.4).
   */
  policy?: ConflictPolicy
  /**
   * Probe for other holders every this many ms while leader: 0 to 60000,
   * default 500; 0 leaves only passive watching.
   */
  probeIntervalMs?: number
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
  /** The subnet, 'network/prefix', normalised (the configuration's Gateway calls it `network`). */
  subnet: string
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
  guardNice: number
  cleanStaleOnStart: boolean
  /** `conflict.policy`, default 'yield'. */
  conflictPolicy: ConflictPolicy
  /** `conflict.probeIntervalMs`, default 500 (0: passive only). */
  probeIntervalMs: number
}

// Addresses, prefixes, interface names and integers are checked by the same
// validators the network facade uses (src/net/validate.ts), so the messages and
// error codes match; what is checked here is what only a VIP setup means.

// What a VIP and a gateway must be beyond their syntax is the configuration's
// rule (src/config/addresses.ts: vipAddressProblem, checkGateway,
// vipGatewayProblem), so the API refuses exactly what vcluster.yaml refuses.

function resolveGateway(field: string, value: unknown): ResolvedGateway & { rule: Gateway } {
  if (typeof value !== 'string' || !value.includes('/')) {
    invalidValue(field, value, 'must be the gateway address with its subnet prefix, e.g. "192.0.2.1/24"')
  }
  const cidr = parseCidr(value, field, { allowHostBits: true })
  const checked = checkGateway(ipaddr.parse(cidr.address), cidr.prefixLength)
  if ('reason' in checked) invalidValue(field, value, checked.reason)
  return { address: cidr.address, family: cidr.family, prefixLength: cidr.prefixLength, subnet: checked.value.network, rule: checked.value }
}

export function resolveOptions(options: VipAnnouncerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') invalidValue('options', options, 'must be an object')
  const vipList = Array.isArray(options.vip) ? options.vip : [options.vip]
  if (vipList.length === 0 || options.vip === undefined) invalidValue('vip', options.vip, 'must name at least one address')
  const vips: ResolvedVip[] = []
  vipList.forEach((value, index) => {
    const field = Array.isArray(options.vip) ? `vip[${index}]` : 'vip'
    const { address, family } = parseAddress(value, field)
    if (vips.some((v) => v.address === address)) invalidValue(field, value, 'is listed twice')
    const unusable = vipAddressProblem(ipaddr.parse(address))
    if (unusable) invalidValue(field, value, `is ${unusable} and cannot be a VIP`)
    vips.push({ address, family, prefixLength: family === 4 ? 32 : 128 })
  })

  const iface = validateLinkName(options.interface, 'interface')

  const gatewayList = options.gateway === undefined ? [] : Array.isArray(options.gateway) ? options.gateway : [options.gateway]
  const checkedGateways = gatewayList.map((value, index) =>
    resolveGateway(Array.isArray(options.gateway) ? `gateway[${index}]` : 'gateway', value),
  )
  const gateways: ResolvedGateway[] = checkedGateways.map(({ rule: _rule, ...gateway }) => gateway)
  for (const family of [4, 6] as const) {
    if (gateways.filter((g) => g.family === family).length > 1) {
      invalidValue('gateway', options.gateway, `names more than one IPv${family} gateway`)
    }
  }
  for (const gateway of checkedGateways) {
    const sameFamily = vips.filter((v) => v.family === gateway.family)
    if (sameFamily.length === 0) {
      invalidValue('gateway', gateway.subnet, `is IPv${gateway.family} but no VIP is: a gateway must match the VIP's family`)
    }
    for (const vip of sameFamily) {
      const problem = vipGatewayProblem(ipaddr.parse(vip.address), gateway.rule)
      if (problem) invalidValue('vip', vip.address, problem)
    }
  }

  const elector = options.elector
  if (!elector || typeof elector.start !== 'function' || typeof elector.stop !== 'function' || typeof elector.on !== 'function') {
    invalidValue('elector', elector === undefined ? undefined : typeof elector, 'must be a LeaderElector (start, stop, on)')
  }
  if (options.netns !== undefined) {
    if (typeof options.netns !== 'string' || !options.netns.startsWith('/')) {
      invalidValue('netns', options.netns, 'must be an absolute path such as /run/netns/NAME')
    }
    validateNetnsPath(options.netns, 'netns')
  }
  const arpKinds = options.announce?.arp ?? ['request', 'reply']
  if (!Array.isArray(arpKinds) || arpKinds.length === 0 || arpKinds.some((k) => k !== 'request' && k !== 'reply')) {
    invalidValue('announce.arp', arpKinds, "must be a non-empty list of 'request' and/or 'reply'")
  }
  const routing = options.routing ?? {}
  const table = validateInteger(routing.table ?? 30100, 'routing.table', 1, 0xffffffff)
  if (table === 253 || table === 254 || table === 255) {
    outOfRange('routing.table', table, 'a dedicated table: 253-255 are the kernel\'s default/main/local')
  }
  const conflict = resolveConflictOptions(options.conflict)
  return {
    vips,
    interface: iface,
    gateways,
    elector,
    netns: options.netns,
    schedule: resolveSchedule(options.announce),
    arpKinds: [...new Set(arpKinds)],
    table,
    priority: validateInteger(routing.priority ?? 1000, 'routing.priority', 1, 32765),
    protocol: validateInteger(routing.protocol ?? 118, 'routing.protocol', 5, 255),
    fenceMarginMs: validateInteger(options.fenceMarginMs ?? 200, 'fenceMarginMs', 0, 60_000),
    guardNice: validateInteger(options.guardNice ?? DEFAULT_GUARD_NICE, 'guardNice', -20, 19),
    cleanStaleOnStart: optionalBoolean(options.cleanStaleOnStart, 'cleanStaleOnStart', true),
    ...conflict,
  }
}

function optionalBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') invalidType(field, 'a boolean', value)
  return value
}

/** Default `conflict.probeIntervalMs`: a silent holder of the VIP is found well within a second. */
export const DEFAULT_PROBE_INTERVAL_MS = 500

function resolveConflictOptions(value: unknown): Pick<ResolvedOptions, 'conflictPolicy' | 'probeIntervalMs'> {
  if (value === undefined) return { conflictPolicy: 'yield', probeIntervalMs: DEFAULT_PROBE_INTERVAL_MS }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    invalidType('conflict', "an object such as { policy: 'yield', probeIntervalMs: 500 }", value)
  }
  const { policy = 'yield', probeIntervalMs = DEFAULT_PROBE_INTERVAL_MS } = value as ConflictOptions
  if (policy !== 'yield' && policy !== 'defend') invalidValue('conflict.policy', policy, "must be 'yield' or 'defend'")
  return { conflictPolicy: policy, probeIntervalMs: validateInteger(probeIntervalMs, 'conflict.probeIntervalMs', 0, 60_000) }
}
