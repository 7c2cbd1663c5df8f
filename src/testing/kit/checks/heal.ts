import { defineCheck, entriesOf, fail, firstOf, ms, pass, round } from './check'

/** Once the partition heals, the candidates settle on exactly one leader, and stay there. */
export const heal = defineCheck({ id: 'heal', phase: 'heal', title: 'after the partition heals, exactly one leader' }, (trace, window) => {
  const call = firstOf(trace, window, 'hook', (e) => e.hook === 'heal' && e.state === 'call')
  if (!call) return fail('the partition was not healed')
  const done = firstOf(trace, window, 'hook', (e) => e.hook === 'heal' && e.state === 'return', call.index)
  if (done?.entry.error !== undefined) return fail(`heal() threw: ${done.entry.error}`)
  const one = firstOf(trace, window, 'wait', (e) => e.until === 'one-leader', call.index)
  if (!one?.entry.ok) return fail(`no single leader within ${ms(trace.timeoutMs)} of healing`)
  const figure = round(one.entry.at - call.entry.at)
  const probes = entriesOf(trace, window, 'probe', () => true, one.index)
  const count = probes.filter(({ entry }) => entry.isLeader).length
  if (count !== 1) {
    return fail(`${count} leaders ${ms(trace.settleMs)} after one was seen following the heal`, { oneLeaderAfterHealMs: figure })
  }
  return pass(`one leader ${ms(figure)} after healing, still one ${ms(trace.settleMs)} later`, { oneLeaderAfterHealMs: figure })
})
