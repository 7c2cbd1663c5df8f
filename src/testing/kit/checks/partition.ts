import { replay } from '../model'
import { created, defineCheck, fail, firstOf, ms, pass, round } from './check'

/** Cut off from its backend, the leader steps down before its deadline, and only then does another take over. */
export const partition = defineCheck({ id: 'partition', phase: 'partition', title: 'a partitioned leader gives up (deposed) before its deadline and another takes over' }, (trace, window) => {
  const found = firstOf(trace, window, 'wait', (e) => e.until === 'one-leader')
  if (!found?.entry.ok) return fail(`no single leader to partition within ${ms(trace.timeoutMs)}`)
  const cut = firstOf(trace, window, 'hook', (e) => e.hook === 'partition' && e.state === 'call')
  if (!cut) return fail('the leader was not partitioned')
  const leader = cut.entry.candidate
  const cutAt = cut.entry.at
  const hook = firstOf(trace, window, 'hook', (e) => e.hook === 'partition' && e.state === 'return', cut.index)
  if (hook?.entry.error !== undefined) return fail(`partition(${leader}) threw: ${hook.entry.error}`)

  // Judged as things stood when the kit stopped waiting for the step-down and the takeover.
  const waited = firstOf(trace, window, 'wait', (e) => e.until === 'deposed-and-replaced', cut.index)
  const until = waited ? waited.index + 1 : window.to
  const now = waited?.entry.at ?? trace.entries[window.to - 1]!.at
  const atCut = replay(trace, undefined, cut.index)
  const then = replay(trace, undefined, until)
  const heldAtCut = atCut.openInterval(leader)
  if (!heldAtCut) return fail(`candidate ${leader} was not leader when partitioned`)
  const held = then.intervals.find((i) => i.startIndex === heldAtCut.startIndex)!
  const others = created(trace).filter((c) => c !== leader && !atCut.view(c).stopping)

  const problems: string[] = []
  const figures: Record<string, number> = {}
  if (held.end === undefined) {
    const past = now - held.lastDeadline
    problems.push(
      `candidate ${leader} never gave up: still leader ${ms(now - cutAt)} after the partition` + (past > 0 ? `, ${ms(past)} past its deadline` : ''),
    )
  } else {
    figures.partitionToDeposedMs = round(held.end - cutAt)
    figures.deposedBeforeDeadlineMs = round(held.lastDeadline - held.end)
    if (held.end >= held.lastDeadline) {
      problems.push(`candidate ${leader} said deposed ${ms(held.end - held.lastDeadline)} after its deadline`)
    }
  }
  const next = then.intervals.find((i) => i.candidate !== leader && i.startIndex > cut.index)
  if (others.length > 0) {
    if (!next) problems.push(`no other candidate elected within ${ms(trace.timeoutMs)} of the partition`)
    else {
      figures.takeoverAfterPartitionMs = round(next.start - cutAt)
      if (next.start < held.lastDeadline) {
        problems.push(`candidate ${next.candidate} elected ${ms(held.lastDeadline - next.start)} before the partitioned leader's deadline`)
      }
    }
  }
  if (problems.length) return fail(problems.join('; '), figures)
  return pass(
    `deposed ${ms(figures.partitionToDeposedMs!)} after the partition, ${ms(figures.deposedBeforeDeadlineMs!)} before its deadline` +
      (next && others.length > 0 ? `; candidate ${next.candidate} elected ${ms(figures.takeoverAfterPartitionMs!)} after the partition` : ''),
    figures,
  )
})
