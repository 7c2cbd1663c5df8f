// Leader election on a coordination.k8s.io/v1 Lease with client-go's
// leader-election semantics (the record, the timing rule, release on cancel),
// except that every deadline is measured on this process's CLOCK_MONOTONIC.
// docs/electors.md explains the timing argument.
import type { ElectorTiming } from '../kernel-lifetime'
// Internal only: the published declarations use the structural types below,
// so a consumer's tsc needs no @kubernetes/client-node (an ESM-only package).
import type { CoordinationV1Api, KubeConfig, V1Lease } from '@kubernetes/client-node' with { 'resolution-mode': 'import' }
import { monotonicNow } from '../clock'
import { LeaseTracker } from '../elector'
import { CampaignElector } from './campaign'
import { kubernetesNameProblem, requireOptionsObject } from './names'
import { loadOptionalPeer } from './optional-peer'

/** Options of {@link KubernetesLeaseElector}. */
export interface KubernetesLeaseElectorOptions {
  /** Namespace of the Lease (an RFC 1123 label). */
  namespace: string
  /** Name of the Lease (an RFC 1123 subdomain). All candidates use the same one. */
  name: string
  /** This candidate's identity, unique among candidates: the pod name, typically. */
  identity: string
  /**
   * How long followers wait, measured on their own clock from the last change
   * they saw, before they consider the lease abandoned. Whole seconds (it is
   * written into the Lease). Default 15.
   */
  leaseDurationSeconds?: number
  /**
   * How long the leader keeps leadership without a successful renew. Must be
   * less than leaseDurationSeconds. Default 10.
   */
  renewDeadlineSeconds?: number
  /**
   * Interval between attempts (followers add up to 20 % jitter). The renew
   * deadline must exceed 1.2 × this. Default 2.
   */
  retryPeriodSeconds?: number
  /**
   * Client configuration. Default: in-cluster (service account) when
   * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set, otherwise
   * `loadFromDefault()` ($KUBECONFIG, ~/.kube/config).
   */
  kubeConfig?: KubeConfigLike
  /** A ready client; takes precedence over `kubeConfig`. */
  client?: LeaseApiLike
  /**
   * On `stop()`, clear holderIdentity (and set leaseDurationSeconds to 1) so a
   * follower takes over within one retry period, like client-go's
   * ReleaseOnCancel. Default true.
   */
  releaseOnStop?: boolean
  /**
   * Followers also watch the Lease, so a released Lease is taken within about
   * one API round trip instead of at the next poll. Needs a KubeConfig (the
   * default one, or `kubeConfig`): with only `client`, followers poll. The
   * poll stays as the backstop either way. RBAC: `watch` on the Lease.
   * Default true.
   */
  watch?: boolean
}

/**
 * The part of @kubernetes/client-node's KubeConfig this elector uses; a
 * KubeConfig (1.x, 2.x) satisfies it. Declared here so the published types
 * need no @kubernetes/client-node installed.
 */
export interface KubeConfigLike {
  loadFromCluster(): void
  loadFromDefault(): void
  makeApiClient(apiClientType: new (configuration: never) => unknown): unknown
}

/** A coordination.k8s.io/v1 Lease as the elector reads and writes it; a V1Lease satisfies it. */
export interface LeaseLike {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; namespace?: string; resourceVersion?: string }
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: Date; renewTime?: Date; leaseTransitions?: number }
}

/** The calls this elector makes; a CoordinationV1Api (1.x, 2.x) satisfies it. */
export interface LeaseApiLike {
  readNamespacedLease(param: { name: string; namespace: string }, options?: never): Promise<LeaseLike>
  createNamespacedLease(param: { namespace: string; body: LeaseLike }, options?: never): Promise<LeaseLike>
  replaceNamespacedLease(param: { name: string; namespace: string; body: LeaseLike }, options?: never): Promise<LeaseLike>
}

/** The client library's module (internal: loaded on the first start()). */
type K8sModule = typeof import('@kubernetes/client-node', { with: { 'resolution-mode': 'import' } })

/** The calls this elector makes, with the client library's own types (internal). */
type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>
type CallOptions = Parameters<CoordinationV1Api['readNamespacedLease']>[1]

/** client-go's JitterFactor: followers retry every retryPeriod × [1, 1.2). */
const JITTER_FACTOR = 1.2
/**
 * A watch asks the API server to end it after this long (the server's own
 * limit is minutes); the elector then resumes from the last resourceVersion it
 * saw. A watch that gives no sign of life for this long plus a retry period
 * (a silent partition) is abandoned the same way.
 */
const WATCH_TIMEOUT_S = 60

/**
 * Leader election over a Kubernetes Lease object, compatible with client-go
 * candidates using the same Lease and timings.
 *
 * - A follower takes the Lease when it is free (no holder) or when the record
 *   has not changed for leaseDurationSeconds, as measured on this process's
 *   monotonic clock from the moment it saw the record change. Timestamps in
 *   the record are written for humans and client-go but never trusted, so a
 *   skewed clock cannot make two leaders.
 * - Every write names the resourceVersion it was based on; the API server's
 *   409 Conflict settles races.
 * - The leader's deadline is the monotonic instant it sent its last successful
 *   write plus renewDeadlineSeconds. It gives up (`deposed`) shortly before
 *   that if no renew succeeded.
 *
 * - Followers watch the Lease (a resourceVersion watch, resumed when it ends,
 *   with the poll as the backstop) and try at once when it is released or
 *   deleted, and at the instant its leaseDuration has passed on their clock.
 *
 * RBAC: get, create, update and watch on `leases` in group coordination.k8s.io.
 * Needs the optional peer dependency `@kubernetes/client-node` 1.x, imported
 * on the first start(). Timing and release: see docs/electors.md.
 *
 * @example
 * const elector = new KubernetesLeaseElector({
 *   namespace: 'vcluster-a',
 *   name: 'vcluster-a-vip',
 *   identity: process.env.POD_NAME!, // unique per candidate
 * })
 * elector.on('error', (error) => console.warn(error.message)) // API server trouble; it keeps retrying
 * const announcer = new VipAnnouncer({ vip: '192.0.2.100', interface: 'net1', elector })
 */
export class KubernetesLeaseElector extends CampaignElector {
  /** Namespace of the Lease. */
  readonly namespace: string
  /** Name of the Lease. */
  readonly name: string
  /** This candidate's holderIdentity. */
  readonly identity: string
  /** Lease duration written into the Lease and waited out by followers, s (default applied). */
  readonly leaseDurationSeconds: number
  /** How long the leader keeps leadership without a successful renew, s (default applied). */
  readonly renewDeadlineSeconds: number
  /** Interval between acquire or renew attempts, s (default applied). */
  readonly retryPeriodSeconds: number

  private readonly options: KubernetesLeaseElectorOptions
  private readonly renewDeadlineMs: number
  private readonly retryMs: number
  /** @internal */
  protected readonly label: string
  /** @internal */
  protected readonly lease: LeaseTracker

  private api?: LeaseApi
  /** Where a follower's watch connects; undefined when only a client was given. */
  private kubeConfig?: KubeConfig
  private k8s?: K8sModule
  // Per campaign, reset when a new one begins (after the previous stop finished):
  private loop?: Promise<void>
  /** The request in flight; aborted when leadership is given up or on stop. */
  private inFlight?: AbortController
  /** The last record seen and when (monotonic) it was first seen in that state. */
  private observed?: { lease: V1Lease; key: string; at: number }
  /** A write was sent whose outcome is unknown, so we may hold the Lease. */
  private mayHold = false
  private watchLoop?: Promise<void>
  private watchController?: AbortController
  /** Wakes a follower when the observed holder's leaseDuration has passed on our clock. */
  private expiryTimer?: NodeJS.Timeout
  /** Ends the campaign loop's current pause early; set while it pauses. */
  private wakeUp?: () => void
  /** A wake-up came while no pause was running: the next pause is skipped. */
  private wakePending = false
  /** `observed` came from a watch event and may be written over without reading it again. */
  private observedFresh = false

  constructor(options: KubernetesLeaseElectorOptions) {
    super()
    requireOptionsObject('KubernetesLeaseElector', options)
    this.namespace = requireName('namespace', options.namespace)
    this.name = requireName('name', options.name)
    if (typeof options.identity !== 'string' || options.identity.trim() === '') {
      throw new TypeError(
        `KubernetesLeaseElector: identity must be a non-empty string unique to this candidate (the pod name), got ${JSON.stringify(options.identity)}`,
      )
    }
    this.identity = options.identity
    this.leaseDurationSeconds = seconds('leaseDurationSeconds', options.leaseDurationSeconds, 15)
    this.renewDeadlineSeconds = seconds('renewDeadlineSeconds', options.renewDeadlineSeconds, 10)
    this.retryPeriodSeconds = seconds('retryPeriodSeconds', options.retryPeriodSeconds, 2)
    if (!Number.isInteger(this.leaseDurationSeconds)) {
      throw new RangeError(
        `KubernetesLeaseElector: leaseDurationSeconds must be a whole number of seconds (the Lease field is an integer), got ${this.leaseDurationSeconds}`,
      )
    }
    // client-go's validation, with the same reasoning: the leader must give up
    // before followers may take over, and at least one jittered retry must fit
    // inside the renew deadline.
    if (this.leaseDurationSeconds <= this.renewDeadlineSeconds) {
      throw new RangeError(
        `KubernetesLeaseElector: leaseDurationSeconds (${this.leaseDurationSeconds}) must be greater than renewDeadlineSeconds (${this.renewDeadlineSeconds})`,
      )
    }
    if (this.renewDeadlineSeconds <= JITTER_FACTOR * this.retryPeriodSeconds) {
      throw new RangeError(
        `KubernetesLeaseElector: renewDeadlineSeconds (${this.renewDeadlineSeconds}) must be greater than ${JITTER_FACTOR} × retryPeriodSeconds (${this.retryPeriodSeconds})`,
      )
    }
    this.options = options
    this.renewDeadlineMs = this.renewDeadlineSeconds * 1000
    this.retryMs = this.retryPeriodSeconds * 1000
    this.lease = new LeaseTracker(this.leaseSink, {
      // A leader without a successful renew steps down this long before its deadline.
      stepDownLeadMs: Math.min(1000, this.renewDeadlineMs / 10),
      expiredReason: `no successful renew within renewDeadlineSeconds (${this.renewDeadlineSeconds} s)`,
      // A renew still in flight must not count for leadership we gave up.
      onLoss: () => this.inFlight?.abort(new Interrupted('leadership given up')),
    })
    this.label = `KubernetesLeaseElector ${this.namespace}/${this.name} (${this.identity})`
  }

  /** How far grants reach (the deadline after a successful write) and how often the leader renews (LeaderElector.timing). */
  get timing(): ElectorTiming {
    return { leaseMs: this.renewDeadlineMs, renewIntervalMs: this.retryMs }
  }

  /** @internal */
  protected async begin(): Promise<void> {
    this.observed = undefined
    this.observedFresh = false
    this.mayHold = false
    this.wakePending = false
    try {
      this.api ??= (this.options.client as LeaseApi | undefined) ?? (await this.makeClient())
      if (this.options.watch !== false) await this.prepareWatch()
    } catch (error) {
      this.stopped = true
      throw error
    }
    if (this.stopped) return
    this.loop = this.run()
    if (this.kubeConfig && this.k8s && this.options.watch !== false) this.watchLoop = this.watchLease(this.k8s, this.kubeConfig)
  }

  /** @internal */
  protected async end(wasLeader: boolean): Promise<void> {
    this.wake()
    clearTimeout(this.expiryTimer)
    this.watchController?.abort()
    await this.starting?.catch(() => undefined)
    await Promise.all([this.loop, this.watchLoop])
    this.loop = undefined
    this.watchLoop = undefined
    clearTimeout(this.expiryTimer)
    if (this.api && this.options.releaseOnStop !== false && (wasLeader || this.mayHold)) {
      await this.release(this.api)
    }
    this.mayHold = false
  }

  private loadClientLibrary(): Promise<K8sModule> {
    return loadOptionalPeer<K8sModule>('@kubernetes/client-node', 'KubernetesLeaseElector', '^1.0.0 || ^2.0.0')
  }

  /** With only a client given there is no KubeConfig to watch with: followers poll. */
  private async prepareWatch(): Promise<void> {
    if (this.options.client && !this.options.kubeConfig) return
    this.kubeConfig ??= this.options.kubeConfig as KubeConfig | undefined
    if (this.kubeConfig) this.k8s ??= await this.loadClientLibrary()
  }

  private async makeClient(): Promise<LeaseApi> {
    const k8s = (this.k8s = await this.loadClientLibrary())
    let kubeConfig = this.options.kubeConfig as KubeConfig | undefined
    if (!kubeConfig) {
      kubeConfig = new k8s.KubeConfig()
      try {
        loadDefaultKubeConfig(kubeConfig)
      } catch (error) {
        throw new Error(`${this.label}: could not load a kubeconfig: ${describe(error)}`, { cause: error })
      }
    }
    this.kubeConfig = kubeConfig
    return kubeConfig.makeApiClient(k8s.CoordinationV1Api)
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.leader) await this.renew()
        else await this.tryAcquire()
      } catch (error) {
        this.report(error, 'unexpected failure')
      }
      if (this.stopped) break
      // The leader renews every retry period; followers spread out a little so
      // they do not poll in lockstep.
      const jitter = this.leader ? 1 : 1 + (JITTER_FACTOR - 1) * Math.random()
      await this.pause(this.retryMs * jitter)
    }
  }

  /** Waits `ms`, less if stop() or wake() comes first. */
  private async pause(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false
      return
    }
    const signal = this.stopController.signal
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve()
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wakeUp = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.wakeUp = done
    })
  }

  /** A follower's reason to try now: the Lease was released, deleted or ran out. */
  private wake(): void {
    if (this.wakeUp) this.wakeUp()
    else this.wakePending = true
  }

  /**
   * Watches the Lease while campaigning: each event a follower receives is
   * observed exactly as a poll's answer would be, and wakes the campaign when
   * it could act. Resumes from the last resourceVersion when a watch ends,
   * lists afresh (a watch without one) after 410 Expired. Failures are left to
   * the poll to report: it meets the same API server every retry period.
   */
  private async watchLease(k8s: K8sModule, kubeConfig: KubeConfig): Promise<void> {
    const watch = new k8s.Watch(kubeConfig)
    let resourceVersion: string | undefined
    while (!this.stopped) {
      const startedAt = monotonicNow()
      const outcome = await this.watchOnce(watch, resourceVersion)
      if (this.stopped) break
      resourceVersion = outcome.expired ? undefined : outcome.resourceVersion ?? resourceVersion
      // A watch refused or cut at once (403: no `watch` verb, the server
      // restarting) is retried at the poll's pace, not in a tight loop.
      // (410 Expired is answered at once: watching afresh is the cure.)
      if (outcome.error !== undefined || (!outcome.expired && monotonicNow() - startedAt < this.retryMs)) await this.sleep(this.retryMs)
    }
  }

  private watchOnce(watch: InstanceType<K8sModule['Watch']>, from: string | undefined): Promise<{ resourceVersion?: string; expired?: boolean; error?: unknown }> {
    return new Promise((resolve) => {
      const controller = new AbortController()
      this.watchController = controller
      let resourceVersion: string | undefined
      let expired = false
      let settled = false
      let watchdog: NodeJS.Timeout | undefined
      const finish = (error?: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(watchdog)
        controller.abort()
        if (this.watchController === controller) this.watchController = undefined
        resolve({ resourceVersion, expired, error: error ?? undefined })
      }
      const alive = () => {
        clearTimeout(watchdog)
        watchdog = setTimeout(() => finish(new Error('the watch went silent')), WATCH_TIMEOUT_S * 1000 + this.retryMs)
      }
      alive()
      controller.signal.addEventListener('abort', () => finish(), { once: true })
      if (this.stopped) return finish()
      watch
        .watch(
          `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`,
          { fieldSelector: `metadata.name=${this.name}`, resourceVersion: from, timeoutSeconds: WATCH_TIMEOUT_S, allowWatchBookmarks: true },
          (type: string, object: V1Lease & { code?: number }) => {
            alive()
            if (type === 'ERROR') {
              expired = object?.code === 410
              return finish()
            }
            resourceVersion = object?.metadata?.resourceVersion ?? resourceVersion
            if (type !== 'BOOKMARK') this.watched(type, object)
          },
          (error: unknown) => finish(error),
        )
        .then((inner) => {
          // client-node's own controller ends the request; ours ends the wait.
          if (settled) inner.abort()
          else controller.signal.addEventListener('abort', () => inner.abort(), { once: true })
        }, finish)
    })
  }

  /** A watch event, judged like a poll's answer; a leader judges its own writes only. */
  private watched(type: string, lease: V1Lease): void {
    if (this.stopped || this.leader) return
    if (type === 'DELETED') {
      clearTimeout(this.expiryTimer)
      this.observed = undefined
      this.observedFresh = false
      return this.wake()
    }
    this.observe(lease)
    const holder = lease.spec?.holderIdentity ?? ''
    if (holder === '' || holder === this.identity) {
      this.observedFresh = true
      this.wake()
    }
  }

  private async tryAcquire(): Promise<void> {
    const api = this.api!
    let lease: V1Lease
    if (this.observedFresh && this.observed) {
      // A watch just showed it released: write over that record at once (a
      // stale one is a 409, after which the next round reads it).
      this.observedFresh = false
      if ((await this.update(api, this.observed.lease, this.renewDeadlineMs)) === 'conflict') this.wake()
      return
    }
    try {
      lease = await this.call(this.renewDeadlineMs, (o) =>
        api.readNamespacedLease({ name: this.name, namespace: this.namespace }, o),
      )
    } catch (error) {
      if (httpStatus(error) === 404) return this.create(api)
      return this.report(error, 'could not read the Lease')
    }
    this.observe(lease)
    const holder = lease.spec?.holderIdentity ?? ''
    if (holder !== '' && holder !== this.identity && !this.observedExpired()) return
    await this.update(api, lease, this.renewDeadlineMs)
  }

  private async renew(): Promise<void> {
    const api = this.api!
    // Renew from the record we wrote last; if someone changed it since, the
    // server says 409 and we look again.
    let from = this.observed!.lease
    for (let attempt = 0; attempt < 2 && this.leader; attempt++) {
      const remaining = this.lease.msUntilStepDown()
      if (remaining <= 0) return
      const outcome = await this.update(api, from, remaining)
      if (outcome !== 'conflict' || !this.leader) return
      try {
        from = await this.call(this.lease.msUntilStepDown(), (o) =>
          api.readNamespacedLease({ name: this.name, namespace: this.namespace }, o),
        )
      } catch (error) {
        if (httpStatus(error) === 404) return this.loseLeadership('the Lease object was deleted')
        return this.report(error, 'could not read the Lease after a conflict')
      }
      this.observe(from)
      const holder = from.spec?.holderIdentity ?? ''
      if (holder !== this.identity) {
        return this.loseLeadership(`the Lease is now held by ${JSON.stringify(holder)}`)
      }
    }
  }

  private async create(api: LeaseApi): Promise<void> {
    const now = new MicroTime()
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    }
    const sentAt = monotonicNow()
    this.mayHold = true
    try {
      const created = await this.call(this.renewDeadlineMs, (o) =>
        api.createNamespacedLease({ namespace: this.namespace, body }, o),
      )
      this.observe(created)
      this.wrote(sentAt)
    } catch (error) {
      const status = httpStatus(error)
      if (status !== undefined) this.mayHold = this.leader
      // 409 AlreadyExists: another candidate created it first; read it next round.
      if (status !== 409) this.report(error, 'could not create the Lease')
    }
  }

  /** Writes us as holder over `from` (acquire or renew), conditional on its resourceVersion. */
  private async update(
    api: LeaseApi,
    from: V1Lease,
    timeoutMs: number,
  ): Promise<'ok' | 'conflict' | 'failed'> {
    const spec = from.spec ?? {}
    const renewing = spec.holderIdentity === this.identity
    const now = new MicroTime()
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: from.metadata,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: renewing && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      },
    }
    const sentAt = monotonicNow()
    this.mayHold = true
    try {
      const updated = await this.call(timeoutMs, (o) =>
        api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, o),
      )
      this.observe(updated)
      this.wrote(sentAt)
      return 'ok'
    } catch (error) {
      const status = httpStatus(error)
      if (status !== undefined) this.mayHold = this.leader
      if (status === 409) return 'conflict'
      if (status === 404 && this.leader) {
        this.loseLeadership('the Lease object was deleted')
        return 'failed'
      }
      this.report(error, this.leader ? 'could not renew the Lease' : 'could not acquire the Lease')
      return 'failed'
    }
  }

  /** A write sent at `sentAt` succeeded: we hold the Lease until sentAt + renewDeadline. */
  private wrote(sentAt: number): void {
    if (this.stopped) return // stop() releases what we just wrote
    this.lease.grant(sentAt + this.renewDeadlineMs)
  }

  /** @internal */
  protected override describeError(error: unknown): string {
    return describe(error)
  }

  /**
   * Requests aborted on purpose (leadership given up, stop) are not problems.
   * @internal
   */
  protected override isReportable(error: unknown): boolean {
    return !(error instanceof Interrupted)
  }

  private observe(lease: V1Lease): void {
    const spec = lease.spec ?? {}
    // The resourceVersion changes with every write; renewTime only stands in
    // where there is none (it reads differently in a watch event, a string,
    // than in a read, a Date, so it must not tell the same record apart).
    const version = lease.metadata?.resourceVersion
    const key = [spec.holderIdentity, version ? `rv ${version}` : timeText(spec.renewTime)].join('\u0000')
    if (this.observed?.key === key) {
      this.observed.lease = lease
      return
    }
    this.observed = { lease, key, at: monotonicNow() }
    this.observedFresh = false
    // A follower tries at the instant another holder's record has been
    // unchanged for its duration, not at the first poll after.
    clearTimeout(this.expiryTimer)
    const holder = spec.holderIdentity ?? ''
    if (!this.leader && holder !== '' && holder !== this.identity) {
      this.expiryTimer = setTimeout(() => this.wake(), Math.max(0, this.observedExpiresAt() - monotonicNow()) + 1)
    }
  }

  /** True once the observed record has been unchanged for its lease duration, by our clock. */
  private observedExpired(): boolean {
    return monotonicNow() >= this.observedExpiresAt()
  }

  private observedExpiresAt(): number {
    const recorded = this.observed!.lease.spec?.leaseDurationSeconds
    // A record without a duration gets ours: waiting longer is the safe side.
    const durationS = typeof recorded === 'number' && recorded > 0 ? recorded : this.leaseDurationSeconds
    return this.observed!.at + durationS * 1000
  }

  private async release(api: LeaseApi): Promise<void> {
    const signal = new AbortController().signal
    // A renew aborted by stop() may still have been applied, so read before
    // writing, and retry once if something changed under us.
    for (let attempt = 0; attempt < 3; attempt++) {
      let lease: V1Lease
      try {
        lease = await this.call(
          this.renewDeadlineMs,
          (o) => api.readNamespacedLease({ name: this.name, namespace: this.namespace }, o),
          signal,
        )
      } catch (error) {
        if (httpStatus(error) !== 404) this.report(error, 'could not read the Lease to release it')
        return
      }
      if (lease.spec?.holderIdentity !== this.identity) return
      const now = new MicroTime()
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: lease.metadata,
        // client-go's release: no holder, a 1 s lease for clients that ignore
        // the empty holder, transitions kept.
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      }
      try {
        await this.call(
          this.renewDeadlineMs,
          (o) => api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, o),
          signal,
        )
        return
      } catch (error) {
        if (httpStatus(error) === 409) continue
        this.report(error, 'could not release the Lease')
        return
      }
    }
  }

  /**
   * Runs one API call, aborted after `timeoutMs`, on stop (unless another
   * parent signal is given) or when leadership is given up.
   */
  private async call<T>(
    timeoutMs: number,
    send: (options: CallOptions) => Promise<T>,
    parent: AbortSignal = this.stopController.signal,
  ): Promise<T> {
    const controller = new AbortController()
    const onParentAbort = () => controller.abort(new Interrupted('stopped'))
    if (parent.aborted) onParentAbort()
    else parent.addEventListener('abort', onParentAbort, { once: true })
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${Math.round(timeoutMs)} ms`)),
      Math.max(0, timeoutMs),
    )
    this.inFlight = controller
    try {
      return await send(withSignal(controller.signal))
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason
      throw error
    } finally {
      clearTimeout(timer)
      parent.removeEventListener('abort', onParentAbort)
      if (this.inFlight === controller) this.inFlight = undefined
    }
  }
}

/**
 * Loads the in-cluster configuration when the service environment variables
 * are set, else the default kubeconfig (as kubectl finds it).
 */
export function loadDefaultKubeConfig(kubeConfig: KubeConfigLike): void {
  if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) kubeConfig.loadFromCluster()
  else kubeConfig.loadFromDefault()
}

/** Why we aborted a request ourselves (not a timeout): nothing to report. */
class Interrupted extends Error {}

/** V1MicroTime's serialisation (RFC 3339 with microseconds), which the API server requires. */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().slice(0, -1) + '000Z'
  }
}

// The generated client's middleware API expects its own minimal Observable;
// only `toPromise()` is ever called on what a middleware returns.
function withSignal(signal: AbortSignal): CallOptions {
  const observableOf = <T>(value: T) => ({ toPromise: () => Promise.resolve(value) })
  return {
    middleware: [
      {
        pre: (context: { setSignal(signal: AbortSignal): void }) => {
          context.setSignal(signal)
          return observableOf(context)
        },
        post: (response: unknown) => observableOf(response),
      },
    ],
    middlewareMergeStrategy: 'append',
  } as unknown as CallOptions
}

function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

function describe(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return String(error)
  const status = httpStatus(error)
  if (status !== undefined) {
    // ApiException carries the API server's Status object as its body.
    const body = (error as { body?: unknown }).body
    let message: unknown
    try {
      message = (typeof body === 'string' ? JSON.parse(body) : body)?.message
    } catch {
      message = undefined
    }
    return `HTTP ${status}${typeof message === 'string' ? `: ${message}` : ''}`
  }
  const code = (error as NodeJS.ErrnoException).code
  const text = code && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  // @kubernetes/client-node 2.x requests with fetch (undici), whose network
  // errors are a bare 'fetch failed' with the socket error (ECONNREFUSED,
  // ENOTFOUND, ...) as the cause; 1.x (node-fetch) put it in the message.
  const cause = error.cause
  if (depth < 3 && cause instanceof Error) {
    const causeText = describe(cause, depth + 1)
    if (causeText && !text.includes(causeText)) return `${text}: ${causeText}`
  }
  return text
}

function timeText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value ?? '')
}

function requireName(field: 'namespace' | 'name', value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`KubernetesLeaseElector: ${field} must be a non-empty string, got ${JSON.stringify(value)}`)
  }
  const problem = kubernetesNameProblem(field, value)
  if (problem) throw new TypeError(`KubernetesLeaseElector: ${problem}`)
  return value
}

function seconds(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`KubernetesLeaseElector: ${field} must be a positive number of seconds, got ${String(value)}`)
  }
  return value
}
