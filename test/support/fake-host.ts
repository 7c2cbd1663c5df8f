// A fake AnnouncerHost (src/announcer/host.ts) for announcer tests without
// root: an in-memory kernel (links, addresses, rules, routes) that notifies
// its monitors the way rtnetlink does (asynchronously, addresses before their
// link), a guard that fences, takes over, can be held mid-command and can
// die, and packet sockets that record what they send. The real kernel stays
// the witness in the namespace tests; these are for the orderings a namespace
// can only produce with sleeps and luck (a renewal racing a fence, a link
// vanishing while the guard takes over, a stop during each transition).
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'
import type { Conflict, ConflictDetectorEvents } from '../../src/conflict'
import type { GuardEvents, GuardOptions, Lifeline, TakeFrame, TakeOutcome, TakeStep } from '../../src/guard'
import type { AnnouncerHost, ConflictDetectorPort, GuardPort, MonitorPort, NetlinkPort, PacketPort } from '../../src/announcer/host'
import { monotonicNow } from '../../src/clock'
import type { LinkMonitorEvents } from '../../src/net/monitor'
import type { ArpKind } from '../../src/net/frames'
import type { BoundLink } from '../../src/net/packets'
import type { AddressInfo, AddressSpec, Family, LinkInfo, LinkRef, RouteInfo, RouteSpec, RuleInfo, RuleSpec } from '../../src/net/types'

function systemError(code: string, syscall: string, what: string): Error {
  return Object.assign(new Error(`${syscall} ${code}: ${what}`), { code, syscall })
}

const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4)

/** A request as the fake netlink encodes it (so the fake guard can replay it). */
type Encoded = { kind: 'address'; op: 'add' | 'replace' | 'delete'; spec: AddressSpec } | { kind: 'route'; op: 'add' | 'delete'; spec: RouteSpec } | { kind: 'rule'; op: 'add' | 'delete'; spec: RuleSpec }

const encode = (request: Encoded): Buffer => Buffer.from(JSON.stringify(request))
const decode = (bytes: Buffer): Encoded => JSON.parse(bytes.toString())

/** One network namespace, in memory. */
export class FakeKernel {
  readonly links = new Map<number, LinkInfo>()
  addresses: AddressInfo[] = []
  rules: RuleInfo[] = []
  routes: RouteInfo[] = []
  /** Every change, in order: 'add address 192.0.2.100/32 on 2', 'delete rule ...' (for order assertions). */
  readonly log: string[] = []
  readonly monitors = new Set<FakeMonitor>()
  private nextIndex = 2

  addLink(name: string, mac = '02:00:00:00:00:0a'): LinkInfo {
    const link: LinkInfo = { index: this.nextIndex++, name, mac, mtu: 1500, up: true, carrier: true, operstate: 'up', hardwareType: 1 }
    this.links.set(link.index, link)
    this.notify('link', { action: 'add', link: { ...link } })
    return link
  }

  /** As `ip link del`: its addresses and routes go first (each notified), then the link. */
  removeLink(name: string): void {
    const link = this.find(name)
    if (!link) throw new Error(`no link ${name}`)
    for (const address of this.addresses.filter((a) => a.index === link.index)) this.dropAddress(address, 'with its link')
    for (const route of this.routes.filter((r) => r.index === link.index)) this.dropRoute(route)
    this.links.delete(link.index)
    this.log.push(`delete link ${name}`)
    this.notify('link', { action: 'delete', link: { ...link } })
  }

  setCarrier(name: string, carrier: boolean): void {
    const link = this.find(name)!
    link.carrier = carrier
    link.operstate = carrier ? 'up' : 'lowerlayerdown'
    this.notify('link', { action: 'change', link: { ...link } })
  }

  find(ref: LinkRef): LinkInfo | undefined {
    if (typeof ref === 'number') return this.links.get(ref)
    for (const link of this.links.values()) if (link.name === ref) return link
    return undefined
  }

  hasAddress(address: string, prefixLength?: number): boolean {
    return this.addresses.some((a) => a.address === address && (prefixLength === undefined || a.prefixLength === prefixLength))
  }

  /** As someone running `ip addr add` (not us). */
  addForeignAddress(name: string, address: string, prefixLength: number): void {
    this.apply({ kind: 'address', op: 'add', spec: { link: name, address, prefixLength } }, 'outside')
  }

  /** As someone running `ip addr del`. */
  deleteAddressFromOutside(address: string): void {
    const found = this.addresses.find((a) => a.address === address)
    if (found) this.dropAddress(found, 'outside')
  }

  /** Applies one request as rtnetlink would, throwing its errors. */
  apply(request: Encoded, by = 'host'): void {
    if (request.kind === 'address') {
      const spec = request.spec
      const link = this.find(spec.link)
      if (!link) throw systemError('ENODEV', 'RTM_NEWADDR', `no link ${spec.link}`)
      const index = this.addresses.findIndex((a) => a.index === link.index && a.address === spec.address && (familyOf(spec.address) === 6 || a.prefixLength === spec.prefixLength))
      if (request.op === 'delete') {
        if (index < 0) throw systemError('EADDRNOTAVAIL', 'RTM_DELADDR', spec.address)
        this.dropAddress(this.addresses[index], by)
        return
      }
      if (index >= 0) {
        if (request.op === 'add') throw systemError('EEXIST', 'RTM_NEWADDR', spec.address)
        this.addresses[index].validLifetime = spec.validLifetime
        this.log.push(`replace address ${spec.address}/${spec.prefixLength} lifetime ${spec.validLifetime ?? 'forever'} by ${by}`)
        return
      }
      const info: AddressInfo = {
        index: link.index,
        family: familyOf(spec.address),
        address: spec.address,
        prefixLength: spec.prefixLength,
        scope: 'global',
        flags: { nodad: Boolean(spec.nodad), permanent: spec.validLifetime === undefined, tentative: false, deprecated: false },
        ...(spec.validLifetime !== undefined ? { validLifetime: spec.validLifetime, preferredLifetime: spec.preferredLifetime } : {}),
      }
      this.addresses.push(info)
      this.log.push(`add address ${spec.address}/${spec.prefixLength} by ${by}`)
      this.notify('address', { action: 'add', index: link.index, family: info.family, address: info.address, prefixLength: info.prefixLength })
    } else if (request.kind === 'rule') {
      const spec = request.spec
      const [source, length] = (spec.source ?? '').split('/')
      const match = (r: RuleInfo) => r.source === source && r.table === spec.table && r.priority === spec.priority
      const index = this.rules.findIndex(match)
      if (request.op === 'delete') {
        if (index < 0) throw systemError('ENOENT', 'RTM_DELRULE', spec.source ?? '')
        const [rule] = this.rules.splice(index, 1)
        this.log.push(`delete rule from ${spec.source} by ${by}`)
        this.notify('rule', { action: 'delete', rule })
        return
      }
      if (index >= 0) throw systemError('EEXIST', 'RTM_NEWRULE', spec.source ?? '')
      const rule: RuleInfo = { family: spec.family ?? familyOf(source), source, sourceLength: Number(length), table: spec.table, priority: spec.priority, action: 'to_tbl' }
      this.rules.push(rule)
      this.log.push(`add rule from ${spec.source} by ${by}`)
      this.notify('rule', { action: 'add', rule })
    } else {
      const spec = request.spec
      const link = spec.link !== undefined ? this.find(spec.link) : undefined
      if (spec.link !== undefined && !link) throw systemError('ENODEV', 'RTM_NEWROUTE', `no link ${spec.link}`)
      const key = (r: { table?: number; destination: string; gateway?: string }) => `${r.table} ${r.destination === 'default' ? 'default' : r.destination} ${r.gateway ?? ''}`
      const index = this.routes.findIndex((r) => key({ ...r, destination: r.prefixLength === 0 ? 'default' : r.destination }) === key(spec))
      if (request.op === 'delete') {
        if (index < 0) throw systemError('ESRCH', 'RTM_DELROUTE', spec.destination)
        this.dropRoute(this.routes[index], by)
        return
      }
      if (index >= 0) throw systemError('EEXIST', 'RTM_NEWROUTE', spec.destination)
      const family = spec.family ?? 4
      const route: RouteInfo = {
        table: spec.table ?? 254,
        family,
        destination: spec.destination === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : spec.destination,
        prefixLength: spec.destination === 'default' ? 0 : Number(spec.destination.split('/')[1]),
        ...(spec.gateway ? { gateway: spec.gateway } : {}),
        ...(link ? { index: link.index } : {}),
        scope: spec.scope ?? 'universe',
        protocol: typeof spec.protocol === 'number' ? spec.protocol : 4,
        type: 'unicast',
      }
      this.routes.push(route)
      this.log.push(`add route ${spec.destination} table ${route.table} by ${by}`)
      this.notify('route', { action: 'add', route })
    }
  }

  private dropAddress(address: AddressInfo, by: string): void {
    this.addresses = this.addresses.filter((a) => a !== address)
    this.log.push(`delete address ${address.address}/${address.prefixLength} by ${by}`)
    this.notify('address', { action: 'delete', index: address.index, family: address.family, address: address.address, prefixLength: address.prefixLength })
  }

  private dropRoute(route: RouteInfo, by = 'with its link'): void {
    this.routes = this.routes.filter((r) => r !== route)
    this.log.push(`delete route ${route.destination} table ${route.table} by ${by}`)
    this.notify('route', { action: 'delete', route })
  }

  /** Delivered later, in order, to every monitor open now (rtnetlink multicast). */
  private notify<E extends keyof LinkMonitorEvents>(event: E, payload: Parameters<LinkMonitorEvents[E]>[0]): void {
    for (const monitor of this.monitors) monitor.deliver(event, payload)
  }
}

export class FakeMonitor extends (EventEmitter as new () => TypedEmitter<LinkMonitorEvents>) implements MonitorPort {
  closed = false
  private readonly queue: Array<() => void> = []

  constructor(private readonly kernel: FakeKernel) {
    super()
    kernel.monitors.add(this)
  }

  deliver<E extends keyof LinkMonitorEvents>(event: E, payload: Parameters<LinkMonitorEvents[E]>[0]): void {
    this.queue.push(() => (this.emit as (e: string, p: unknown) => boolean)(event, payload))
    if (this.queue.length === 1) setImmediate(() => this.flush())
  }

  private flush(): void {
    for (const deliver of this.queue.splice(0)) if (!this.closed) deliver()
  }

  close(): void {
    this.closed = true
    this.kernel.monitors.delete(this)
  }
}

export class FakeNetlink implements NetlinkPort {
  closed = false
  constructor(private readonly kernel: FakeKernel) {}

  findLink(link: LinkRef): LinkInfo | undefined {
    const found = this.kernel.find(link)
    return found && { ...found }
  }
  listLinks(): LinkInfo[] {
    return [...this.kernel.links.values()].map((l) => ({ ...l }))
  }
  listAddresses(filter: { link?: LinkRef; family?: Family } = {}): AddressInfo[] {
    const index = filter.link === undefined ? undefined : this.kernel.find(filter.link)?.index
    return this.kernel.addresses.filter((a) => (filter.link === undefined || a.index === index) && (filter.family === undefined || a.family === filter.family)).map((a) => ({ ...a }))
  }
  listRoutes(filter: { table?: number; family?: Family } = {}): RouteInfo[] {
    return this.kernel.routes.filter((r) => (filter.table === undefined || r.table === filter.table) && (filter.family === undefined || r.family === filter.family))
  }
  listRules(filter: { family?: Family } = {}): RuleInfo[] {
    return this.kernel.rules.filter((r) => filter.family === undefined || r.family === filter.family)
  }
  addAddress(spec: AddressSpec): void {
    this.kernel.apply({ kind: 'address', op: 'add', spec })
  }
  replaceAddress(spec: AddressSpec): void {
    this.kernel.apply({ kind: 'address', op: 'replace', spec })
  }
  deleteAddress(spec: Pick<AddressSpec, 'link' | 'address' | 'prefixLength'>): void {
    this.kernel.apply({ kind: 'address', op: 'delete', spec })
  }
  addRoute(spec: RouteSpec): void {
    this.kernel.apply({ kind: 'route', op: 'add', spec })
  }
  deleteRoute(spec: RouteSpec): void {
    this.kernel.apply({ kind: 'route', op: 'delete', spec })
  }
  addRule(spec: RuleSpec): void {
    this.kernel.apply({ kind: 'rule', op: 'add', spec })
  }
  deleteRule(spec: RuleSpec): void {
    this.kernel.apply({ kind: 'rule', op: 'delete', spec })
  }
  encodeAddressRequest(op: 'add' | 'replace' | 'delete', spec: AddressSpec): Buffer {
    return encode({ kind: 'address', op, spec })
  }
  encodeRouteRequest(op: 'add' | 'delete', spec: RouteSpec): Buffer {
    return encode({ kind: 'route', op, spec })
  }
  encodeRuleRequest(op: 'add' | 'delete', spec: RuleSpec): Buffer {
    return encode({ kind: 'rule', op, spec })
  }
  close(): void {
    this.closed = true
  }
}

export class FakePacketSocket implements PacketPort {
  closed = false
  /** Frames sent, as 'arp-request 192.0.2.100 from 02:..'. */
  readonly sent: string[] = []

  constructor(
    private readonly kernel: FakeKernel,
    private readonly ifindex: number,
  ) {}

  get mac(): string {
    return this.kernel.find(this.ifindex)?.mac ?? ''
  }
  readLink(): BoundLink {
    const link = this.kernel.find(this.ifindex)
    if (!link) throw systemError('ENODEV', 'ioctl', `ifindex ${this.ifindex}`)
    return { ifindex: link.index, name: link.name, mac: link.mac }
  }
  sendGratuitousArp(ip: string, kinds: ArpKind[] = ['request', 'reply']): number {
    this.check()
    for (const kind of kinds) this.sent.push(`arp-${kind} ${ip} from ${this.mac}`)
    return kinds.length
  }
  sendNeighbourAdvertisement(ip: string): number {
    this.check()
    this.sent.push(`neighbour-advertisement ${ip} from ${this.mac}`)
    return 1
  }
  close(): void {
    this.closed = true
  }
  private check(): void {
    if (this.closed) throw systemError('EBADF', 'sendto', 'closed')
    const link = this.kernel.find(this.ifindex)
    if (!link) throw systemError('ENXIO', 'sendto', `ifindex ${this.ifindex}`)
    if (!link.up || !link.carrier) throw systemError('ENETDOWN', 'sendto', link.name)
  }
}

/** A held command or start: `release()` lets it go on. */
export interface Gate {
  /** Resolves when something reached the gate. */
  reached: Promise<void>
  release(): void
}

function gate(): Gate & { wait(): Promise<void> } {
  let reach!: () => void
  let open!: () => void
  const reached = new Promise<void>((r) => (reach = r))
  const opened = new Promise<void>((r) => (open = r))
  return {
    reached,
    release: () => open(),
    wait: () => {
      reach()
      return opened
    },
  }
}

/**
 * The guard process as the host sees it, in memory. Its replies and its fence
 * reports leave through one ordered channel, as the real guard's stdout does:
 * a fence reported before a PING is answered is seen before the answer.
 */
export class FakeGuard extends (EventEmitter as new () => TypedEmitter<GuardEvents>) implements GuardPort {
  alive = true
  /** Commands received, in order ('ARM', 'TAKE', 'DISARM', 'PING', 'CLEAR', 'ACTION', 'TAKECLEAR', ...). */
  readonly commands: string[] = []
  /** The armed fence instant, or undefined. */
  armedUntil: number | undefined
  actions: Buffer[] = []
  plan: { steps: TakeStep[]; frames: TakeFrame[] } = { steps: [], frames: [] }
  /** Frames the guard sent on TAKE. */
  readonly sentFrames: Buffer[] = []
  /** False: an older guard without TAKE (setTakePlan resolves false). */
  knowsTake = true
  private timer: NodeJS.Timeout | undefined
  private readonly holds = new Map<string, ReturnType<typeof gate>>()
  private channel: Promise<void> = Promise.resolve()

  constructor(
    private readonly kernel: FakeKernel,
    readonly options: GuardOptions,
  ) {
    super()
  }

  /**
   * The next `command` waits until the gate is released: before it acts
   * (default), or after it acted and before its answer leaves ('after').
   */
  hold(command: string, when: 'before' | 'after' = 'before'): Gate {
    const g = gate()
    this.holds.set(`${when} ${command}`, g)
    return g
  }

  /** Fences now, as at the deadline: replays the removal, then reports (ordered after any reply already sent). */
  fence(reason = 'deadline'): Promise<void> {
    this.clearTimer()
    this.armedUntil = undefined
    let ok = 0
    let failed = 0
    for (const request of this.actions) {
      try {
        this.kernel.apply(decode(request), 'guard')
        ok++
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'EADDRNOTAVAIL' || code === 'ENOENT' || code === 'ESRCH' || code === 'ENODEV') ok++
        else failed++
      }
    }
    this.send(() => this.emit('fenced', reason, ok, failed))
    return Promise.resolve()
  }

  /** The fake has no file lock to wait on (FileLockElector's lock wait is proven in namespaces): it declines, as a guard without LOCKWAIT (an older build) does. */
  lockWait(): Promise<boolean> {
    this.commands.push('LOCKWAIT')
    return Promise.resolve(false)
  }

  lockCancel(): Promise<void> {
    this.commands.push('LOCKCANCEL')
    return Promise.resolve()
  }

  /** Dies as by SIGKILL: no fence, pending commands fail, then 'exit'. */
  die(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.alive) return
    this.alive = false
    this.clearTimer()
    setImmediate(() => this.emit('exit', null, signal))
  }

  async setTakePlan(steps: TakeStep[], frames: TakeFrame[]): Promise<boolean> {
    await this.command('TAKECLEAR')
    if (!this.knowsTake) return false
    this.plan = { steps, frames }
    return steps.length > 0
  }

  take(deadline: number, lifetimeS: number): Promise<TakeOutcome> {
    // As GuardProcess: refused before anything is written (the warm-up relies on it).
    if (!validDeadline(deadline)) return Promise.reject(new RangeError(`deadline: ${deadline}`))
    if (lifetimeS !== Infinity && !(Number.isInteger(lifetimeS) && lifetimeS >= 1)) return Promise.reject(new RangeError(`lifetime: ${lifetimeS}`))
    return this.command('TAKE', () => this.takeNow(deadline, lifetimeS))
  }

  private takeNow(deadline: number, lifetimeS: number): TakeOutcome {
    const declined = (why: string) => Object.assign(new Error(`guard takeover: ${why}`), { code: 'ERR_TAKE_DECLINED', errno: 0 })
    if (this.plan.steps.length === 0) throw declined('no plan')
    if (this.armedUntil !== undefined) throw declined('armed already')
    this.arming(deadline)
    const armedAt = monotonicNow()
    const done: TakeStep[] = []
    for (const step of this.plan.steps) {
      const add = decode(step.add)
      if (add.kind === 'address' && lifetimeS !== Infinity) add.spec = { ...add.spec, validLifetime: lifetimeS, preferredLifetime: lifetimeS }
      try {
        this.kernel.apply(add, 'guard')
        done.push(step)
      } catch (error) {
        for (const undo of done.reverse()) this.kernel.apply(decode(undo.undo), 'guard')
        this.clearTimer()
        this.armedUntil = undefined
        const code = (error as NodeJS.ErrnoException).code
        throw Object.assign(new Error(`guard takeover: ${(error as Error).message}`), { code, errno: code === 'EEXIST' ? 0 : 19 })
      }
    }
    const addedAt = monotonicNow()
    const sent = this.plan.frames.map(({ ifindex, frame }) => {
      const link = this.kernel.find(ifindex)
      if (!link || !link.carrier || !link.up) return false
      this.sentFrames.push(frame)
      return true
    })
    const firstFrameAt = sent.some(Boolean) ? monotonicNow() : undefined
    return { armedAt, addedAt, ...(firstFrameAt !== undefined ? { firstFrameAt } : {}), sent }
  }

  async setActions(requests: Buffer[]): Promise<void> {
    await this.command('CLEAR')
    this.actions = [...requests]
  }

  async setReleaseRecord(): Promise<void> {
    await this.command('RECORD')
  }

  arm(deadline: number): Promise<void> {
    if (!validDeadline(deadline)) return Promise.reject(new RangeError(`deadline: ${deadline}`))
    if (!this.alive) return Promise.reject(exited())
    this.arming(deadline) // the command is in the pipe when arm() returns
    return this.command('ARM').then(() => {})
  }

  renew(deadline: number): boolean {
    if (!validDeadline(deadline)) return false
    if (!this.alive) return true
    this.arming(deadline)
    this.command('ARM').catch(() => {})
    return true
  }

  async disarm(): Promise<void> {
    await this.command('DISARM')
    this.clearTimer()
    this.armedUntil = undefined
  }

  async ping(): Promise<void> {
    await this.command('PING')
  }

  async close(): Promise<void> {
    if (!this.alive) return
    await this.disarm().catch(() => {})
    this.alive = false
    setImmediate(() => this.emit('exit', 0, null))
  }

  private arming(deadline: number): void {
    this.clearTimer()
    this.armedUntil = deadline
    if (!Number.isFinite(deadline)) return
    this.timer = setTimeout(() => this.fence('deadline'), Math.max(0, deadline - monotonicNow()))
    this.timer.unref()
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** One command: held if asked, acted on, answered through the ordered channel (or failed: the guard died). */
  private async command<T = void>(name: string, act?: () => T): Promise<T> {
    if (!this.alive) throw exited()
    this.commands.push(name)
    await this.held(`before ${name}`)
    let result: T | undefined
    let failure: unknown
    try {
      result = act?.()
    } catch (error) {
      failure = error
    }
    await this.held(`after ${name}`)
    await new Promise<void>((resolve) => this.send(resolve))
    if (!this.alive) throw exited()
    if (failure) throw failure
    return result as T
  }

  private async held(key: string): Promise<void> {
    const held = this.holds.get(key)
    if (!held) return
    this.holds.delete(key)
    await held.wait()
    if (!this.alive) throw exited()
  }

  private send(deliver: () => void): void {
    this.channel = this.channel.then(() => new Promise<void>((r) => setImmediate(() => {
      deliver()
      r()
    })))
  }
}

const validDeadline = (deadline: unknown) => typeof deadline === 'number' && (Number.isFinite(deadline) || deadline === Infinity)

function exited(): Error {
  return Object.assign(new Error('guard process is not running'), { code: 'ERR_GUARD_EXITED' })
}

export class FakeConflictDetector extends (EventEmitter as new () => TypedEmitter<ConflictDetectorEvents>) implements ConflictDetectorPort {
  started = false
  closed = false
  start(): this {
    this.started = true
    this.closed = false
    return this
  }
  stop(): void {
    this.started = false
    this.closed = true
  }
  park(): void {
    this.started = false
  }
  conflicts(): Conflict[] {
    return []
  }
  async probe(): Promise<Map<string, string[]>> {
    return new Map()
  }
}

/** Everything the fake host handed out, for the test to drive and inspect. */
export class FakeHost implements AnnouncerHost {
  readonly kernel = new FakeKernel()
  readonly guards: FakeGuard[] = []
  readonly netlinks: FakeNetlink[] = []
  readonly monitors: FakeMonitor[] = []
  readonly packetSockets: FakePacketSocket[] = []
  readonly lifelines: Array<Lifeline & { closed: boolean }> = []
  readonly detectors: FakeConflictDetector[] = []
  /** Set to make the next openPacketSocket throw this code ('EPERM'). */
  failPacketSocket: string | undefined
  /** Set to make every new guard an older one without TAKE. */
  guardsKnowTake = true
  private startHold: ReturnType<typeof gate> | undefined

  /** The last guard started. */
  get guard(): FakeGuard {
    return this.guards[this.guards.length - 1]
  }

  /** The next startGuard waits until the gate is released. */
  holdGuardStart(): Gate {
    this.startHold = gate()
    return this.startHold
  }

  openNetlink(): NetlinkPort {
    const netlink = new FakeNetlink(this.kernel)
    this.netlinks.push(netlink)
    return netlink
  }

  openMonitor(): MonitorPort {
    const monitor = new FakeMonitor(this.kernel)
    this.monitors.push(monitor)
    return monitor
  }

  openPacketSocket(options: { link: LinkRef }): PacketPort {
    if (this.failPacketSocket) throw systemError(this.failPacketSocket, 'socket', 'AF_PACKET (CAP_NET_RAW)')
    const link = this.kernel.find(options.link)
    if (!link) throw systemError('ENODEV', 'bind', String(options.link))
    const socket = new FakePacketSocket(this.kernel, link.index)
    this.packetSockets.push(socket)
    return socket
  }

  createLifeline(): Lifeline {
    const lifeline = { fd: -1, closed: false, close: () => (lifeline.closed = true) }
    this.lifelines.push(lifeline)
    return lifeline
  }

  async startGuard(options: GuardOptions): Promise<GuardPort> {
    const held = this.startHold
    this.startHold = undefined
    if (held) await held.wait()
    const guard = new FakeGuard(this.kernel, options)
    guard.knowsTake = this.guardsKnowTake
    this.guards.push(guard)
    return guard
  }

  createConflictDetector(): ConflictDetectorPort {
    const detector = new FakeConflictDetector()
    this.detectors.push(detector)
    return detector
  }

  /** Nothing left open: every guard gone, every socket, monitor and lifeline closed. */
  openResources(): string[] {
    return [
      ...this.guards.filter((g) => g.alive).map((_, i) => `guard ${i}`),
      ...this.netlinks.filter((n) => !n.closed).map((_, i) => `netlink ${i}`),
      ...this.monitors.filter((m) => !m.closed).map((_, i) => `monitor ${i}`),
      ...this.packetSockets.filter((p) => !p.closed).map((_, i) => `packet socket ${i}`),
      ...this.lifelines.filter((l) => !l.closed).map((_, i) => `lifeline ${i}`),
    ]
  }
}
