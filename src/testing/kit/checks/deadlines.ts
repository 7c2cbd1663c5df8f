import { replay, validDeadline } from '../model'
import { created, defineCheck, fail, first, ms, notReached, pass, rel } from './check'

/** Deadlines lie ahead when announced, only move forward, and leadership (events and isLeader) ends before them. */
export const deadlines = defineCheck({ id: 'deadlines', phase: 'run', title: 'deadlines lie ahead, only move forward, and leadership ends before its deadline' }, (trace) => {
  if (created(trace).length === 0) return notReached
  const problems: string[] = []
  let overshoot: { candidate: number; byMs: number; at: number } | undefined
  replay(trace, (e, before) => {
    if (e.kind === 'elected' || e.kind === 'renewed') {
      const open = before.openInterval(e.candidate)
      // A renewal while not leader is an event-order problem, not a deadline one.
      if (e.kind === 'renewed' && (!before.view(e.candidate).leader || !open)) return
      if (!validDeadline(e.deadline)) {
        problems.push(`candidate ${e.candidate} emitted ${e.kind} without a numeric deadline (${e.lease})`)
        return
      }
      if (e.deadline <= e.at) problems.push(`candidate ${e.candidate} emitted ${e.kind} with a deadline ${ms(e.at - e.deadline)} in the past`)
      if (e.kind === 'renewed' && open && e.deadline < open.lastDeadline) {
        problems.push(`candidate ${e.candidate}'s deadline moved backward by ${ms(open.lastDeadline - e.deadline)} (at ${rel(e.at)})`)
      }
    } else if (e.kind === 'deposed') {
      const view = before.view(e.candidate)
      const open = before.openInterval(e.candidate)
      if (view.leader && open && !view.stopping && e.at >= open.lastDeadline) {
        problems.push(`candidate ${e.candidate} said deposed ${ms(e.at - open.lastDeadline)} after its deadline (reason: ${JSON.stringify(e.reason)})`)
      }
    } else if (e.kind === 'sample') {
      for (const c of e.leaders) {
        const open = before.openInterval(c)
        if (!open || e.at <= open.lastDeadline) continue
        const byMs = e.at - open.lastDeadline
        if (!overshoot || byMs > overshoot.byMs) overshoot = { candidate: c, byMs, at: e.at }
      }
    }
  })
  if (overshoot) {
    problems.push(`candidate ${overshoot.candidate} still reported isLeader ${ms(overshoot.byMs)} past its deadline (at ${rel(overshoot.at)})`)
  }
  if (problems.length) return fail(first(problems))
  return pass('every deadline was ahead when announced, never moved back, and was never outlived')
})
