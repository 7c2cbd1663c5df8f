import t from 'tap'
import { StaticElector } from '../src/electors/static'
import type { LeaderElector } from '../src/elector'

t.test('StaticElector: elected at once with an infinite deadline, deposed on stop', async (t) => {
  const elector = new StaticElector()
  const events: Array<[string, unknown]> = []
  elector.on('elected', (lease) => events.push(['elected', lease.deadline]))
  elector.on('renewed', (lease) => events.push(['renewed', lease.deadline]))
  elector.on('deposed', (reason) => events.push(['deposed', reason]))
  t.equal(elector.isLeader, false)
  t.equal((elector as LeaderElector).fencingFd, undefined, 'no fencing fd: nothing to hand to a guard')

  const started = elector.start()
  t.same(events, [['elected', Infinity]], 'elected before start() resolves')
  await started
  await elector.start()
  t.equal(elector.isLeader, true)
  t.same(events, [['elected', Infinity]], 'start() is idempotent')

  await elector.stop()
  await elector.stop()
  t.equal(elector.isLeader, false)
  t.same(events, [['elected', Infinity], ['deposed', 'stopped']], 'stop() is idempotent')

  await elector.start()
  t.same(events.at(-1), ['elected', Infinity], 'can start again')
})

t.test('StaticElector: stop before start emits nothing', async (t) => {
  const elector = new StaticElector()
  let count = 0
  elector.on('deposed', () => count++)
  await elector.stop()
  t.equal(count, 0, 'never deposed without elected')
})
