// Leadership as the events tell it, folded from a trace one entry at a time.
// The recorder folds live (to know whom to partition or stop); the checks fold
// the finished trace. It holds facts only; what is wrong is the checks' call.
import type { Trace, TraceEntry } from './trace'

/** One [elected, deposed] stretch of one candidate. */
export interface Interval {
  candidate: number
  start: number
  /** Index of its `elected` entry in the trace. */
  startIndex: number
  end?: number
  /** The furthest deadline announced so far (its start when none was valid). */
  lastDeadline: number
  /** 'stop' when deposed while the kit was stopping it: a release, allowed before the deadline. */
  endedBy?: 'stop' | 'other'
  reason?: string
}

export interface CandidateView {
  /** Leader according to its events. */
  leader: boolean
  /** The kit's last call on it was stop(). */
  stopping: boolean
  /** When a stop() call on it settled, until its next start(): events after this are leaks. */
  stoppedAt?: number
}

export function validDeadline(deadline: number | undefined): deadline is number {
  return typeof deadline === 'number' && !Number.isNaN(deadline)
}

export class LeadershipModel {
  readonly intervals: Interval[] = []
  private readonly views = new Map<number, CandidateView>()
  /** Entries applied so far. */
  applied = 0

  view(candidate: number): CandidateView {
    let view = this.views.get(candidate)
    if (!view) this.views.set(candidate, (view = { leader: false, stopping: false }))
    return view
  }

  /** The candidate's interval if its latest one is still open. */
  openInterval(candidate: number): Interval | undefined {
    for (let i = this.intervals.length - 1; i >= 0; i--) {
      const interval = this.intervals[i]!
      if (interval.candidate === candidate) return interval.end === undefined ? interval : undefined
    }
    return undefined
  }

  apply(entry: TraceEntry): void {
    const index = this.applied++
    switch (entry.kind) {
      case 'call': {
        const view = this.view(entry.candidate)
        if (entry.method === 'stop') view.stopping = true
        else {
          view.stopping = false
          view.stoppedAt = undefined
        }
        break
      }
      case 'return':
        if (entry.method === 'stop') this.view(entry.candidate).stoppedAt ??= entry.at
        break
      case 'elected': {
        this.view(entry.candidate).leader = true
        const lastDeadline = validDeadline(entry.deadline) ? entry.deadline : entry.at
        this.intervals.push({ candidate: entry.candidate, start: entry.at, startIndex: index, lastDeadline })
        break
      }
      case 'renewed': {
        const open = this.openInterval(entry.candidate)
        if (this.view(entry.candidate).leader && open && validDeadline(entry.deadline)) {
          open.lastDeadline = Math.max(open.lastDeadline, entry.deadline)
        }
        break
      }
      case 'deposed': {
        const view = this.view(entry.candidate)
        const open = this.openInterval(entry.candidate)
        if (!view.leader || !open) break
        view.leader = false
        open.end = entry.at
        open.endedBy = view.stopping ? 'stop' : 'other'
        open.reason = entry.reason
        break
      }
      default:
        break
    }
  }
}

/**
 * Folds `trace` up to (not including) entry `until`, calling `visit` with each
 * entry and the model as it stood just before that entry.
 */
export function replay(
  trace: Trace,
  visit?: (entry: TraceEntry, before: LeadershipModel, index: number) => void,
  until = trace.entries.length,
): LeadershipModel {
  const model = new LeadershipModel()
  for (let i = 0; i < until && i < trace.entries.length; i++) {
    const entry = trace.entries[i]!
    visit?.(entry, model, i)
    model.apply(entry)
  }
  return model
}
