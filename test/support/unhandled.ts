// Proves "never an unhandled rejection": collects every one in this test
// process so the file's last test can assert there were none.
export function collectUnhandledRejections(): unknown[] {
  const seen: unknown[] = []
  process.on('unhandledRejection', (reason) => seen.push(reason))
  return seen
}
