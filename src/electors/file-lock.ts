// Leadership among processes on one host (or sharing a filesystem with
// working flock, such as a local disk or a shared volume on one node): whoever
// holds an exclusive flock on the lock file leads.
import { readSync, writeSync } from 'node:fs'
import { monotonicNow } from '../clock'
import { ElectorEmitter, type LeaderElector } from '../elector'
import type { ElectorTiming } from '../kernel-lifetime'
import { FileLock, type LockFileEvent } from '../net/file-lock'
import { RECORD_BYTES, bootId, decodeRecord, encodeRecord, waitBeforeTakeover } from './lock-record'

/** Options of {@link FileLockElector}. Durations are milliseconds, any positive number. */
export interface FileLockElectorOptions {
  /**
   * The lock file; created (mode 0600) if missing. All candidates must name the
   * same file and run as the same user. start() refuses (code
   * 'ERR_LOCK_FILE_UNSAFE') a symlink, anything but a regular file of this
   * user, a file group or others can write, and a directory above it others can
   * write without the sticky bit (src/net/file-lock.ts has the full list).
   */
  path: string
  /**
   * How far each grant or renewal reaches: `deadline = now + leaseMs`. The
   * announcer's guard removes the VIP (and releases the lock) if the deadline
   * passes without a renewal, e.g. because this event loop is blocked. It is
   * also the longest a successor waits after every process of the holder died
   * at once (the deadline is recorded in the lock file, and the VIP's kernel
   * lifetime ends before it). Default 4000; with the default renewal the
   * announcer needs leaseMs − renewIntervalMs ≥ 2525 and leaseMs ≥ 3250, so at least 3367 with the default renewal (see docs/electors.md).
   */
  leaseMs?: number
  /** How often the leader confirms it still holds the lock; default leaseMs / 4. Must be < leaseMs. */
  renewIntervalMs?: number
  /**
   * Fallback retry while waiting for the lock; default 500. Takeover normally
   * happens within milliseconds through the inotify watch, this only covers
   * releases the watch cannot see (a lock file on a filesystem without inotify).
   */
  pollIntervalMs?: number
  /**
   * Let the announcer's guard process wait for the lock while this replica
   * is a follower, and take over the instant it gets it (default true): the
   * guard shares this elector's open file description, so its flock is ours;
   * it records the grant, adds the VIP and sends the first announcements
   * without waiting for this thread, which then learns it leads ('elected').
   * false: this thread tries the lock, as an elector without a guard does.
   * See docs/electors.md.
   */
  guardLockWait?: boolean
}

/** What the guard needs to wait for the lock on this elector's behalf (FileLockElector.deferToGuard). */
export interface GuardLockWaitTerms {
  leaseMs: number
  pollIntervalMs: number
  /** The holder the record names: this process, this boot. */
  pid: number
  boot: string
}

/** 'claiming': we hold the lock but wait out a dead holder's recorded deadline. */
type State = 'idle' | 'campaigning' | 'claiming' | 'leader'

/**
 * After a watch event the lock may still be held for a moment: the kernel
 * reports a close to inotify before it drops the closing file's flock
 * (__fput: fsnotify_close, then locks_remove_file). These quick retries cover
 * that window without waiting for the fallback poll.
 */
const RETRY_AFTER_EVENT_MS = [1, 2, 4, 8, 16, 32]

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Leader election with an exclusive flock(2) on a file.
 *
 * Campaigning tries the lock at once, again on every inotify event on the file
 * (a holder unlocking pokes the file; a holder dying closes it) and on a
 * fallback timer. The winner is elected with `deadline = now + leaseMs` and
 * checks every `renewIntervalMs` that its own fd still holds the lock, moving
 * the deadline forward ('renewed'); if not (its guard released the lock when
 * the deadline passed and another candidate took it) it is deposed ('lock
 * lost') and campaigns again. A renewal that runs after the deadline has passed
 * deposes too ('lease expired': the guard has fenced), then campaigns.
 *
 * `fencingFd` is the lock file's fd. The announcer gives a copy to its guard
 * process, so the lock outlives this process until the guard has removed the
 * VIP: a candidate can only win after the previous leader's VIP is gone.
 *
 * The first bytes of the lock file hold a record (src/electors/lock-record.ts):
 * the leader writes there, before each 'elected' and 'renewed', the deadline
 * it grants itself; stop() (and the guard, after a complete fence) marks it
 * released. A candidate that gets the lock while the record still says held,
 * in this boot, until a future instant — every process of the holder died at
 * once, so nobody removed its VIP but the kernel's lifetime — keeps the lock
 * and waits until that instant before it is elected.
 *
 * If the lock file is deleted or replaced, the lock no longer excludes anyone
 * (new candidates lock the new file). The elector then gives up: 'deposed'
 * ('lock file replaced') if leader, 'error' (code 'ERR_LOCK_FILE_REPLACED'),
 * and start() fails from then on; make a new elector.
 *
 * @example
 * // In every replica on the host:
 * const elector = new FileLockElector({ path: '/run/vip.lock' })
 * const announcer = new VipAnnouncer({ vip: '192.0.2.100', interface: 'eth0', elector })
 * await announcer.start()
 */
export class FileLockElector extends ElectorEmitter implements LeaderElector {
  /** The lock file, as given. */
  readonly path: string
  /** How far each grant or renewal reaches, ms (default applied). */
  readonly leaseMs: number
  /** How often the leader checks its lock and renews, ms (default applied). */
  readonly renewIntervalMs: number
  /** Fallback retry interval while waiting for the lock, ms (default applied). */
  readonly pollIntervalMs: number
  /** Whether the announcer's guard may wait for the lock (default applied). */
  readonly guardLockWait: boolean

  private lock?: FileLock
  /** While the guard waits for the lock for us: how to end that wait (deferToGuard). */
  private deferred?: () => Promise<void>
  private state: State = 'idle'
  private failure?: Error
  private closed = false
  private deadline = -Infinity
  private readonly boot = bootId()
  private claimTimer?: NodeJS.Timeout
  private pollTimer?: NodeJS.Timeout
  private renewTimer?: NodeJS.Timeout
  private retryTimer?: NodeJS.Timeout
  private readonly warned = new Set<string>()

  constructor(options: FileLockElectorOptions) {
    super()
    if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object')
    const { path, leaseMs = 4000, pollIntervalMs = 500, guardLockWait = true } = options
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      throw new TypeError(`path: expected a non-empty file path, got ${JSON.stringify(path)}`)
    }
    positive('leaseMs', leaseMs)
    const renewIntervalMs = options.renewIntervalMs ?? Math.max(1, Math.floor(leaseMs / 4))
    positive('renewIntervalMs', renewIntervalMs)
    if (renewIntervalMs >= leaseMs) {
      throw new RangeError(`renewIntervalMs: must be shorter than leaseMs (${leaseMs}), got ${renewIntervalMs}`)
    }
    positive('pollIntervalMs', pollIntervalMs)
    if (typeof guardLockWait !== 'boolean') throw new TypeError(`guardLockWait: expected a boolean, got ${String(guardLockWait)}`)
    this.guardLockWait = guardLockWait
    this.path = path
    this.leaseMs = leaseMs
    this.renewIntervalMs = renewIntervalMs
    this.pollIntervalMs = pollIntervalMs
  }

  /**
   * The lock file's descriptor. The first read opens the file (so read it
   * before start() to hand it to a guard); the same fd serves until close().
   */
  get fencingFd(): number {
    return this.openLock().fd
  }

  /** The "released" record, for the guard to write after a complete fence (LeaderElector.fencingRecord). */
  get fencingRecord(): Uint8Array {
    return encodeRecord({ state: 'released', boot: this.boot, pid: process.pid })
  }

  /** How far grants reach and how often they are renewed (LeaderElector.timing). */
  get timing(): ElectorTiming {
    return { leaseMs: this.leaseMs, renewIntervalMs: this.renewIntervalMs }
  }

  /** True between 'elected' and 'deposed'. */
  get isLeader(): boolean {
    return this.state === 'leader'
  }

  /**
   * Begins campaigning; 'elected' may be emitted before this resolves.
   * Idempotent while campaigning; after stop() it campaigns again with the
   * same fd (a guard may hold a copy of it).
   */
  async start(): Promise<void> {
    if (this.failure) throw this.failure
    if (this.state !== 'idle') return
    const lock = this.openLock()
    lock.watch((error, events) => this.onLockFileEvents(error, events))
    this.campaign()
  }

  /**
   * Stops campaigning. If leader: 'deposed' ('stopped') first, then the lock
   * is released and the file poked, so a waiting candidate takes over at once.
   * Keeps the fd open (fencingFd stays valid; start() may follow). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.state === 'idle') return
    // The guard must stop trying the lock before we unlock it: it would take
    // over on a lock nobody holds any more. Ending its wait may make us leader.
    if (this.deferred) await this.deferred()
    this.deferred = undefined
    if ((this.state as State) === 'idle') return
    const wasLeader = this.state === 'leader'
    this.halt()
    // The announcer stops us after it removed the VIP: say so, and the next
    // holder needn't wait. Before 'deposed', so that a listener that starts
    // again finds its own release, not its own deadline, and leads at once.
    // (A claim in progress leaves the dead holder's record for whoever is next.)
    if (wasLeader) this.writeRecord(this.fencingRecord as Buffer)
    try {
      if (wasLeader) this.emit('deposed', 'stopped')
    } finally {
      // Also when not leader: after 'lease expired' our description may still
      // hold the lock. Unlocking a lock we do not hold changes nothing. Unless
      // a 'deposed' listener called start() again: the lock is its now.
      if ((this.state as State) === 'idle') this.lock?.unlock()
    }
  }

  /** stop(), then closes the lock file's fd. The elector cannot be started again. */
  async close(): Promise<void> {
    await this.stop()
    this.closed = true
    this.lock?.close()
    this.lock = undefined
  }

  private openLock(): FileLock {
    if (this.closed) {
      throw Object.assign(new Error('FileLockElector is closed'), { code: 'ERR_ELECTOR_CLOSED' })
    }
    this.lock ??= new FileLock(this.path)
    return this.lock
  }

  private campaign(): void {
    this.state = 'campaigning'
    this.pollTimer = setInterval(() => this.attempt(), this.pollIntervalMs)
    this.attempt()
  }

  /**
   * For the announcer (src/announcer/lock-takeover.ts): while campaigning, stop trying
   * the lock from this thread and let the guard, which shares our open file
   * description, wait for it instead. Returns the terms the guard needs, or
   * undefined (not campaigning, already deferred, or `guardLockWait: false`).
   * `cancel` ends the guard's wait; stop() awaits it before it unlocks.
   * Exactly one of resumeFromGuard() and adoptFromGuard() ends the deferral.
   * @internal
   */
  deferToGuard(cancel: () => Promise<void>): GuardLockWaitTerms | undefined {
    if (!this.guardLockWait || this.state !== 'campaigning' || this.deferred || !this.lock) return undefined
    this.deferred = cancel
    return { leaseMs: this.leaseMs, pollIntervalMs: this.pollIntervalMs, pid: process.pid, boot: this.boot }
  }

  /**
   * The guard's wait is over without a takeover: try the lock from this
   * thread again, at once. The guard may have got the lock (our description
   * holds it then) and left the judgement to us: a dead holder's record says
   * wait ('claiming'), the record could not be written, the file was replaced.
   * @internal
   */
  resumeFromGuard(): void {
    if (!this.deferred) return
    this.deferred = undefined
    if (this.state === 'campaigning' && !this.attempt()) this.retrySoon(0)
  }

  /**
   * The guard got the lock and recorded the grant `deadline` in the file
   * (the record says held by us until then): lead, with that deadline, from
   * now on renewing as usual. False when our description does not hold the
   * lock (or the file was replaced) or nothing was deferred: then not leader.
   * @internal
   */
  adoptFromGuard(grant: { deadline: number }): boolean {
    if (!this.deferred || this.state !== 'campaigning' || !this.lock) return false
    this.deferred = undefined
    const check = this.checkLock()
    if (check !== 'held') {
      if (check === 'replaced') this.giveUp()
      else if (check instanceof Error) this.report(check)
      return false
    }
    this.clearTimers()
    // The record says exactly this instant: the guard wrote it, and the
    // renewals move it forward from there.
    this.lead(grant.deadline)
    return true
  }

  /** One try for the lock while campaigning; true when it made us leader. */
  private attempt(): boolean {
    // While the guard waits for the lock, it alone tries: both succeed on the shared description.
    if (this.state !== 'campaigning' || !this.lock || this.deferred) return false
    // Read before the check: the lease counts from when we knew we held it.
    const now = monotonicNow()
    const check = this.checkLock()
    if (check instanceof Error) {
      this.report(check)
      return false
    }
    if (check === 'replaced') {
      this.giveUp()
      return false
    }
    if (check === 'busy') return false
    const wait = waitBeforeTakeover(this.readRecord(), this.boot, now)
    if (wait > 0) {
      this.claim(wait)
      return true
    }
    this.becomeLeader(now)
    return true
  }

  /**
   * We hold the lock, but the previous holder died without a release and its
   * VIP may be configured until the recorded deadline: keep the lock (so no
   * one else claims meanwhile) and be elected once that instant has passed.
   */
  private claim(waitMs: number): void {
    this.clearTimers()
    this.state = 'claiming'
    const until = monotonicNow() + waitMs
    // setTimeout fires at once beyond 2^31-1 ms: wait in steps, re-checking the instant.
    this.claimTimer = setTimeout(() => {
      this.claimTimer = undefined
      if (this.state !== 'claiming') return
      const now = monotonicNow()
      if (now < until) return this.claim(until - now)
      const check = this.checkLock()
      if (check === 'held') this.becomeLeader(now)
      else if (check === 'replaced') this.giveUp()
      else {
        this.state = 'campaigning'
        if (check instanceof Error) this.report(check)
        this.campaign()
      }
    }, Math.min(MAX_TIMER_MS, Math.ceil(waitMs) + 1))
  }

  private becomeLeader(now: number): void {
    this.clearTimers()
    const deadline = Math.max(this.deadline, now + this.leaseMs)
    const failure = this.writeRecord(encodeRecord({ state: 'held', until: deadline, boot: this.boot, pid: process.pid }))
    if (failure) {
      // Without the record a successor could not know to wait for our VIP:
      // don't lead. The poll tries again.
      this.lock?.unlock()
      this.report(failure)
      this.campaign()
      return
    }
    this.lead(deadline)
  }

  /** Leader until `deadline` (recorded in the file already), renewing from now on. */
  private lead(deadline: number): void {
    this.state = 'leader'
    this.deadline = deadline
    this.renewTimer = setInterval(() => this.renew(), this.renewIntervalMs)
    this.emit('elected', { deadline: this.deadline })
  }

  /** The record at the start of the lock file (undefined: none, or unreadable). */
  private readRecord() {
    const buffer = Buffer.alloc(RECORD_BYTES)
    try {
      const n = readSync(this.lock!.fd, buffer, 0, RECORD_BYTES, 0)
      return decodeRecord(buffer.subarray(0, n))
    } catch {
      return undefined
    }
  }

  /** pwrite at offset 0; returns the error instead of throwing. */
  private writeRecord(record: Buffer): Error | undefined {
    try {
      const n = writeSync(this.lock!.fd, record, 0, record.length, 0)
      return n === record.length ? undefined : new Error(`lock file ${this.path}: short write of the lock record`)
    } catch (error) {
      return error as Error
    }
  }

  private renew(): void {
    if (this.state !== 'leader' || !this.lock) return
    const now = monotonicNow()
    if (now >= this.deadline) {
      this.loseLeadership('lease expired')
      return
    }
    const check = this.checkLock()
    if (check === 'held') {
      // Record the new deadline before anyone acts on it.
      const deadline = Math.max(this.deadline, now + this.leaseMs)
      const failure = this.writeRecord(encodeRecord({ state: 'held', until: deadline, boot: this.boot, pid: process.pid }))
      if (failure) {
        this.loseLeadership(`lock record write failed: ${failure.message}`)
        this.report(failure)
        return
      }
      this.deadline = deadline
      this.emit('renewed', { deadline: this.deadline })
    } else if (check === 'replaced') {
      this.giveUp()
    } else if (check === 'busy') {
      this.loseLeadership('lock lost')
    } else {
      // Leadership first, the report after: a listener may throw or call stop().
      this.loseLeadership(`lock check failed: ${check.message}`)
      this.report(check)
    }
  }

  /**
   * tryLock on our own fd and whether the path is still our file. A lock on a
   * replaced file is let go at once: it excludes nobody.
   */
  private checkLock(): 'held' | 'busy' | 'replaced' | Error {
    const lock = this.lock!
    try {
      if (!lock.tryLock()) return 'busy'
      if (lock.isCurrent()) return 'held'
      lock.unlock()
      return 'replaced'
    } catch (error) {
      return error as Error
    }
  }

  private onLockFileEvents(error: Error | null, events: LockFileEvent[]): void {
    if (error) {
      this.report(error)
      return
    }
    if (this.state === 'leader') {
      // A delete or rename shows as attrib/move-self/delete-self: check now
      // rather than at the next renewal.
      if (events.some((e) => e === 'attrib' || e === 'move-self' || e === 'delete-self')) {
        const check = this.checkLock()
        if (check === 'replaced') this.giveUp()
        else if (check === 'busy') this.loseLeadership('lock lost')
      }
      return
    }
    // Our own record writes (and the holder's) show as 'modify': not a release.
    if (events.every((e) => e === 'modify')) return
    if (this.state === 'campaigning' && !this.attempt()) this.retrySoon(0)
  }

  private retrySoon(step: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (step >= RETRY_AFTER_EVENT_MS.length) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (this.state === 'campaigning' && !this.attempt()) this.retrySoon(step + 1)
    }, RETRY_AFTER_EVENT_MS[step])
  }

  /** Leader → campaigning, 'deposed' in between. */
  private loseLeadership(reason: string): void {
    this.clearTimers()
    this.state = 'campaigning'
    this.emit('deposed', reason)
    // A 'deposed' listener may have called stop().
    if (this.state === 'campaigning') this.campaign()
  }

  /** The lock file was deleted or replaced: this elector can no longer exclude anyone. */
  private giveUp(): void {
    const wasLeader = this.state === 'leader'
    this.failure = Object.assign(
      new Error(`lock file ${this.path} was deleted or replaced; the lock no longer excludes other candidates`),
      { code: 'ERR_LOCK_FILE_REPLACED' },
    )
    this.halt()
    try {
      if (wasLeader) this.emit('deposed', 'lock file replaced')
    } finally {
      this.report(this.failure)
    }
  }

  /**
   * An 'error' event, or without a listener (EventEmitter would throw it from
   * a timer or the inotify callback) one process warning per kind of problem.
   */
  private report(error: Error): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error)
      return
    }
    const kind = (error as NodeJS.ErrnoException).code ?? error.message
    if (this.warned.has(kind)) return
    this.warned.add(kind)
    process.emitWarning(`FileLockElector ${this.path}: ${error.message} (add an 'error' listener to see every such problem)`)
  }

  private halt(): void {
    this.clearTimers()
    this.state = 'idle'
    this.deferred = undefined
    this.lock?.unwatch()
  }

  private clearTimers(): void {
    clearInterval(this.pollTimer)
    clearInterval(this.renewTimer)
    clearTimeout(this.retryTimer)
    clearTimeout(this.claimTimer)
    this.pollTimer = this.renewTimer = this.retryTimer = this.claimTimer = undefined
  }
}

function positive(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field}: expected a positive number of milliseconds, got ${String(value)}`)
  }
}
