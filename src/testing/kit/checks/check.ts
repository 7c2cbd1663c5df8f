// What a check is: one rule of the LeaderElector contract, declared once (id,
// title, the phase of the scenario whose trace it judges, the judgement), and
// a pure function of the trace. runCheck applies what every check shares:
// a skipped phase skips the check, a phase never finished is "not reached".
import type { PhaseName } from '../scenario'
import type { Trace, TraceEntry } from '../trace'

/** A check's outcome, as it appears in the report. */
export interface Verdict {
  status: 'pass' | 'fail' | 'skip'
  message: string
  /** Figures measured (names as in ConformanceMeasurements, ms). */
  measurements?: Record<string, number>
}

/** The entries of one phase: indices into trace.entries, `from` its begin, `to` its end (exclusive). */
export interface PhaseWindow {
  from: number
  to: number
}

export interface CheckDefinition<Id extends string = string> {
  id: Id
  /** The rule checked, in one line. */
  title: string
  /** The phase it judges, or 'run' for a rule that must hold over the whole run. */
  phase: PhaseName | 'run'
  /** Judges the trace; for a phase check, only called when the phase ran to its end. */
  judge(trace: Trace, window: PhaseWindow): Verdict
}

/** A check: what it is (id, the phase it judges, its rule in one line) and its judgement. */
export function defineCheck<const Id extends string>(what: Omit<CheckDefinition<Id>, 'judge'>, judge: CheckDefinition<Id>['judge']): CheckDefinition<Id> {
  return { ...what, judge }
}

/** The check's verdict on `trace`. */
export function runCheck(check: CheckDefinition, trace: Trace): Verdict {
  if (check.phase === 'run') return check.judge(trace, { from: 0, to: trace.entries.length })
  let from: number | undefined
  for (let i = 0; i < trace.entries.length; i++) {
    const e = trace.entries[i]!
    if (e.kind !== 'phase' || e.phase !== check.phase) continue
    if (e.state === 'skip') return { status: 'skip', message: e.reason ?? 'skipped' }
    if (e.state === 'begin') from = i
    else if (from !== undefined) return check.judge(trace, { from, to: i })
  }
  return { status: 'skip', message: 'not reached' }
}

// --- helpers the checks share -------------------------------------------------------

export const pass = (message: string, measurements?: Record<string, number>): Verdict => ({
  status: 'pass',
  message,
  ...(measurements ? { measurements } : {}),
})

export const fail = (message: string, measurements?: Record<string, number>): Verdict => ({
  status: 'fail',
  message,
  ...(measurements && Object.keys(measurements).length ? { measurements } : {}),
})

export const notReached: Verdict = { status: 'skip', message: 'not reached' }

type Of<K extends TraceEntry['kind']> = Extract<TraceEntry, { kind: K }>

/** The entries of `window` (all of it, or from index `after` on) of one kind, with their indices. */
export function entriesOf<K extends TraceEntry['kind']>(
  trace: Trace,
  window: PhaseWindow,
  kind: K,
  where: (entry: Of<K>) => boolean = () => true,
  after = -1,
): { entry: Of<K>; index: number }[] {
  const found: { entry: Of<K>; index: number }[] = []
  for (let i = Math.max(window.from, after + 1); i < window.to; i++) {
    const entry = trace.entries[i]!
    if (entry.kind === kind && where(entry as Of<K>)) found.push({ entry: entry as Of<K>, index: i })
  }
  return found
}

export function firstOf<K extends TraceEntry['kind']>(
  trace: Trace,
  window: PhaseWindow,
  kind: K,
  where?: (entry: Of<K>) => boolean,
  after?: number,
): { entry: Of<K>; index: number } | undefined {
  return entriesOf(trace, window, kind, where, after)[0]
}

/** Candidates that `create` made, in order. */
export function created(trace: Trace): number[] {
  return trace.entries.flatMap((e) => (e.kind === 'create' && e.error === undefined ? [e.candidate] : []))
}

/** Why a call did not go through, e.g. "stop() of candidate 1 rejected: EIO". */
export function callFailure(trace: Trace, entry: Of<'return'>, what: string): string {
  return entry.outcome === 'timeout' ? `${what} did not resolve within ${ms(trace.timeoutMs)}` : `${what} rejected: ${entry.error}`
}

export const whole = (trace: Trace): PhaseWindow => ({ from: 0, to: trace.entries.length })

/** The first three problems, and how many more. */
export function first(problems: string[]): string {
  return problems.length > 3 ? `${problems.slice(0, 3).join('; ')} (and ${problems.length - 3} more)` : problems.join('; ')
}

export function round(value: number): number {
  return Math.round(value * 10) / 10
}

export function ms(value: number): string {
  return `${Math.round(value)} ms`
}

/** A time of the run as the messages show it. */
export function rel(at: number): string {
  return `+${Math.round(at)} ms`
}
