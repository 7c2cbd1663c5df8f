// Small statistics for benchmark reports: medians and percentiles, never means
// (the machines are shared and noisy; one slow outlier must not move the figure).
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export const median = (values: number[]) => percentile(values, 50)

export function summary(values: number[]): { n: number; median: number; p90: number; p99: number; min: number; max: number } {
  return {
    n: values.length,
    median: median(values),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
  }
}

export function fmt(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms)
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 100 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`
}

/** Prints progress on stderr so long benchmarks show they are alive. */
export function progress(label: string, done: number, total: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${done}/${total}   ${done === total ? '\n' : ''}`)
  else if (done === total || done % Math.max(1, Math.floor(total / 5)) === 0) process.stderr.write(`${label}: ${done}/${total}\n`)
}
