// The conformance kit itself: it passes a correct elector and catches
// deliberately broken ones, each with a message that says what went wrong.
import t from 'tap'
import { monotonicNow } from '../src/clock'
import { ElectorEmitter, type LeaderElector } from '../src/elector'
import {
  assertConformance,
  formatTimeline,
  MemoryLeaseElector,
  MemoryLeaseStore,
  runElectorConformance,
  type ConformanceReport,
} from '../src/testing'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()
const quick = { timeoutMs: 3000, settleMs: 500 }

/** Forwards a MemoryLeaseElector's events; subclasses break one rule. */
class Wrapper extends ElectorEmitter implements LeaderElector {
  protected claimed = false
  protected stopping = false
  constructor(readonly inner: MemoryLeaseElector) {
    super()
    inner.on('elected', (lease) => this.onElected(lease.deadline))
    inner.on('renewed', (lease) => this.onRenewed(lease.deadline))
    inner.on('deposed', (reason) => this.onDeposed(reason))
  }
  get isLeader() {
    return this.claimed
  }
  start() {
    this.stopping = false
    return this.inner.start()
  }
  async stop() {
    this.stopping = true
    await this.inner.stop()
  }
  protected onElected(deadline: number) {
    this.claimed = true
    this.emit('elected', { deadline })
  }
  protected onRenewed(deadline: number) {
    this.emit('renewed', { deadline })
  }
  protected onDeposed(reason: string) {
    this.claimed = false
    this.emit('deposed', reason)
  }
}

/** Keeps claiming leadership when its backend is unreachable. */
class NeverGivesUp extends Wrapper {
  protected override onElected(deadline: number) {
    if (!this.claimed) super.onElected(deadline)
  }
  protected override onDeposed(reason: string) {
    if (this.stopping) super.onDeposed(reason)
  }
}

/** Says deposed on every stop(), leader or not. */
class DeposedWithoutElected extends Wrapper {
  override async stop() {
    if (!this.claimed) this.emit('deposed', 'stopped')
    await super.stop()
  }
}

/** Its second renewal announces a deadline 50 ms before the one in force. */
class ShrinkingDeadline extends Wrapper {
  private renewals = 0
  private announced = 0
  protected override onElected(deadline: number) {
    this.announced = deadline
    super.onElected(deadline)
  }
  protected override onRenewed(deadline: number) {
    this.announced = ++this.renewals === 2 ? this.announced - 50 : deadline
    super.onRenewed(this.announced)
  }
}

/** Once stopped, start() resolves but does nothing: it never campaigns again. */
class NoRestart extends Wrapper {
  private stoppedOnce = false
  override start() {
    return this.stoppedOnce ? Promise.resolve() : super.start()
  }
  override async stop() {
    this.stoppedOnce = true
    await super.stop()
  }
}

/** Every candidate declares itself leader, and renews on its own timer. */
class EveryoneLeads extends ElectorEmitter implements LeaderElector {
  private timer?: NodeJS.Timeout
  private leader = false
  get isLeader() {
    return this.leader
  }
  async start() {
    if (this.leader) return
    this.leader = true
    this.emit('elected', { deadline: monotonicNow() + 1000 })
    this.timer = setInterval(() => this.emit('renewed', { deadline: monotonicNow() + 1000 }), 300)
  }
  async stop() {
    clearInterval(this.timer)
    if (this.leader) {
      this.leader = false
      this.emit('deposed', 'stopped')
    }
  }
}

function memoryCandidates(wrap?: (inner: MemoryLeaseElector) => LeaderElector) {
  const store = new MemoryLeaseStore()
  const electors: MemoryLeaseElector[] = []
  return {
    create: (index: number) => {
      // 600 ms: a 60 ms margin, wide enough for a loaded 2-core CI machine.
      const inner = new MemoryLeaseElector(store, { identity: `candidate-${index}`, ttlMs: 600 })
      electors[index] = inner
      return wrap ? wrap(inner) : inner
    },
    partition: async (_elector: LeaderElector, index: number) => store.partition(`candidate-${index}`),
  }
}

function check(report: ConformanceReport, id: string) {
  return report.checks.find((c) => c.id === id)!
}

t.test('a correct elector passes every check', async (t) => {
  const report = await runElectorConformance({ name: 'memory', candidates: 3, ...memoryCandidates(), ...quick })
  assertConformance(t, report)
  t.equal(report.ok, true)
  t.same(
    report.checks.map((c) => c.status),
    report.checks.map(() => 'pass'),
    'nothing skipped with three candidates and a partition hook',
  )
  const m = report.measurements
  t.ok(m.takeoverAfterStopMs! < 600, `takeover after stop ${m.takeoverAfterStopMs} ms (a renew round: 200 ms)`)
  t.ok(m.deposedBeforeDeadlineMs! > 0, `partitioned leader deposed ${m.deposedBeforeDeadlineMs} ms before its deadline`)
  t.ok(m.samples > 100, `${m.samples} isLeader samples`)
})

t.test('a single candidate skips what needs more', async (t) => {
  const report = await runElectorConformance({ name: 'memory-1', candidates: 1, ...memoryCandidates(), ...quick })
  t.equal(report.ok, true)
  t.equal(check(report, 'stop-takeover').status, 'skip')
  t.equal(check(report, 'stop-takeover').message, 'needs at least two candidates')
  t.equal(check(report, 'partition').status, 'pass', `gives up alone too: ${check(report, 'partition').message}`)
  t.equal(check(report, 'restart').status, 'pass', 'stop, start, elected again')
  t.match(check(report, 'restart').message, /^candidate 0 elected again \d+ ms after start\(\) following its stop\(\)$/)
})

t.test('a restarted leader is elected again after the leader in its place stops', async (t) => {
  const report = await runElectorConformance({ name: 'memory-2', candidates: 2, ...memoryCandidates(), ...quick })
  t.equal(report.ok, true)
  const restart = check(report, 'restart')
  t.equal(restart.status, 'pass')
  t.match(restart.message, /^candidate (\d) elected again \d+ ms after start\(\) following its stop\(\) \(after stopping leader (?!\1)\d\)$/)
  t.ok(report.measurements.reElectedAfterRestartMs! > 0)
})

for (const candidates of [1, 2, 3]) {
  t.test(`an elector whose start() after stop() does nothing fails the restart check (${candidates} candidate(s))`, async (t) => {
    const report = await runElectorConformance({
      name: `no-restart-${candidates}`,
      candidates,
      ...memoryCandidates((inner) => new NoRestart(inner)),
      ...quick,
    })
    t.equal(report.ok, false)
    const restart = check(report, 'restart')
    t.equal(restart.status, 'fail')
    t.match(
      restart.message,
      candidates === 1
        ? /^candidate 0, started again after stop\(\), was not elected within 3000 ms$/
        : /^candidate \d, started again after stop\(\), was not elected within 3000 ms of being the only candidate left \(stopped [\d, ]+ meanwhile\)$/,
    )
    for (const other of report.checks.filter((c) => c.id !== 'restart')) {
      t.not(other.status, 'fail', `${other.id} is not what failed`)
    }
  })
}

t.test('two candidates claiming leadership at once fail, with who and when', async (t) => {
  const report = await runElectorConformance({
    name: 'everyone-leads',
    candidates: 3,
    create: () => new EveryoneLeads(),
    ...quick,
  })
  t.equal(report.ok, false)
  const single = check(report, 'single-leader')
  t.equal(single.status, 'fail')
  t.match(single.message, /^two leaders at once: candidates 0 and 1 and 2 all reported isLeader at \+\d+ ms \(max 3 at one sample\)$/)
  const overlap = check(report, 'no-overlap')
  t.equal(overlap.status, 'fail')
  t.match(overlap.message, /candidates 0 and 1 were both leader from \+\d+ ms to \+\d+ ms/)
})

t.test('a leader that never gives up when partitioned fails the partition check', async (t) => {
  const report = await runElectorConformance({
    name: 'never-gives-up',
    candidates: 3,
    ...memoryCandidates((inner) => new NeverGivesUp(inner)),
    ...quick,
  })
  t.equal(report.ok, false)
  const partition = check(report, 'partition')
  t.equal(partition.status, 'fail')
  t.match(partition.message, /candidate \d never gave up: still leader \d+ ms after the partition, \d+ ms past its deadline/)
  t.equal(check(report, 'single-leader').status, 'fail', 'the takeover made two leaders')
  t.equal(check(report, 'deadlines').status, 'fail')
  t.match(check(report, 'deadlines').message, /still reported isLeader \d+ ms past its deadline/)
  t.comment(formatTimeline(report, 12))
})

t.test('deposed without elected fails the event-order check', async (t) => {
  const report = await runElectorConformance({
    name: 'deposed-without-elected',
    candidates: 3,
    ...memoryCandidates((inner) => new DeposedWithoutElected(inner)),
    ...quick,
  })
  t.equal(report.ok, false)
  const order = check(report, 'event-order')
  t.equal(order.status, 'fail')
  t.match(order.message, /candidate \d emitted deposed without a prior elected \(reason: "stopped", at \+\d+ ms\)/)
  t.equal(check(report, 'single-leader').status, 'pass', 'only the order is wrong')
})

t.test('a deadline that moves backward fails the deadlines check', async (t) => {
  const report = await runElectorConformance({
    name: 'shrinking',
    candidates: 2,
    ...memoryCandidates((inner) => new ShrinkingDeadline(inner)),
    ...quick,
  })
  t.equal(check(report, 'deadlines').status, 'fail')
  t.match(check(report, 'deadlines').message, /candidate \d's deadline moved backward by 50 ms/)
})

t.test('an elector whose start() rejects is reported, not thrown', async (t) => {
  const report = await runElectorConformance({
    name: 'broken-start',
    candidates: 2,
    create: () => {
      const e = new EveryoneLeads()
      e.start = () => Promise.reject(new Error('backend config missing'))
      return e
    },
    ...quick,
  })
  t.equal(check(report, 'start').status, 'fail')
  t.match(check(report, 'start').message, /start\(\) of candidate 0 rejected: backend config missing/)
  t.equal(check(report, 'first-leader').status, 'skip')
})

t.test('an elector whose start() throws synchronously fails the start check with that error', async (t) => {
  const report = await runElectorConformance({
    name: 'throwing-start',
    candidates: 2,
    create: () => {
      const e = new EveryoneLeads()
      e.start = () => {
        throw new Error('not configured')
      }
      return e
    },
    ...quick,
  })
  t.equal(check(report, 'start').status, 'fail')
  t.equal(check(report, 'start').message, 'start() of candidate 0 rejected: not configured; start() of candidate 1 rejected: not configured')
  t.equal(check(report, 'stop-all').status, 'pass', 'the kit still stops everybody')
})

t.test('an isLeader getter that throws reads as false: the run completes and event-order fails', async (t) => {
  class ThrowingIsLeader extends Wrapper {
    override get isLeader(): boolean {
      throw new Error('getter broken')
    }
  }
  const report = await runElectorConformance({
    name: 'throwing-is-leader',
    candidates: 2,
    ...memoryCandidates((inner) => new ThrowingIsLeader(inner)),
    timeoutMs: 500,
    settleMs: 200,
  })
  t.equal(report.ok, false)
  t.match(check(report, 'event-order').message, /^candidate \d: isLeader was false for \d+ ms while its events said leader/)
  t.equal(check(report, 'stop-takeover').message, 'no single leader to stop within 500 ms')
  t.not(check(report, 'stop-all').status, 'skip', 'stop-all ran')
})

t.test("MemoryLeaseElector: start() from a 'deposed' listener during stop() campaigns again after the release", async (t) => {
  const store = new MemoryLeaseStore()
  const elector = new MemoryLeaseElector(store, { identity: 'a', ttlMs: 300 })
  t.teardown(() => elector.stop())
  await elector.start()
  await new Promise((resolve) => elector.once('elected', resolve))
  let restarted: Promise<void> | undefined
  elector.once('deposed', () => {
    restarted = elector.start()
  })
  const order: string[] = []
  await Promise.all([
    elector.stop().then(() => order.push(`stop resolved (holder ${store.currentHolder})`)),
    Promise.resolve().then(() => restarted!.then(() => order.push('start resolved'))),
  ])
  t.same(order, ['stop resolved (holder undefined)', 'start resolved'], 'released before the new campaign')
  await new Promise((resolve) => elector.once('elected', resolve))
  t.equal(store.currentHolder, 'a', 'elected again')
})

t.test('invalid options throw', async (t) => {
  await t.rejects(runElectorConformance({ name: 'x', candidates: 0, create: () => new EveryoneLeads() }), {
    name: 'RangeError',
    message: /candidates must be an integer ≥ 1, got 0/,
  })
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})

t.test('MemoryLeaseStore refuses a latency that is not a small non-negative integer', async (t) => {
  for (const bad of [-1, 1.5, Number.NaN, 60_001]) {
    t.throws(() => new MemoryLeaseStore(bad), { code: /ERR_OUT_OF_RANGE|ERR_INVALID_ARG/, field: 'latencyMs' }, String(bad))
  }
  t.doesNotThrow(() => new MemoryLeaseStore(0))
})
