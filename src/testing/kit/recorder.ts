// Plays a scenario against real candidates and writes down everything: their
// events, periodic isLeader samples, the kit's calls and how they settled,
// hooks, waits and probes. This is the only part of the kit that touches
// electors and timers; it judges nothing (the checks read the trace).
import { monotonicNow } from '../../clock'
import type { LeaderElector, Lease } from '../../elector'
import { LeadershipModel, validDeadline } from './model'
import type { Phase, Role, Step } from './scenario'
import type { Method, Trace, TraceEntry, WaitCondition } from './trace'

export interface RecorderOptions {
  name: string
  candidates: number
  create(index: number): LeaderElector | Promise<LeaderElector>
  partition?(elector: LeaderElector, index: number): Promise<() => Promise<void> | void>
  timeoutMs: number
  settleMs: number
  sampleEveryMs: number
  log?(line: string): void
}

/** Plays `scenario` and returns the trace. Throws only on a bug of its own. */
export async function record(options: RecorderOptions, scenario: readonly Phase[]): Promise<Trace> {
  return new Recorder(options).play(scenario)
}

/** Why a step did not go through: it failed, or a `require` skipped the rest of its phase. */
type StepOutcome = 'ok' | 'failed' | 'skipped'

class Recorder {
  private readonly t0 = monotonicNow()
  private readonly entries: TraceEntry[] = []
  private readonly model = new LeadershipModel()
  private readonly electors: LeaderElector[] = []
  private readonly roles = new Map<Role, number>()
  private readonly heals = new Map<number, () => Promise<void> | void>()
  /** Index of the latest round-1 call or hook call on each candidate: waits look for changes after it. */
  private readonly lastAction = new Map<number, number>()
  private sampler?: NodeJS.Timeout

  constructor(private readonly options: RecorderOptions) {}

  async play(scenario: readonly Phase[]): Promise<Trace> {
    let runEnded = false
    try {
      for (const phase of scenario) {
        if (runEnded && !phase.always) continue
        const unmet = this.unmet(phase)
        if (unmet !== undefined) {
          this.push({ at: this.now(), kind: 'phase', phase: phase.name, state: 'skip', reason: unmet })
          continue
        }
        this.push({ at: this.now(), kind: 'phase', phase: phase.name, state: 'begin' })
        try {
          for (const step of phase.steps) {
            if (step.onlyWith && step.onlyWith.candidates !== this.options.candidates) continue
            const outcome = await this.run(step, phase)
            if (outcome === 'skipped') break
            if (outcome === 'ok') continue
            const policy = step.onFail ?? phase.onFail ?? 'end-phase'
            if (policy === 'continue') continue
            if (policy === 'end-run') runEnded = true
            break
          }
          this.push({ at: this.now(), kind: 'phase', phase: phase.name, state: 'end' })
        } catch (error) {
          // The phase has no 'end': its checks say "not reached".
          this.step(`kit error: ${describe(error)}`)
          runEnded = true
        }
      }
    } finally {
      clearInterval(this.sampler)
    }
    const { name, candidates, timeoutMs, settleMs, sampleEveryMs } = this.options
    return {
      name,
      candidates,
      partitionHook: typeof this.options.partition === 'function',
      timeoutMs,
      settleMs,
      sampleEveryMs,
      entries: this.entries,
      end: this.now(),
    }
  }

  private unmet(phase: Phase): string | undefined {
    const needs = phase.needs
    if (!needs) return undefined
    if (needs.candidates !== undefined && this.options.candidates < needs.candidates) return needs.reason
    if (needs.partitionHook && !this.options.partition) return needs.reason
    if (needs.created && this.electors.length === 0) return needs.reason
    return undefined
  }

  // --- steps --------------------------------------------------------------------

  private async run(step: Step, phase: Phase): Promise<StepOutcome> {
    switch (step.do) {
      case 'create':
        return this.create()
      case 'start':
      case 'stop': {
        const targets = this.targets(step.who)
        if (!targets) return 'failed'
        if (step.as && targets.length === 1) this.roles.set(step.as, targets[0]!)
        this.say(step, targets)
        return (await (step.do === 'start' ? this.startAll(targets, step.rounds) : this.stopAll(targets, step.rounds, step.probe)))
          ? 'ok'
          : 'failed'
      }
      case 'await': {
        const who = step.who === undefined ? undefined : this.roles.get(step.who)
        if (step.until === 'one-leader') {
          const leader = await this.oneLeader()
          if (leader !== undefined && step.as) this.roles.set(step.as, leader)
          return leader !== undefined ? 'ok' : 'failed'
        }
        return (await this.awaitCondition(step.until, who)) ? 'ok' : 'failed'
      }
      case 'partition':
        return this.partition(step.who, step.as, step)
      case 'heal':
        return this.heal(step.who, step)
      case 'pause':
        await sleep(step.ms(this.options))
        return 'ok'
      case 'probe': {
        const targets = this.targets(step.who)
        if (!targets) return 'failed'
        let leading = false
        for (const c of targets) {
          const isLeader = safeIsLeader(this.electors[c]!)
          leading ||= isLeader
          this.push({ at: this.now(), kind: 'probe', candidate: c, isLeader })
        }
        return step.failIfLeader && leading ? 'failed' : 'ok'
      }
      case 'require':
        if (this.roles.has(step.role)) return 'ok'
        this.push({ at: this.now(), kind: 'phase', phase: phase.name, state: 'skip', reason: step.reason })
        return 'skipped'
      case 'stop-leaders-until-re-elected':
        return this.stopLeadersUntilReElected(step.who)
    }
  }

  private async create(): Promise<StepOutcome> {
    for (let index = 0; index < this.options.candidates; index++) {
      let elector: LeaderElector
      try {
        elector = await this.options.create(index)
      } catch (error) {
        this.push({ at: this.now(), kind: 'create', candidate: index, error: describe(error) })
        return 'failed'
      }
      this.electors.push(elector)
      this.push({ at: this.now(), kind: 'create', candidate: index })
      this.listen(elector, index)
    }
    this.sampler = setInterval(() => this.sample(), this.options.sampleEveryMs)
    return 'ok'
  }

  private async startAll(targets: number[], rounds: 1 | 2): Promise<boolean> {
    for (const round of roundsOf(rounds)) {
      const results = await Promise.all(targets.map((c) => this.call(c, 'start', round)))
      if (results.includes(false)) return false
    }
    return true
  }

  /** Every round on every target (a failed stop() is still followed by the second), then the probes. */
  private async stopAll(targets: number[], rounds: 1 | 2, probe?: boolean): Promise<boolean> {
    const results = await Promise.all(
      targets.map(async (c) => {
        let ok = true
        for (const round of roundsOf(rounds)) ok = (await this.call(c, 'stop', round)) && ok
        if (probe) this.push({ at: this.now(), kind: 'probe', candidate: c, isLeader: safeIsLeader(this.electors[c]!) })
        return ok
      }),
    )
    return !results.includes(false)
  }

  private async partition(who: Role, as: Role, step: Step): Promise<StepOutcome> {
    const c = this.roles.get(who)
    if (c === undefined || !this.options.partition) return 'failed'
    this.say(step, [c])
    this.push({ at: this.now(), kind: 'hook', hook: 'partition', candidate: c, state: 'call' })
    this.lastAction.set(c, this.entries.length - 1)
    try {
      this.heals.set(c, await this.options.partition(this.electors[c]!, c))
    } catch (error) {
      this.push({ at: this.now(), kind: 'hook', hook: 'partition', candidate: c, state: 'return', error: describe(error) })
      return 'failed'
    }
    this.push({ at: this.now(), kind: 'hook', hook: 'partition', candidate: c, state: 'return' })
    this.roles.set(as, c)
    return 'ok'
  }

  private async heal(who: Role, step: Step): Promise<StepOutcome> {
    const c = this.roles.get(who)
    const heal = c === undefined ? undefined : this.heals.get(c)
    if (c === undefined || !heal) return 'failed'
    this.say(step, [c])
    this.push({ at: this.now(), kind: 'hook', hook: 'heal', candidate: c, state: 'call' })
    try {
      await heal()
    } catch (error) {
      this.push({ at: this.now(), kind: 'hook', hook: 'heal', candidate: c, state: 'return', error: describe(error) })
      return 'failed'
    }
    this.push({ at: this.now(), kind: 'hook', hook: 'heal', candidate: c, state: 'return' })
    return 'ok'
  }

  /**
   * start() was called again on `who`: it must become leader again. While
   * another candidate leads, that one is stopped, until `who` is elected or is
   * the only candidate left, when it must be elected within timeoutMs.
   */
  private async stopLeadersUntilReElected(who: Role): Promise<StepOutcome> {
    const candidate = this.roles.get(who)
    if (candidate === undefined) return 'failed'
    const reElected = () => this.electedSince(candidate, (c) => c === candidate)
    while (!reElected()) {
      const others = this.created().filter((c) => c !== candidate && !this.model.view(c).stopping)
      if (others.length === 0) return (await this.awaitCondition('re-elected', candidate)) ? 'ok' : 'failed'
      const leader = await this.oneLeader()
      if (reElected()) break
      if (leader === undefined) return 'failed'
      this.step(`stopping leader ${leader} to let restarted candidate ${candidate} (or another) take over`)
      if (!(await this.call(leader, 'stop', 1))) return 'failed'
    }
    return 'ok'
  }

  // --- waiting ------------------------------------------------------------------

  /** Waits for exactly one leader (isLeader, an open interval, not being stopped); records the wait. */
  private async oneLeader(): Promise<number | undefined> {
    const one = () => {
      const leaders = this.created().filter(
        (c) => !this.model.view(c).stopping && safeIsLeader(this.electors[c]!) && this.model.openInterval(c),
      )
      return leaders.length === 1 ? leaders[0] : undefined
    }
    await this.waitFor(() => one() !== undefined)
    const leader = one()
    this.push({ at: this.now(), kind: 'wait', until: 'one-leader', ok: leader !== undefined, ...(leader !== undefined ? { candidate: leader } : {}) })
    return leader
  }

  private async awaitCondition(until: Exclude<WaitCondition, 'one-leader'>, who: number | undefined): Promise<boolean> {
    const predicate = this.condition(until, who)
    const ok = await this.waitFor(predicate)
    this.push({ at: this.now(), kind: 'wait', until, ok })
    return ok
  }

  private condition(until: Exclude<WaitCondition, 'one-leader'>, who: number | undefined): () => boolean {
    if (until === 'elected') return () => this.model.intervals.length > 0
    if (who === undefined) return () => false
    if (until === 'elected-other') return () => this.electedSince(who, (c) => c !== who)
    if (until === 're-elected') return () => this.electedSince(who, (c) => c === who)
    // deposed-and-replaced: the interval `who` held when cut off ended, and someone else (if anyone is left) took over.
    const mark = this.lastAction.get(who) ?? 0
    const held = [...this.model.intervals].reverse().find((i) => i.candidate === who && i.startIndex < mark)
    const others = this.created().filter((c) => c !== who && !this.model.view(c).stopping)
    return () => held?.end !== undefined && (others.length === 0 || this.electedSince(who, (c) => c !== who))
  }

  /** Whether a candidate matching `which` was elected after the latest action on `who`. */
  private electedSince(who: number, which: (candidate: number) => boolean): boolean {
    const mark = this.lastAction.get(who) ?? 0
    return this.model.intervals.some((i) => which(i.candidate) && i.startIndex > mark)
  }

  private waitFor(predicate: () => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const until = monotonicNow() + this.options.timeoutMs
      const check = () => {
        if (predicate()) return finish(true)
        if (monotonicNow() >= until) return finish(false)
      }
      const finish = (value: boolean) => {
        clearInterval(timer)
        resolve(value)
      }
      const timer = setInterval(check, Math.max(1, this.options.sampleEveryMs))
      check()
    })
  }

  /** Calls start() or stop() and records the call and how it settled (or that it took longer than timeoutMs). */
  private call(candidate: number, method: Method, round: 1 | 2): Promise<boolean> {
    this.push({ at: this.now(), kind: 'call', candidate, method, round })
    if (round === 1) this.lastAction.set(candidate, this.entries.length - 1)
    let promise: Promise<unknown>
    try {
      promise = Promise.resolve(this.electors[candidate]![method]())
    } catch (error) {
      promise = Promise.reject(error)
    }
    return new Promise<boolean>((resolve) => {
      let settled = false
      // Once: a call that settles after the kit gave up on it is not recorded again.
      const settle = (outcome: 'resolved' | 'rejected' | 'timeout', error?: string) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.push({ at: this.now(), kind: 'return', candidate, method, round, outcome, ...(error !== undefined ? { error } : {}) })
        resolve(outcome === 'resolved')
      }
      const timer = setTimeout(() => settle('timeout'), this.options.timeoutMs)
      promise.then(
        () => settle('resolved'),
        (error) => settle('rejected', describe(error)),
      )
    })
  }

  // --- observing ----------------------------------------------------------------

  private listen(elector: LeaderElector, candidate: number): void {
    const lease = (kind: 'elected' | 'renewed') => (given: Lease) => {
      const raw = given?.deadline
      const deadline = typeof raw === 'number' ? raw - this.t0 : undefined
      this.push({
        at: this.now(),
        kind,
        candidate,
        ...(deadline !== undefined ? { deadline } : {}),
        ...(validDeadline(deadline) ? {} : { lease: json(given) }),
      })
    }
    elector.on('elected', lease('elected'))
    elector.on('renewed', lease('renewed'))
    elector.on('deposed', (reason: string) => this.push({ at: this.now(), kind: 'deposed', candidate, reason: String(reason) }))
    elector.on('error', (error: Error) => this.push({ at: this.now(), kind: 'error', candidate, message: describe(error) }))
  }

  private sample(): void {
    const leaders: number[] = []
    for (let c = 0; c < this.electors.length; c++) if (safeIsLeader(this.electors[c]!)) leaders.push(c)
    this.push({ at: this.now(), kind: 'sample', leaders })
  }

  // --- helpers --------------------------------------------------------------------

  private push(entry: TraceEntry): void {
    this.entries.push(entry)
    this.model.apply(entry)
    const log = this.options.log
    if (!log) return
    if (entry.kind === 'step') log(`[${this.options.name}] +${Math.round(entry.at)} ms ${entry.detail}`)
    else if (entry.kind === 'elected' || entry.kind === 'deposed' || entry.kind === 'error') {
      const detail = entry.kind === 'deposed' ? entry.reason : entry.kind === 'error' ? entry.message : ''
      log(`[${this.options.name}] +${Math.round(entry.at)} ms candidate ${entry.candidate} ${entry.kind}` + (detail ? `: ${detail}` : ''))
    }
  }

  private step(detail: string): void {
    this.push({ at: this.now(), kind: 'step', detail })
  }

  private say(step: Step, targets: number[]): void {
    if (step.say) this.step(step.say.replace('{who}', targets.join(', ')).replace('{n}', String(this.electors.length)))
  }

  private targets(who: 'all' | Role): number[] | undefined {
    if (who === 'all') return this.created()
    const c = this.roles.get(who)
    return c === undefined ? undefined : [c]
  }

  private created(): number[] {
    return this.electors.map((_, i) => i)
  }

  private now(): number {
    return monotonicNow() - this.t0
  }
}

function roundsOf(rounds: 1 | 2): (1 | 2)[] {
  return rounds === 2 ? [1, 2] : [1]
}

function safeIsLeader(elector: LeaderElector): boolean {
  try {
    return elector.isLeader === true
  } catch {
    return false
  }
}

function json(value: unknown): string {
  try {
    return String(JSON.stringify(value))
  } catch {
    return String(value)
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
