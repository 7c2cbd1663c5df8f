// Fencing: the VIP never outlives leadership. The lease deadline is enforced by
// the announcer and, when this process can't run (blocked, frozen, killed), by
// the guard process. Timed by a netlink watcher in the test process.
import t from 'tap'
import path from 'node:path'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, routedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { ReplicaProcess } from './support/replica-process'
import { nextEvent, sleep, waitFor } from './support/wait'
import { tempDir } from './support/temp'

const nsOptions = namespaceTestOptions()

function watchVip(host: LabHost) {
  const monitor = LinkMonitor.open({ netns: host.path })
  const events: Array<{ action: string; at: number }> = []
  monitor.on('address', (e) => {
    if (e.address === VIP) events.push({ action: e.action, at: monotonicNow() })
  })
  return { monitor, events, removedAt: () => events.find((e) => e.action === 'delete')?.at }
}

function footprintGone(host: LabHost): boolean {
  return (
    !host.addresses('net1').includes(`${VIP}/32`) &&
    !(host.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP) &&
    (host.tableRoutes(30100) as unknown[]).length === 0
  )
}

function footprintComplete(host: LabHost): boolean {
  return (
    host.addresses('net1').includes(`${VIP}/32`) &&
    (host.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP) &&
    (host.tableRoutes(30100) as unknown[]).length === 2
  )
}

t.test('an elector that stops renewing: VIP gone before the deadline', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  const watch = watchVip(cp1)
  t.teardown(() => watch.monitor.close())
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path, fenceMarginMs: 100 })
  t.teardown(() => announcer.stop())
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  // The shortest lease the VIP's kernel lifetime allows, renewed every second.
  let deadline = elector.elect(3500)
  await leader
  // Two renewals, then silence.
  await sleep(1000)
  deadline = elector.renew(3500)
  await sleep(1000)
  deadline = elector.renew(3500)
  await waitFor('VIP removal', watch.removedAt, 5000)
  const margin = deadline - watch.removedAt()!
  // Whoever removes it first (the kernel as its lifetime runs out, which the
  // announcer then follows, or the guard and the announcer's timer at the
  // fence margin), it is before the deadline.
  t.ok(margin > 0, `VIP removed ${margin.toFixed(1)} ms before the deadline`)
  await waitFor('footprint gone', () => footprintGone(cp1), Math.max(100, deadline - monotonicNow()))
  t.pass('address, rule and routes gone by the deadline')
  // The guard and the announcer's own timer race to the fence; either way the
  // announcer steps down (its notifications may still be unread here).
  await waitFor('the announcer steps down', () => !announcer.isLeader, 1000)
  // A late renewal puts it back: leadership was never lost, only not renewed in time.
  const back = nextEvent(announcer, 'leader')
  elector.renew(5000)
  await back
  t.ok(cp1.addresses('net1').includes(`${VIP}/32`), 'restored on renewal')
  await announcer.stop()
})

t.test('a renewal that races the fence: the VIP comes back without waiting for the next renewal', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  const elector = new ManualElector()
  // A fence margin wide enough that the guard fences before the VIP's kernel
  // lifetime (2 s from the grant) runs out: this test is about the guard.
  const marginMs = 2500
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path, fenceMarginMs: marginMs })
  t.teardown(() => announcer.stop())
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  const deadline = elector.elect(4000)
  await leader
  const fenced = nextEvent(announcer, 'fenced', 3000)
  const back = fenced.then(() => nextEvent(announcer, 'leader', 2000))
  const restored: unknown[] = []
  announcer.on('restored', (e) => restored.push(e))
  // Freeze this thread across the fence (marginMs before the deadline), so the
  // guard fences and the announcer cannot react; then renew before it reads
  // anything: the renewal of a slow backend landing just too late.
  await sleep(Math.max(0, deadline - marginMs - monotonicNow() - 30))
  const frozenUntil = monotonicNow() + 1000
  while (cp1.addresses('net1').includes(`${VIP}/32`) && monotonicNow() < frozenUntil) {
    // busy: the event loop is blocked, as in a host that stalls
  }
  const fencedWhileFrozen = !cp1.addresses('net1').includes(`${VIP}/32`)
  elector.renew(5000)
  t.ok(fencedWhileFrozen, 'the guard fenced while the host was frozen, and the renewal came after')
  await fenced
  await back
  t.ok(footprintComplete(cp1), 'address, rule and routes back')
  t.same(restored, [], "the guard's fence was not mistaken for an outside removal")
  await sleep(300)
  t.ok(announcer.isLeader && cp1.addresses('net1').includes(`${VIP}/32`), 'and it stays (the lease runs for 5 s)')
  await announcer.stop()
})

t.test('guard: killing the guard makes the announcer step down and start a new one', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  announcer.on('error', () => {})
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  await leader
  const guard = (announcer as any).tenure.guard
  const follower = nextEvent(announcer, 'follower')
  guard.kill('SIGKILL')
  await follower
  t.notOk(cp1.addresses('net1').includes(`${VIP}/32`), 'VIP removed (fail safe)')
  await waitFor('leadership given up', () => elector.stopped === 1)
  t.equal(elector.stopped, 1, 'leadership given up (elector stopped, then campaigning again)')
  await waitFor('a new guard', () => (announcer as any).tenure.guard?.alive && (announcer as any).tenure.guard !== guard)
  t.ok(elector.started, 'campaigning again')
  await announcer.stop()
})

for (const scenario of ['block', 'SIGSTOP', 'SIGKILL'] as const) {
  t.test(`guard fences a leader that is ${scenario === 'block' ? 'blocked in a busy loop' : scenario === 'SIGSTOP' ? 'frozen (SIGSTOP)' : 'killed (SIGKILL)'}`, nsOptions, async (t) => {
    const lab = new Lab()
    t.teardown(() => lab.destroy())
    const { replicas: [cp1] } = routedReplicas(lab, 1)
    const lockDir = tempDir('vip-lock-')
    // The shortest lease the kernel lifetime allows with the default renewal (leaseMs / 4).
    const leaseMs = 3500
    const replica = await ReplicaProcess.start(cp1, ['--interface', 'net1', '--gateway', '192.0.2.1/24', '--lock', path.join(lockDir, 'lock'), '--lease-ms', String(leaseMs), '--fence-margin-ms', '100'])
    t.teardown(() => replica.stop())
    await replica.waitFor('leader')
    t.ok(cp1.addresses('net1').includes(`${VIP}/32`), 'leader holds the VIP')
    const watch = watchVip(cp1)
    t.teardown(() => watch.monitor.close())
    await sleep(100)
    const start = monotonicNow()
    if (scenario === 'block') replica.send(`block ${leaseMs + 1500}`)
    else replica.kill(scenario)
    const limit = scenario === 'SIGKILL' ? 100 : leaseMs + 50
    await waitFor('VIP removal', watch.removedAt, limit + 1000)
    const took = watch.removedAt()! - start
    // By the deadline: at most one lease after the last renewal before the freeze.
    t.ok(took <= limit, `VIP removed ${took.toFixed(1)} ms after the ${scenario} (limit ${limit} ms)`)
    // The VIP's kernel lifetime may remove the address first (it ends ≥ 2 s
    // before the deadline); the guard removes the rule and routes at the deadline.
    await waitFor('footprint gone', () => footprintGone(cp1), scenario === 'SIGKILL' ? 500 : Math.max(500, start + limit - monotonicNow()))
    t.pass('address, rule and routes gone while the namespace lives on')
    if (scenario !== 'SIGKILL') {
      // The JS thread could not have done it: the guard reports having fenced once the host runs again.
      if (scenario === 'SIGSTOP') replica.kill('SIGCONT')
      const fenced = await replica.waitFor('fenced', 5000 + leaseMs)
      t.equal(fenced.reason, 'deadline', 'the guard fenced at the deadline')
    }
    if (scenario === 'SIGKILL') {
      await replica.exited()
      await waitFor('guard exit', () => !replica.guardPid(), 1000)
      t.pass('guard exited after fencing')
    }
  })
}
