// Leadership deadlines are instants on CLOCK_MONOTONIC, in milliseconds. Node's
// process.hrtime reads the same clock as clock_gettime(CLOCK_MONOTONIC) in the
// guard process, so a deadline means the same instant on both sides of the pipe
// and never jumps when someone sets the wall clock.
/**
 * Now on CLOCK_MONOTONIC, in (fractional) milliseconds: the clock of every
 * `Lease.deadline`. Not related to `Date.now()`.
 */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
