import { created, defineCheck, fail, notReached, pass, rel } from './check'

/** No periodic sample ever finds two candidates reporting isLeader. */
export const singleLeader = defineCheck({ id: 'single-leader', phase: 'run', title: 'at most one candidate reports isLeader at any sampled instant' }, (trace) => {
  if (created(trace).length === 0) return notReached
  let samples = 0
  let max = 0
  let double: { at: number; who: number[] } | undefined
  for (const e of trace.entries) {
    if (e.kind !== 'sample') continue
    samples++
    max = Math.max(max, e.leaders.length)
    if (e.leaders.length > 1) double ??= { at: e.at, who: e.leaders }
  }
  if (double) {
    return fail(
      `two leaders at once: candidates ${double.who.join(' and ')} all reported isLeader at ${rel(double.at)} (max ${max} at one sample)`,
    )
  }
  return pass(`at most ${max} leader over ${samples} samples`)
})
