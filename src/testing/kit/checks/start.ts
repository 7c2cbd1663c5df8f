import { callFailure, created, defineCheck, entriesOf, fail, firstOf, ms, pass } from './check'

/** Every candidate is made, and start() resolves on each, twice. */
export const start = defineCheck({ id: 'start', phase: 'start', title: 'start() resolves, also when called twice' }, (trace, window) => {
  const broken = firstOf(trace, window, 'create', (e) => e.error !== undefined)
  if (broken) return fail(`create(${broken.entry.candidate}) threw: ${broken.entry.error}`)
  const candidates = created(trace)
  const begun = firstOf(trace, window, 'call', (e) => e.method === 'start')
  for (const round of [1, 2] as const) {
    const returns = entriesOf(trace, window, 'return', (e) => e.method === 'start' && e.round === round)
    const failures = returns
      .filter(({ entry }) => entry.outcome !== 'resolved')
      .sort((a, b) => a.entry.candidate - b.entry.candidate)
      .map(({ entry }) => callFailure(trace, entry, `start() of candidate ${entry.candidate}`))
    if (failures.length) return fail(`${round === 2 ? 'second ' : ''}${failures.join('; ')}`)
    const missing = candidates.filter((c) => !returns.some(({ entry }) => entry.candidate === c))
    if (missing.length) return fail(`${round === 2 ? 'second ' : ''}start() of candidate ${missing.join(', ')} was not called`)
  }
  const last = entriesOf(trace, window, 'return', (e) => e.method === 'start').at(-1)
  return pass(`all ${candidates.length} resolved in ${ms((last?.entry.at ?? 0) - (begun?.entry.at ?? 0))}`)
})
