// The follower's guard takes over the instant it gets the file lock (issue 9,
// part A). With a FileLockElector the guard holds a duplicate of the lock's
// open file description (fd 3), so a flock it gets is the elector's. While
// this replica is a follower, the elector stops trying the lock from the JS
// thread (deferToGuard) and the guard waits for it instead (LOCKWAIT); on
// getting it the guard judges the record as the elector would, records the
// grant, arms, adds the footprint and sends the first burst, all before this
// thread hears of it. Then this module makes the elector adopt the grant
// ('elected', with the guard's deadline) and hands the announcer the guard's
// outcome, so it takes nothing again.
//
// Who tries the lock: exactly one side at a time. The elector while not
// deferred; the guard from LOCKWAIT until its "* LOCKED" line or the reply to
// LOCKCANCEL (whichever the pipe carries first). Who writes the record: the
// guard once, for the grant it took the lock with (the elector is deferred
// and writes nothing meanwhile); the elector from 'elected' on.
//
// The decisions stay here and in the elector; guard.cc only does the
// syscalls (flock, pread/pwrite of the record, TAKE) in the order given.
import type { LeaderElector } from '../elector'
import type { GuardLockWaitTerms } from '../electors/file-lock'
import type { LockWaitResult, TakeOutcome } from '../guard'
import { EXPIRY_LATENESS_MS, lifetimeFor } from '../kernel-lifetime'
import type { GuardPort } from './host'

/**
 * How long after its flock the guard may still add the VIP with the lifetime
 * chosen here, at least: the lifetime is chosen for a grant this much shorter
 * than the lease, so a guard that lost the CPU for a while after the flock
 * still adds an address the kernel deletes before the deadline. A guard later
 * than the exact bound declines (nothing added) and this thread takes over.
 */
const ADD_BUDGET_MS = 50

/** The elector side (FileLockElector implements it). */
interface LockWaitElector {
  deferToGuard(cancel: () => Promise<void>): GuardLockWaitTerms | undefined
  resumeFromGuard(): void
  adoptFromGuard(grant: { deadline: number }): boolean
}

function lockWaitElector(elector: LeaderElector): LockWaitElector | undefined {
  const candidate = elector as Partial<LockWaitElector>
  const fits = typeof candidate.deferToGuard === 'function' && typeof candidate.resumeFromGuard === 'function' && typeof candidate.adoptFromGuard === 'function'
  return fits ? (candidate as LockWaitElector) : undefined
}

/** The guard's part in an 'elected' that its lock wait brought about (LockTakeover.adopted). */
export interface GuardGrant<Plan> {
  /** When the guard got the lock (CLOCK_MONOTONIC ms): the election's instant. */
  acquiredAt: number
  /** The lifetime the guard gave the VIPs, s. */
  lifetimeS: number
  /** The take plan the guard used. */
  plan: Plan
  /** What the guard did; undefined when its TAKE failed (nothing added): the announcer's own path takes over. */
  outcome?: TakeOutcome
}

export interface LockTakeoverHooks {
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void
  /** The guard died while it waited: whatever it may have added is this thread's to remove. */
  abandoned(): void
}

interface Wait<Plan> {
  guard: GuardPort
  plan: Plan
  lifetimeS: number
  onLocked: (result: LockWaitResult) => void
  onExit: () => void
}

export class LockTakeover<Plan> {
  private readonly elector: LockWaitElector | undefined
  private wait: Wait<Plan> | undefined
  private grant: GuardGrant<Plan> | undefined

  constructor(elector: LeaderElector, private readonly hooks: LockTakeoverHooks) {
    this.elector = lockWaitElector(elector)
  }

  /** True while the guard waits for the lock (or is being asked to). */
  get waiting(): boolean {
    return this.wait !== undefined
  }

  /**
   * Has `guard` wait for the lock with `plan` (already taught to it), if the
   * elector is campaigning and lets it. The caller has checked that this
   * replica may take the VIP now. Idempotent while a wait runs.
   */
  async start(guard: GuardPort, plan: Plan, marginMs: number): Promise<void> {
    const elector = this.elector
    if (!elector || this.wait || !guard.alive) return
    const terms = elector.deferToGuard(() => this.cancel())
    if (!terms) return
    // The grant reaches acquisition + leaseMs, so the lifetime is known now
    // (lifetimeFor as acquire() uses it), for an add at most ADD_BUDGET_MS
    // after the flock; the guard checks the exact bound, addWithinMs.
    const lifetimeS = lifetimeFor(terms.leaseMs - ADD_BUDGET_MS, 0)
    if (lifetimeS === 0 || !Number.isFinite(lifetimeS)) {
      elector.resumeFromGuard() // acquire() reports the lease as too short
      return
    }
    const wait: Wait<Plan> = {
      guard,
      plan,
      lifetimeS,
      onLocked: (result) => this.onLocked(wait, result),
      onExit: () => this.onExit(wait),
    }
    guard.on('locked', wait.onLocked)
    guard.once('exit', wait.onExit)
    this.wait = wait
    let started = false
    try {
      const addWithinMs = terms.leaseMs - EXPIRY_LATENESS_MS - lifetimeS * 1000
      started = await guard.lockWait({ leaseMs: terms.leaseMs, marginMs, lifetimeS, addWithinMs, pollMs: terms.pollIntervalMs, pid: terms.pid, boot: terms.boot })
    } catch (error) {
      this.hooks.log('warn', 'the guard cannot wait for the lock; this thread does', { error: (error as Error).message })
    }
    if (!started && this.wait === wait) {
      this.end(wait)
      elector.resumeFromGuard()
    } else if (started) {
      this.hooks.log('debug', 'the guard waits for the file lock', { event: 'lock-wait' })
    }
  }

  /**
   * Ends the guard's wait, if any; the elector tries the lock itself again.
   * If the guard got the lock before it read the cancel, that outcome is
   * handled (adopted) before this resolves: callers re-check what they hold.
   */
  async cancel(): Promise<void> {
    const wait = this.wait
    if (!wait) return
    try {
      await wait.guard.lockCancel()
    } catch {
      // The guard is gone: onExit ended the wait.
    }
    if (this.wait === wait) {
      this.end(wait)
      this.elector!.resumeFromGuard()
    }
  }

  /**
   * For the announcer's 'elected' handler: the guard's grant behind this
   * election, if the guard's lock wait made it (read once, during the event).
   */
  adopted(): GuardGrant<Plan> | undefined {
    const grant = this.grant
    this.grant = undefined
    return grant
  }

  private onLocked(wait: Wait<Plan>, result: LockWaitResult): void {
    if (this.wait !== wait) return
    this.end(wait)
    const elector = this.elector!
    if (result.verdict !== 'taken' && result.verdict !== 'failed') {
      // Not taken: the elector judges the lock itself (it may hold it now,
      // through the guard's flock): a dead holder's deadline to wait out, a
      // record to write, a replaced file.
      if (result.verdict === 'error') this.hooks.log('warn', 'the guard could not wait for the lock; this thread does', { error: result.message })
      elector.resumeFromGuard()
      return
    }
    if (result.verdict === 'failed') {
      this.hooks.log('warn', 'the guard got the lock but could not take over; this thread takes over', { error: result.message, code: result.code })
    }
    this.grant = { acquiredAt: result.acquiredAt, lifetimeS: wait.lifetimeS, plan: wait.plan, ...(result.verdict === 'taken' ? { outcome: result.outcome } : {}) }
    let adopted = false
    try {
      adopted = elector.adoptFromGuard({ deadline: result.deadline })
    } finally {
      this.grant = undefined
    }
    if (!adopted && result.verdict === 'taken') {
      // The footprint is on the host, but we do not lead (our description
      // lost the lock, the file was replaced): the guard removes it again.
      this.hooks.log('error', 'the guard took over but the elector does not hold the lock; removing the VIP again')
      wait.guard.fence().catch(() => {})
    }
  }

  private onExit(wait: Wait<Plan>): void {
    if (this.wait !== wait) return
    this.end(wait)
    this.hooks.abandoned()
    this.elector!.resumeFromGuard()
  }

  private end(wait: Wait<Plan>): void {
    wait.guard.off('locked', wait.onLocked)
    wait.guard.off('exit', wait.onExit)
    this.wait = undefined
  }
}
