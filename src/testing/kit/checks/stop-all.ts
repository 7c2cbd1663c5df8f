import { replay } from '../model'
import { callFailure, defineCheck, entriesOf, fail, firstOf, ms, pass } from './check'

/** stop() resolves on everyone (twice), nobody leads afterwards, and nothing is emitted after a stop() resolved. */
export const stopAll = defineCheck({ id: 'stop-all', phase: 'stop-all', title: 'stop() resolves on every candidate, is idempotent, and leaves no leader and no later events' }, (trace, window) => {
  const problems: string[] = []
  for (let i = window.from; i < window.to; i++) {
    const e = trace.entries[i]!
    if (e.kind === 'return' && e.method === 'stop' && e.outcome !== 'resolved') {
      problems.push(callFailure(trace, e, `${e.round === 2 ? 'second ' : ''}stop() of candidate ${e.candidate}`))
    }
    if (e.kind === 'probe' && e.isLeader) problems.push(`candidate ${e.candidate} still reports isLeader after stop()`)
  }
  // A leak anywhere in the run: an event after that candidate's stop() resolved (and before a new start()).
  const late: string[] = []
  const end = replay(trace, (e, before) => {
    if ((e.kind === 'elected' || e.kind === 'renewed' || e.kind === 'deposed') && before.view(e.candidate).stoppedAt !== undefined) {
      late.push(`candidate ${e.candidate} emitted ${e.kind} after stop() resolved`)
    }
  })
  for (const open of end.intervals.filter((i) => i.end === undefined)) problems.push(`candidate ${open.candidate} stopped without a deposed event`)
  problems.push(...late)
  if (problems.length) return fail(problems.slice(0, 5).join('; '))
  const began = firstOf(trace, window, 'call', (e) => e.method === 'stop')?.entry.at ?? trace.entries[window.from]!.at
  const done = [...entriesOf(trace, window, 'return'), ...entriesOf(trace, window, 'probe')].reduce((at, { entry }) => Math.max(at, entry.at), began)
  return pass(`all stopped in ${ms(done - began)}; second stop() calls resolved; nothing emitted afterwards`)
})
