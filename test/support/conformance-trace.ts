// Hand-written conformance traces: a builder for the entries the kit's
// recorder writes, so the checks can be tested without running electors.
import type { PhaseName } from '../../src/testing/kit/scenario'
import type { Method, Trace, TraceEntry, WaitCondition } from '../../src/testing/kit/trace'

export class TraceBuilder {
  readonly entries: TraceEntry[] = []
  private now = 0

  constructor(private readonly header: Omit<Trace, 'entries' | 'end'>) {}

  /** Entries that follow happen at `ms` (since the run began). */
  at(ms: number): this {
    this.now = ms
    return this
  }

  push(entry: TraceEntry): this {
    this.entries.push(entry)
    return this
  }

  begin(phase: PhaseName): this {
    return this.push({ at: this.now, kind: 'phase', phase, state: 'begin' })
  }

  end(phase: PhaseName): this {
    return this.push({ at: this.now, kind: 'phase', phase, state: 'end' })
  }

  skip(phase: PhaseName, reason: string): this {
    return this.push({ at: this.now, kind: 'phase', phase, state: 'skip', reason })
  }

  step(detail: string): this {
    return this.push({ at: this.now, kind: 'step', detail })
  }

  create(...candidates: number[]): this {
    for (const candidate of candidates) this.push({ at: this.now, kind: 'create', candidate })
    return this
  }

  createFails(candidate: number, error: string): this {
    return this.push({ at: this.now, kind: 'create', candidate, error })
  }

  call(candidate: number, method: Method, round: 1 | 2 = 1): this {
    return this.push({ at: this.now, kind: 'call', candidate, method, round })
  }

  returned(candidate: number, method: Method, round: 1 | 2 = 1, outcome: 'resolved' | 'rejected' | 'timeout' = 'resolved', error?: string): this {
    return this.push({ at: this.now, kind: 'return', candidate, method, round, outcome, ...(error !== undefined ? { error } : {}) })
  }

  /** A call that resolved at once. */
  start(candidate: number, round: 1 | 2 = 1): this {
    return this.call(candidate, 'start', round).returned(candidate, 'start', round)
  }

  stop(candidate: number, round: 1 | 2 = 1): this {
    return this.call(candidate, 'stop', round).returned(candidate, 'stop', round)
  }

  elected(candidate: number, deadline?: number): this {
    return this.push({ at: this.now, kind: 'elected', candidate, ...(deadline !== undefined ? { deadline } : { lease: '{}' }) })
  }

  renewed(candidate: number, deadline: number): this {
    return this.push({ at: this.now, kind: 'renewed', candidate, deadline })
  }

  deposed(candidate: number, reason = 'stopped'): this {
    return this.push({ at: this.now, kind: 'deposed', candidate, reason })
  }

  error(candidate: number, message: string): this {
    return this.push({ at: this.now, kind: 'error', candidate, message })
  }

  sample(...leaders: number[]): this {
    return this.push({ at: this.now, kind: 'sample', leaders })
  }

  wait(until: WaitCondition, ok = true, candidate?: number): this {
    return this.push({ at: this.now, kind: 'wait', until, ok, ...(candidate !== undefined ? { candidate } : {}) })
  }

  probe(candidate: number, isLeader = false): this {
    return this.push({ at: this.now, kind: 'probe', candidate, isLeader })
  }

  /** A hook called and returned (or threw `error`). */
  hook(hook: 'partition' | 'heal', candidate: number, error?: string): this {
    this.push({ at: this.now, kind: 'hook', hook, candidate, state: 'call' })
    return this.push({ at: this.now, kind: 'hook', hook, candidate, state: 'return', ...(error !== undefined ? { error } : {}) })
  }

  build(end = this.now): Trace {
    return { ...this.header, entries: [...this.entries], end }
  }
}

export function trace(header: Partial<Omit<Trace, 'entries' | 'end'>> = {}): TraceBuilder {
  return new TraceBuilder({
    name: 'hand-written',
    candidates: 3,
    partitionHook: true,
    timeoutMs: 3000,
    settleMs: 500,
    sampleEveryMs: 5,
    ...header,
  })
}

/**
 * A whole run of three candidates that keeps every rule: 0 leads, is cut off
 * and steps down 60 ms before its deadline; 1 takes over after it; the heal
 * leaves one leader; 1 is stopped and 2 takes over; 1 is started again and,
 * once 2 is stopped, elected; everybody stops.
 */
export function goodRun(): TraceBuilder {
  const t = trace()
  t.at(0).begin('start').create(0, 1, 2).step('starting 3 candidate(s)')
  t.at(1).start(0).start(1).start(2).at(2).start(0, 2).start(1, 2).start(2, 2).end('start')
  t.begin('first-leader').at(10).elected(0, 600).wait('elected').at(20).sample(0)
  t.at(210).renewed(0, 800).at(300).sample(0).at(510).end('first-leader')
  t.begin('partition').wait('one-leader', true, 0).at(520).step('partitioning leader 0').hook('partition', 0)
  t.at(600).sample(0).at(740).deposed(0, 'no successful renewal in time').at(750).sample()
  t.at(810).elected(1, 5000).wait('deposed-and-replaced').end('partition')
  t.begin('heal').at(820).hook('heal', 0).at(825).wait('one-leader', true, 1).at(900).sample(1)
  t.at(1330).probe(0).probe(1, true).probe(2).end('heal')
  t.begin('stop-takeover').wait('one-leader', true, 1).at(1340).step('stopping leader 1').call(1, 'stop')
  t.at(1341).deposed(1).at(1345).returned(1, 'stop').probe(1).at(1360).elected(2, 6000).wait('elected-other')
  t.at(1400).sample(2).at(2360).end('stop-takeover')
  t.begin('restart').at(2420).probe(1).step('starting stopped candidate 1 again').start(1).start(1, 2)
  t.wait('one-leader', true, 2).at(2430).step('stopping leader 2 to let restarted candidate 1 (or another) take over')
  t.call(2, 'stop').at(2431).deposed(2).returned(2, 'stop').at(2440).elected(1, 8000).at(2445).sample(1).end('restart')
  t.at(2450).begin('stop-all').step('stopping all candidates').call(0, 'stop').call(1, 'stop').call(2, 'stop')
  t.at(2451).deposed(1).returned(0, 'stop').returned(1, 'stop').returned(2, 'stop')
  t.stop(0, 2).stop(1, 2).stop(2, 2).probe(0).probe(1).probe(2).at(2460).sample().at(2700).end('stop-all')
  return t
}
