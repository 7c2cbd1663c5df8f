// VipAnnouncer: follows the elector's verdict and makes the host and the
// layer-2 network agree with it. Follower: no VIP, rule or route on the host.
// Leader: VIP on the interface, policy routing through the gateway, and
// announcements on a schedule. The guard process enforces the lease deadline
// even when this thread cannot run.
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'
import { monotonicNow } from '../clock'
import type { Lease, LeaderElector } from '../elector'
import { DEFEND_INTERVAL_MS, type ConflictEvent } from '../conflict'
import { cleanStale, describeAddresses, foreignVips } from '../footprint'
import type { TakeOutcome } from '../guard'
import { REFRESH_TICK_MS, lifetimeFor, shouldRefresh, timingProblem, MIN_GRANT_MS } from '../kernel-lifetime'
import { log, silentLogger, type Logger } from '../logger'
import { gratuitousArp, neighbourAdvertisement } from '../net/frames'
import type { AddressEvent, AddressInfo, LinkEvent, LinkInfo, RouteEvent, RuleEvent } from '../net/types'
import { resolveOptions, type ResolvedOptions, type VipAnnouncerOptions } from '../options'
import { AnnounceSchedule, type AnnounceReason } from '../schedule'
import type { AnnouncerEvents, AnnouncerHealth, AnnouncerState, AnnouncerStats, FollowerEvent, LeaderEvent, TakeoverPhases } from './events'
import { nativeHost, type AnnouncerHost, type ConflictDetectorPort, type GuardPort } from './host'
import { LinkBinding } from './link-binding'
import { LockTakeover } from './lock-takeover'
import { Tenure, type TakePlan } from './tenure'

export type * from './events'

/**
 * A follower the elector has named leader is only 'degraded' once it has
 * failed to take the VIP for this long: a takeover in flight (the queue, a
 * start-up probe) is not a fault.
 */
const HEALTH_TAKEOVER_GRACE_MS = 1000

/**
 * Keeps one or more virtual IPs on the replica its elector names leader.
 *
 * As leader it adds the VIPs to the interface (with policy routing through
 * the gateway, when one is configured) and announces them with gratuitous ARP
 * or unsolicited neighbour advertisements on a schedule; as follower, and
 * before the lease deadline passes without renewal, it removes all of that. A
 * separate guard process removes the VIP before the deadline (`fenceMarginMs`
 * ahead of it) even if this event loop is blocked. Needs CAP_NET_ADMIN and CAP_NET_RAW (CAP_SYS_ADMIN for
 * `netns`). Invalid options throw at construction, naming the field. See
 * docs/architecture.md.
 *
 * @example
 * const announcer = new VipAnnouncer({
 *   vip: '192.0.2.100',
 *   interface: 'eth0',
 *   gateway: '192.0.2.1/24',
 *   elector: new FileLockElector({ path: '/run/vip.lock' }),
 * })
 * announcer.on('leader', (e) => console.log(`leader after ${e.takeoverMs.toFixed(2)} ms`))
 * announcer.on('error', (error) => console.error(error))
 * await announcer.start()
 * // ...
 * await announcer.stop() // removes the VIP, then releases leadership
 */
export class VipAnnouncer extends (EventEmitter as new () => TypedEmitter<AnnouncerEvents>) {
  private readonly options: ResolvedOptions
  private readonly logger: Logger
  private readonly elector: LeaderElector
  private stateValue: AnnouncerState = 'stopped'
  private startPromise: Promise<void> | undefined
  private stopPromise: Promise<void> | undefined
  private queue: Promise<void> = Promise.resolve()

  private readonly host: AnnouncerHost
  /** Netlink, the monitor, the interface, the footprint on it and the packet socket. */
  private readonly binding: LinkBinding
  /** The guard, its lifeline and lock fd, the deadline timer, the take and release transactions. */
  private readonly tenure: Tenure

  /** The elector's current grant, if any. */
  private lease: Lease | undefined
  private electedAt = 0
  /** When the first frame of the current takeover left, for takeoverMs. */
  private firstFrameAt: number | undefined
  /** The last failure to move the VIPs' kernel lifetime forward, until one succeeds (for health()). */
  private refreshFailure: string | undefined
  /** The footprint is on the host. */
  private holding = false
  /** The guard reported a fence that the queue has not handled yet. */
  private fenceReported = false
  /** From start() until stop() (or a failed start): the announcer means to campaign whenever it could hold the VIP. */
  private campaignWanted = false
  /** The elector runs: started by us and not stopped since (see syncCampaign). */
  private campaigning = false
  /** VIPs configured on this host by someone else (footprint.ts: foreignVips), and their sorted description. */
  private foreign: AddressInfo[] = []
  private foreignKey = ''
  /** A rule/route restore step is queued and has not started yet (a table flush deletes several routes at once). */
  private routingRestoreQueued = false
  /** When the kernel lifetime last given to the VIPs ends (CLOCK_MONOTONIC ms; Infinity: none given). */
  private expiry = Infinity
  private refreshTimer: NodeJS.Timeout | undefined
  private warnedUnlimited = false
  private rewarmTimer: NodeJS.Timeout | undefined
  private readonly schedules = new Map<string, AnnounceSchedule>()
  private readonly stats = { transitions: 0, framesSent: 0, restores: 0, fences: 0, conflicts: 0, defenses: 0, errors: 0, lastTakeoverMs: undefined as number | undefined }
  /** Watches for other hosts answering for the VIPs while this replica leads (or yields to one). */
  private detector: ConflictDetectorPort | undefined
  /** Leader by the elector's word, but the VIP given up to another host that answers for it ('yield'). */
  private yielded = false
  /** The elector's start() is running: an election now found nobody holding leadership. */
  private electorStarting = false
  /** The current grant came while the elector was starting (see shouldProbeFirst). */
  private startupElection = false
  private tookOnce = false
  private readonly lastDefense = new Map<string, number>()
  private defendTimer: NodeJS.Timeout | undefined
  private readonly onElected = (lease: Lease) => this.handleElected(lease)
  private readonly onRenewed = (lease: Lease) => this.handleRenewed(lease)
  private readonly onDeposed = (reason: string) => this.handleDeposed(reason)
  private readonly onElectorError = (error: Error) => this.fail(error)
  /** The follower's guard waiting for the file lock (lock-takeover.ts). */
  private readonly lockTakeover: LockTakeover<TakePlan>

  constructor(options: VipAnnouncerOptions)
  /**
   * With `host`, what the announcer opens and starts on the system: the
   * kernel's sockets and the real guard process unless given (tests pass
   * fakes, test/support/fake-host.ts). Not part of the stable API.
   * @internal
   */
  constructor(options: VipAnnouncerOptions, host: AnnouncerHost)
  constructor(options: VipAnnouncerOptions, host: AnnouncerHost = nativeHost) {
    super()
    this.options = resolveOptions(options)
    this.logger = options.logger ?? silentLogger
    this.elector = this.options.elector
    this.host = host
    this.binding = new LinkBinding(host, this.options)
    this.tenure = new Tenure(host, this.options, this.logger, this.binding, {
      fenced: (reason) => this.onGuardFenced(reason),
      exit: (guard, code, signal) => this.onGuardExit(guard, code, signal),
    })
    this.lockTakeover = new LockTakeover<TakePlan>(this.elector, {
      log: (level, message, fields) => log(this.logger, level, message, fields),
      // The guard died between getting the lock and reporting its takeover: remove what it may have added.
      abandoned: () => {
        try {
          this.binding.footprint?.remove()
        } catch (error) {
          this.fail(error)
        }
      },
    })
    const timing = this.elector.timing
    const problem = timing && timingProblem(timing)
    if (problem) {
      throw new RangeError(`elector: its lease is too short for the VIP's kernel lifetime: ${problem} (see docs/electors.md)`)
    }
  }

  /** The current state. */
  get state(): AnnouncerState {
    return this.stateValue
  }

  /** True while the VIP is on this host. */
  get isLeader(): boolean {
    return this.holding
  }

  /** The configured interface name. */
  get interfaceName(): string {
    return this.options.interface
  }

  /** The configured VIPs in canonical text form (a new array on each read). */
  get vips(): string[] {
    return this.options.vips.map((v) => v.address)
  }

  /**
   * Whether this replica does its job right now (see AnnouncerHealth). Reads
   * the interface's addresses once while leader, so the VIPs' presence is the
   * kernel's word, not our belief.
   */
  health(): AnnouncerHealth {
    const state = this.stateValue
    if (state !== 'leader' && state !== 'follower') return { condition: 'not-leader', reasons: [state], state }
    const reasons: string[] = []
    const link = this.binding.link
    if (this.holding) {
      if (!link) reasons.push(`interface ${this.options.interface} is missing`)
      else if (!link.up) reasons.push(`link ${link.name} is administratively down`)
      else if (!link.carrier) reasons.push(`link ${link.name} has no carrier`)
      let present: Set<string> | undefined
      try {
        present = this.binding.footprint?.presentAddresses(true)
      } catch (error) {
        reasons.push(`cannot read the addresses of ${this.options.interface}: ${(error as Error).message}`)
      }
      if (present) for (const vip of this.vips) if (!present.has(vip)) reasons.push(`VIP ${vip} is not on ${this.options.interface}`)
      if (this.refreshFailure) reasons.push(`the VIPs' kernel lifetime cannot be moved forward: ${this.refreshFailure}`)
      for (const conflict of this.detector?.conflicts() ?? []) reasons.push(`conflict: ${conflict.mac} also answers for ${conflict.vip}`)
      return { condition: reasons.length > 0 ? 'degraded' : 'announcing', reasons, state }
    }
    if (!link) reasons.push(`interface ${this.options.interface} is missing: this replica cannot take over`)
    if (this.foreign.length > 0) reasons.push(`the VIP is configured here by someone else (${this.foreignKey})`)
    if (this.yielded) {
      for (const conflict of this.detector?.conflicts() ?? []) reasons.push(`conflict: ${conflict.mac} answers for ${conflict.vip}; leadership held, VIP yielded`)
    } else if (this.lease && this.elector.isLeader && monotonicNow() - this.electedAt > HEALTH_TAKEOVER_GRACE_MS) {
      reasons.push('the lease is held but the VIP is not on the host')
    }
    return { condition: reasons.length > 0 ? 'degraded' : 'not-leader', reasons, state }
  }

  /** A snapshot of the state and counters; `registerMetrics` exports the same to Prometheus. */
  metrics(): AnnouncerStats {
    return { state: this.stateValue, isLeader: this.holding, ...this.stats }
  }

  /**
   * Opens the sockets, removes leftovers of an earlier crash, starts the guard
   * and begins campaigning. Resolves once campaigning runs (not when elected).
   * Idempotent. A missing interface is waited for (event `link` 'missing'):
   * the announcer campaigns only while it could hold the VIP, so the elector
   * starts when the interface appears (and stops while it is gone).
   * Rejects (code 'ERR_VIP_IN_USE', nothing changed on the host) when a VIP
   * is already configured on the host other than as this library adds it
   * (the host's own address named as the VIP, a /24 set by hand, the VIP on
   * another interface): it is never taken over or deleted.
   * A failed start undoes what it did (sockets, guard, elector listeners; the
   * elector is stopped) and rejects; calling start() again retries.
   */
  start(): Promise<void> {
    if (this.stopPromise) return Promise.reject(new Error('VipAnnouncer was stopped; create a new one'))
    this.startPromise ??= this.doStart().catch(async (error) => {
      // Undo everything doStart() did, so the host can simply call start()
      // again (after fixing the cause): a half-started announcer would hold
      // sockets, a guard, or elector listeners nobody owns.
      this.campaignWanted = false
      this.campaigning = false
      this.detachElector()
      await this.queue // an election the elector reported before failing
      if (this.holding) await this.release('start failed').catch((e) => this.fail(e))
      await this.elector.stop().catch(() => {})
      await this.teardown()
      this.stateValue = 'stopped'
      this.startPromise = undefined
      throw error
    })
    return this.startPromise
  }

  /**
   * Removes VIP, rules and routes (if held), then releases leadership so a
   * follower takes over at once, then closes everything. Idempotent; safe
   * during any transition.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop()
    return this.stopPromise
  }

  private async doStart(): Promise<void> {
    this.stateValue = 'starting'
    this.binding.open({
      address: (event) => this.onAddressEvent(event),
      link: (event) => this.onLinkEvent(event),
      rule: (event) => this.onRuleEvent(event),
      route: (event) => this.onRouteEvent(event),
      overrun: () => this.enqueue(() => this.resync('netlink notifications overrun')),
      error: (error) => this.fail(error),
    })
    const netlink = this.binding.netlink!
    // Before anything touches the host: a VIP someone else configured is not
    // ours to take over, refresh or delete (the stale cleanup below would have
    // deleted the host's own address, and with it its connected route).
    const foreign = foreignVips(netlink, this.options, this.binding.link?.index)
    if (foreign.length > 0) throw vipInUse(describeAddresses(netlink, foreign), 'refusing to start; nothing was changed')
    if (this.options.cleanStaleOnStart) {
      const removed = cleanStale(netlink, this.options, this.binding.link?.index)
      if (removed.length > 0) {
        log(this.logger, 'warn', 'removed leftovers of an earlier run', { removed })
        this.emit('cleaned', { removed })
      }
    }
    await this.tenure.open(this.elector)
    if (this.binding.link) {
      await this.attachLink(this.binding.link)
    } else {
      log(this.logger, 'warn', 'interface not found; waiting for it', { interface: this.options.interface })
      this.emit('link', { interface: this.options.interface, state: 'missing' })
    }
    this.elector.on('elected', this.onElected)
    this.elector.on('renewed', this.onRenewed)
    this.elector.on('deposed', this.onDeposed)
    this.elector.on('error', this.onElectorError)
    this.stateValue = 'follower'
    this.campaignWanted = true
    const why = this.cannotHold()
    if (why !== undefined) {
      // Leading without the interface would keep the VIP off every replica;
      // syncCampaign starts the elector once it is there.
      log(this.logger, 'info', 'not campaigning until the VIP can be held here', { event: 'started', vips: this.vips, interface: this.options.interface, why })
      return
    }
    this.campaigning = true
    await this.startElector()
    this.lockWaitSoon()
    log(this.logger, 'info', 'campaigning', { event: 'started', vips: this.vips, interface: this.options.interface })
  }

  /**
   * Why this replica could not hold the VIP now, or undefined. While there
   * is a reason it does not campaign (syncCampaign): a leader that cannot
   * hold the VIP keeps every other replica from holding it.
   */
  private cannotHold(): string | undefined {
    if (!this.binding.link) return `interface ${this.options.interface} missing`
    if (this.foreign.length > 0) return `VIP configured on this host by someone else (${this.foreignKey})`
    return undefined
  }

  /**
   * Campaigns exactly while this replica could hold the VIP: stops the
   * elector when it can't (releasing leadership at once, so another replica
   * takes over: the file lock unlocked, the etcd key deleted, the Lease
   * released), starts it again when it can. A holder is never stopped here;
   * release() calls this again once the VIP is off.
   */
  private async syncCampaign(): Promise<void> {
    if (!this.campaignWanted || (this.stateValue !== 'follower' && this.stateValue !== 'leader')) return
    const why = this.cannotHold()
    if (why !== undefined) {
      if (!this.campaigning || this.holding) return
      // The guard must not take over while we step back (ending its wait may make us leader).
      await this.lockTakeover.cancel()
      if (!this.campaigning || this.holding) return
      this.campaigning = false
      log(this.logger, 'warn', 'stepping back: not campaigning while the VIP cannot be held here', { event: 'stepped-back', why })
      try {
        await this.elector.stop()
      } catch (error) {
        this.fail(error)
      }
    } else if (!this.campaigning) {
      this.campaigning = true
      log(this.logger, 'info', 'campaigning again', { event: 'campaigning' })
      try {
        await this.startElector()
        this.lockWaitSoon()
      } catch (error) {
        // Reported; the next change of the interface or of the foreign VIPs tries again.
        this.campaigning = false
        this.fail(error)
      }
    }
  }

  /**
   * Re-reads the VIPs someone else configured on the host (after an address
   * notification for a VIP that is not ours, a new interface, an overrun),
   * reports a change and campaigns accordingly. They are never deleted. A
   * follower stops campaigning while one exists; a leader keeps its own VIP
   * (an outside conflict, reported) and steps back once it releases it.
   */
  private async checkForeign(): Promise<void> {
    if (!this.binding.netlink || this.stateValue === 'stopping' || this.stateValue === 'stopped') return
    const foreign = foreignVips(this.binding.netlink, this.options, this.binding.link?.index)
    const described = describeAddresses(this.binding.netlink, foreign).sort()
    const key = described.join(', ')
    this.binding.footprint?.avoid(foreign)
    if (key === this.foreignKey) return
    this.foreign = foreign
    this.foreignKey = key
    if (foreign.length > 0) {
      this.fail(vipInUse(described, this.holding
        ? 'an outside conflict: this leader keeps its own VIP and will remove only that'
        : 'not campaigning while it is there; it is never deleted'))
    } else {
      log(this.logger, 'info', 'no VIP configured by someone else any more', { event: 'vip-free' })
    }
    await this.syncCampaign()
  }

  /** A new guard (the last one died, so it waited for nothing), taught the footprint of now. */
  private async startGuard(): Promise<void> {
    await this.tenure.startGuard(this.elector)
    this.lockWaitSoon()
  }

  /** Teaches the guard the removal and the takeover plan for the footprint of now (Tenure.teach). */
  private async teachGuard(): Promise<void> {
    // The plan cannot change under the guard's lock wait; one is started again below.
    await this.lockTakeover.cancel()
    await this.tenure.teach()
    this.lockWaitSoon()
  }

  /**
   * Queues a step that lets the guard wait for the file lock and take over
   * the instant it gets it (lock-takeover.ts), when this replica is a
   * follower that could take the VIP through the guard's plan right now.
   */
  private lockWaitSoon(): void {
    this.enqueue(async () => {
      if (this.stateValue !== 'follower' || !this.campaigning || this.holding || this.yielded || this.lockTakeover.waiting) return
      const plan = this.tenure.usablePlan()
      if (!plan || !this.binding.link || this.foreign.length > 0) return
      await this.lockTakeover.start(plan.guard, plan, this.options.fenceMarginMs)
    })
  }

  /** The interface exists (now): bind the packet socket and teach the guard the removal. */
  private async attachLink(link: LinkInfo): Promise<void> {
    this.binding.attach(link, this.foreign)
    this.detector?.stop()
    this.detector = this.makeDetector(link.index)
    // Open its sockets now, off the takeover path; it watches only while we lead.
    if (this.watchForConflicts()) this.detector.park()
    await this.teachGuard()
    this.warmUp()
    // V8 drops the bytecode of functions that have not run for a while; a
    // follower may wait for hours, so keep its takeover path compiled.
    this.rewarmTimer ??= setInterval(() => {
      if (!this.holding && this.binding.footprint && this.binding.packets) this.warmUp()
    }, 20_000).unref()
    this.emit('link', { interface: link.name, state: 'present' })
  }

  /**
   * Runs the takeover's code paths once without side effects (encoding the
   * add requests, building the frames), so the first takeover of a fresh
   * process doesn't pay for lazy compilation: measured 3-7 ms cold against
   * about 0.5 ms warm.
   */
  private warmUp(): void {
    this.binding.footprint!.encodeAddRequests()
    this.binding.footprint!.rehearse()
    // V8 compiles a function's whole body on its first call, whatever path
    // that call takes. A follower without a lease takes the shortest one
    // through each of the takeover's steps, on the real objects: acquire and
    // handleRenewed return at their first check (no lease), armDeadlineTimer
    // arms nothing and refreshLifetime refreshes nothing (not holding). So
    // the takeover's first real call runs bytecode instead of compiling it
    // (see docs/benchmarks.md for what this saves).
    if (!this.holding && !this.lease) {
      void this.acquire('warm-up')
      this.handleRenewed({ deadline: Infinity })
      this.armDeadlineTimer()
      this.refreshLifetime()
      this.tenure.usablePlan()
    }
    this.enqueue(() => {})
    for (const vip of this.options.vips) this.scheduleFor(vip.address)
    const mac = this.binding.packets!.mac
    for (const vip of this.options.vips) {
      if (vip.family === 4) for (const kind of this.options.arpKinds) gratuitousArp(kind, mac, vip.address)
      else neighbourAdvertisement(mac, vip.address)
    }
    // The guard's command path (write, reply, timer) is the takeover's first
    // step; take() refuses a NaN deadline before it writes anything.
    this.tenure.guard?.ping().catch(() => {})
    this.tenure.guard?.take(NaN, 1).catch(() => {})
    // A schedule that is cancelled before it can announce: announce() returns
    // at once for a follower, but its code and the schedule's are now compiled.
    const dry = new AnnounceSchedule(this.options.schedule, (reason, count) => this.announce(this.options.vips[0].address, reason, count))
    dry.start('takeover')
    dry.cancel()
  }

  private enqueue(step: () => void | Promise<void>): Promise<void> {
    const next = this.queue.then(step).catch((error) => this.fail(error))
    this.queue = next
    return next
  }

  // --- elector events -------------------------------------------------------

  private handleElected(lease: Lease): void {
    const problem = leaseProblem(lease)
    if (problem) return this.refuseLease('elected', problem)
    this.lease = lease
    this.startupElection = this.electorStarting
    this.electedAt = monotonicNow()
    log(this.logger, 'info', 'elected', { event: 'elected', leaseMs: Number.isFinite(lease.deadline) ? Math.round(lease.deadline - monotonicNow()) : 'unlimited' })
    // Elected through the guard's lock wait: the election is the guard's
    // instant, and if it took over, the footprint is on the host already.
    const byGuard = this.lockTakeover.adopted()
    if (byGuard) {
      this.electedAt = byGuard.acquiredAt
      this.tookOnce = true
      if (byGuard.outcome && this.binding.link) return this.becameLeaderByGuard(byGuard.plan, byGuard.outcome, this.binding.link, lease, byGuard.acquiredAt, byGuard.lifetimeS, true)
    }
    this.enqueue(() => this.acquire('elected'))
  }

  private handleRenewed(lease: Lease): void {
    const problem = leaseProblem(lease)
    if (problem) return this.refuseLease('renewed', problem) // the deadline granted before stays in force
    if (!this.lease || lease.deadline < this.lease.deadline) return // deadlines only move forward
    this.lease = lease
    if (this.holding) {
      this.tenure.renew(lease)
      this.armDeadlineTimer()
      this.refreshLifetime()
    } else if (this.stateValue !== 'stopping' && this.stateValue !== 'stopped' && this.stateValue !== 'starting') {
      // Fenced earlier (deadline passed) but the elector renewed after all. The
      // queue runs this after any release still in flight.
      this.electedAt = monotonicNow()
      this.enqueue(() => this.acquire('renewed'))
    }
  }

  /**
   * A grant whose deadline is neither a finite number nor Infinity is a
   * broken elector, not "never fence": reported, and fail safe. A bad
   * 'elected' takes nothing (and drops a VIP held, if any); a bad 'renewed'
   * moves nothing.
   */
  private refuseLease(event: 'elected' | 'renewed', problem: string): void {
    this.fail(new TypeError(`elector contract broken: '${event}' must carry lease.deadline, a finite CLOCK_MONOTONIC instant in ms or Infinity, got ${problem}; ${event === 'elected' ? 'not taking the VIP' : 'the previous deadline stays in force'} (see docs/electors.md)`))
    if (event === 'elected') {
      this.lease = undefined
      if (this.holding) this.enqueue(() => this.release('elector granted a lease without a valid deadline'))
    }
  }

  private handleDeposed(reason: string): void {
    this.lease = undefined
    this.yielded = false
    log(this.logger, 'info', 'deposed', { event: 'deposed', reason })
    this.enqueue(() => this.release(`deposed: ${reason}`))
  }

  private fenceAt(lease: Lease): number {
    return this.tenure.fenceAt(lease)
  }

  // --- transitions ----------------------------------------------------------

  private async acquire(trigger: string): Promise<void> {
    if (this.holding || !this.lease || this.stateValue !== 'follower') return
    const fenceAt = this.fenceAt(this.lease)
    if (fenceAt <= monotonicNow()) {
      log(this.logger, 'warn', 'lease already too close to its deadline; waiting for a renewal', { trigger })
      return
    }
    // Elected while the VIP can't be held here (an election that crossed our
    // stepping back, or an elector that ignores stop()): take nothing, and
    // make sure the elector is stopped.
    if (!this.binding.link || !this.binding.footprint || !this.tenure.guard) return this.syncCampaign() // waiting for the interface
    if (this.foreign.length > 0) {
      log(this.logger, 'warn', 'elected, but the VIP is configured here by someone else: not taking it', { trigger, foreign: this.foreignKey })
      return this.syncCampaign()
    }
    if (this.yielded) return // another host answers for the VIP: retaken when it stops ('conflict-cleared')
    if (this.shouldProbeFirst()) {
      // Elected right at start-up: nobody is waiting for a failover, so look
      // before claiming (a failover claims at once and probes right after).
      this.tookOnce = true
      const answered = await this.probeBeforeClaim()
      if (answered && this.options.conflictPolicy === 'yield') {
        this.yielded = true
        return
      }
      if (this.holding || !this.lease || this.stateValue !== 'follower' || !this.binding.footprint || !this.tenure.guard) return
    }
    this.tookOnce = true
    const now = monotonicNow()
    const lifetime = lifetimeFor(this.lease.deadline, now)
    if (lifetime === 0) {
      this.fail(new Error(`lease too short for the VIP's kernel lifetime: its deadline is ${Math.round(this.lease.deadline - now)} ms away, at least ${MIN_GRANT_MS} ms are needed; not adding the VIP (${trigger})`))
      return
    }
    if (lifetime === Infinity && !this.warnedUnlimited) {
      this.warnedUnlimited = true
      log(this.logger, 'warn', 'the lease has no deadline: the VIP gets no kernel lifetime and outlives a kill of every process of this replica', { trigger })
    }
    const plan = this.tenure.usablePlan()
    if (plan) {
      // Kept for the report: a deposal while the guard works clears this.lease.
      const link = this.binding.link
      const lease = this.lease
      const outcome = await this.tenure.takeByGuard(fenceAt, lifetime)
      if (outcome) return this.becameLeaderByGuard(plan, outcome, link, lease, now, lifetime)
      // Declined: the guard added nothing and is not armed; this thread takes
      // over instead, if it still should.
      if (this.holding || !this.lease || this.stateValue !== 'follower' || !this.binding.footprint || !this.tenure.guard || !this.binding.link) return
    }
    // Break before make (Tenure.takeByHost): armed, then the footprint added.
    const { armedAt, appliedAt } = await this.tenure.takeByHost(fenceAt, lifetime, (error) => {
      this.fail(error)
      this.enqueue(() => this.release('guard did not confirm the lease deadline'))
    })
    this.holding = true
    this.stateValue = 'leader'
    this.stats.transitions++
    this.expiry = now + lifetime * 1000
    this.armDeadlineTimer()
    this.firstFrameAt = undefined
    for (const vip of this.options.vips) this.scheduleFor(vip.address).start('takeover')
    const announcedAt = this.firstFrameAt ?? monotonicNow()
    const takeoverMs = announcedAt - this.electedAt
    const phases: TakeoverPhases = { armMs: armedAt - this.electedAt, footprintMs: appliedAt - armedAt, firstFrameMs: announcedAt - appliedAt }
    this.reportLeader(this.binding.link, this.lease, takeoverMs, phases, 'host')
  }

  /** Bookkeeping after the guard took over: the footprint is on the host, the first burst sent. */
  private becameLeaderByGuard(plan: TakePlan, outcome: TakeOutcome, link: LinkInfo, lease: Lease, now: number, lifetime: number, atLock = false): void {
    // Whatever happened while the guard worked (deposed, stop()), the
    // footprint is on the host now: holding, so the release queued behind
    // this step removes it.
    this.holding = true
    if (this.stateValue === 'follower') this.stateValue = 'leader'
    this.stats.transitions++
    this.expiry = lifetime === Infinity ? Infinity : now + lifetime * 1000
    this.armDeadlineTimer()
    const sent = new Map<string, number>()
    outcome.sent.forEach((ok, i) => {
      if (ok) sent.set(plan.vips[i], (sent.get(plan.vips[i]) ?? 0) + 1)
    })
    // The frames carry the MAC read when the plan was made; one changed since
    // (an operator, a bond failover) gets the burst again from this thread.
    let macNow = plan.mac
    try {
      macNow = this.binding.packets?.readLink().mac ?? plan.mac
    } catch {
      // the interface is going away: its notification follows (linkGone)
    }
    for (const vip of this.options.vips) {
      const schedule = this.scheduleFor(vip.address)
      if (macNow !== plan.mac) {
        schedule.start('takeover')
        continue
      }
      schedule.startAfterBurst()
      const count = sent.get(vip.address) ?? 0
      if (count === 0) continue
      this.stats.framesSent += count
      const kinds = vip.family === 4 ? this.options.arpKinds.map((k) => `arp-${k}` as const) : (['neighbour-advertisement'] as const)
      this.emit('announced', { vip: vip.address, kinds: [...kinds], count, reason: 'takeover' })
    }
    if (macNow !== plan.mac) this.enqueue(() => (this.binding.footprint && this.tenure.guard ? this.teachGuard() : undefined))
    const announcedAt = outcome.firstFrameAt ?? outcome.addedAt
    const phases: TakeoverPhases = { armMs: outcome.armedAt - this.electedAt, footprintMs: outcome.addedAt - outcome.armedAt, firstFrameMs: announcedAt - outcome.addedAt }
    this.reportLeader(link, lease, announcedAt - this.electedAt, phases, 'guard', atLock)
  }

  private reportLeader(link: LinkInfo, lease: Lease, takeoverMs: number, phases: TakeoverPhases, takenBy: 'guard' | 'host', takenAtLock = false): void {
    this.watchForConflicts()
    this.stats.lastTakeoverMs = takeoverMs
    this.refreshFailure = undefined
    const rounded = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Number(v.toFixed(3))]))
    log(this.logger, 'info', 'leader: VIP configured and announced', { event: 'leader', vips: this.vips, interface: link.name, takeoverMs: Number(takeoverMs.toFixed(3)), ...rounded, takenBy, takenAtLock })
    this.emit('leader', { vips: this.vips, interface: link.name, deadline: lease.deadline, takeoverMs, phases, takenBy, takenAtLock })
  }

  private async release(reason: string): Promise<void> {
    this.tenure.clearDeadline()
    if (this.refreshTimer) clearInterval(this.refreshTimer)
    this.refreshTimer = undefined
    this.expiry = Infinity
    for (const schedule of this.schedules.values()) schedule.cancel()
    this.schedules.clear()
    const wasHolding = this.holding
    this.holding = false
    if (this.stateValue === 'leader') this.stateValue = 'follower'
    let removalMs = 0
    if (wasHolding) {
      removalMs = this.tenure.removeFootprint()
      this.stats.transitions++
    }
    await this.tenure.disarm()
    // Keep watching while we yield to another host: its silence is our cue.
    if (!this.yielded) this.stopWatchingForConflicts()
    if (wasHolding) {
      log(this.logger, 'info', 'follower: VIP removed', { event: 'follower', reason, removalMs: Number(removalMs.toFixed(3)) })
      this.emit('follower', { reason, removalMs })
    }
    // A leader that kept its VIP beside a foreign one steps back now.
    await this.syncCampaign()
    this.lockWaitSoon()
  }

  /**
   * Moves the VIPs' kernel lifetime forward as far as the lease allows
   * (src/kernel-lifetime.ts), on each renewal and every REFRESH_TICK_MS. When
   * the lease is too close to its deadline for another second, nothing is
   * refreshed and the kernel deletes the VIP on its own; the address monitor
   * then steps down (onAddressEvent).
   */
  private refreshLifetime(): void {
    if (!this.holding || !this.lease || !this.binding.footprint || this.expiry === Infinity) return
    const now = monotonicNow()
    const lifetime = lifetimeFor(this.lease.deadline, now)
    if (lifetime === 0 || !shouldRefresh(this.expiry, now + lifetime * 1000, now)) return
    try {
      this.binding.footprint.refresh(lifetime)
      this.expiry = now + lifetime * 1000
      this.refreshFailure = undefined
    } catch (error) {
      // The interface was just removed: its notification is on the way (linkGone).
      if ((error as NodeJS.ErrnoException).code === 'ENODEV') return
      // The VIP keeps its current lifetime; the next tick tries again.
      this.refreshFailure = (error as Error).message
      this.fail(error)
    }
  }

  /** Our own copy of the guard's deadline: whichever runs first removes the VIP. */
  private armDeadlineTimer(): void {
    if (this.holding && !this.refreshTimer && this.expiry !== Infinity) {
      this.refreshTimer = setInterval(() => this.refreshLifetime(), REFRESH_TICK_MS)
      this.refreshTimer.unref()
    }
    this.tenure.armDeadline(this.lease, () => {
      this.enqueue(() => {
        if (this.lease && this.fenceAt(this.lease) > monotonicNow()) return this.armDeadlineTimer()
        return this.release('lease deadline reached without renewal')
      })
    })
  }

  // --- announcements --------------------------------------------------------

  private scheduleFor(vip: string): AnnounceSchedule {
    let schedule = this.schedules.get(vip)
    if (!schedule) {
      schedule = new AnnounceSchedule(this.options.schedule, (reason, count) => this.announce(vip, reason, count))
      this.schedules.set(vip, schedule)
    }
    return schedule
  }

  private announce(vip: string, reason: AnnounceReason, count: number): void {
    if (!this.holding || !this.binding.packets) return // never announce without leadership
    const family = vip.includes(':') ? 6 : 4
    let sent = 0
    try {
      for (let i = 0; i < count; i++) {
        sent += family === 4 ? this.binding.packets.sendGratuitousArp(vip, this.options.arpKinds) : this.binding.packets.sendNeighbourAdvertisement(vip)
      }
    } catch (error) {
      // ENETDOWN while the link is down: the link-up handler announces again.
      log(this.logger, 'debug', 'announcement not sent', { vip, reason, error: (error as Error).message })
      if (sent === 0) return
    }
    this.stats.framesSent += sent
    this.firstFrameAt ??= monotonicNow()
    const kinds = family === 4 ? this.options.arpKinds.map((k) => `arp-${k}` as const) : (['neighbour-advertisement'] as const)
    this.emit('announced', { vip, kinds: [...kinds], count: sent, reason })
  }

  // --- reconciliation (netlink notifications) --------------------------------

  private onAddressEvent(event: AddressEvent): void {
    if (!this.options.vips.some((v) => v.address === event.address)) return
    if (!this.binding.footprint?.owns(event)) {
      // The VIP with another prefix or on another interface (or on an
      // interface not attached yet: the check runs after the attach queued
      // before it): someone else's.
      this.enqueue(() => this.checkForeign())
      return
    }
    if (event.action !== 'delete' || !this.holding || !this.binding.link) return
    const seenAt = monotonicNow()
    this.enqueue(async () => {
      if (!this.holding || !this.lease || this.fenceAt(this.lease) <= monotonicNow()) return
      // The interface itself went (its addresses are deleted first): linkGone, queued next, handles it.
      if (!this.binding.netlink!.findLink(this.binding.link!.index)) return
      if (this.binding.footprint!.presentAddresses().has(event.address)) return
      // Our own guard may have done it (a fence that a late renewal raced):
      // its report precedes the answer to a ping, so ask before restoring.
      await this.tenure.guard?.ping().catch(() => {})
      if (this.fenceReported || !this.holding || !this.binding.footprint) return
      const now = monotonicNow()
      const lifetime = lifetimeFor(this.lease.deadline, now)
      if (lifetime === 0) {
        // The kernel deleted it (its lifetime ran out) or someone did, and the
        // lease is too close to its end to give it another second: step down.
        return this.release('lease not renewed in time: the kernel lifetime of the VIP ran out')
      }
      this.binding.footprint.restoreAddress(event.address, lifetime)
      if (lifetime !== Infinity) {
        this.binding.footprint.refresh(lifetime) // the same expiry for every VIP
        this.expiry = now + lifetime * 1000
      }
      const delayMs = monotonicNow() - seenAt
      this.stats.restores++
      const vip = this.options.vips.find((v) => v.address === event.address)!
      log(this.logger, 'warn', 'VIP was removed from outside; restored', { event: 'restored', vip: event.address, delayMs: Number(delayMs.toFixed(3)) })
      this.emit('restored', { kind: 'address', item: `address ${vip.address}/${vip.prefixLength}`, vip: event.address, delayMs })
      this.scheduleFor(event.address).start('restore')
    })
  }

  private onRuleEvent(event: RuleEvent): void {
    if (event.action === 'delete' && this.holding && this.binding.footprint?.ownsRule(event.rule)) this.restoreRoutingSoon()
  }

  private onRouteEvent(event: RouteEvent): void {
    if (event.action === 'delete' && this.holding && this.binding.footprint?.ownsRoute(event.route)) this.restoreRoutingSoon()
  }

  /**
   * A rule or table route of ours was deleted while we hold the VIP: put back
   * what is missing, as for the VIP (onAddressEvent). Our own release deletes
   * them too, but after `holding` went false, so those notifications never
   * get here; one that does after a re-acquire finds everything present.
   */
  private restoreRoutingSoon(): void {
    if (this.routingRestoreQueued) return
    this.routingRestoreQueued = true
    const seenAt = monotonicNow()
    this.enqueue(async () => {
      this.routingRestoreQueued = false
      if (!this.holding || !this.lease || this.fenceAt(this.lease) <= monotonicNow()) return
      // Our own guard may have done it (a fence that a late renewal raced):
      // its report precedes the answer to a ping, so ask before restoring.
      await this.tenure.guard?.ping().catch(() => {})
      if (this.fenceReported || !this.holding || !this.binding.footprint || !this.binding.link) return
      // A link taken down (or removed) loses its routes to the kernel; the
      // link-up path re-applies the whole footprint (linkGone handles a
      // removal): don't fight it.
      const link = this.binding.netlink!.findLink(this.binding.link.index)
      if (!link || !link.up || !link.carrier) return
      for (const restored of this.binding.footprint.restoreRouting()) {
        const delayMs = monotonicNow() - seenAt
        this.stats.restores++
        log(this.logger, 'warn', `${restored.kind} was removed from outside; restored`, { event: 'restored', item: restored.item, delayMs: Number(delayMs.toFixed(3)) })
        this.emit('restored', { ...restored, delayMs })
      }
    })
  }

  private onLinkEvent(event: LinkEvent): void {
    const name = this.options.interface
    const link = event.link
    if (event.action === 'delete') {
      if (this.binding.link && link.index === this.binding.link.index) {
        this.enqueue(() => this.linkGone())
      }
      return
    }
    if (link.name !== name) {
      // A rename away from our name looks like a change of another name.
      if (this.binding.link && link.index === this.binding.link.index) this.enqueue(() => this.linkGone())
      return
    }
    if (!this.binding.link || this.binding.link.index !== link.index) {
      this.enqueue(async () => {
        if (this.stateValue === 'stopping' || this.stateValue === 'stopped') return
        await this.attachLink(link)
        // Classify the VIPs again for the new ifindex, and campaign again now
        // that the VIP could be held (syncCampaign).
        await this.checkForeign()
        await this.syncCampaign()
        if (this.lease) await this.acquire('interface appeared')
      })
      return
    }
    const before = this.binding.link
    this.binding.update(link)
    // The guard's frames carry the MAC: a new one (an operator, a bond
    // failover) needs a new plan before the next takeover.
    if (this.tenure.takePlan && link.mac !== this.tenure.takePlan.mac) this.enqueue(() => (this.binding.footprint && this.tenure.guard && this.binding.link === link ? this.teachGuard() : undefined))
    if (before.carrier && !link.carrier) {
      log(this.logger, 'warn', 'link down (no carrier)', { interface: name })
      this.emit('link', { interface: name, state: 'down' })
    } else if ((!before.carrier || !before.up) && link.carrier && link.up) {
      this.emit('link', { interface: name, state: 'up' })
      this.enqueue(() => {
        if (!this.holding) return
        // Taking the link administratively down flushes its routes (and IPv6
        // addresses): put the footprint back before telling the network.
        this.applyAgain()
        for (const vip of this.options.vips) this.scheduleFor(vip.address).start('link-up')
      })
    }
  }

  private async linkGone(): Promise<void> {
    const name = this.options.interface
    log(this.logger, 'warn', 'interface removed; waiting for it to return', { interface: name })
    await this.lockTakeover.cancel()
    // Its addresses and routes went with it; rules stay and are removed by release.
    await this.release('interface removed')
    this.binding.forget()
    this.yielded = false
    // Without the interface this replica can't hold the VIP: release
    // leadership now so another replica takes it, and campaign again when the
    // interface is back (onLinkEvent). First thing once the footprint is gone
    // and the guard disarmed: the takeover waits for it, and closing the
    // packet sockets below blocks for an RCU grace period each (packet_release:
    // synchronize_net, ~5-15 ms).
    await this.syncCampaign()
    this.binding.closePackets()
    this.stopWatchingForConflicts(true)
    this.detector = undefined
    await this.tenure.forgetLink()
    this.emit('link', { interface: name, state: 'gone' })
  }

  private async resync(why: string): Promise<void> {
    log(this.logger, 'warn', 'resynchronising', { why })
    // Notifications were lost: VIPs someone else added or removed among them.
    await this.checkForeign()
    if (this.holding && this.binding.footprint) this.applyAgain()
  }

  /** Puts the whole footprint back while holding (link up, resync), with a fresh lifetime. */
  private applyAgain(): void {
    if (!this.lease || !this.binding.footprint) return
    const now = monotonicNow()
    const lifetime = lifetimeFor(this.lease.deadline, now)
    if (lifetime === 0) {
      // Too close to the deadline for another second of address lifetime:
      // with the shortest leases that is every renewal period's last few
      // hundred ms (etcd TTL 5 s: below 3 s left), not only the end of
      // leadership. The addresses keep what they have (the next refresh, or
      // the release, follows); the routes a link-down flushed go back now,
      // or nothing ever would (the chaos suite found them missing for good).
      this.binding.footprint.restoreRouting()
      return
    }
    this.binding.footprint.apply(lifetime)
    if (lifetime !== Infinity) this.expiry = now + lifetime * 1000
  }

  // --- address conflicts (docs/conflicts.md) ---------------------------------

  private makeDetector(ifindex: number): ConflictDetectorPort {
    const detector = this.host.createConflictDetector({
      link: ifindex,
      netns: this.options.netns,
      vips: this.options.vips.map((v) => v.address),
      probeIntervalMs: this.options.probeIntervalMs,
    })
    detector.on('conflict', (event) => this.onConflict(detector, event))
    detector.on('cleared', (event) => this.onConflictCleared(detector, event))
    detector.on('error', (error) => log(this.logger, 'debug', 'conflict detection', { error: error.message }))
    return detector
  }

  /**
   * The first takeover probes before it claims when the elector granted
   * leadership inside its start(): it found nobody holding leadership (a
   * free lock, a single static replica), so this is a start-up, not a
   * failover, and nobody waits for it. A grant that comes later (a successor
   * that waited for the lock, the lease, the key) claims at once and probes
   * right after: failovers must not wait.
   */
  private shouldProbeFirst(): boolean {
    return !this.tookOnce && this.startupElection && this.options.probeIntervalMs > 0
  }

  /** elector.start(), remembering that an election meanwhile is a start-up's. */
  private async startElector(): Promise<void> {
    this.electorStarting = true
    try {
      await this.elector.start()
    } finally {
      this.electorStarting = false
    }
  }

  /** One probe round before the first claim; true when another host answered. */
  private async probeBeforeClaim(): Promise<boolean> {
    if (!this.watchForConflicts()) return false
    try {
      const answers = await this.detector!.probe()
      return [...answers.values()].some((macs) => macs.length > 0)
    } catch (error) {
      // A probe that can't be sent (link down) must not keep us from leading.
      log(this.logger, 'warn', 'probe before the first claim failed; claiming anyway', { error: (error as Error).message })
      return false
    }
  }

  /** Starts the detector (idempotent); false if it can't run (no link, no CAP_NET_RAW). */
  private watchForConflicts(): boolean {
    if (!this.detector) return false
    if (this.detector.started) return true
    try {
      this.detector.start()
      return true
    } catch (error) {
      this.fail(new Error(`conflict detection could not start: ${(error as Error).message}`))
      return false
    }
  }

  /** Probing stops; `close` also closes the detector's sockets (otherwise kept for the next takeover). */
  private stopWatchingForConflicts(close = false): void {
    if (close) this.detector?.stop()
    else this.detector?.park()
    if (this.defendTimer) clearInterval(this.defendTimer)
    this.defendTimer = undefined
  }

  private onConflict(detector: ConflictDetectorPort, event: ConflictEvent): void {
    if (detector !== this.detector) return
    const policy = this.options.conflictPolicy
    this.stats.conflicts++
    log(this.logger, 'error', 'another host answers for the VIP', { event: 'conflict', vip: event.vip, mac: event.mac, evidence: event.evidence, policy })
    this.emit('conflict', { vip: event.vip, mac: event.mac, since: event.since, policy })
    this.enqueue(async () => {
      if (detector !== this.detector || !this.lease) return
      if (policy === 'defend') {
        this.defend()
        // RFC 5227 §2.4 (c): defend again while the claim goes on, at most once per DEFEND_INTERVAL.
        this.defendTimer ??= setInterval(() => this.enqueue(() => this.defend()), DEFEND_INTERVAL_MS).unref()
        return
      }
      const wasHolding = this.holding
      this.yielded = true
      if (wasHolding) await this.release(`conflict: ${event.vip} is answered by ${event.mac}`)
    })
  }

  /** One gratuitous ARP / NA per VIP in conflict, none within DEFEND_INTERVAL_MS of the last. */
  private defend(): void {
    if (!this.holding || !this.detector) return
    const now = monotonicNow()
    for (const vip of new Set(this.detector.conflicts().map((c) => c.vip))) {
      if (now - (this.lastDefense.get(vip) ?? -Infinity) < DEFEND_INTERVAL_MS) continue
      this.lastDefense.set(vip, now)
      this.stats.defenses++
      this.announce(vip, 'defend', 1)
    }
  }

  private onConflictCleared(detector: ConflictDetectorPort, event: { vip: string; mac: string }): void {
    if (detector !== this.detector) return
    log(this.logger, 'warn', 'the other host no longer answers for the VIP', { event: 'conflict-cleared', vip: event.vip, mac: event.mac })
    const remaining = detector.conflicts().length
    this.emit('conflict-cleared', { vip: event.vip, mac: event.mac, remaining })
    if (remaining > 0) return
    if (this.defendTimer) clearInterval(this.defendTimer)
    this.defendTimer = undefined
    if (!this.yielded) return
    this.yielded = false
    this.enqueue(() => this.acquire('conflict cleared'))
  }

  // --- guard ----------------------------------------------------------------

  private onGuardFenced(reason: string): void {
    this.stats.fences++
    log(this.logger, 'warn', 'guard removed the VIP', { event: 'fenced', reason })
    this.emit('fenced', { reason })
    // The footprint is gone already; bring our bookkeeping in line.
    this.fenceReported = true
    this.enqueue(async () => {
      this.fenceReported = false
      await this.release(`fenced by guard (${reason})`)
      // A renewal that arrived between the guard's fence and this step found
      // us still holding, so it only moved the deadline. The lease is valid:
      // take the VIP back now rather than at the next renewal.
      if (this.lease && this.fenceAt(this.lease) > monotonicNow()) await this.acquire('renewed while the guard fenced')
    })
  }

  private onGuardExit(guard: GuardPort, code: number | null, signal: string | null): void {
    if (this.tenure.guard !== guard || this.stateValue === 'stopping' || this.stateValue === 'stopped') return
    this.fail(new Error(`guard process exited unexpectedly (${signal ?? code}); giving up leadership and restarting it`))
    this.tenure.dropGuard(guard)
    this.enqueue(async () => {
      // Fail safe: without a guard nothing enforces the deadline, so step down.
      await this.release('guard process died')
      await this.startGuard()
      if (this.elector.isLeader) {
        await this.elector.stop()
        await this.elector.start()
      }
    })
  }

  // --- stop -----------------------------------------------------------------

  private async doStop(): Promise<void> {
    if (this.startPromise) await this.startPromise.catch(() => {})
    if (this.stateValue === 'stopped') return
    this.stateValue = 'stopping'
    this.campaignWanted = false
    // The guard's lock wait ends first; a takeover it made meanwhile is held now and released below.
    await this.lockTakeover.cancel()
    // Let any transition in flight finish, then remove the footprint before
    // releasing leadership: the next leader never overlaps with us.
    await this.queue
    try {
      await this.release('stopping')
    } catch (error) {
      this.fail(error as Error)
    }
    this.detachElector(['elected', 'renewed', 'deposed'])
    this.campaigning = false
    try {
      await this.elector.stop()
    } catch (error) {
      this.fail(error as Error)
    }
    this.detachElector(['error'])
    await this.teardown()
    this.stateValue = 'stopped'
    log(this.logger, 'info', 'stopped')
  }

  private detachElector(events: Array<'elected' | 'renewed' | 'deposed' | 'error'> = ['elected', 'renewed', 'deposed', 'error']): void {
    const listeners = { elected: this.onElected, renewed: this.onRenewed, deposed: this.onDeposed, error: this.onElectorError }
    for (const event of events) this.elector.off(event, listeners[event] as never)
  }

  private async teardown(): Promise<void> {
    this.tenure.clearDeadline()
    if (this.refreshTimer) clearInterval(this.refreshTimer)
    this.refreshTimer = undefined
    if (this.rewarmTimer) clearInterval(this.rewarmTimer)
    this.rewarmTimer = undefined
    for (const schedule of this.schedules.values()) schedule.cancel()
    this.schedules.clear()
    this.yielded = false
    this.stopWatchingForConflicts(true)
    this.detector = undefined
    await this.tenure.close()
    // The binding forgets the link and footprint, which refer to the closed
    // handles; a retried start() makes new ones.
    this.binding.close()
    this.lease = undefined
    this.foreign = []
    this.foreignKey = ''
    this.routingRestoreQueued = false
  }

  private fail(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    this.stats.errors++
    log(this.logger, 'error', err.message, { code: (err as NodeJS.ErrnoException).code })
    // An 'error' event without a listener would throw; a library must not crash its host over a log line.
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }
}

/** The error for VIPs configured on the host by someone else (footprint.ts: foreignVips). */
function vipInUse(described: string[], consequence: string): Error {
  const error = new Error(
    `VIP already configured on this host, not by vip-announcer: ${described.join(', ')} ` +
      `(vip-announcer adds a VIP as /32 or /128 on its interface and removes only that); ${consequence}. ` +
      'A VIP must be an address no host has: choose another VIP, or remove that address.',
  )
  return Object.assign(error, { code: 'ERR_VIP_IN_USE' })
}

/** Why a grant's deadline is unusable (see refuseLease), or undefined when it is a finite number or Infinity. */
function leaseProblem(lease: Lease | undefined): string | undefined {
  const deadline: unknown = lease?.deadline
  if (typeof deadline === 'number' && (Number.isFinite(deadline) || deadline === Infinity)) return undefined
  if (lease === undefined || lease === null) return `no lease (${String(lease)})`
  if (deadline === undefined) return 'no deadline (undefined)'
  return typeof deadline === 'number' ? String(deadline) : `${typeof deadline} ${JSON.stringify(deadline) ?? String(deadline)}`
}
