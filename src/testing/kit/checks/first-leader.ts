import { defineCheck, fail, firstOf, ms, pass, round, whole } from './check'

/** Someone is elected within timeoutMs of start(). */
export const firstLeader = defineCheck({ id: 'first-leader', phase: 'first-leader', title: 'a leader is elected' }, (trace, window) => {
  const wait = firstOf(trace, window, 'wait', (e) => e.until === 'elected')
  const elected = firstOf(trace, whole(trace), 'elected')
  if (!wait?.entry.ok || !elected || elected.index > wait.index) return fail(`no candidate elected within ${ms(trace.timeoutMs)}`)
  const startedAt = firstOf(trace, whole(trace), 'call', (e) => e.method === 'start')?.entry.at ?? 0
  const after = elected.entry.at - startedAt
  return pass(`candidate ${elected.entry.candidate} elected ${ms(after)} after start()`, { timeToFirstLeaderMs: round(after) })
})
