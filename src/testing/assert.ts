// Turns a conformance report into test assertions.
import type { ConformanceReport } from './conformance'

/** The part of a tap `Test` (node-tap 16+) this needs; other runners can adapt. */
export interface TapLike {
  /** One assertion: passes when `value` is truthy; `extra` carries `skip` or the check's measurements. */
  ok(value: unknown, message: string, extra: { [key: string]: unknown }): unknown
  /** A diagnostic line (the measurements, and the timeline on failure). */
  comment(...message: unknown[]): unknown
}

/**
 * One assertion per check: a failed check fails with its message, a skipped
 * check is reported as skipped. On failure the timeline is printed as a
 * comment, to see what the candidates did.
 */
export function assertConformance(t: TapLike, report: ConformanceReport): void {
  for (const check of report.checks) {
    const label = `${report.name}: ${check.title}`
    if (check.status === 'skip') t.ok(true, label, { skip: check.message })
    else t.ok(check.status === 'pass', `${label} — ${check.message}`, check.measurements ? { measurements: check.measurements } : {})
  }
  t.comment(formatMeasurements(report))
  if (!report.ok) t.comment(formatTimeline(report))
}

/** One line of measured figures. */
export function formatMeasurements(report: ConformanceReport): string {
  const figures = Object.entries(report.measurements)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`)
  return `${report.name}: ${figures.join(' ')} (run took ${report.durationMs} ms)`
}

/** The run's events, one per line, times relative to its start. */
export function formatTimeline(report: ConformanceReport, limit = 200): string {
  const lines = report.timeline
    .filter((e) => e.event !== 'renewed')
    .slice(-limit)
    .map(
      (e) =>
        `+${e.at} ms ${e.candidate < 0 ? 'kit' : `candidate ${e.candidate}`} ${e.event}` +
        (e.deadline !== undefined ? ` (deadline +${e.deadline} ms)` : '') +
        (e.detail ? `: ${e.detail}` : ''),
    )
  return `${report.name} timeline (renewals left out):\n${lines.join('\n')}`
}
