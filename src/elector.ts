// The leadership contract between the announcer and whoever decides who leads.
// docs/electors.md explains it for people writing their own elector.
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'
import { monotonicNow } from './clock'
import type { ElectorTiming } from './kernel-lifetime'

/** A grant of leadership. */
export interface Lease {
  /**
   * The instant until which no other candidate can become leader, as this
   * process measures it: milliseconds on CLOCK_MONOTONIC (see `monotonicNow()`).
   * The announcer removes the VIP before this instant unless a renewal moves it
   * forward, and gives each VIP a kernel lifetime that ends before it
   * (docs/architecture.md), so the VIP disappears by this instant even if
   * every process of this replica dies. `Infinity` means leadership cannot
   * end without this process knowing: the VIP then has no kernel lifetime and
   * outlives a whole-container kill (the announcer logs a warning).
   */
  deadline: number
}

/** The events every LeaderElector emits, in the order `elected` → (`renewed`)* → `deposed`, repeated. */
export type ElectorEvents = {
  /** This candidate became leader. Always the first leadership event. */
  elected: (lease: Lease) => void
  /** Leadership renewed; the deadline only ever moves forward. */
  renewed: (lease: Lease) => void
  /** Leadership lost or released. Only ever after `elected`. */
  deposed: (reason: string) => void
  /**
   * A problem worth reporting that did not (yet) change leadership. An
   * elector must never emit 'error' while nobody listens (EventEmitter would
   * throw it, inside a timer or callback: a crash); without a listener it
   * falls back to `process.emitWarning`.
   */
  error: (error: Error) => void
}

/**
 * Decides which candidate leads; the announcer holds the VIP exactly while its
 * elector says so, and never past the announced deadline. The ready electors
 * are StaticElector, FileLockElector, KubernetesLeaseElector and EtcdElector;
 * the contract in full, and how to write and test another, is in
 * docs/electors.md.
 */
export interface LeaderElector extends TypedEmitter<ElectorEvents> {
  /**
   * Begin campaigning. Resolves once campaigning runs, not when elected.
   * Idempotent while campaigning (repeated calls return the same outcome).
   *
   * After `stop()`, `start()` campaigns again: it waits for that stop to
   * finish (also when called while `stop()` is still in flight, for example
   * from a 'deposed' listener during `stop()`), then starts a fresh campaign
   * that may be elected again later. A `stop()` after it stops the new
   * campaign. The announcer relies on this to step down and campaign
   * again (after its guard process died, and while its interface is gone:
   * a replica that can't hold the VIP does not campaign).
   */
  start(): Promise<void>
  /**
   * Stop campaigning and release leadership if held ('deposed' is emitted
   * first), so another candidate can take over at once. Idempotent within one
   * campaign; once it resolves the elector emits nothing more until the next
   * `start()`, and holds no timers, watches or connections for the campaign.
   */
  stop(): Promise<void>
  /** True between 'elected' and 'deposed'; agrees with the events. */
  readonly isLeader: boolean
  /**
   * Optional. A file descriptor whose open file description carries
   * leadership (the file-lock elector's locked file). The announcer hands a
   * duplicate to its guard process, so if this process dies the lock is only
   * released after the guard has removed the VIP: takeovers never overlap.
   * Read once, before `start()`.
   */
  readonly fencingFd?: number
  /**
   * Optional, with `fencingFd`: bytes the guard writes at offset 0 of that
   * file after it has removed every VIP and before it releases the lock (the
   * file-lock elector's "released" mark, which lets a successor take over
   * at once instead of waiting out the dead holder's deadline). Read once,
   * before `start()`.
   */
  readonly fencingRecord?: Uint8Array
  /**
   * Optional: how far grants reach and how often they are renewed. The
   * announcer refuses, at construction, timing too short for the VIP's
   * kernel lifetime (docs/electors.md says the minimum). Without it the
   * announcer checks each grant as it comes and refuses to add the VIP under
   * one that is too short.
   */
  readonly timing?: ElectorTiming
}

/** Base class with a typed emitter; electors may extend it but need not. */
export class ElectorEmitter extends (EventEmitter as new () => TypedEmitter<ElectorEvents>) {}

/** Where a LeaseTracker sends the leadership events (the elector's emit, or one that catches listener errors). */
export interface LeaseTrackerSink {
  elected(lease: Lease): void
  renewed(lease: Lease): void
  deposed(reason: string): void
}

export interface LeaseTrackerOptions {
  /**
   * How long before the deadline a holder without a newer grant gives up:
   * 'deposed' comes this early, so the announcer removes the VIP while the
   * promise still holds.
   */
  stepDownLeadMs: number
  /** The 'deposed' reason when the deadline comes without a newer grant. */
  expiredReason: string
  /** Runs when leadership ends, just before 'deposed' (to abort a renewal still in flight, say). */
  onLoss?: (reason: string) => void
}

/**
 * The rule at the core of the elector contract, in one place: a grant that
 * reaches `deadline` makes a follower leader ('elected') or moves a leader's
 * deadline forward ('renewed'; a grant that would move it back is ignored),
 * and re-arms the step-down timer, which says 'deposed' `stepDownLeadMs`
 * before the deadline unless a newer grant came. `lose()` ends leadership
 * early. An elector supplies the grants (each from the send time of a
 * successful write, never the time its answer arrived); the tracker supplies
 * the events and the timer. Every method is synchronous, so events come
 * from the caller's own stack, in order.
 */
export class LeaseTracker {
  private leader = false
  private until = 0
  private timer?: NodeJS.Timeout

  constructor(
    private readonly sink: LeaseTrackerSink,
    private readonly options: LeaseTrackerOptions,
  ) {
    if (!(options.stepDownLeadMs >= 0) || !Number.isFinite(options.stepDownLeadMs)) {
      throw new RangeError(`LeaseTracker: stepDownLeadMs must be a finite number ≥ 0, got ${String(options.stepDownLeadMs)}`)
    }
  }

  /** True between 'elected' and 'deposed'. */
  get isLeader(): boolean {
    return this.leader
  }

  /** The current grant's deadline (monotonic ms); meaningless while not leader. */
  get deadline(): number {
    return this.until
  }

  /** Milliseconds left until the step-down (negative once it is due); for a renewal's patience. */
  msUntilStepDown(now = monotonicNow()): number {
    return this.until - this.options.stepDownLeadMs - now
  }

  /**
   * A successful write reaching `deadline`. Returns the event emitted, or
   * undefined when a leader's deadline would not move forward. A deadline that
   * is not a finite number is refused (it would mean "never step down").
   */
  grant(deadline: number): 'elected' | 'renewed' | undefined {
    if (!Number.isFinite(deadline)) throw new RangeError(`LeaseTracker: a grant's deadline must be a finite number, got ${String(deadline)}`)
    if (this.leader && deadline <= this.until) return undefined
    const event = this.leader ? 'renewed' : 'elected'
    this.leader = true
    this.until = deadline
    this.arm()
    this.sink[event]({ deadline })
    return event
  }

  /** Ends leadership now ('deposed' with `reason`); false if not leader. */
  lose(reason: string): boolean {
    if (!this.leader) return false
    this.leader = false
    clearTimeout(this.timer)
    this.timer = undefined
    this.options.onLoss?.(reason)
    this.sink.deposed(reason)
    return true
  }

  private arm(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.lose(this.options.expiredReason), Math.max(0, this.msUntilStepDown()))
  }
}
