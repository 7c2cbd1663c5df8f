// Netlink: one rtnetlink socket, optionally bound to another network namespace,
// with validated inputs and SystemError-shaped failures. Synchronous: every
// call is one request/ACK (or dump) exchange with the kernel, bounded by the
// socket's receive timeout (2 s), so nothing waits on a peer.
import { addon } from './binding'
import { consistentDump as dump, routesOfTable } from './dump-policy'
import {
  type AddressFields,
  type AddressFilterFields,
  addressFields,
  type RouteFields,
  type RouteFilterFields,
  routeFields,
  type RuleFields,
  type RuleFilterFields,
  ruleFields,
} from './request-fields'
import type {
  AddressInfo,
  AddressSpec,
  Family,
  LinkInfo,
  LinkRef,
  NetnsOption,
  RouteInfo,
  RouteSpec,
  RuleInfo,
  RuleSpec,
} from './types'
import {
  invalidType,
  invalidValue,
  validateAddressSpec,
  validateLinkRef,
  validateListFilter,
  validateNetns,
  validateOp,
  validateRouteSpec,
  validateRuleSpec,
} from './validate'

/**
 * The native socket (native/netlink_binding.cc). Requests and filters are the
 * field objects of request-fields.ts, links as ifindex. A list is null when the
 * kernel flagged the dump interrupted (NLM_F_DUMP_INTR); `dump` asks again.
 */
interface NativeNetlinkSocket {
  readonly closed: boolean
  getLink(link: string | number): LinkInfo
  /** SIOCGIFINDEX / SIOCGIFNAME in the socket's namespace: SystemError 'ENODEV' when missing. */
  indexOf(name: string): number
  nameOf(index: number): string
  listLinks(): LinkInfo[] | null
  addAddress(spec: AddressFields): void
  replaceAddress(spec: AddressFields): void
  deleteAddress(spec: AddressFields): void
  listAddresses(filter: AddressFilterFields): AddressInfo[] | null
  addRoute(spec: RouteFields): void
  deleteRoute(spec: RouteFields): void
  listRoutes(filter: RouteFilterFields): RouteInfo[] | null
  addRule(spec: RuleFields): void
  deleteRule(spec: RuleFields): void
  listRules(filter: RuleFilterFields): RuleInfo[] | null
  close(): void
}

interface NetlinkAddon {
  NetlinkSocket: new (netns?: string) => NativeNetlinkSocket
  encodeAddressRequest(op: 'add' | 'replace' | 'delete', spec: AddressFields): Buffer
  encodeRouteRequest(op: 'add' | 'delete', spec: RouteFields): Buffer
  encodeRuleRequest(op: 'add' | 'delete', spec: RuleFields): Buffer
}

const native = addon as unknown as NetlinkAddon

/** An error from the kernel or the socket, shaped like Node's SystemError. */
export interface NetlinkError extends Error {
  /** 'EEXIST', 'ENODEV', 'EPERM', ... or 'ERR_SOCKET_CLOSED'. */
  code: string
  /** Negative errno, as Node reports it. */
  errno?: number
  /** The rtnetlink request ('RTM_NEWADDR') or the failing syscall ('open', 'setns', 'recvmsg'). */
  syscall?: string
  /** The kernel's extended-ACK text, when it gave one. */
  reason?: string
  /** For EPERM/EACCES: the capability that is missing ('CAP_NET_ADMIN'). */
  capability?: string
}

function closedError(): NetlinkError {
  return Object.assign(new Error('the Netlink handle is closed'), { code: 'ERR_SOCKET_CLOSED' })
}

// Adds what the caller was doing to a kernel error's message, so "EEXIST" says
// which address on which link.
function kernelCall<T>(doing: () => string, call: () => T): T {
  try {
    return call()
  } catch (error) {
    const e = error as NetlinkError
    if (e && typeof e.code === 'string' && typeof e.syscall === 'string') e.message = `${e.message}; ${doing()}`
    throw error
  }
}

function describeLink(link: LinkRef): string {
  return typeof link === 'number' ? `link #${link}` : `link "${link}"`
}

/**
 * One rtnetlink socket. Links named in specs are resolved on every call (names
 * are per namespace and may change) with a cheap device ioctl; pass an index
 * to skip even that.
 *
 * @example
 * const nl = Netlink.open({ netns: '/run/netns/cp1' })
 * nl.addAddress({ link: 'eth0', address: '192.0.2.100', prefixLength: 24, label: 'eth0:vip' })
 * nl.close()
 */
export class Netlink {
  /** The namespace path this socket was opened in; undefined for the process's own. */
  readonly netns: string | undefined
  readonly #socket: NativeNetlinkSocket

  private constructor(socket: NativeNetlinkSocket, netns: string | undefined) {
    this.#socket = socket
    this.netns = netns
  }

  /**
   * Opens an rtnetlink socket, in `options.netns` when given (the process
   * itself never changes namespace). Throws a SystemError: code 'ENOENT'
   * (syscall 'open') for a missing namespace path, 'EPERM' (syscall 'setns')
   * without CAP_SYS_ADMIN.
   */
  static open(options: NetnsOption = {}): Netlink {
    if (typeof options !== 'object' || options === null) invalidType('options', 'an object', options)
    const netns = validateNetns(options.netns)
    return new Netlink(new native.NetlinkSocket(netns), netns)
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#socket.closed
  }

  #live(): NativeNetlinkSocket {
    if (this.#socket.closed) throw closedError()
    return this.#socket
  }

  // Links named in specs are resolved with a device ioctl, not RTM_GETLINK:
  // the kernel answers it without building a full link message.
  #index(link: LinkRef): number {
    if (typeof link === 'number') return link
    const socket = this.#socket
    return kernelCall(() => describeLink(link), () => socket.indexOf(link))
  }

  /** The link named or numbered `link`; SystemError code 'ENODEV' when there is none. */
  getLink(link: LinkRef): LinkInfo {
    const socket = this.#live()
    const ref = validateLinkRef(link)
    return kernelCall(() => describeLink(ref), () => socket.getLink(ref))
  }

  /** Like getLink, but undefined when the link does not exist. */
  findLink(link: LinkRef): LinkInfo | undefined {
    try {
      return this.getLink(link)
    } catch (error) {
      if ((error as NetlinkError).code === 'ENODEV') return undefined
      throw error
    }
  }

  /** Every link in the namespace. */
  listLinks(): LinkInfo[] {
    const socket = this.#live()
    return dump('RTM_GETLINK', () => socket.listLinks())
  }

  /**
   * Adds an address. SystemError 'EEXIST' when the link already has it,
   * 'ENODEV' for a missing link, 'EPERM' without CAP_NET_ADMIN.
   */
  addAddress(spec: AddressSpec): void {
    const socket = this.#live()
    const request = this.#addressRequest('add', spec)
    kernelCall(() => `adding ${request.address}/${request.prefixLength} to ${describeLink(spec.link)}`, () =>
      socket.addAddress(request),
    )
  }

  /**
   * Sets an address's attributes, adding it if the link lacks it
   * (NLM_F_CREATE | NLM_F_REPLACE, as `ip addr replace`). What it is for:
   * moving the valid/preferred lifetimes of an address forward; the kernel
   * restarts both from the instant of the request.
   */
  replaceAddress(spec: AddressSpec): void {
    const socket = this.#live()
    const request = this.#addressRequest('replace', spec)
    kernelCall(() => `replacing ${request.address}/${request.prefixLength} on ${describeLink(spec.link)}`, () =>
      socket.replaceAddress(request),
    )
  }

  /** Removes an address. SystemError 'EADDRNOTAVAIL' when the link does not have it (with that prefix length). */
  deleteAddress(spec: Pick<AddressSpec, 'link' | 'address' | 'prefixLength'>): void {
    const socket = this.#live()
    const request = this.#addressRequest('delete', spec)
    kernelCall(() => `deleting ${request.address}/${request.prefixLength} from ${describeLink(spec.link)}`, () =>
      socket.deleteAddress(request),
    )
  }

  /** Addresses, optionally of one link and/or one family. */
  listAddresses(filter?: { link?: LinkRef; family?: Family }): AddressInfo[] {
    const socket = this.#live()
    const { link, family } = validateListFilter(filter, ['link', 'family'])
    const index = link === undefined ? undefined : this.#index(link)
    return dump('RTM_GETADDR', () => socket.listAddresses({ family: family ?? null, index: index ?? null }))
  }

  /**
   * Adds a route (NLM_F_EXCL: 'EEXIST' when an identical one exists). 'ENETUNREACH'
   * when the gateway is not reachable on the link (unless `onlink`), 'EINVAL'
   * with the kernel's reason for a `source` the host does not have.
   */
  addRoute(spec: RouteSpec): void {
    const socket = this.#live()
    const request = this.#routeRequest('add', spec)
    kernelCall(() => `adding route ${describeRoute(spec)}`, () => socket.addRoute(request))
  }

  /** Removes a route. SystemError 'ESRCH' when no route matches. */
  deleteRoute(spec: RouteSpec): void {
    const socket = this.#live()
    const request = this.#routeRequest('delete', spec)
    kernelCall(() => `deleting route ${describeRoute(spec)}`, () => socket.deleteRoute(request))
  }

  /**
   * Routes of every table by default (as `ip route show table all`, so the
   * local and main tables' routes are included), or of `filter.table`.
   */
  listRoutes(filter?: { table?: number; family?: Family }): RouteInfo[] {
    const socket = this.#live()
    const { table, family } = validateListFilter(filter, ['table', 'family'])
    return routesOfTable(table, () => dump('RTM_GETROUTE', () => socket.listRoutes({ family: family ?? null, table: table ?? null })))
  }

  /** Adds a policy rule `from source lookup table` at `priority`. 'EEXIST' when an identical rule exists. */
  addRule(spec: RuleSpec): void {
    const socket = this.#live()
    const request = ruleFields(validateRuleSpec(spec))
    kernelCall(() => `adding rule ${describeRule(request)}`, () => socket.addRule(request))
  }

  /** Removes a policy rule. SystemError 'ENOENT' when none matches. */
  deleteRule(spec: RuleSpec): void {
    const socket = this.#live()
    const request = ruleFields(validateRuleSpec(spec))
    kernelCall(() => `deleting rule ${describeRule(request)}`, () => socket.deleteRule(request))
  }

  /** Policy rules, optionally of one family. */
  listRules(filter?: { family?: Family }): RuleInfo[] {
    const socket = this.#live()
    const { family } = validateListFilter(filter, ['family'])
    return dump('RTM_GETRULE', () => socket.listRules({ family: family ?? null }))
  }

  /**
   * The exact RTM_NEWADDR/RTM_DELADDR request bytes, link names resolved now
   * (so the bytes stay valid only while the ifindex does), for another process
   * (the guard) to replay with NlSocket::Request, which sets seq and NLM_F_ACK.
   */
  encodeAddressRequest(op: 'add' | 'replace' | 'delete', spec: AddressSpec): Buffer {
    this.#live()
    const checked = op === 'replace' ? op : validateOp(op)
    return native.encodeAddressRequest(checked, this.#addressRequest(checked, spec))
  }

  /** The exact RTM_NEWROUTE/RTM_DELROUTE request bytes (see encodeAddressRequest). */
  encodeRouteRequest(op: 'add' | 'delete', spec: RouteSpec): Buffer {
    this.#live()
    const checked = validateOp(op)
    return native.encodeRouteRequest(checked, this.#routeRequest(checked, spec))
  }

  /** The exact RTM_NEWRULE/RTM_DELRULE request bytes (see encodeAddressRequest). */
  encodeRuleRequest(op: 'add' | 'delete', spec: RuleSpec): Buffer {
    this.#live()
    return native.encodeRuleRequest(validateOp(op), ruleFields(validateRuleSpec(spec)))
  }

  /** Closes the socket. Idempotent; any later call throws code 'ERR_SOCKET_CLOSED'. */
  close(): void {
    this.#socket.close()
  }

  #addressRequest(op: 'add' | 'replace' | 'delete', spec: unknown): AddressFields {
    // A replace carries the whole address, like an add.
    const { link, ...rest } = validateAddressSpec(spec, op === 'delete' ? 'delete' : 'add')
    if (rest.label === undefined) return addressFields(rest, this.#index(link))
    // iproute2's rule, kept so `ip addr` output stays readable: the label
    // names its interface ('eth0' or 'eth0:vip').
    const index = this.#index(link)
    const name = typeof link === 'string' ? link : kernelCall(() => describeLink(link), () => this.#socket.nameOf(index))
    if (!rest.label.startsWith(name)) invalidValue('label', rest.label, `must start with the interface name "${name}"`)
    return addressFields(rest, index)
  }

  #routeRequest(op: 'add' | 'delete', spec: unknown): RouteFields {
    const checked = validateOp(op)
    const { link, ...rest } = validateRouteSpec(spec, checked)
    return routeFields(checked, rest, link === undefined ? undefined : this.#index(link))
  }
}

function describeRoute(spec: RouteSpec): string {
  let text = `${spec.destination}`
  if (spec.gateway !== undefined) text += ` via ${spec.gateway}`
  if (spec.link !== undefined) text += ` dev ${spec.link}`
  return `${text} table ${spec.table ?? 254}`
}

function describeRule(rule: RuleFields): string {
  const from = rule.source === null ? 'all' : `${rule.source}/${rule.sourceLength}`
  return `from ${from} lookup ${rule.table} priority ${rule.priority}`
}
