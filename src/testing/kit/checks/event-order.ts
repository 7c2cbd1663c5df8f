import { replay } from '../model'
import { created, defineCheck, fail, first, ms, notReached, pass, rel } from './check'

/** Grace for isLeader and events to agree (an elector may flip the flag just after emitting). */
export const MISMATCH_GRACE_MS = 100

/** elected, then renewed while leader, then deposed; and isLeader says the same as the events. */
export const eventOrder = defineCheck({ id: 'event-order', phase: 'run', title: 'elected comes before deposed, renewed only while leader, no repeats, isLeader agrees' }, (trace) => {
  const candidates = created(trace)
  if (candidates.length === 0) return notReached
  const problems: string[] = []
  const mismatchSince = new Map<number, number>()
  const counts = { elected: 0, renewed: 0, deposed: 0 }
  replay(trace, (e, before) => {
    if (e.kind === 'elected' || e.kind === 'renewed' || e.kind === 'deposed') counts[e.kind]++
    if (e.kind === 'elected' && before.view(e.candidate).leader) {
      problems.push(`candidate ${e.candidate} emitted elected twice without deposed in between (at ${rel(e.at)})`)
    } else if (e.kind === 'renewed' && (!before.view(e.candidate).leader || !before.openInterval(e.candidate))) {
      problems.push(`candidate ${e.candidate} emitted renewed while not leader (at ${rel(e.at)})`)
    } else if (e.kind === 'deposed' && (!before.view(e.candidate).leader || !before.openInterval(e.candidate))) {
      problems.push(`candidate ${e.candidate} emitted deposed without a prior elected (reason: ${JSON.stringify(e.reason)}, at ${rel(e.at)})`)
    } else if (e.kind === 'sample') {
      for (const c of candidates) {
        const flag = e.leaders.includes(c)
        const view = before.view(c)
        if (flag === view.leader) {
          mismatchSince.delete(c)
          continue
        }
        const since = mismatchSince.get(c) ?? e.at
        mismatchSince.set(c, since)
        if (e.at - since > MISMATCH_GRACE_MS && !view.stopping) {
          problems.push(`candidate ${c}: isLeader was ${flag} for ${ms(e.at - since)} while its events said ${view.leader ? 'leader' : 'follower'}`)
          mismatchSince.set(c, Infinity) // reported once per disagreement
        }
      }
    }
  })
  if (problems.length) return fail(first(problems))
  return pass(`${counts.elected} elected, ${counts.renewed} renewed, ${counts.deposed} deposed, all in order`)
})
