// The announcer's tenure over the VIP: the guard process, the lifeline it
// watches, the lock fd it shares with a file-lock elector, the announcer's
// own deadline timer, and the take and release transactions that must keep
// them in step with the footprint on the host.
//
// The fencing policy lives here, in one place: when the fence falls (the
// deadline less `fenceMarginMs`), that the guard holds the removal and the
// deadline before anything is added (break before make), what a takeover the
// guard did not answer leaves behind (nothing: this side removes it), and that
// a deadline the guard did not confirm is a reason to step down. src/guard.ts
// is only the pipe: it encodes commands and parses replies. What to do when
// the guard fenced or died is the state machine's (announcer.ts), told through
// TenureHandlers.
import { monotonicNow } from '../clock'
import type { Lease, LeaderElector } from '../elector'
import type { Footprint } from '../footprint'
import type { Lifeline, TakeOutcome } from '../guard'
import { log, type Logger } from '../logger'
import { gratuitousArp, neighbourAdvertisement } from '../net/frames'
import type { ResolvedOptions } from '../options'
import type { AnnouncerHost, GuardPort } from './host'
import type { LinkBinding } from './link-binding'

/** The guard's takeover plan (see teach): for which footprint and guard, from which MAC, and each frame's VIP. */
export interface TakePlan {
  footprint: Footprint
  guard: GuardPort
  mac: string
  vips: string[]
}

/** What the tenure reports to the state machine. */
export interface TenureHandlers {
  /** The guard removed the footprint (the deadline passed unrenewed, or it was asked to). */
  fenced(reason: string): void
  /** The guard process ended while it was the tenure's guard. */
  exit(guard: GuardPort, code: number | null, signal: string | null): void
}

/** The instants of a takeover performed by this thread (Tenure.takeByHost). */
export interface HostTake {
  /** The guard holds the deadline and the removal (its command is in the pipe). */
  armedAt: number
  /** The footprint is on the host. */
  appliedAt: number
}

export class Tenure {
  guard: GuardPort | undefined
  /** The elector's fd carrying leadership (file lock), shared with the guard. */
  private lockFd: number | undefined
  private lifeline: Lifeline | undefined
  /** What the guard holds to perform the takeover itself (TAKE), once it has accepted it; undefined: this thread takes over. */
  takePlan: TakePlan | undefined
  private deadlineTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly host: AnnouncerHost,
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
    private readonly binding: LinkBinding,
    private readonly handlers: TenureHandlers,
  ) {}

  /** When this replica must have let go of the VIP under `lease`: its deadline, less the margin. */
  fenceAt(lease: Lease): number {
    return lease.deadline - this.options.fenceMarginMs
  }

  /** The lifeline and the first guard (at start). */
  async open(elector: LeaderElector): Promise<void> {
    this.lockFd = elector.fencingFd
    this.lifeline = this.host.createLifeline()
    await this.startGuard(elector)
  }

  async startGuard(elector: LeaderElector): Promise<void> {
    const guard = await this.host.startGuard({ netns: this.options.netns, lockFd: this.lockFd, lifeline: this.lifeline, nice: this.options.guardNice })
    guard.on('fenced', (reason) => this.handlers.fenced(reason))
    guard.on('exit', (code, signal) => this.handlers.exit(guard, code, signal))
    guard.on('log', (line) => log(this.logger, 'warn', 'guard', { line }))
    this.guard = guard
    const record = elector.fencingRecord
    if (this.lockFd !== undefined && record) await guard.setReleaseRecord(record)
    if (this.binding.footprint) await this.teach()
  }

  /** The guard that died is forgotten (its exit is expected from here on when it is `guard`); true if it was ours. */
  dropGuard(guard: GuardPort): boolean {
    if (this.guard !== guard) return false
    this.guard = undefined
    return true
  }

  /**
   * Hands the guard the removal (for fencing) and the takeover plan (for
   * TAKE): this footprint's adds with their undo, and the first burst's
   * frames from the interface's MAC. Once per footprint, off the takeover path.
   */
  async teach(): Promise<void> {
    const guard = this.guard!
    const footprint = this.binding.footprint!
    this.takePlan = undefined
    await guard.setActions(footprint.fenceRequests())
    if (!this.binding.packets || !this.binding.link) return
    // Read afresh (two ioctls): the socket's copy is only updated when it sends.
    const mac = this.binding.packets.readLink().mac
    const ifindex = this.binding.link.index
    const vips: string[] = []
    const frames: Buffer[] = []
    for (const vip of this.options.vips) {
      for (let i = 0; i < this.options.schedule.burst; i++) {
        const built = vip.family === 4 ? this.options.arpKinds.map((kind) => gratuitousArp(kind, mac, vip.address)) : [neighbourAdvertisement(mac, vip.address)]
        for (const frame of built) {
          frames.push(frame)
          vips.push(vip.address)
        }
      }
    }
    let accepted = false
    try {
      accepted = await guard.setTakePlan(footprint.takeSteps(), frames.map((frame) => ({ ifindex, frame })))
    } catch (error) {
      // A guard that can't take the plan (no packet socket for it, say)
      // leaves the takeover to this thread, as before TAKE existed.
      log(this.logger, 'warn', 'the guard cannot perform the takeover; this thread will', { error: (error as Error).message })
    }
    // Only the plan for the footprint and guard of now: an attach or a guard
    // restart while this was in flight has taught (or will teach) another.
    if (accepted && this.binding.footprint === footprint && this.guard === guard) this.takePlan = { footprint, guard, mac, vips }
  }

  /** The guard's plan, if it is for the footprint and guard of now and can be used as it is. */
  usablePlan(): TakePlan | undefined {
    const plan = this.takePlan
    const footprint = this.binding.footprint
    return plan && footprint && plan.footprint === footprint && plan.guard === this.guard && !footprint.avoiding ? plan : undefined
  }

  /**
   * The takeover by the guard (TAKE): it arms, adds the footprint and sends
   * the first burst. Resolves the outcome, or undefined when the guard
   * declined and took nothing. Rejects when the takeover failed, with nothing
   * left on the host: a refused add the guard undid (and disarmed), or a guard
   * that died or went silent, whose possible adds this thread removes.
   */
  async takeByGuard(fenceAt: number, lifetime: number): Promise<TakeOutcome | undefined> {
    const guard = this.guard!
    try {
      return await guard.take(fenceAt, lifetime)
    } catch (error) {
      const failure = error as NodeJS.ErrnoException
      if (failure.code === 'ERR_TAKE_DECLINED') {
        log(this.logger, 'debug', 'guard declined the takeover; taking over from this thread', { reason: failure.message })
        return undefined
      }
      if (typeof failure.errno === 'number' && failure.errno > 0) throw error // the kernel refused an add; the guard undid its adds
      // No answer: the guard may have added some of it, and nobody would remove it.
      try {
        this.binding.footprint?.remove()
      } catch {
        // best effort: the original error is the one to report
      }
      if (guard.alive) await guard.disarm().catch(() => {})
      throw error
    }
  }

  /**
   * The takeover by this thread. Break before make: the guard knows how and
   * when to remove the VIP before it exists. arm() has written the command
   * synchronously, so the guard acts on it even if we die on the next line;
   * its confirmation comes later, and a guard that does not confirm is
   * reported to `unconfirmed` (the state machine steps down). A refused add
   * leaves nothing: the footprint undoes its adds, the guard is disarmed.
   */
  async takeByHost(fenceAt: number, lifetime: number, unconfirmed: (error: unknown) => void): Promise<HostTake> {
    const guard = this.guard!
    const footprint = this.binding.footprint!
    const confirmed = guard.arm(fenceAt)
    const armedAt = monotonicNow()
    let appliedAt: number
    try {
      footprint.apply(lifetime)
      appliedAt = monotonicNow()
    } catch (error) {
      confirmed.catch(() => {})
      await guard.disarm().catch(() => {})
      throw error
    }
    // A guard that can't confirm can't protect us: step down (fail safe).
    confirmed.catch(unconfirmed)
    return { armedAt, appliedAt }
  }

  /** A renewal while holding: the guard's deadline moves (the timer is re-armed by armDeadline). */
  renew(lease: Lease): void {
    this.guard?.renew(this.fenceAt(lease))
  }

  /**
   * The release: removes the footprint (when held) and returns how long that
   * took, ms. The guard is disarmed afterwards, by disarm(), so a guard that
   * dies in between still removes what this did not.
   */
  removeFootprint(): number {
    const removingAt = monotonicNow()
    this.binding.footprint?.remove()
    return monotonicNow() - removingAt
  }

  async disarm(): Promise<void> {
    if (this.guard?.alive) await this.guard.disarm()
  }

  /** Our own copy of the guard's deadline: whichever runs first removes the VIP. `due` runs at the fence. */
  armDeadline(lease: Lease | undefined, due: () => void): void {
    this.clearDeadline()
    if (!lease || !Number.isFinite(lease.deadline)) return
    const delay = Math.max(0, this.fenceAt(lease) - monotonicNow())
    this.deadlineTimer = setTimeout(due, delay)
    this.deadlineTimer.unref()
  }

  clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.deadlineTimer = undefined
  }

  /** The interface went: the guard forgets the removal and the plan (the ifindex will change). */
  async forgetLink(): Promise<void> {
    this.takePlan = undefined
    if (this.guard?.alive) {
      await this.guard.setActions([])
      await this.guard.setTakePlan([], [])
    }
  }

  /** Ends the guard (disarmed first) and the lifeline. */
  async close(): Promise<void> {
    this.clearDeadline()
    const guard = this.guard
    this.guard = undefined // its exit is expected from here on
    await guard?.close()
    this.lifeline?.close()
    this.lifeline = undefined
    this.lockFd = undefined
  }
}
