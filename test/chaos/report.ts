// The chaos table: per elector and fault kind, how many rounds ran, the worst
// overlap (target 0), the worst unavailability against that round's bound,
// leaks (target none) and every failure with what reproduces it.
import type { RoundRecord, SuiteResult } from './suite'

export interface Row {
  elector: string
  fault: string
  runs: number
  /** Rounds with an overlap in the kernel's order / two MACs answering one request. */
  overlapRounds: number
  worstOverlapMs: number
  doubleArpRounds: number
  worstUnavailableMs: number
  /** The bound of the round with the worst unavailability. */
  boundMs: number
  /** Worst unavailability / bound over the rounds (≤ 1 passes). */
  worstRatio: number
  medianUnavailableMs: number
  leaks: number
  failed: number
}

export interface Failure {
  elector: string
  round: number
  fault: string
  detail: string
  failures: string[]
  reproduce: string
}

export interface Report {
  seed: number
  rows: Row[]
  failures: Failure[]
  /** Failures outside any round: setup, samplers, leaks after teardown. */
  runProblems: string[]
  rounds: number
  passed: boolean
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[s.length >> 1] : 0
}

export function reproduceCommand(seed: number, elector: string, round: number): string {
  return `npm run chaos -- --seed ${seed} --electors ${elector} --round ${round}`
}

export function buildReport(result: SuiteResult): Report {
  const rows: Row[] = []
  const failures: Failure[] = []
  const runProblems: string[] = []
  for (const run of result.runs) {
    const byFault = new Map<string, RoundRecord[]>()
    for (const r of run.rounds) byFault.set(r.fault, [...(byFault.get(r.fault) ?? []), r])
    for (const [fault, rounds] of [...byFault].sort(([a], [b]) => a.localeCompare(b))) {
      const worst = rounds.reduce((w, r) => (r.unavailableMs > w.unavailableMs ? r : w), rounds[0])
      rows.push({
        elector: run.elector,
        fault,
        runs: rounds.length,
        overlapRounds: rounds.filter((r) => r.overlaps.length).length,
        worstOverlapMs: Math.max(0, ...rounds.map((r) => r.overlapMs)),
        doubleArpRounds: rounds.filter((r) => r.doubleArp.length).length,
        worstUnavailableMs: worst.unavailableMs,
        boundMs: worst.boundMs,
        worstRatio: Math.max(...rounds.map((r) => (r.boundMs ? r.unavailableMs / r.boundMs : 0))),
        medianUnavailableMs: median(rounds.map((r) => r.unavailableMs)),
        leaks: rounds.reduce((n, r) => n + r.leaks.length, 0),
        failed: rounds.filter((r) => r.failures.length).length,
      })
    }
    for (const r of run.rounds.filter((x) => x.failures.length)) {
      failures.push({ elector: r.elector, round: r.round, fault: r.fault, detail: r.detail, failures: r.failures, reproduce: reproduceCommand(result.seed, r.elector, r.round) })
    }
    runProblems.push(...run.errors.map((e) => `${run.elector}: ${e}`))
    runProblems.push(...run.finalLeaks.map((l) => `${run.elector}: leak after teardown: ${l}`))
    runProblems.push(...run.samplerErrors.map((e) => `${run.elector}: sampler: ${e}`))
    if (/^[1-9]\d* packets? dropped by kernel/.test(run.arpDrops)) runProblems.push(`${run.elector}: ARP capture: ${run.arpDrops}`)
  }
  if (result.controlError) runProblems.push(`positive control failed to run: ${result.controlError}`)
  else if (result.control && (result.control.overlaps.length !== 1 || result.control.doubleArp === 0)) {
    runProblems.push(`positive control not caught: ${result.control.overlaps.length} overlaps (expected 1), ${result.control.doubleArp} double ARP answers (expected > 0)`)
  }
  const rounds = result.runs.reduce((n, r) => n + r.rounds.length, 0)
  return { seed: result.seed, rows, failures, runProblems, rounds, passed: failures.length === 0 && runProblems.length === 0 && rounds > 0 }
}

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n')
}

/** A Markdown table (pasted as is into docs/reliability.md) and the failures. */
export function formatReport(report: Report, result: SuiteResult): string {
  const lines = report.rows.map((r) => [
    r.elector, r.fault, String(r.runs),
    `${r.worstOverlapMs} (${r.overlapRounds} rounds)`,
    String(r.doubleArpRounds),
    `${r.medianUnavailableMs} / ${r.worstUnavailableMs} ≤ ${r.boundMs}${r.worstRatio > 1 ? ' EXCEEDED' : ''}`,
    r.leaks ? String(r.leaks) : 'none',
    String(r.failed),
  ])
  const out = [
    `seed ${result.seed}, ${report.rounds} rounds, ${(result.wallMs / 60_000).toFixed(1)} min, ${result.host.cpus} CPUs, load ${result.host.loadBefore.map((l) => l.toFixed(2)).join('/')} before, ${result.host.loadAfter.map((l) => l.toFixed(2)).join('/')} after, Linux ${result.host.kernel}`,
    '',
    table(['elector', 'fault', 'runs', 'worst overlap ms', 'two MACs', 'unavailable ms: median / worst ≤ bound', 'leaks', 'failed'], lines),
  ]
  if (report.failures.length) {
    out.push('', 'Failures:')
    for (const f of report.failures) out.push(`- ${f.elector} round ${f.round} (${f.fault}: ${f.detail}): ${f.failures.join('; ')}\n  reproduce: ${f.reproduce}`)
  }
  if (report.runProblems.length) out.push('', 'Run problems:', ...report.runProblems.map((p) => `- ${p}`))
  out.push('', report.passed ? 'PASS: every invariant held.' : 'FAIL')
  return out.join('\n')
}
