import { replay } from '../model'
import { callFailure, defineCheck, fail, firstOf, ms, pass, round } from './check'

/** stop() of the leader says deposed before it resolves, and another candidate takes over. */
export const stopTakeover = defineCheck({ id: 'stop-takeover', phase: 'stop-takeover', title: 'stop() of the leader releases leadership (deposed first) and another candidate takes over' }, (trace, window) => {
  const found = firstOf(trace, window, 'wait', (e) => e.until === 'one-leader')
  if (!found?.entry.ok) return fail(`no single leader to stop within ${ms(trace.timeoutMs)}`)
  const call = firstOf(trace, window, 'call', (e) => e.method === 'stop', found.index)
  if (!call) return fail('the leader was not stopped')
  const leader = call.entry.candidate
  const stopAt = call.entry.at
  const settled = firstOf(trace, window, 'return', (e) => e.method === 'stop' && e.candidate === leader, call.index)
  const problems: string[] = []
  if (!settled) return fail(`stop() of candidate ${leader} did not settle`)
  if (settled.entry.outcome !== 'resolved') problems.push(callFailure(trace, settled.entry, `stop() of candidate ${leader}`))
  const held = replay(trace, undefined, call.index).openInterval(leader)
  const afterStop = replay(trace, undefined, settled.index + 1)
  if (!held || afterStop.intervals.find((i) => i.startIndex === held.startIndex)?.end === undefined) {
    problems.push(`stop() of leader ${leader} resolved without a deposed event`)
  }
  if (firstOf(trace, window, 'probe', (e) => e.candidate === leader, settled.index)?.entry.isLeader) {
    problems.push(`isLeader still true after stop() of candidate ${leader}`)
  }
  const waited = firstOf(trace, window, 'wait', (e) => e.until === 'elected-other', settled.index)
  const then = replay(trace, undefined, waited ? waited.index + 1 : window.to)
  const taken = then.intervals.find((i) => i.candidate !== leader && i.startIndex > call.index)
  const figures: Record<string, number> = {}
  if (!waited?.entry.ok || !taken) problems.push(`no other candidate elected within ${ms(trace.timeoutMs)} of stopping the leader`)
  else figures.takeoverAfterStopMs = round(taken.start - stopAt)
  if (problems.length) return fail(problems.join('; '), figures)
  return pass(
    `stop() took ${ms(settled.entry.at - stopAt)}; candidate ${taken!.candidate} elected ${ms(figures.takeoverAfterStopMs!)} after stop() began`,
    figures,
  )
})
