import { replay } from '../model'
import { defineCheck, fail, first, ms, notReached, pass, rel } from './check'

/** Leadership intervals (elected to deposed) of different candidates never overlap, nor follow a lost lease before its deadline. */
export const noOverlap = defineCheck({ id: 'no-overlap', phase: 'run', title: 'leadership intervals never overlap, and nobody is elected before a lost leader’s deadline' }, (trace) => {
  const { intervals } = replay(trace)
  const reached = trace.entries.some((e) => e.kind === 'phase' && e.phase === 'first-leader' && e.state === 'begin')
  if (intervals.length === 0 && !reached) return notReached
  const overlaps: string[] = []
  for (const a of intervals) {
    for (const b of intervals) {
      if (a.candidate >= b.candidate) continue
      const aEnd = a.end ?? trace.end
      const bEnd = b.end ?? trace.end
      if (a.start < bEnd && b.start < aEnd) {
        overlaps.push(
          `candidates ${a.candidate} and ${b.candidate} were both leader from ${rel(Math.max(a.start, b.start))} to ${rel(Math.min(aEnd, bEnd))}`,
        )
      }
    }
    // Lost without a release (not by stop()): its deadline still holds off everyone else.
    if (a.endedBy === 'other' && a.end !== undefined) {
      for (const b of intervals) {
        if (b.candidate === a.candidate || b.start <= a.start || b.start >= a.lastDeadline) continue
        if (b.start < a.end) continue // already an overlap
        overlaps.push(
          `candidate ${b.candidate} elected ${ms(a.lastDeadline - b.start)} before candidate ${a.candidate}'s deadline, which had lost leadership without releasing it`,
        )
      }
    }
  }
  if (overlaps.length) return fail(first(overlaps))
  return pass(`${intervals.length} leadership interval(s), none overlapping`)
})
