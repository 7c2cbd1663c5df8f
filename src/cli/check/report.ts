// Text and JSON renderings of a check report.
import type { CheckReport } from './checks'
import type { CheckStatus } from './result'

export function countStatuses(report: CheckReport): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { PASS: 0, WARN: 0, FAIL: 0 }
  for (const result of report.results) counts[result.status]++
  return counts
}

/**
 * One line per check: `STATUS  id  summary`, then indented detail lines and a
 * `fix:` line when there is something to do.
 */
export function formatReport(report: CheckReport): string {
  const width = Math.max(14, ...report.results.map((r) => r.id.length)) + 2
  const indent = ' '.repeat(6 + width)
  const lines = [`vip-announcer check: ${report.configPath}${report.netns ? ` in network namespace ${report.netns}` : ''}`]
  for (const result of report.results) {
    lines.push(`${result.status.padEnd(6)}${result.id.padEnd(width)}${result.summary}`)
    for (const detail of result.details ?? []) lines.push(`${indent}- ${detail}`)
    if (result.fix) lines.push(`${indent}fix: ${result.fix}`)
  }
  const counts = countStatuses(report)
  lines.push(`${counts.PASS} passed, ${counts.WARN} ${counts.WARN === 1 ? 'warning' : 'warnings'}, ${counts.FAIL} failed`)
  return lines.join('\n') + '\n'
}

export function reportJson(report: CheckReport): string {
  const counts = countStatuses(report)
  return (
    JSON.stringify(
      {
        ok: counts.FAIL === 0,
        configPath: report.configPath,
        netns: report.netns ?? null,
        config: report.config ?? null,
        counts,
        checks: report.results,
      },
      null,
      2,
    ) + '\n'
  )
}
