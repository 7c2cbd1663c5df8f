// A lease whose deadline is not a number (NaN, missing, a string, -Infinity)
// is a broken elector, not "never fence" (issue 11, defect 5): only Infinity
// means unlimited. The announcer reports it and holds no VIP; a renewal
// carrying one leaves the previous deadline in force.
import t from 'tap'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, routedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()

for (const [name, lease] of [
  ['{ deadline: NaN }', { deadline: NaN }],
  ['{} (no deadline)', {}],
  ['{ deadline: "5000" }', { deadline: '5000' }],
  ['{ deadline: -Infinity }', { deadline: -Infinity }],
] as const) {
  t.test(`elected with ${name}: an error naming the elector contract, no VIP`, nsOptions, async (t) => {
    const lab = new Lab()
    t.teardown(() => lab.destroy())
    const { replicas: [cp1] } = routedReplicas(lab, 1)
    const elector = new ManualElector()
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path })
    t.teardown(() => announcer.stop())
    const errors: Error[] = []
    announcer.on('error', (e) => errors.push(e))
    let leader = false
    announcer.on('leader', () => (leader = true))
    await announcer.start()
    elector.isLeader = true
    elector.emit('elected', lease as never)
    await waitFor('an error', () => errors.length > 0, 1000).catch(() => {})
    t.match(errors[0]?.message, /elector contract/, `error: ${errors[0]?.message}`)
    t.match(errors[0]?.message, /deadline/)
    await sleep(300)
    t.notOk(leader, 'no leader event')
    t.notOk(announcer.isLeader, 'not leader')
    t.notOk(cp1.addresses('net1').includes(`${VIP}/32`), 'no VIP on the interface')
    await announcer.stop()
  })
}

t.test('a renewal with a NaN or missing deadline does not move the deadline: the VIP goes by the one granted', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path, fenceMarginMs: 100 })
  t.teardown(() => announcer.stop())
  const errors: Error[] = []
  announcer.on('error', (e) => errors.push(e))
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  const deadline = elector.elect(3500)
  await leader
  t.ok(cp1.addresses('net1').includes(`${VIP}/32`), 'leader holds the VIP')
  elector.emit('renewed', { deadline: NaN })
  elector.emit('renewed', {} as never)
  t.equal(errors.length, 2, 'each bad renewal reported')
  t.match(errors[0]?.message, /elector contract/)
  t.ok(announcer.isLeader, 'still leader under the lease granted')
  await waitFor('the VIP removed', () => !cp1.addresses('net1').includes(`${VIP}/32`), deadline - monotonicNow() + 500).catch(() => {})
  const left = deadline - monotonicNow()
  t.notOk(cp1.addresses('net1').includes(`${VIP}/32`), 'the VIP is gone')
  t.ok(left > -50, `by the deadline granted (${left.toFixed(0)} ms left)`)
  await waitFor('the announcer steps down', () => !announcer.isLeader, 1000).catch(() => {})
  t.notOk(announcer.isLeader, 'stepped down')
  await announcer.stop()
})
