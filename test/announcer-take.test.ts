// The announcer's takeover through the guard's TAKE (issue 9, item 1): the
// `leader` event says who took over and carries the guard's timestamps, the
// footprint on the host is the complete one, a peer captures the burst, a
// refused add leaves the announcer a follower with nothing on the host, and a
// frozen host is fenced at the deadline TAKE armed.
import t from 'tap'
import path from 'node:path'
import { VipAnnouncer, type AnnouncedEvent, type LeaderEvent } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { MAX_LIFETIME_S } from '../src/kernel-lifetime'
import { FrameCapture, type CapturedFrame } from '../src/net/capture'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, VIP6, routedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { ReplicaProcess } from './support/replica-process'
import { tempDir } from './support/temp'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()
const TABLE = 30100

function footprint(host: LabHost): { addresses: string[]; rules: number; routes: number } {
  const addresses = host.addresses('net1').filter((a) => a === `${VIP}/32` || a === `${VIP6}/128`).sort()
  const rules = [4, 6].flatMap((family) => host.ipJson(`-${family}`, 'rule', 'show').filter((r: any) => r.table === String(TABLE))).length
  const routes = host.tableRoutes(TABLE, 4).length + host.tableRoutes(TABLE, 6).length
  return { addresses, rules, routes }
}

function dualStack(lab: Lab) {
  const { replicas: [cp1], router } = routedReplicas(lab, 1)
  cp1.ip('-6', 'addr', 'add', '2001:db8::11/64', 'dev', 'net1', 'nodad')
  router.ip('-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'net1', 'nodad')
  return { cp1, router }
}

t.test('the guard takes over: complete footprint, the burst at a peer, phases from its timestamps', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { cp1, router } = dualStack(lab)
  const capture = FrameCapture.open({ link: 'net1', netns: router.path })
  t.teardown(() => capture.close())
  const mac = cp1.mac('net1')
  const seen: CapturedFrame[] = []
  capture.on('frame', (f) => {
    // Gratuitous only: the conflict probe right after a takeover and the
    // kernel's own ARP come from our MAC too.
    const gratuitous = f.kind === 'arp-request' || f.kind === 'arp-reply' ? f.senderMac === mac && f.senderIp === VIP && f.targetIp === VIP : f.kind === 'neighbour-advertisement' && f.target === VIP6 && !f.solicited
    if (gratuitous) seen.push(f)
  })
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'net1', gateway: ['192.0.2.1/24', '2001:db8::1/64'], elector, netns: cp1.path, announce: { repeats: 1, repeatIntervalMs: 300, refreshIntervalMs: 0 } })
  await announcer.start()
  t.teardown(() => announcer.stop())
  const announced: AnnouncedEvent[] = []
  announcer.on('announced', (e) => announced.push(e))

  for (let round = 1; round <= 2; round++) {
    seen.length = 0
    announced.length = 0
    const framesBefore = announcer.metrics().framesSent
    const leader = nextEvent<LeaderEvent>(announcer, 'leader')
    const t0 = monotonicNow()
    elector.elect(60_000)
    const event = await leader
    t.equal(event.takenBy, 'guard', `round ${round}: the guard took over`)
    const { armMs, footprintMs, firstFrameMs } = event.phases
    t.ok(armMs >= 0 && footprintMs >= 0 && firstFrameMs >= 0, `phases: arm ${armMs.toFixed(3)}, footprint ${footprintMs.toFixed(3)}, first frame ${firstFrameMs.toFixed(3)} ms`)
    t.ok(Math.abs(armMs + footprintMs + firstFrameMs - event.takeoverMs) < 1e-6, `they add up to takeoverMs ${event.takeoverMs.toFixed(3)}`)
    t.same(footprint(cp1), { addresses: [`${VIP6}/128`, `${VIP}/32`].sort(), rules: 2, routes: 4 }, 'both VIPs, their rules, the table routes')
    const lifetimes = (cp1.ipJson('addr', 'show', 'dev', 'net1')[0].addr_info as any[]).filter((a) => a.local === VIP || a.local === VIP6).map((a) => a.valid_life_time)
    // The lifetime of the day (MAX_LIFETIME_S for a long lease, counting down), not the plan's placeholder of 1 s.
    t.ok(lifetimes.length === 2 && lifetimes.every((l) => l >= MAX_LIFETIME_S - 1 && l <= MAX_LIFETIME_S && l > 1), `kernel lifetime ${lifetimes.join(', ')} s (MAX_LIFETIME_S ${MAX_LIFETIME_S})`)
    await waitFor('the burst at the peer', () => seen.length >= 3, 2000)
    const first = Math.min(...seen.map((f) => f.arrivedAt ?? f.at))
    // The same clock: the guard's stamps are CLOCK_MONOTONIC, like monotonicNow().
    t.ok(first - t0 <= event.takeoverMs + 5, `first frame at the peer ${(first - t0).toFixed(3)} ms after elect()`)
    t.same(seen.map((f) => f.kind).sort(), ['arp-reply', 'arp-request', 'neighbour-advertisement'], 'the burst: both ARP kinds, one NA')
    t.same(announced.map((e) => [e.vip, e.reason, e.count]), [[VIP, 'takeover', 2], [VIP6, 'takeover', 1]], "'announced' for the guard's burst")
    t.equal(announcer.metrics().framesSent - framesBefore, 3, 'counted in stats.framesSent')
    // The schedule goes on from this thread after the guard's burst.
    await waitFor('the repeat', () => seen.length >= 6, 2000)
    t.same(announced.slice(2).map((e) => e.reason), ['repeat', 'repeat'], 'then the repeats')
    const follower = nextEvent(announcer, 'follower')
    elector.depose('test')
    await follower
    t.same(footprint(cp1), { addresses: [], rules: 0, routes: 0 }, 'released: nothing left')
  }
})

t.test('a refused add: nothing left, the announcer stays follower, the error reported', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { cp1 } = dualStack(lab)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'net1', gateway: ['192.0.2.1/24', '2001:db8::1/64'], elector, netns: cp1.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
  await announcer.start()
  t.teardown(() => announcer.stop())
  const watch = LinkMonitor.open({ netns: cp1.path })
  t.teardown(() => watch.close())
  const added: string[] = []
  watch.on('address', (e) => {
    if (e.action === 'add' && e.address === VIP) added.push(e.address)
  })
  let leaders = 0
  announcer.on('leader', () => leaders++)
  // The IPv6 VIP's add is refused (EACCES) after the IPv4 VIP's went in.
  cp1.run('sysctl', '-qw', 'net.ipv6.conf.net1.disable_ipv6=1')
  const error = nextEvent<NodeJS.ErrnoException>(announcer, 'error')
  elector.elect()
  const failure = await error
  t.equal(failure.code, 'EACCES', `reported: ${failure.message}`)
  await sleep(100)
  t.equal(announcer.state, 'follower', 'still follower')
  t.equal(leaders, 0, "no 'leader' event")
  t.same(footprint(cp1), { addresses: [], rules: 0, routes: 0 }, 'nothing left on the host')
  t.same(added, [VIP], 'the IPv4 VIP had been added (and was undone): a mid-footprint failure')
})

t.test('a host frozen after the TAKE is fenced by the deadline', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  const lockDir = tempDir('vip-lock-')
  const leaseMs = 3500
  const replica = await ReplicaProcess.start(cp1, ['--interface', 'net1', '--gateway', '192.0.2.1/24', '--lock', path.join(lockDir, 'lock'), '--lease-ms', String(leaseMs), '--fence-margin-ms', '100'])
  t.teardown(() => replica.stop())
  const leader = await replica.waitFor('leader')
  t.equal(leader.takenBy, 'guard', 'the guard took over')
  const monitor = LinkMonitor.open({ netns: cp1.path })
  t.teardown(() => monitor.close())
  let removedAt: number | undefined
  monitor.on('address', (e) => {
    if (e.address === VIP && e.action === 'delete') removedAt ??= monotonicNow()
  })
  await sleep(100)
  const start = monotonicNow()
  replica.kill('SIGSTOP')
  t.teardown(() => replica.kill('SIGCONT'))
  await waitFor('VIP removal', () => removedAt, leaseMs + 1500)
  t.ok(removedAt! - start <= leaseMs + 50, `VIP removed ${(removedAt! - start).toFixed(1)} ms after SIGSTOP (lease ${leaseMs} ms)`)
  await waitFor('rule and routes gone', () => footprint(cp1).rules === 0 && footprint(cp1).routes === 0, Math.max(500, start + leaseMs + 50 - monotonicNow()))
  t.pass('rule and routes gone by the deadline too')
  replica.kill('SIGCONT')
  const fenced = await replica.waitFor('fenced', 5000 + leaseMs)
  t.equal(fenced.reason, 'deadline', 'the guard fenced at the deadline')
})

t.test('the guard declines (our IPv6 VIP already on the link): it undoes its adds, this thread takes over', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { cp1 } = dualStack(lab)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'net1', gateway: ['192.0.2.1/24', '2001:db8::1/64'], elector, netns: cp1.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
  await announcer.start()
  t.teardown(() => announcer.stop())
  // Ours by its prefix length (so not someone else's VIP): whose it is, only
  // the host's path checks, so the guard hands the takeover back.
  cp1.ip('-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'net1', 'nodad')
  await sleep(100)
  const watch = LinkMonitor.open({ netns: cp1.path })
  t.teardown(() => watch.close())
  const v4: string[] = []
  watch.on('address', (e) => {
    if (e.address === VIP) v4.push(e.action)
  })
  const leader = nextEvent<LeaderEvent>(announcer, 'leader')
  elector.elect(60_000)
  const event = await leader
  t.equal(event.takenBy, 'host', 'taken over by this thread')
  t.same(footprint(cp1), { addresses: [`${VIP6}/128`, `${VIP}/32`].sort(), rules: 2, routes: 4 }, 'the whole footprint')
  const address = (cp1.ipJson('addr', 'show', 'dev', 'net1')[0].addr_info as any[]).find((a) => a.local === VIP6)
  t.ok(address.valid_life_time < 4294967295, `the IPv6 VIP got the lease's lifetime: ${address.valid_life_time}s`)
  await sleep(50)
  t.same(v4, ['add', 'delete', 'add'], "the IPv4 VIP: the guard's add, its undo, the host's add")
  const follower = nextEvent(announcer, 'follower')
  elector.depose('test')
  await follower
  t.same(footprint(cp1), { addresses: [], rules: 0, routes: 0 }, 'released: nothing left')
})

t.test("a new MAC on the interface: the guard's next burst carries it", nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { cp1, router } = dualStack(lab)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', elector, netns: cp1.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
  await announcer.start()
  t.teardown(() => announcer.stop())
  const capture = FrameCapture.open({ link: 'net1', netns: router.path })
  t.teardown(() => capture.close())
  const senders: string[] = []
  capture.on('frame', (f) => {
    if ((f.kind === 'arp-request' || f.kind === 'arp-reply') && f.senderIp === VIP && f.targetIp === VIP) senders.push(f.senderMac)
  })
  const mac = '02:00:00:00:0c:07'
  cp1.ip('link', 'set', 'net1', 'address', mac)
  await sleep(200) // the link notification, then the new plan, off the takeover path
  const leader = nextEvent<LeaderEvent>(announcer, 'leader')
  elector.elect(60_000)
  t.equal((await leader).takenBy, 'guard', 'the guard took over')
  await waitFor('the burst', () => senders.length >= 2, 2000)
  await sleep(50)
  t.same(senders, [mac, mac], 'both frames from the new MAC, none from the old')
})
