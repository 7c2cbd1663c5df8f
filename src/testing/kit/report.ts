// Turns a trace and the checks' verdicts into the public ConformanceReport:
// the timeline, the measured figures, the checks in their fixed order.
import type { ConformanceCheck, ConformanceMeasurements, ConformanceReport, TimelineEntry } from '../conformance'
import { CHECKS, runCheck } from './checks'
import { round } from './checks/check'
import type { Trace } from './trace'

export function judge(trace: Trace): ConformanceReport {
  const checks: ConformanceCheck[] = CHECKS.map((check) => {
    const verdict = runCheck(check, trace)
    return { id: check.id, title: check.title, ...verdict }
  })
  const measurements: ConformanceMeasurements = { ...runFigures(trace) }
  for (const check of checks) Object.assign(measurements, check.measurements)
  return {
    name: trace.name,
    candidates: trace.candidates,
    ok: checks.every((c) => c.status !== 'fail'),
    checks,
    measurements,
    timeline: timeline(trace),
    durationMs: Math.round(trace.end),
  }
}

/** Figures of the whole run, whatever the checks say. */
export function runFigures(trace: Trace): Pick<ConformanceMeasurements, 'maxConcurrentLeaders' | 'samples' | 'errorEvents'> {
  let maxConcurrentLeaders = 0
  let samples = 0
  let errorEvents = 0
  for (const e of trace.entries) {
    if (e.kind === 'sample') {
      samples++
      maxConcurrentLeaders = Math.max(maxConcurrentLeaders, e.leaders.length)
    } else if (e.kind === 'error') errorEvents++
  }
  return { maxConcurrentLeaders, samples, errorEvents }
}

/** The candidates' events and the kit's steps, as the report shows them (with the first sample that found two leaders). */
export function timeline(trace: Trace): TimelineEntry[] {
  const lines: TimelineEntry[] = []
  let doubleSeen = false
  for (const e of trace.entries) {
    const at = round(e.at)
    if (e.kind === 'elected' || e.kind === 'renewed') {
      const deadline = e.deadline === undefined ? undefined : Number.isFinite(e.deadline) ? round(e.deadline) : e.deadline
      lines.push({ at, candidate: e.candidate, event: e.kind, ...(deadline !== undefined ? { deadline } : {}) })
    } else if (e.kind === 'deposed') lines.push({ at, candidate: e.candidate, event: 'deposed', detail: e.reason })
    else if (e.kind === 'error') lines.push({ at, candidate: e.candidate, event: 'error', detail: e.message })
    else if (e.kind === 'step') lines.push({ at, candidate: -1, event: 'step', detail: e.detail })
    else if (e.kind === 'sample' && e.leaders.length > 1 && !doubleSeen) {
      doubleSeen = true
      lines.push({ at, candidate: -1, event: 'step', detail: `sampled ${e.leaders.length} leaders: ${e.leaders.join(', ')}` })
    }
  }
  return lines
}
