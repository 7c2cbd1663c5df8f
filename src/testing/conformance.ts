// The elector conformance kit: runs N candidates of an elector through start,
// steady leadership, an optional partition of the leader, a stop of the
// leader, a start() of that stopped leader until it leads again, and a full
// stop, watching every event and sampling isLeader all along, and reports each
// rule of the LeaderElector contract as pass, fail or skip with measured times.
import { monotonicNow } from '../clock'
import type { LeaderElector, Lease } from '../elector'

/** Options of {@link runElectorConformance}. */
export interface ElectorConformanceOptions {
  /** Shown in the report. */
  name: string
  /** How many candidates compete (≥ 1; takeover checks need ≥ 2, 3 is best). */
  candidates: number
  /** Builds candidate `index` (not started). All candidates must compete for the same leadership. */
  create(index: number): LeaderElector | Promise<LeaderElector>
  /**
   * Cuts candidate `index` off its backend (a network partition as the backend
   * sees it: its requests go unanswered). Resolves to a function that heals
   * the cut. Without it the partition checks are skipped.
   */
  partition?(elector: LeaderElector, index: number): Promise<() => Promise<void> | void>
  /** Longest wait for any one step (start, election, takeover...). Default 30000 ms. */
  timeoutMs?: number
  /** How long steady leadership is watched before and after disruptions. Default 2000 ms. */
  settleMs?: number
  /** isLeader sampling interval. Default 5 ms. */
  sampleEveryMs?: number
  /** Progress lines. */
  log?(line: string): void
}

/** A check's outcome: 'skip' when it does not apply (one candidate, no `partition` hook) or was not reached. */
export type ConformanceStatus = 'pass' | 'fail' | 'skip'

/** The checks of the kit, one per rule of the LeaderElector contract; docs/electors.md says when each fails. */
export type ConformanceCheckId =
  | 'start'
  | 'first-leader'
  | 'single-leader'
  | 'no-overlap'
  | 'event-order'
  | 'deadlines'
  | 'partition'
  | 'heal'
  | 'stop-takeover'
  | 'restart'
  | 'stop-all'

/** The outcome of one check. */
export interface ConformanceCheck {
  /** Which check. */
  id: ConformanceCheckId
  /** The rule checked, in one line. */
  title: string
  /** Pass, fail or skip. */
  status: ConformanceStatus
  /** What was seen: measured figures when it passed, the first violations when it failed. */
  message: string
  /** The figures this check measured (names as in ConformanceMeasurements, ms), when it measured any. */
  measurements?: Record<string, number>
}

/**
 * Figures measured over the whole run. Times are milliseconds on the monotonic
 * clock, absent when the run did not reach that step.
 */
export interface ConformanceMeasurements {
  /** start() of all candidates to the first `elected`. */
  timeToFirstLeaderMs?: number
  /** Partition of the leader to its `deposed`. */
  partitionToDeposedMs?: number
  /** How long before its deadline the partitioned leader said `deposed` (negative: after). */
  deposedBeforeDeadlineMs?: number
  /** Partition of the leader to another candidate's `elected`. */
  takeoverAfterPartitionMs?: number
  /** Heal to exactly one leader. */
  oneLeaderAfterHealMs?: number
  /** stop() of the leader to another candidate's `elected`. */
  takeoverAfterStopMs?: number
  /** start() of a stopped leader to its `elected` (other leaders stopped meanwhile, if any). */
  reElectedAfterRestartMs?: number
  /** Most candidates reporting isLeader at one sample. */
  maxConcurrentLeaders: number
  /** How many times every candidate's isLeader was sampled. */
  samples: number
  /** 'error' events emitted by all candidates together. */
  errorEvents: number
}

/** One event of the run, as recorded by the kit. */
export interface TimelineEntry {
  /** Milliseconds since the run began. */
  at: number
  /** Candidate index, or -1 for the kit's own steps. */
  candidate: number
  /** A candidate's event, or 'step' for what the kit did (start, partition, stop...). */
  event: 'elected' | 'renewed' | 'deposed' | 'error' | 'step'
  /** For elected/renewed: the deadline, in milliseconds since the run began. */
  deadline?: number
  /** The deposed reason, the error message, or the kit step's description. */
  detail?: string
}

/** What `runElectorConformance` found; `assertConformance` turns it into test assertions. */
export interface ConformanceReport {
  /** The `name` option. */
  name: string
  /** How many candidates ran. */
  candidates: number
  /** True when no check failed. */
  ok: boolean
  /** Every check, in a fixed order; those not reached are skipped. */
  checks: ConformanceCheck[]
  /** Figures measured over the run. */
  measurements: ConformanceMeasurements
  /** Every event and kit step, in order (`formatTimeline` prints it). */
  timeline: TimelineEntry[]
  /** How long the run took, ms. */
  durationMs: number
}

interface Interval {
  candidate: number
  start: number
  end?: number
  lastDeadline: number
  /** 'stop' when deposed during our stop() call: a release, allowed before the deadline. */
  endedBy?: 'stop' | 'other'
  reason?: string
}

interface Candidate {
  index: number
  elector: LeaderElector
  leader: boolean
  stopping: boolean
  stoppedAt?: number
  /** When isLeader first disagreed with the events, for persistence. */
  mismatchSince?: number
}

const TITLES: Record<ConformanceCheckId, string> = {
  start: 'start() resolves, also when called twice',
  'first-leader': 'a leader is elected',
  'single-leader': 'at most one candidate reports isLeader at any sampled instant',
  'no-overlap': 'leadership intervals never overlap, and nobody is elected before a lost leader’s deadline',
  'event-order': 'elected comes before deposed, renewed only while leader, no repeats, isLeader agrees',
  deadlines: 'deadlines lie ahead, only move forward, and leadership ends before its deadline',
  partition: 'a partitioned leader gives up (deposed) before its deadline and another takes over',
  heal: 'after the partition heals, exactly one leader',
  'stop-takeover': 'stop() of the leader releases leadership (deposed first) and another candidate takes over',
  restart: 'a stopped leader that start()s again campaigns again and becomes leader later',
  'stop-all': 'stop() resolves on every candidate, is idempotent, and leaves no leader and no later events',
}

/** Grace for isLeader and events to agree (an elector may flip the flag just after emitting). */
const MISMATCH_GRACE_MS = 100

/**
 * Runs the conformance scenario against an elector implementation and
 * reports every check. It never throws for a misbehaving elector; it throws
 * only for invalid options.
 */
export async function runElectorConformance(options: ElectorConformanceOptions): Promise<ConformanceReport> {
  if (typeof options?.name !== 'string') throw new TypeError('runElectorConformance: name must be a string')
  if (!Number.isInteger(options.candidates) || options.candidates < 1) {
    throw new RangeError(`runElectorConformance: candidates must be an integer ≥ 1, got ${String(options.candidates)}`)
  }
  if (typeof options.create !== 'function') throw new TypeError('runElectorConformance: create must be a function')
  const run = new ConformanceRun(options)
  await run.execute()
  return run.report()
}

class ConformanceRun {
  private readonly t0 = monotonicNow()
  private readonly timeoutMs: number
  private readonly settleMs: number
  private readonly sampleEveryMs: number
  private readonly candidates: Candidate[] = []
  private readonly intervals: Interval[] = []
  private readonly timeline: TimelineEntry[] = []
  private readonly checks = new Map<ConformanceCheckId, ConformanceCheck>()
  private readonly orderViolations: string[] = []
  private readonly deadlineViolations: string[] = []
  private readonly lateEvents: string[] = []
  private readonly measurements: ConformanceMeasurements = { maxConcurrentLeaders: 0, samples: 0, errorEvents: 0 }
  private firstDoubleLeader?: { at: number; who: number[] }
  private overshoot?: { candidate: number; byMs: number; at: number }
  private sampler?: NodeJS.Timeout

  constructor(private readonly options: ElectorConformanceOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.settleMs = options.settleMs ?? 2_000
    this.sampleEveryMs = options.sampleEveryMs ?? 5
  }

  async execute(): Promise<void> {
    try {
      if (!(await this.createAndStart())) return
      if (!(await this.firstLeader())) return
      await this.sleep(this.settleMs)
      await this.partitionPhase()
      await this.stopPhase()
      await this.restartPhase()
    } catch (error) {
      this.step(`kit error: ${describe(error)}`)
    } finally {
      await this.stopAll()
      clearInterval(this.sampler)
      this.judge()
    }
  }

  report(): ConformanceReport {
    const order: ConformanceCheckId[] = Object.keys(TITLES) as ConformanceCheckId[]
    const checks = order.map(
      (id) => this.checks.get(id) ?? { id, title: TITLES[id], status: 'skip' as const, message: 'not reached' },
    )
    return {
      name: this.options.name,
      candidates: this.options.candidates,
      ok: checks.every((c) => c.status !== 'fail'),
      checks,
      measurements: this.measurements,
      timeline: this.timeline,
      durationMs: Math.round(monotonicNow() - this.t0),
    }
  }

  // --- phases ---------------------------------------------------------------

  private async createAndStart(): Promise<boolean> {
    for (let index = 0; index < this.options.candidates; index++) {
      let elector: LeaderElector
      try {
        elector = await this.options.create(index)
      } catch (error) {
        this.record('start', 'fail', `create(${index}) threw: ${describe(error)}`)
        return false
      }
      const candidate: Candidate = { index, elector, leader: false, stopping: false }
      this.candidates.push(candidate)
      this.listen(candidate)
    }
    this.sampler = setInterval(() => this.sample(), this.sampleEveryMs)
    this.step(`starting ${this.candidates.length} candidate(s)`)
    const startedAt = monotonicNow()
    for (const round of [1, 2]) {
      const results = await Promise.all(
        this.candidates.map((c) => this.within(c.elector.start(), `start() of candidate ${c.index}`)),
      )
      const failures = results.filter((r): r is Error => r instanceof Error)
      if (failures.length) {
        this.record('start', 'fail', `${round === 2 ? 'second ' : ''}${failures.map((e) => e.message).join('; ')}`)
        return false
      }
    }
    this.record('start', 'pass', `all ${this.candidates.length} resolved in ${ms(monotonicNow() - startedAt)}`)
    this.startedAt = startedAt
    return true
  }

  private startedAt = 0

  private async firstLeader(): Promise<boolean> {
    const elected = await this.waitFor(() => this.intervals.length > 0, this.timeoutMs)
    if (!elected) {
      this.record('first-leader', 'fail', `no candidate elected within ${ms(this.timeoutMs)}`)
      return false
    }
    const first = this.intervals[0]!
    this.measurements.timeToFirstLeaderMs = round(first.start - this.startedAt)
    this.record('first-leader', 'pass', `candidate ${first.candidate} elected ${ms(first.start - this.startedAt)} after start()`, {
      timeToFirstLeaderMs: this.measurements.timeToFirstLeaderMs,
    })
    return true
  }

  private async partitionPhase(): Promise<void> {
    if (!this.options.partition) {
      this.record('partition', 'skip', 'no partition hook given')
      this.record('heal', 'skip', 'no partition hook given')
      return
    }
    const leader = await this.currentLeader()
    if (!leader) {
      this.record('partition', 'fail', `no single leader to partition within ${ms(this.timeoutMs)}`)
      return
    }
    const interval = this.openInterval(leader.index)!
    this.step(`partitioning leader ${leader.index}`)
    const cutAt = monotonicNow()
    let heal: () => Promise<void> | void
    try {
      heal = await this.options.partition(leader.elector, leader.index)
    } catch (error) {
      this.record('partition', 'fail', `partition(${leader.index}) threw: ${describe(error)}`)
      return
    }
    const others = this.candidates.filter((c) => c !== leader && !c.stopping)
    const electedOther = () => this.intervals.find((i) => i.candidate !== leader.index && i.start > cutAt)
    await this.waitFor(() => interval.end !== undefined && (others.length === 0 || electedOther() !== undefined), this.timeoutMs)
    const problems: string[] = []
    const figures: Record<string, number> = {}
    if (interval.end === undefined) {
      const past = monotonicNow() - interval.lastDeadline
      problems.push(
        `candidate ${leader.index} never gave up: still leader ${ms(monotonicNow() - cutAt)} after the partition` +
          (past > 0 ? `, ${ms(past)} past its deadline` : ''),
      )
    } else {
      figures.partitionToDeposedMs = this.measurements.partitionToDeposedMs = round(interval.end - cutAt)
      figures.deposedBeforeDeadlineMs = this.measurements.deposedBeforeDeadlineMs = round(
        interval.lastDeadline - interval.end,
      )
      if (interval.end >= interval.lastDeadline) {
        problems.push(`candidate ${leader.index} said deposed ${ms(interval.end - interval.lastDeadline)} after its deadline`)
      }
    }
    const next = electedOther()
    if (others.length > 0) {
      if (!next) problems.push(`no other candidate elected within ${ms(this.timeoutMs)} of the partition`)
      else {
        figures.takeoverAfterPartitionMs = this.measurements.takeoverAfterPartitionMs = round(next.start - cutAt)
        if (next.start < interval.lastDeadline) {
          problems.push(
            `candidate ${next.candidate} elected ${ms(interval.lastDeadline - next.start)} before the partitioned leader's deadline`,
          )
        }
      }
    }
    if (problems.length) this.record('partition', 'fail', problems.join('; '), figures)
    else {
      this.record(
        'partition',
        'pass',
        `deposed ${ms(figures.partitionToDeposedMs!)} after the partition, ${ms(figures.deposedBeforeDeadlineMs!)} before its deadline` +
          (next ? `; candidate ${next.candidate} elected ${ms(figures.takeoverAfterPartitionMs!)} after the partition` : ''),
        figures,
      )
    }

    this.step(`healing candidate ${leader.index}`)
    const healedAt = monotonicNow()
    try {
      await heal()
    } catch (error) {
      this.record('heal', 'fail', `heal() threw: ${describe(error)}`)
      return
    }
    const one = await this.currentLeader()
    if (!one) {
      this.record('heal', 'fail', `no single leader within ${ms(this.timeoutMs)} of healing`)
      return
    }
    this.measurements.oneLeaderAfterHealMs = round(monotonicNow() - healedAt)
    await this.sleep(this.settleMs)
    const count = this.candidates.filter((c) => c.elector.isLeader).length
    if (count !== 1) {
      this.record('heal', 'fail', `${count} leaders ${ms(this.settleMs)} after one was seen following the heal`)
    } else {
      this.record('heal', 'pass', `one leader ${ms(this.measurements.oneLeaderAfterHealMs)} after healing, still one ${ms(this.settleMs)} later`, {
        oneLeaderAfterHealMs: this.measurements.oneLeaderAfterHealMs,
      })
    }
  }

  private async stopPhase(): Promise<void> {
    if (this.candidates.length < 2) {
      this.record('stop-takeover', 'skip', 'needs at least two candidates')
      return
    }
    const leader = await this.currentLeader()
    if (!leader) {
      this.record('stop-takeover', 'fail', `no single leader to stop within ${ms(this.timeoutMs)}`)
      return
    }
    const interval = this.openInterval(leader.index)!
    this.step(`stopping leader ${leader.index}`)
    const stopAt = monotonicNow()
    leader.stopping = true
    this.stoppedLeader = leader
    const result = await this.within(leader.elector.stop(), `stop() of candidate ${leader.index}`)
    const resolvedAt = monotonicNow()
    leader.stoppedAt = resolvedAt
    const problems: string[] = []
    if (result instanceof Error) problems.push(result.message)
    if (interval.end === undefined) problems.push(`stop() of leader ${leader.index} resolved without a deposed event`)
    if (leader.elector.isLeader) problems.push(`isLeader still true after stop() of candidate ${leader.index}`)
    const next = await this.waitFor(
      () => this.intervals.some((i) => i.candidate !== leader.index && i.start > stopAt),
      this.timeoutMs,
    )
    const taken = this.intervals.find((i) => i.candidate !== leader.index && i.start > stopAt)
    const figures: Record<string, number> = {}
    if (!next || !taken) problems.push(`no other candidate elected within ${ms(this.timeoutMs)} of stopping the leader`)
    else figures.takeoverAfterStopMs = this.measurements.takeoverAfterStopMs = round(taken.start - stopAt)
    if (problems.length) this.record('stop-takeover', 'fail', problems.join('; '), figures)
    else {
      this.record(
        'stop-takeover',
        'pass',
        `stop() took ${ms(resolvedAt - stopAt)}; candidate ${taken!.candidate} elected ${ms(figures.takeoverAfterStopMs!)} after stop() began`,
        figures,
      )
    }
    await this.sleep(Math.min(this.settleMs, 1000))
  }

  /**
   * start() again the leader stopped by stopPhase (with one candidate: stop
   * it here first). It must become leader again: while another candidate
   * leads, that one is stopped, until the restarted one is elected or is the
   * only candidate left, when it must be elected within timeoutMs.
   */
  private async restartPhase(): Promise<void> {
    let old = this.stoppedLeader
    if (this.candidates.length === 1) {
      const leader = await this.currentLeader()
      if (!leader) {
        this.record('restart', 'fail', `no leader to stop within ${ms(this.timeoutMs)}`)
        return
      }
      this.step(`stopping leader ${leader.index} to start it again`)
      leader.stopping = true
      const result = await this.within(leader.elector.stop(), `stop() of candidate ${leader.index}`)
      leader.stoppedAt = monotonicNow()
      if (result instanceof Error) {
        this.record('restart', 'fail', result.message)
        return
      }
      old = leader
    }
    if (!old) {
      this.record('restart', 'skip', 'no leader was stopped (stop-takeover did not get that far)')
      return
    }
    const candidate = old
    // Events between stop() resolving and now were late (stop-all reports
    // them); from here on they belong to the new campaign.
    await this.sleep(Math.max(50, this.sampleEveryMs * 4))
    if (candidate.elector.isLeader) {
      this.record('restart', 'fail', `candidate ${candidate.index} reports isLeader after stop() resolved, before start()`)
      return
    }
    this.step(`starting stopped candidate ${candidate.index} again`)
    candidate.stopping = false
    candidate.stoppedAt = undefined
    const restartedAt = monotonicNow()
    for (const round of [1, 2]) {
      const result = await this.within(candidate.elector.start(), `${round === 2 ? 'second ' : ''}start() after stop() of candidate ${candidate.index}`)
      if (result instanceof Error) {
        this.record('restart', 'fail', result.message)
        return
      }
    }
    const reElected = () => this.intervals.find((i) => i.candidate === candidate.index && i.start > restartedAt)
    const stoppedOthers: number[] = []
    let problem: string | undefined
    while (!reElected()) {
      const others = this.candidates.filter((c) => c !== candidate && !c.stopping)
      if (others.length === 0) {
        if (!(await this.waitFor(() => reElected() !== undefined, this.timeoutMs))) {
          problem =
            `candidate ${candidate.index}, started again after stop(), was not elected within ${ms(this.timeoutMs)}` +
            (stoppedOthers.length ? ` of being the only candidate left (stopped ${stoppedOthers.join(', ')} meanwhile)` : '')
        }
        break
      }
      const leader = await this.currentLeader()
      if (reElected()) break
      if (!leader) {
        problem =
          `no single leader within ${ms(this.timeoutMs)} after candidate ${candidate.index} was started again` +
          (stoppedOthers.length ? ` (stopped ${stoppedOthers.join(', ')} meanwhile)` : '')
        break
      }
      this.step(`stopping leader ${leader.index} to let restarted candidate ${candidate.index} (or another) take over`)
      leader.stopping = true
      const result = await this.within(leader.elector.stop(), `stop() of candidate ${leader.index}`)
      leader.stoppedAt = monotonicNow()
      stoppedOthers.push(leader.index)
      if (result instanceof Error) {
        problem = result.message
        break
      }
    }
    const again = reElected()
    if (problem || !again) {
      this.record('restart', 'fail', problem ?? `candidate ${candidate.index} was not elected again`)
      return
    }
    const figure = (this.measurements.reElectedAfterRestartMs = round(again.start - restartedAt))
    this.record(
      'restart',
      'pass',
      `candidate ${candidate.index} elected again ${ms(figure)} after start() following its stop()` +
        (stoppedOthers.length ? ` (after stopping leader${stoppedOthers.length > 1 ? 's' : ''} ${stoppedOthers.join(', ')})` : ''),
      { reElectedAfterRestartMs: figure },
    )
  }

  private stoppedLeader?: Candidate

  private async stopAll(): Promise<void> {
    if (this.candidates.length === 0) return
    this.step('stopping all candidates')
    const problems: string[] = []
    const started = monotonicNow()
    await Promise.all(
      this.candidates.map(async (c) => {
        c.stopping = true
        for (const round of [1, 2]) {
          const result = await this.within(c.elector.stop(), `${round === 2 ? 'second ' : ''}stop() of candidate ${c.index}`)
          if (result instanceof Error) problems.push(result.message)
        }
        c.stoppedAt ??= monotonicNow()
        if (c.elector.isLeader) problems.push(`candidate ${c.index} still reports isLeader after stop()`)
      }),
    )
    const took = monotonicNow() - started
    // Anything an elector emits after its stop() resolved is a leak.
    await this.sleep(Math.max(200, this.sampleEveryMs * 4))
    const stillOpen = this.intervals.filter((i) => i.end === undefined)
    for (const open of stillOpen) problems.push(`candidate ${open.candidate} stopped without a deposed event`)
    problems.push(...this.lateEvents)
    if (!this.checks.has('stop-all')) {
      if (problems.length) this.record('stop-all', 'fail', problems.slice(0, 5).join('; '))
      else this.record('stop-all', 'pass', `all stopped in ${ms(took)}; second stop() calls resolved; nothing emitted afterwards`)
    }
  }

  // --- observation ------------------------------------------------------------

  private listen(candidate: Candidate): void {
    const { elector, index } = candidate
    elector.on('elected', (lease: Lease) => {
      const now = monotonicNow()
      this.push({ at: now, candidate: index, event: 'elected', deadline: lease?.deadline })
      if (candidate.stoppedAt !== undefined) this.lateEvents.push(`candidate ${index} emitted elected after stop() resolved`)
      if (candidate.leader) this.orderViolations.push(`candidate ${index} emitted elected twice without deposed in between (at ${this.rel(now)})`)
      this.checkDeadline(index, lease, now, 'elected')
      candidate.leader = true
      this.intervals.push({ candidate: index, start: now, lastDeadline: validDeadline(lease) ? lease.deadline : now })
    })
    elector.on('renewed', (lease: Lease) => {
      const now = monotonicNow()
      this.push({ at: now, candidate: index, event: 'renewed', deadline: lease?.deadline })
      if (candidate.stoppedAt !== undefined) this.lateEvents.push(`candidate ${index} emitted renewed after stop() resolved`)
      const open = this.openInterval(index)
      if (!candidate.leader || !open) {
        this.orderViolations.push(`candidate ${index} emitted renewed while not leader (at ${this.rel(now)})`)
        return
      }
      this.checkDeadline(index, lease, now, 'renewed')
      if (validDeadline(lease)) {
        if (lease.deadline < open.lastDeadline) {
          this.deadlineViolations.push(
            `candidate ${index}'s deadline moved backward by ${ms(open.lastDeadline - lease.deadline)} (at ${this.rel(now)})`,
          )
        }
        open.lastDeadline = Math.max(open.lastDeadline, lease.deadline)
      }
    })
    elector.on('deposed', (reason: string) => {
      const now = monotonicNow()
      this.push({ at: now, candidate: index, event: 'deposed', detail: String(reason) })
      if (candidate.stoppedAt !== undefined) this.lateEvents.push(`candidate ${index} emitted deposed after stop() resolved`)
      const open = this.openInterval(index)
      if (!candidate.leader || !open) {
        this.orderViolations.push(
          `candidate ${index} emitted deposed without a prior elected (reason: ${JSON.stringify(reason)}, at ${this.rel(now)})`,
        )
        return
      }
      candidate.leader = false
      open.end = now
      open.endedBy = candidate.stopping ? 'stop' : 'other'
      open.reason = String(reason)
      if (open.endedBy === 'other' && now >= open.lastDeadline) {
        this.deadlineViolations.push(
          `candidate ${index} said deposed ${ms(now - open.lastDeadline)} after its deadline (reason: ${JSON.stringify(reason)})`,
        )
      }
    })
    elector.on('error', (error: Error) => {
      this.measurements.errorEvents++
      this.push({ at: monotonicNow(), candidate: index, event: 'error', detail: describe(error) })
    })
  }

  private checkDeadline(index: number, lease: Lease, now: number, event: string): void {
    if (!validDeadline(lease)) {
      this.deadlineViolations.push(`candidate ${index} emitted ${event} without a numeric deadline (${JSON.stringify(lease)})`)
    } else if (lease.deadline <= now) {
      this.deadlineViolations.push(`candidate ${index} emitted ${event} with a deadline ${ms(now - lease.deadline)} in the past`)
    }
  }

  private sample(): void {
    const now = monotonicNow()
    this.measurements.samples++
    const leaders = this.candidates.filter((c) => safeIsLeader(c.elector))
    this.measurements.maxConcurrentLeaders = Math.max(this.measurements.maxConcurrentLeaders, leaders.length)
    if (leaders.length > 1 && !this.firstDoubleLeader) {
      this.firstDoubleLeader = { at: now, who: leaders.map((c) => c.index) }
      this.push({ at: now, candidate: -1, event: 'step', detail: `sampled ${leaders.length} leaders: ${leaders.map((c) => c.index).join(', ')}` })
    }
    for (const c of this.candidates) {
      const flag = safeIsLeader(c.elector)
      if (flag !== c.leader) {
        c.mismatchSince ??= now
        if (now - c.mismatchSince > MISMATCH_GRACE_MS && !c.stopping) {
          this.orderViolations.push(
            `candidate ${c.index}: isLeader was ${flag} for ${ms(now - c.mismatchSince)} while its events said ${c.leader ? 'leader' : 'follower'}`,
          )
          c.mismatchSince = Infinity
        }
      } else c.mismatchSince = undefined
      const open = this.openInterval(c.index)
      if (flag && open && now > open.lastDeadline) {
        const byMs = now - open.lastDeadline
        if (!this.overshoot || byMs > this.overshoot.byMs) this.overshoot = { candidate: c.index, byMs, at: now }
      }
    }
  }

  // --- verdicts -------------------------------------------------------------------

  private judge(): void {
    const samples = this.measurements.samples
    if (this.candidates.length > 0) {
      if (this.firstDoubleLeader) {
        this.record(
          'single-leader',
          'fail',
          `two leaders at once: candidates ${this.firstDoubleLeader.who.join(' and ')} all reported isLeader at ${this.rel(this.firstDoubleLeader.at)} (max ${this.measurements.maxConcurrentLeaders} at one sample)`,
        )
      } else {
        this.record('single-leader', 'pass', `at most ${this.measurements.maxConcurrentLeaders} leader over ${samples} samples`)
      }
    }

    const end = monotonicNow()
    const overlaps: string[] = []
    for (const a of this.intervals) {
      for (const b of this.intervals) {
        if (a.candidate >= b.candidate) continue
        const aEnd = a.end ?? end
        const bEnd = b.end ?? end
        if (a.start < bEnd && b.start < aEnd) {
          overlaps.push(
            `candidates ${a.candidate} and ${b.candidate} were both leader from ${this.rel(Math.max(a.start, b.start))} to ${this.rel(Math.min(aEnd, bEnd))}`,
          )
        }
      }
      if (a.endedBy === 'other' && a.end !== undefined) {
        for (const b of this.intervals) {
          if (b.candidate === a.candidate || b.start <= a.start || b.start >= a.lastDeadline) continue
          if (b.start < a.end) continue // already an overlap
          overlaps.push(
            `candidate ${b.candidate} elected ${ms(a.lastDeadline - b.start)} before candidate ${a.candidate}'s deadline, which had lost leadership without releasing it`,
          )
        }
      }
    }
    if (this.intervals.length > 0 || this.checks.has('first-leader')) {
      if (overlaps.length) this.record('no-overlap', 'fail', first(overlaps))
      else this.record('no-overlap', 'pass', `${this.intervals.length} leadership interval(s), none overlapping`)
    }

    if (this.candidates.length > 0) {
      if (this.orderViolations.length) this.record('event-order', 'fail', first(this.orderViolations))
      else {
        const counts = countEvents(this.timeline)
        this.record('event-order', 'pass', `${counts.elected} elected, ${counts.renewed} renewed, ${counts.deposed} deposed, all in order`)
      }
      const deadlineProblems = [...this.deadlineViolations]
      if (this.overshoot) {
        deadlineProblems.push(
          `candidate ${this.overshoot.candidate} still reported isLeader ${ms(this.overshoot.byMs)} past its deadline (at ${this.rel(this.overshoot.at)})`,
        )
      }
      if (deadlineProblems.length) this.record('deadlines', 'fail', first(deadlineProblems))
      else this.record('deadlines', 'pass', 'every deadline was ahead when announced, never moved back, and was never outlived')
    }
  }

  // --- helpers -----------------------------------------------------------------------

  private openInterval(candidate: number): Interval | undefined {
    for (let i = this.intervals.length - 1; i >= 0; i--) {
      const interval = this.intervals[i]!
      if (interval.candidate === candidate) return interval.end === undefined ? interval : undefined
    }
    return undefined
  }

  /** Waits for exactly one candidate with isLeader (not stopping), or undefined after the timeout. */
  private async currentLeader(): Promise<Candidate | undefined> {
    const one = () => {
      const leaders = this.candidates.filter((c) => !c.stopping && safeIsLeader(c.elector) && this.openInterval(c.index))
      return leaders.length === 1 ? leaders[0] : undefined
    }
    await this.waitFor(() => one() !== undefined, this.timeoutMs)
    return one()
  }

  private waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const until = monotonicNow() + timeoutMs
      const check = () => {
        if (predicate()) return finish(true)
        if (monotonicNow() >= until) return finish(false)
      }
      const finish = (value: boolean) => {
        clearInterval(timer)
        resolve(value)
      }
      const timer = setInterval(check, Math.max(1, this.sampleEveryMs))
      check()
    })
  }

  /** Resolves to undefined, or to an Error if the promise rejects or takes longer than timeoutMs. */
  private within(promise: Promise<unknown>, what: string): Promise<Error | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(new Error(`${what} did not resolve within ${ms(this.timeoutMs)}`)), this.timeoutMs)
      Promise.resolve(promise).then(
        () => {
          clearTimeout(timer)
          resolve(undefined)
        },
        (error) => {
          clearTimeout(timer)
          resolve(new Error(`${what} rejected: ${describe(error)}`))
        },
      )
    })
  }

  private sleep(msToWait: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, msToWait))
  }

  private record(
    id: ConformanceCheckId,
    status: ConformanceStatus,
    message: string,
    measurements?: Record<string, number>,
  ): void {
    this.checks.set(id, { id, title: TITLES[id], status, message, ...(measurements ? { measurements } : {}) })
  }

  private step(detail: string): void {
    this.push({ at: monotonicNow(), candidate: -1, event: 'step', detail })
    this.options.log?.(`[${this.options.name}] ${this.rel(monotonicNow())} ${detail}`)
  }

  private push(entry: TimelineEntry): void {
    const relative: TimelineEntry = { ...entry, at: round(entry.at - this.t0) }
    if (entry.deadline !== undefined) relative.deadline = Number.isFinite(entry.deadline) ? round(entry.deadline - this.t0) : entry.deadline
    this.timeline.push(relative)
    if (entry.event !== 'step' && entry.event !== 'renewed') {
      this.options.log?.(
        `[${this.options.name}] ${this.rel(entry.at)} candidate ${entry.candidate} ${entry.event}` +
          (entry.detail ? `: ${entry.detail}` : ''),
      )
    }
  }

  private rel(at: number): string {
    return `+${Math.round(at - this.t0)} ms`
  }
}

function validDeadline(lease: Lease | undefined): lease is Lease {
  return typeof lease?.deadline === 'number' && !Number.isNaN(lease.deadline)
}

function safeIsLeader(elector: LeaderElector): boolean {
  try {
    return elector.isLeader === true
  } catch {
    return false
  }
}

function countEvents(timeline: TimelineEntry[]) {
  const counts = { elected: 0, renewed: 0, deposed: 0 }
  for (const e of timeline) if (e.event in counts) counts[e.event as keyof typeof counts]++
  return counts
}

function first(problems: string[]): string {
  return problems.length > 3 ? `${problems.slice(0, 3).join('; ')} (and ${problems.length - 3} more)` : problems.join('; ')
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}

function ms(value: number): string {
  return `${Math.round(value)} ms`
}
