// A complete, small elector over an in-memory lease table. It is what
// docs/electors.md walks through as "writing your own elector", and it lets a
// host test its announcer integration (and the conformance kit test itself)
// without a Kubernetes or etcd backend. Candidates must share one process.
import { monotonicNow } from '../clock'
import { ElectorEmitter, LeaseTracker, type LeaderElector } from '../elector'
import { validateInteger } from '../net/validate'

/**
 * A lease table shared by candidates in one process, standing in for any
 * store with an atomic "take it if free, expired or mine" operation (a
 * database row, Redis `SET NX PX` plus a compare-and-renew script...).
 * Requests take `latencyMs` each way; a partitioned candidate's requests never
 * arrive, as over a cut network link.
 */
export class MemoryLeaseStore {
  private holder?: { identity: string; expiresAt: number }
  private readonly cut = new Map<string, Set<(error: Error) => void>>()

  /** @param latencyMs - Delay of each request, each way, ms (0 to 60000). Default 2. */
  constructor(readonly latencyMs = 2) {
    validateInteger(latencyMs, 'latencyMs', 0, 60_000)
  }

  /**
   * Takes or renews the lease for `ttlMs`, counted from when the request
   * arrives (never before it was sent). Resolves true if `identity` now holds it.
   */
  async acquire(identity: string, ttlMs: number): Promise<boolean> {
    await this.travel(identity)
    const now = monotonicNow()
    const held = this.holder && this.holder.identity !== identity && this.holder.expiresAt > now
    if (!held) this.holder = { identity, expiresAt: now + ttlMs }
    await this.travel(identity)
    return !held
  }

  /** Frees the lease if `identity` holds it. */
  async release(identity: string): Promise<void> {
    await this.travel(identity)
    if (this.holder?.identity === identity) this.holder = undefined
  }

  /** Who holds an unexpired lease, if anyone. */
  get currentHolder(): string | undefined {
    return this.holder && this.holder.expiresAt > monotonicNow() ? this.holder.identity : undefined
  }

  /**
   * Cuts `identity` off: its requests hang. The returned function heals the
   * link; requests caught in the partition then fail (connection reset).
   */
  partition(identity: string): () => void {
    const pending = new Set<(error: Error) => void>()
    this.cut.set(identity, pending)
    return () => {
      if (this.cut.get(identity) !== pending) return
      this.cut.delete(identity)
      for (const fail of pending) fail(new Error('connection reset after a partition'))
    }
  }

  private travel(identity: string): Promise<void> {
    const pending = this.cut.get(identity)
    if (pending) return new Promise((_, reject) => pending.add(reject))
    return new Promise((resolve) => setTimeout(resolve, this.latencyMs))
  }
}

/** Options of {@link MemoryLeaseElector}. */
export interface MemoryLeaseElectorOptions {
  /** This candidate's name in the store. */
  identity: string
  /** Lease length. Default 1000 ms. */
  ttlMs?: number
}

/**
 * Leader election over a {@link MemoryLeaseStore}: the pattern every lease-
 * based elector follows.
 *
 * - Try to take or renew the lease every ttl/3.
 * - A success whose request was *sent* at `t` grants leadership until
 *   `t + ttl − margin`: the store counts the ttl from arrival, which is later.
 * - Without a success, give up (`deposed`) one margin before that deadline;
 *   never wait for an answer past it.
 * - On stop, say `deposed` first, then release, so another takes over at once.
 * - A start() after stop() waits for that stop to finish, then campaigns again.
 *
 * @example
 * // Two candidates in one process, e.g. to test an announcer integration:
 * const store = new MemoryLeaseStore()
 * const a = new MemoryLeaseElector(store, { identity: 'a' })
 * const b = new MemoryLeaseElector(store, { identity: 'b', ttlMs: 500 })
 * await Promise.all([a.start(), b.start()]) // one of them is elected shortly after
 */
export class MemoryLeaseElector extends ElectorEmitter implements LeaderElector {
  /** This candidate's name in the store. */
  readonly identity: string
  private readonly ttlMs: number
  /** A grant reaches one margin short of the store's expiry; the step-down comes one margin before that. */
  private readonly marginMs: number
  private readonly lease: LeaseTracker
  private running = false
  private starting?: Promise<void>
  private stopping?: Promise<void>
  /** The start() whose campaign is wanted; stop() clears it. */
  private wanted?: object
  private loop?: Promise<void>
  private tick?: NodeJS.Timeout
  private wake?: () => void

  constructor(
    private readonly store: MemoryLeaseStore,
    options: MemoryLeaseElectorOptions,
  ) {
    super()
    if (typeof options?.identity !== 'string' || options.identity === '') {
      throw new TypeError(`MemoryLeaseElector: identity must be a non-empty string, got ${JSON.stringify(options?.identity)}`)
    }
    const ttlMs = options.ttlMs ?? 1000
    if (!Number.isFinite(ttlMs) || ttlMs < 30) {
      throw new RangeError(`MemoryLeaseElector: ttlMs must be a number ≥ 30, got ${String(ttlMs)}`)
    }
    this.identity = options.identity
    this.ttlMs = ttlMs
    this.marginMs = ttlMs / 10
    this.lease = new LeaseTracker(
      { elected: (lease) => this.emit('elected', lease), renewed: (lease) => this.emit('renewed', lease), deposed: (reason) => this.emit('deposed', reason) },
      { stepDownLeadMs: this.marginMs, expiredReason: 'no successful renewal in time' },
    )
  }

  /** True between 'elected' and 'deposed'. */
  get isLeader(): boolean {
    return this.lease.isLeader
  }

  start(): Promise<void> {
    // Once per campaign: the first start(), or the first after a stop().
    if (this.starting === undefined || this.stopping !== undefined) {
      const previousStop = this.stopping
      const wanted = (this.wanted = {})
      this.stopping = undefined
      this.starting = (async () => {
        await previousStop // its loop and release must be over
        if (this.wanted !== wanted) return // stopped again meanwhile
        this.running = true
        this.loop = this.campaign()
      })()
    }
    return this.starting
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping
    this.wanted = undefined
    this.running = false
    clearTimeout(this.tick)
    this.wake?.()
    const starting = this.starting
    const stopping = (this.stopping = (async () => {
      await starting
      await this.loop
      // Even a follower: an attempt cut short by stop() may have won.
      await withTimeout(this.store.release(this.identity), this.ttlMs / 3).catch(() => undefined)
    })())
    // Only now: a 'deposed' listener that calls start() must find this stop to wait for.
    this.lease.lose('stopped')
    return stopping
  }

  private async campaign(): Promise<void> {
    while (this.running) {
      await this.attempt()
      await new Promise<void>((resolve) => {
        this.wake = resolve
        this.tick = setTimeout(resolve, this.ttlMs / 3)
      })
    }
  }

  private async attempt(): Promise<void> {
    const sentAt = monotonicNow()
    // Never wait for an answer past the point where we would give up.
    const patienceMs = this.lease.isLeader ? this.lease.msUntilStepDown(sentAt) : this.ttlMs / 3
    let won: boolean
    try {
      won = await withTimeout(this.store.acquire(this.identity, this.ttlMs), patienceMs)
    } catch (error) {
      // An 'error' event nobody listens to would throw.
      if (this.running && this.listenerCount('error') > 0) this.emit('error', error as Error)
      return
    }
    if (!this.running) return
    if (!won) {
      this.lease.lose('the lease is held by another candidate')
      return
    }
    this.lease.grant(sentAt + this.ttlMs - this.marginMs)
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), Math.max(0, ms))
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    )
  })
}
