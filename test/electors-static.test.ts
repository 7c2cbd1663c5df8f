import t from 'tap'
import { StaticElector } from '../src/electors/static'
import type { LeaderElector } from '../src/elector'
import { monotonicNow } from '../src/clock'

t.test('StaticElector: elected at once with a finite deadline, deposed on stop', async (t) => {
  const elector = new StaticElector()
  t.teardown(() => elector.stop())
  const events: Array<[string, unknown]> = []
  const name = (e: [string, unknown]) => e[0]
  elector.on('elected', (lease) => events.push(['elected', lease.deadline]))
  elector.on('renewed', (lease) => events.push(['renewed', lease.deadline]))
  elector.on('deposed', (reason) => events.push(['deposed', reason]))
  t.equal(elector.isLeader, false)
  t.equal((elector as LeaderElector).fencingFd, undefined, 'no fencing fd: nothing to hand to a guard')
  t.same(elector.timing, { leaseMs: 4000, renewIntervalMs: 1000 }, 'defaults: a 4 s lease renewed every second')

  const before = monotonicNow()
  const started = elector.start()
  t.same(events.map(name), ['elected'], 'elected before start() resolves')
  const deadline = events[0][1] as number
  t.ok(deadline >= before + 4000 && deadline <= monotonicNow() + 4000, 'deadline = now + leaseMs')
  await started
  await elector.start()
  t.equal(elector.isLeader, true)
  t.same(events.map(name), ['elected'], 'start() is idempotent')

  await elector.stop()
  await elector.stop()
  t.equal(elector.isLeader, false)
  t.same(events.map(name), ['elected', 'deposed'], 'stop() is idempotent')

  await elector.start()
  t.same(events.at(-1)?.[0], 'elected', 'can start again')
  await elector.stop()
})

t.test('StaticElector with leaseMs Infinity: the old unlimited grant, no renewals', async (t) => {
  const elector = new StaticElector({ leaseMs: Infinity })
  const deadlines: number[] = []
  elector.on('elected', (lease) => deadlines.push(lease.deadline))
  elector.on('renewed', (lease) => deadlines.push(lease.deadline))
  await elector.start()
  t.same(deadlines, [Infinity])
  await elector.stop()
})

t.test('StaticElector: stop before start emits nothing', async (t) => {
  const elector = new StaticElector()
  let count = 0
  elector.on('deposed', () => count++)
  await elector.stop()
  t.equal(count, 0, 'never deposed without elected')
})
