// One error for a whole configuration: people fix files in one pass when they
// see every problem at once, each with where it is and what would be valid.

/** One problem found in a configuration. */
export interface ConfigIssue {
  /**
   * Dotted YAML path of the offending key, such as
   * 'controlPlane.advanced.kubeVip.gateway'; '' for the document as a whole.
   */
  path: string
  /** What is wrong, naming the value found. */
  message: string
  /** What a valid value looks like, with an example. */
  expected?: string
  /** 1-based line of the key in the YAML file, when loaded from a file. */
  line?: number
  /** 1-based column of the key in the YAML file, when loaded from a file. */
  column?: number
}

/**
 * Thrown by `parseVclusterConfig` and `loadVclusterConfig` with every problem
 * found, never just the first. The message lists each issue on its own line as
 * `path: problem (expected: ...)`, followed by `[line L, column C]` when the
 * position in the file is known.
 */
export class ConfigError extends Error {
  /** Always 'ConfigError'. */
  override readonly name = 'ConfigError'
  /** Where the configuration came from (a file path), if known. */
  readonly source?: string

  /**
   * @param issues - Every problem found; the message lists them all.
   * @param source - Where the configuration came from, shown in the message.
   */
  constructor(
    readonly issues: ConfigIssue[],
    source?: string,
  ) {
    super(formatConfigIssues(issues, source))
    this.source = source
  }
}

/** Formats issues the way `ConfigError.message` shows them. */
export function formatConfigIssues(issues: readonly ConfigIssue[], source?: string): string {
  const what = source ?? 'configuration'
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`
  return [`Invalid ${what} (${count}):`, ...issues.map((issue) => `  - ${formatConfigIssue(issue)}`)].join('\n')
}

/** `path: problem (expected: ...) [line L, column C]` for one issue. */
export function formatConfigIssue(issue: ConfigIssue): string {
  let text = `${issue.path || '(document)'}: ${issue.message}`
  if (issue.expected) text += ` (expected: ${issue.expected})`
  if (issue.line !== undefined) text += ` [line ${issue.line}, column ${issue.column ?? 1}]`
  return text
}
