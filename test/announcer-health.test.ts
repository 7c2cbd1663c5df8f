// announcer.health() and the phases of a takeover (issue 9, item 3), in a
// namespace: health is judged from the kernel's view (the interface's
// addresses and carrier), phases add up to the takeover, and both reach
// Prometheus through registerMetrics.
import t from 'tap'
import { Registry } from 'prom-client'
import * as promClient from 'prom-client'
import { VipAnnouncer, type LeaderEvent } from '../src/announcer'
import { registerMetrics } from '../src/metrics'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, VIP6 } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()

t.test('health follows the replica: not-leader, announcing, degraded without carrier, announcing again', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const cp1 = lab.host('cp1')
  const port = lab.plug(cp1, 'eth0', sw, { addresses: ['192.0.2.11/24', '2001:db8::11/64'] })
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  const registry = new Registry()
  registerMetrics(announcer, { registry, client: promClient })

  t.same(announcer.health(), { condition: 'not-leader', reasons: ['stopped'], state: 'stopped' })
  await announcer.start()
  t.same(announcer.health(), { condition: 'not-leader', reasons: [], state: 'follower' }, 'a follower able to take over')

  const leader = nextEvent<LeaderEvent>(announcer, 'leader')
  elector.elect()
  const event = await leader
  const { armMs, footprintMs, firstFrameMs } = event.phases
  t.ok(armMs >= 0 && footprintMs >= 0 && firstFrameMs >= 0, `phases: arm ${armMs.toFixed(3)} ms, footprint ${footprintMs.toFixed(3)} ms, first frame ${firstFrameMs.toFixed(3)} ms`)
  t.ok(Math.abs(armMs + footprintMs + firstFrameMs - event.takeoverMs) < 1e-6, `they add up to the takeover (${event.takeoverMs.toFixed(3)} ms)`)
  t.ok(footprintMs > 0, 'adding the footprint takes time (netlink round trips)')
  t.same(announcer.health(), { condition: 'announcing', reasons: [], state: 'leader' })

  // The cable's far end goes down: no carrier on eth0.
  sw.ip('link', 'set', port, 'down')
  await waitFor('health sees the lost carrier', () => announcer.health().condition === 'degraded', 2000)
  t.match(announcer.health().reasons, ['link eth0 has no carrier'])
  const scrape = await registry.metrics()
  t.match(scrape, /vip_announcer_health\{interface="eth0",condition="degraded"\} 1/, 'the health gauge says degraded at scrape time')
  t.match(scrape, /vip_announcer_health\{interface="eth0",condition="announcing"\} 0/)
  sw.ip('link', 'set', port, 'up')
  await waitFor('announcing again with carrier', () => announcer.health().condition === 'announcing', 3000)

  const follower = nextEvent<{ reason: string; removalMs: number }>(announcer, 'follower')
  elector.depose('test')
  const stepDown = await follower
  t.ok(stepDown.removalMs > 0, `removal took ${stepDown.removalMs.toFixed(3)} ms`)
  t.same(announcer.health(), { condition: 'not-leader', reasons: [], state: 'follower' })
  const after = await registry.metrics()
  for (const phase of ['arm', 'footprint', 'first_frame', 'total']) {
    t.match(after, new RegExp(`vip_announcer_takeover_phase_seconds_count\\{interface="eth0",phase="${phase}"\\} 1\\b`), `one ${phase} observation`)
  }
  t.match(after, /vip_announcer_removal_seconds_count\{interface="eth0"\} 1\b/, 'one removal observation')
})

t.test('health: a VIP gone from the interface, and a replica without its interface, are degraded', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const cp1 = lab.host('cp1')
  lab.plug(cp1, 'eth0', sw, { addresses: ['192.0.2.11/24'] })
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  await announcer.start()
  t.same(announcer.health(), { condition: 'degraded', reasons: ['interface net1 is missing: this replica cannot take over'], state: 'follower' })
  // The interface is attached late (as Multus may): health recovers.
  lab.plug(cp1, 'net1', sw, { addresses: ['192.0.2.12/24'] })
  await waitFor('interface found', () => announcer.health().reasons.length === 0, 3000)
  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  await leader
  // Someone replaces our /32 with the same address under another prefix: the
  // VIP is configured, but not ours; health reads the kernel and says so.
  cp1.ip('addr', 'add', `${VIP}/24`, 'dev', 'net1')
  cp1.ip('addr', 'del', `${VIP}/32`, 'dev', 'net1')
  await waitFor('health reports the VIP missing or foreign', () => announcer.health().condition === 'degraded', 2000)
  t.ok(announcer.health().reasons.length > 0, announcer.health().reasons.join('; '))
})
