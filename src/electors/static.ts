// The elector for a single replica: always leader while started.
import { monotonicNow } from '../clock'
import { ElectorEmitter, type LeaderElector } from '../elector'
import type { ElectorTiming } from '../kernel-lifetime'

/** Options of {@link StaticElector}. */
export interface StaticElectorOptions {
  /**
   * How far each self-renewal reaches, ms. Nothing can take leadership away,
   * but a finite lease gives the VIP a kernel lifetime, so a replica whose
   * processes are all killed at once (a container runtime's kill) leaves no
   * VIP behind: the kernel deletes it within this long. `Infinity` for no
   * lease and no lifetime (the VIP then outlives such a kill). Default 4000.
   */
  leaseMs?: number
  /** How often it renews itself, ms; default leaseMs / 4. Must be < leaseMs. */
  renewIntervalMs?: number
}

/**
 * Leader from start() to stop(): nothing else can take leadership away
 * without this process knowing. For a single replica, or when something
 * outside the process guarantees there is only one. It renews its own lease
 * on a timer so that the VIP carries a short kernel lifetime (see
 * `leaseMs`); a renewal late because this event loop was blocked for longer
 * than the lease lets the announcer's guard remove the VIP until the next one.
 *
 * @example
 * const announcer = new VipAnnouncer({ vip: '192.0.2.100', interface: 'eth0', elector: new StaticElector() })
 * await announcer.start() // elected at once: the VIP goes up
 */
export class StaticElector extends ElectorEmitter implements LeaderElector {
  /** How far each renewal reaches, ms (default applied). */
  readonly leaseMs: number
  /** How often it renews, ms (default applied; Infinity with an unlimited lease). */
  readonly renewIntervalMs: number
  private leader = false
  private timer: NodeJS.Timeout | undefined
  private deadline = -Infinity

  constructor(options: StaticElectorOptions = {}) {
    super()
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object')
    const leaseMs = options.leaseMs ?? 4000
    if (typeof leaseMs !== 'number' || Number.isNaN(leaseMs) || leaseMs <= 0) {
      throw new RangeError(`leaseMs: expected a positive number of milliseconds or Infinity, got ${String(leaseMs)}`)
    }
    const renewIntervalMs = options.renewIntervalMs ?? (leaseMs === Infinity ? Infinity : Math.max(1, Math.floor(leaseMs / 4)))
    if (leaseMs !== Infinity) {
      if (typeof renewIntervalMs !== 'number' || !Number.isFinite(renewIntervalMs) || renewIntervalMs <= 0) {
        throw new RangeError(`renewIntervalMs: expected a positive number of milliseconds, got ${String(renewIntervalMs)}`)
      }
      if (renewIntervalMs >= leaseMs) throw new RangeError(`renewIntervalMs: must be shorter than leaseMs (${leaseMs}), got ${renewIntervalMs}`)
    }
    this.leaseMs = leaseMs
    this.renewIntervalMs = renewIntervalMs
  }

  /** How far grants reach and how often they are renewed (LeaderElector.timing). */
  get timing(): ElectorTiming {
    return { leaseMs: this.leaseMs, renewIntervalMs: this.renewIntervalMs }
  }

  /** True from start() to stop(). */
  get isLeader(): boolean {
    return this.leader
  }

  /** Emits 'elected' before it resolves, then 'renewed' every renewIntervalMs. Idempotent. */
  async start(): Promise<void> {
    if (this.leader) return
    this.leader = true
    this.deadline = Math.max(this.deadline, monotonicNow() + this.leaseMs)
    if (this.leaseMs !== Infinity) {
      this.timer = setInterval(() => {
        this.deadline = Math.max(this.deadline, monotonicNow() + this.leaseMs)
        this.emit('renewed', { deadline: this.deadline })
      }, this.renewIntervalMs)
    }
    this.emit('elected', { deadline: this.deadline })
  }

  /** Emits 'deposed' ('stopped') if started. Idempotent; start() may follow again. */
  async stop(): Promise<void> {
    if (!this.leader) return
    this.leader = false
    clearInterval(this.timer)
    this.timer = undefined
    this.emit('deposed', 'stopped')
  }
}
