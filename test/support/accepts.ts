// For parity tests: whether building something succeeds, so two parsers of
// the same rule can be compared input by input.
export function accepts(build: () => unknown): boolean {
  try {
    build()
    return true
  } catch {
    return false
  }
}
