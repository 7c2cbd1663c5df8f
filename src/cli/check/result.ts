export type CheckStatus = 'PASS' | 'WARN' | 'FAIL'

/** One line of the `check` report. */
export interface CheckResult {
  /** Stable identifier: 'config', 'interface', 'sysctl rp_filter', ... */
  id: string
  status: CheckStatus
  /** What was found, naming the values. */
  summary: string
  /** What to do about it (exact commands where there are any). */
  fix?: string
  /** Further lines, such as every configuration issue. */
  details?: string[]
}
