// The grant rule every lease-based elector shares (src/elector.ts): judged by
// the events it emits and when, with real timers on the monotonic clock.
import t from 'tap'
import { monotonicNow } from '../src/clock'
import { LeaseTracker, type Lease } from '../src/elector'

function tracked(stepDownLeadMs = 20, onLoss?: (reason: string) => void) {
  const events: Array<{ event: string; at: number; value: Lease | string }> = []
  const record = (event: string) => (value: Lease | string) => events.push({ event, at: monotonicNow(), value })
  const tracker = new LeaseTracker(
    { elected: record('elected'), renewed: record('renewed'), deposed: record('deposed') },
    { stepDownLeadMs, expiredReason: 'no renewal in time', onLoss },
  )
  return { tracker, events }
}

t.test('the first grant elects, later ones renew only when the deadline moves forward', async (t) => {
  const { tracker, events } = tracked()
  const now = monotonicNow()
  t.equal(tracker.grant(now + 1000), 'elected')
  t.equal(tracker.grant(now + 900), undefined, 'a grant that would move the deadline back is ignored')
  t.equal(tracker.grant(now + 1000), undefined, 'as is one that does not move it')
  t.equal(tracker.grant(now + 1100), 'renewed')
  t.equal(tracker.deadline, now + 1100)
  t.ok(tracker.isLeader)
  t.same(events.map((e) => [e.event, e.value]), [['elected', { deadline: now + 1000 }], ['renewed', { deadline: now + 1100 }]])
  t.ok(tracker.lose('stopped'))
  t.notOk(tracker.lose('stopped'), 'deposed once')
  t.same(events.map((e) => e.event), ['elected', 'renewed', 'deposed'])
})

t.test('without a newer grant, deposed comes stepDownLeadMs before the deadline, never after', async (t) => {
  const { tracker, events } = tracked(40)
  const deadline = monotonicNow() + 150
  tracker.grant(deadline)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const deposed = events.find((e) => e.event === 'deposed')!
  t.equal(deposed.value, 'no renewal in time')
  t.ok(deposed.at <= deadline, `deposed ${(deadline - deposed.at).toFixed(1)} ms before the deadline`)
  t.ok(deposed.at >= deadline - 40 - 1, 'and not earlier than the step-down lead')
  t.notOk(tracker.isLeader)
})

t.test('a renewal re-arms the step-down; after lose() no timer fires', async (t) => {
  const { tracker, events } = tracked(10)
  tracker.grant(monotonicNow() + 60)
  await new Promise((resolve) => setTimeout(resolve, 30))
  tracker.grant(monotonicNow() + 200)
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.ok(tracker.isLeader, 'still leader past the first deadline')
  t.ok(tracker.lose('released'))
  await new Promise((resolve) => setTimeout(resolve, 250))
  t.same(events.map((e) => [e.event, typeof e.value === 'string' ? e.value : 'lease']), [['elected', 'lease'], ['renewed', 'lease'], ['deposed', 'released']])
})

t.test('onLoss runs before deposed; elected again after a loss', async (t) => {
  const order: string[] = []
  const { tracker, events } = tracked(10, (reason) => order.push(`onLoss ${reason}`))
  tracker.grant(monotonicNow() + 1000)
  tracker.lose('lock lost')
  order.push(...events.map((e) => e.event))
  t.same(order, ['onLoss lock lost', 'elected', 'deposed'])
  t.equal(tracker.grant(monotonicNow() + 1000), 'elected')
  tracker.lose('done')
})

t.test('refuses what would mean "never step down"', async (t) => {
  const { tracker } = tracked()
  t.throws(() => tracker.grant(NaN), RangeError)
  t.throws(() => tracker.grant(Infinity), RangeError)
  t.notOk(tracker.isLeader)
  t.throws(() => new LeaseTracker({ elected() {}, renewed() {}, deposed() {} }, { stepDownLeadMs: NaN, expiredReason: 'x' }), RangeError)
})
