// The VIP's footprint on the host: its addresses, the policy-routing table
// routes and the `from VIP` rules. Knows how to put them in place without
// leaving half of them behind, how to take them away, how to find leftovers of
// an earlier crash, and how to describe the removal as raw netlink requests the
// guard process can replay on its own.
import type { Netlink } from './net/netlink'
import type { AddressInfo, AddressSpec, RouteInfo, RouteSpec, RuleInfo, RuleSpec } from './net/types'
import type { ResolvedOptions } from './options'

/**
 * The rtnetlink calls a footprint makes: Netlink itself, or a fake that
 * records them (test/support/fake-host.ts).
 */
export type FootprintNetlink = Pick<
  Netlink,
  | 'listLinks'
  | 'listAddresses'
  | 'listRoutes'
  | 'listRules'
  | 'addAddress'
  | 'replaceAddress'
  | 'deleteAddress'
  | 'addRoute'
  | 'deleteRoute'
  | 'addRule'
  | 'deleteRule'
  | 'encodeAddressRequest'
  | 'encodeRouteRequest'
  | 'encodeRuleRequest'
>

/** Errors that mean "already the way we want it". */
const ALREADY_PRESENT = new Set(['EEXIST'])
const ALREADY_ABSENT = new Set(['EADDRNOTAVAIL', 'ESRCH', 'ENOENT', 'ENODEV'])

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string })?.code
}

export class Footprint {
  /**
   * IPv6 VIPs that someone else configured on this interface with another
   * prefix length (see avoid()): left alone by apply, refresh and restore.
   */
  private avoided = new Set<string>()

  constructor(
    private readonly netlink: FootprintNetlink,
    private readonly options: ResolvedOptions,
    private readonly ifindex: number,
  ) {}

  /**
   * Takes note of the VIPs configured on the host that are not ours
   * (foreignVips()). Linux keeps one IPv6 address per interface whatever its
   * prefix length, and applies an add (EEXIST) or a replace to that address:
   * our replace would give someone's 2001:db8::100/64 the lease's lifetime and
   * the kernel would delete it. So an IPv6 VIP with a foreign copy on this
   * interface is not added, refreshed or restored. IPv4 keeps addresses per
   * (address, prefix length) and matches our requests exactly: nothing to avoid.
   */
  avoid(foreign: readonly AddressInfo[]): void {
    this.avoided = new Set(foreign.filter((a) => a.family === 6 && a.index === this.ifindex).map((a) => a.address))
  }

  /** True when `address` (an address or an 'address' event) is one of ours: a VIP, with its /32 or /128, on this interface. */
  owns(address: Pick<AddressInfo, 'index' | 'address' | 'prefixLength'>): boolean {
    return isOwnAddress(this.options, this.ifindex, address)
  }

  /** True when `rule` (listed or from a 'rule' event) is one this footprint adds. */
  ownsRule(rule: RuleInfo): boolean {
    return this.rules().some((r) => r.family === rule.family && r.source === rule.source && r.table === rule.table && r.priority === rule.priority)
  }

  /** True when `route` (listed or from a 'route' event) is in our table with our protocol tag: ours, or a leftover of ours. */
  ownsRoute(route: RouteInfo): boolean {
    return this.options.gateways.length > 0 && route.table === this.options.table && route.protocol === this.options.protocol
  }

  /**
   * The VIP addresses; with `lifetimeS` (whole seconds, finite) each carries
   * that valid and preferred lifetime, so the kernel deletes it when nobody
   * refreshes it (src/kernel-lifetime.ts). Preferred must be finite too: the
   * kernel checks IPv4 lifetimes only every 120 s otherwise.
   */
  addresses(lifetimeS?: number): AddressSpec[] {
    const lifetime = lifetimeS !== undefined && Number.isFinite(lifetimeS) ? { validLifetime: lifetimeS, preferredLifetime: lifetimeS } : {}
    return this.options.vips.map((vip) => ({
      link: this.ifindex,
      address: vip.address,
      prefixLength: vip.prefixLength,
      // DAD would hold an IPv6 VIP "tentative" for a second and drop it if the
      // old leader still answers: takeover must be immediate, fencing makes it safe.
      ...(vip.family === 6 ? { nodad: true } : {}),
      ...lifetime,
    }))
  }

  routes(): RouteSpec[] {
    const { table, protocol } = this.options
    return this.options.gateways.flatMap((gateway): RouteSpec[] => [
      { table, family: gateway.family, destination: gateway.subnet, link: this.ifindex, scope: 'link', protocol },
      { table, family: gateway.family, destination: 'default', gateway: gateway.address, link: this.ifindex, protocol },
    ])
  }

  rules(): RuleSpec[] {
    const { table, priority } = this.options
    const families = new Set(this.options.gateways.map((g) => g.family))
    return this.options.vips
      .filter((vip) => families.has(vip.family))
      .map((vip) => ({ family: vip.family, source: `${vip.address}/${vip.prefixLength}`, table, priority }))
  }

  /**
   * Adds everything. On failure, removes what this call added and rethrows,
   * so the host is never left half-configured.
   */
  apply(lifetimeS?: number): void {
    const undo: Array<() => void> = []
    try {
      for (const address of this.addresses(lifetimeS)) {
        if (this.avoided.has(address.address)) continue
        // An address already there (a link-up or resync re-apply) gets the
        // lifetime too: replace sets it on an existing address. For IPv6 the
        // address there may be someone else's with another prefix length
        // (see avoid()): replace only ours.
        if (this.tryAdd(() => this.netlink.addAddress(address))) undo.push(() => this.netlink.deleteAddress(address))
        else if (address.validLifetime !== undefined && (address.address.includes(':') ? this.presentAddresses(true).has(address.address) : true)) {
          this.netlink.replaceAddress(address)
        }
      }
      for (const route of this.routes()) {
        if (this.tryAdd(() => this.netlink.addRoute(route))) undo.push(() => this.netlink.deleteRoute(route))
      }
      for (const rule of this.rules()) {
        if (this.tryAdd(() => this.netlink.addRule(rule))) undo.push(() => this.netlink.deleteRule(rule))
      }
    } catch (error) {
      for (const step of undo.reverse()) {
        try {
          step()
        } catch {
          // best effort: the original error is the one to report
        }
      }
      throw error
    }
  }

  /**
   * Runs apply() once against a stand-in that accepts every change and
   * changes nothing. V8 compiles a function on its first call; a follower's
   * first takeover would otherwise pay for compiling this path (see
   * VipAnnouncer's warm-up).
   */
  rehearse(): void {
    const stand = new Footprint(NOTHING_CHANGES, this.options, this.ifindex)
    stand.apply(1)
    stand.refresh(1)
  }

  /** Adds one VIP's address again (after an outside removal), with the lifetime given. */
  restoreAddress(address: string, lifetimeS?: number): void {
    const spec = this.addresses(lifetimeS).find((a) => a.address === address)
    if (spec && !this.avoided.has(address)) this.tryAdd(() => this.netlink.addAddress(spec))
  }

  /**
   * Adds again the rules and table routes that are missing (after an outside
   * removal); returns what it added, for the log and the 'restored' event.
   */
  restoreRouting(): Array<{ kind: 'rule' | 'route'; item: string; vip?: string }> {
    const restored: Array<{ kind: 'rule' | 'route'; item: string; vip?: string }> = []
    for (const rule of this.rules()) {
      if (this.tryAdd(() => this.netlink.addRule(rule))) {
        restored.push({ kind: 'rule', item: `rule from ${rule.source} lookup ${rule.table} priority ${rule.priority}`, vip: rule.source!.split('/')[0] })
      }
    }
    for (const route of this.routes()) {
      if (this.tryAdd(() => this.netlink.addRoute(route))) {
        const via = route.gateway ? ` via ${route.gateway}` : ''
        restored.push({ kind: 'route', item: `route ${route.destination}${via} table ${route.table}` })
      }
    }
    return restored
  }

  /**
   * Moves every VIP's lifetime forward to `lifetimeS` seconds from now (one
   * address replace per VIP). A replace also adds an address that is missing:
   * only call it while the lease is valid.
   */
  refresh(lifetimeS: number): void {
    for (const address of this.addresses(lifetimeS)) {
      if (!this.avoided.has(address.address)) this.netlink.replaceAddress(address)
    }
  }

  /** Removes rules, then routes, then addresses; tries all, then reports the first real failure. */
  remove(): void {
    let firstError: unknown
    const attempt = (fn: () => void) => {
      try {
        fn()
      } catch (error) {
        if (!ALREADY_ABSENT.has(codeOf(error) ?? '')) firstError ??= error
      }
    }
    for (const rule of this.rules()) attempt(() => this.netlink.deleteRule(rule))
    for (const route of this.routes()) attempt(() => this.netlink.deleteRoute(route))
    for (const address of this.addresses()) attempt(() => this.netlink.deleteAddress(address))
    if (firstError) throw firstError
  }

  /** The same removal as raw requests, for the guard (rules, routes, addresses: same order). */
  fenceRequests(): Buffer[] {
    return [
      ...this.rules().map((rule) => this.netlink.encodeRuleRequest('delete', rule)),
      ...this.routes().map((route) => this.netlink.encodeRouteRequest('delete', route)),
      ...this.addresses().map((address) => this.netlink.encodeAddressRequest('delete', address)),
    ]
  }

  /**
   * apply()'s adds as the guard's takeover plan (GuardProcess.setTakePlan),
   * in apply()'s order, each with the delete that undoes it. The addresses
   * carry a placeholder lifetime (1 s) that TAKE overwrites with the
   * lifetime of the day: the bytes are built once per footprint, and the
   * lifetime, a function of the lease, is the one field that changes.
   */
  takeSteps(): Array<{ add: Buffer; undo: Buffer }> {
    return [
      ...this.addresses(1).map((address) => ({ add: this.netlink.encodeAddressRequest('add', address), undo: this.netlink.encodeAddressRequest('delete', address) })),
      ...this.routes().map((route) => ({ add: this.netlink.encodeRouteRequest('add', route), undo: this.netlink.encodeRouteRequest('delete', route) })),
      ...this.rules().map((rule) => ({ add: this.netlink.encodeRuleRequest('add', rule), undo: this.netlink.encodeRuleRequest('delete', rule) })),
    ]
  }

  /** True while some VIP is skipped (avoid()): the guard's plan holds every VIP, so only apply() knows to skip it. */
  get avoiding(): boolean {
    return this.avoided.size > 0
  }

  /** Encodes (without sending) every add request: validation and encoding run once. */
  encodeAddRequests(lifetimeS?: number): Buffer[] {
    return [
      ...this.addresses(lifetimeS).map((address) => this.netlink.encodeAddressRequest('add', address)),
      ...this.routes().map((route) => this.netlink.encodeRouteRequest('add', route)),
      ...this.rules().map((rule) => this.netlink.encodeRuleRequest('add', rule)),
    ]
  }

  /** VIP addresses currently configured on the interface (with `ownOnly`, only with our prefix lengths). */
  presentAddresses(ownOnly = false): Set<string> {
    const mine = new Set(this.options.vips.map((v) => v.address))
    return new Set(
      this.netlink
        .listAddresses({ link: this.ifindex })
        .filter((a) => (ownOnly ? this.owns(a) : mine.has(a.address)))
        .map((a) => a.address),
    )
  }

  private tryAdd(fn: () => void): boolean {
    try {
      fn()
      return true
    } catch (error) {
      if (ALREADY_PRESENT.has(codeOf(error) ?? '')) return false
      throw error
    }
  }
}

/**
 * True when `address` is one this library adds: a VIP with its own prefix
 * length (/32 or /128) on the interface `ifindex`. A VIP with another prefix
 * length, or on another interface, was configured by someone else.
 */
export function isOwnAddress(options: ResolvedOptions, ifindex: number | undefined, address: Pick<AddressInfo, 'index' | 'address' | 'prefixLength'>): boolean {
  return ifindex !== undefined && address.index === ifindex && options.vips.some((v) => v.address === address.address && v.prefixLength === address.prefixLength)
}

/**
 * The VIPs configured anywhere in the namespace that are not ours (see
 * isOwnAddress): the host's own address named as the VIP, a hand-made
 * 192.0.2.100/24, the VIP on another interface. This library never deletes
 * them, and does not take the VIP while one exists (docs/architecture.md).
 */
export function foreignVips(netlink: FootprintNetlink, options: ResolvedOptions, ifindex: number | undefined): AddressInfo[] {
  const vips = new Set(options.vips.map((v) => v.address))
  return netlink.listAddresses().filter((a) => vips.has(a.address) && !isOwnAddress(options, ifindex, a))
}

/** 'ADDRESS/PREFIX on NAME' for each address, for messages. */
export function describeAddresses(netlink: FootprintNetlink, addresses: readonly AddressInfo[]): string[] {
  let names: Map<number, string> | undefined
  return addresses.map((a) => {
    names ??= new Map(netlink.listLinks().map((l) => [l.index, l.name]))
    return `${a.address}/${a.prefixLength} on ${names.get(a.index) ?? `ifindex ${a.index}`}`
  })
}

/**
 * Removes what an earlier run of this library may have left: the VIPs on the
 * interface with our prefix lengths only (/32, /128: permanent from an older
 * version, or with a lifetime that has not run out), `from VIP/32` (/128)
 * rules into our table at any priority, and routes in our table tagged with
 * our protocol. A VIP with any other prefix length is someone else's (the
 * host's own address named as the VIP) and is never touched. Returns what it
 * removed, for the log.
 */
export function cleanStale(netlink: FootprintNetlink, options: ResolvedOptions, ifindex: number | undefined): string[] {
  const removed: string[] = []
  const vips = new Set(options.vips.map((v) => v.address))
  if (ifindex !== undefined) {
    for (const address of netlink.listAddresses({ link: ifindex })) {
      if (!isOwnAddress(options, ifindex, address)) continue
      netlink.deleteAddress({ link: ifindex, address: address.address, prefixLength: address.prefixLength })
      removed.push(`address ${address.address}/${address.prefixLength}`)
    }
  }
  for (const family of [4, 6] as const) {
    for (const rule of netlink.listRules({ family })) {
      // RuleInfo.source is a CIDR ('192.0.2.100/32'); ours are host prefixes.
      const source = rule.source?.split('/')[0]
      if (rule.table !== options.table || source === undefined || !vips.has(source)) continue
      if (rule.sourceLength !== (family === 4 ? 32 : 128)) continue
      netlink.deleteRule({ family, source: `${source}/${rule.sourceLength}`, table: rule.table, priority: rule.priority })
      removed.push(`rule from ${source} lookup ${rule.table} priority ${rule.priority}`)
    }
    for (const route of netlink.listRoutes({ table: options.table, family })) {
      if (route.protocol !== options.protocol) continue
      const destination = route.destination // a CIDR ('0.0.0.0/0', '192.0.2.0/24')
      netlink.deleteRoute({
        table: options.table,
        family,
        destination,
        ...(route.gateway ? { gateway: route.gateway } : {}),
        ...(route.index ? { link: route.index } : {}),
        protocol: route.protocol,
      })
      removed.push(`route ${destination} table ${options.table}`)
    }
  }
  return removed
}

// The netlink calls apply() makes, accepted and dropped (for rehearse()).
const NOTHING_CHANGES = {
  addAddress() {},
  replaceAddress() {},
  addRoute() {},
  addRule() {},
  deleteAddress() {},
  deleteRoute() {},
  deleteRule() {},
} as Pick<Netlink, 'addAddress' | 'replaceAddress' | 'addRoute' | 'addRule' | 'deleteAddress' | 'deleteRoute' | 'deleteRule'> as FootprintNetlink
