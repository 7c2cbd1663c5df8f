import { callFailure, defineCheck, entriesOf, fail, firstOf, ms, pass, round } from './check'

/**
 * A leader that was stopped and start()ed again campaigns again: once the
 * others that lead in its place are stopped, one at a time, it is elected.
 */
export const restart = defineCheck({ id: 'restart', phase: 'restart', title: 'a stopped leader that start()s again campaigns again and becomes leader later' }, (trace, window) => {
  const again = firstOf(trace, window, 'call', (e) => e.method === 'start' && e.round === 1)
  // Before the start(): (alone) the stop of the leader, then isLeader must be false.
  const before = { from: window.from, to: again?.index ?? window.to }
  for (let i = before.from; i < before.to; i++) {
    const e = trace.entries[i]!
    if (e.kind === 'wait' && e.until === 'one-leader' && !e.ok) return fail(`no leader to stop within ${ms(trace.timeoutMs)}`)
    if (e.kind === 'return' && e.method === 'stop' && e.outcome !== 'resolved') {
      return fail(callFailure(trace, e, `stop() of candidate ${e.candidate}`))
    }
    if (e.kind === 'probe' && e.isLeader) return fail(`candidate ${e.candidate} reports isLeader after stop() resolved, before start()`)
  }
  if (!again) return fail('the stopped leader was not started again')
  const candidate = again.entry.candidate
  const restartedAt = again.entry.at
  for (const round of [1, 2] as const) {
    const settled = firstOf(trace, window, 'return', (e) => e.method === 'start' && e.candidate === candidate && e.round === round, again.index)
    const what = `${round === 2 ? 'second ' : ''}start() after stop() of candidate ${candidate}`
    if (!settled) return fail(`${what} was not called`)
    if (settled.entry.outcome !== 'resolved') return fail(callFailure(trace, settled.entry, what))
  }

  const reElected = firstOf(trace, window, 'elected', (e) => e.candidate === candidate, again.index)
  const stopped = entriesOf(trace, window, 'call', (e) => e.method === 'stop' && e.candidate !== candidate, again.index).map(
    ({ entry }) => entry.candidate,
  )
  const meanwhile = stopped.length ? ` (stopped ${stopped.join(', ')} meanwhile)` : ''
  let problem: string | undefined
  for (let i = again.index + 1; i < window.to && problem === undefined; i++) {
    const e = trace.entries[i]!
    if (e.kind === 'wait' && e.until === 'one-leader' && !e.ok && !(reElected && reElected.index < i)) {
      problem = `no single leader within ${ms(trace.timeoutMs)} after candidate ${candidate} was started again${meanwhile}`
    } else if (e.kind === 'return' && e.method === 'stop' && e.candidate !== candidate && e.outcome !== 'resolved') {
      problem = callFailure(trace, e, `stop() of candidate ${e.candidate}`)
    } else if (e.kind === 'wait' && e.until === 're-elected' && !e.ok) {
      problem =
        `candidate ${candidate}, started again after stop(), was not elected within ${ms(trace.timeoutMs)}` +
        (stopped.length ? ` of being the only candidate left${meanwhile}` : '')
    }
  }
  if (problem || !reElected) return fail(problem ?? `candidate ${candidate} was not elected again`)
  const figure = round(reElected.entry.at - restartedAt)
  return pass(
    `candidate ${candidate} elected again ${ms(figure)} after start() following its stop()` +
      (stopped.length ? ` (after stopping leader${stopped.length > 1 ? 's' : ''} ${stopped.join(', ')})` : ''),
    { reElectedAfterRestartMs: figure },
  )
})
