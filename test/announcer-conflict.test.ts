// Never fight another host silently: a third host configured with the VIP
// (`ip addr add` in its namespace, so its kernel answers ARP and DAD probes
// for it) is reported as a `conflict`, and the announcer yields or defends
// as configured. The kernel is the witness: `ip addr` on the replica, frames
// captured on the worker, the worker's neighbour entry.
import t from 'tap'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { DEFEND_INTERVAL_MS } from '../src/conflict'
import { FrameCapture } from '../src/net/capture'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, VIP6, switchedReplicas } from './lab/topologies'
import { StaticElector } from '../src/electors/static'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()
type ConflictPayload = { vip: string; mac: string; since: number; policy: string }

t.test('yield: a starting replica finds the third host, leaves the VIP off, and takes it once it lets go', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1, squatter] } = switchedReplicas(lab, 2)
  squatter.ip('addr', 'add', `${VIP}/24`, 'dev', 'eth0')
  squatter.ip('-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad')
  // Elected inside start() (nobody holds leadership): a start-up, which probes before it claims.
  const elector = new StaticElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  const conflicts: ConflictPayload[] = []
  announcer.on('conflict', (e) => conflicts.push(e))
  const leaders: number[] = []
  announcer.on('leader', () => leaders.push(monotonicNow()))
  const startedAt = monotonicNow()
  await announcer.start()
  await waitFor('both conflicts', () => conflicts.length >= 2, 2000)
  const reportedAt = monotonicNow()
  t.ok(reportedAt - startedAt < 1000, `conflicts reported ${(reportedAt - startedAt).toFixed(0)} ms after start()`)
  t.same(new Set(conflicts.map((c) => c.vip)), new Set([VIP, VIP6]), 'for each family')
  t.ok(conflicts.every((c) => c.mac === squatter.mac('eth0') && c.policy === 'yield'), "naming the third host's MAC")
  await sleep(1500)
  t.same(leaders, [], 'never leader meanwhile')
  t.notOk(cp1.addresses('eth0').some((a) => a.startsWith(VIP) || a.startsWith(VIP6)), 'the VIP stays off the interface (ip addr)')
  t.equal(announcer.metrics().conflicts, 2)
  const yielding = announcer.health()
  t.equal(yielding.condition, 'degraded', 'health: degraded while yielding to the third host')
  t.ok(yielding.reasons.some((r) => r.includes(`conflict: ${squatter.mac('eth0')} answers for ${VIP}`)), `naming it: ${yielding.reasons.join('; ')}`)

  const letGoAt = monotonicNow()
  squatter.ip('addr', 'del', `${VIP}/24`, 'dev', 'eth0')
  squatter.ip('-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0')
  await waitFor('taken once nobody else answers', () => leaders.length === 1, 5000)
  t.same(announcer.health(), { condition: 'announcing', reasons: [], state: 'leader' }, 'health: announcing once it holds the VIP')
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`) && cp1.addresses('eth0').includes(`${VIP6}/128`), `VIPs on the interface ${(leaders[0] - letGoAt).toFixed(0)} ms after the third host let go`)
})

t.test('yield: a host that starts answering while we lead is reported within 1 s and the VIP steps back', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1, squatter] } = switchedReplicas(lab, 2)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  await leader
  await sleep(600)
  const conflict = nextEvent<ConflictPayload>(announcer, 'conflict', 3000)
  const follower = nextEvent<{ reason: string }>(announcer, 'follower', 3000)
  const addedAt = monotonicNow()
  squatter.ip('addr', 'add', `${VIP}/24`, 'dev', 'eth0') // silent: only our probes can find it
  const event = await conflict
  t.ok(monotonicNow() - addedAt < 1000, `reported ${(monotonicNow() - addedAt).toFixed(0)} ms after the other host took the address`)
  t.equal(event.mac, squatter.mac('eth0'))
  t.match((await follower).reason, new RegExp(`conflict: ${VIP.replace(/\./g, '\\.')} is answered by ${squatter.mac('eth0')}`))
  t.notOk(cp1.addresses('eth0').includes(`${VIP}/32`), 'VIP removed (ip addr)')
  const back = nextEvent(announcer, 'leader', 5000)
  squatter.ip('addr', 'del', `${VIP}/24`, 'dev', 'eth0')
  await back
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'retaken when it stopped answering')
})

t.test('defend: keeps the VIP, the worker ends on our MAC, at most one defense per DEFEND_INTERVAL', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1, squatter], worker } = switchedReplicas(lab, 2)
  squatter.ip('addr', 'add', `${VIP}/24`, 'dev', 'eth0')
  // The worker learned the VIP from the other host first.
  worker.run('ping', '-c1', '-W1', VIP)
  t.equal(worker.neighbourMac(VIP), squatter.mac('eth0'), 'the worker starts at the other host')
  const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
  t.teardown(() => capture.close())
  const ours = cp1.mac('eth0')
  const announcementsSeen: number[] = []
  capture.on('frame', (f: any) => {
    if (!f.outgoing && f.senderMac === ours && f.senderIp === VIP && f.targetIp === VIP) announcementsSeen.push(monotonicNow())
  })
  const elector = new ManualElector()
  // No repeats or refreshes: every announcement after the takeover burst is a defense.
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path, conflict: { policy: 'defend' }, announce: { repeats: 0, refreshIntervalMs: 0 } })
  t.teardown(() => announcer.stop())
  const defenses: number[] = []
  const reasons: string[] = []
  let framesReported = 0
  announcer.on('announced', (e) => {
    reasons.push(`${e.reason}x${e.count}`)
    framesReported += e.count
    if (e.reason === 'defend') defenses.push(monotonicNow())
  })
  const conflict = nextEvent<ConflictPayload>(announcer, 'conflict', 2000)
  await announcer.start()
  elector.elect()
  t.equal((await conflict).policy, 'defend')
  await waitFor('leader', () => announcer.isLeader, 2000)
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'keeps the VIP')
  await waitFor('a defense', () => defenses.length === 1, 2000)
  await waitFor("the worker's entry on our MAC", () => worker.neighbourMac(VIP) === ours, 2000)
  t.pass("the worker's neighbour entry ends on the leader's MAC")
  // The other host keeps answering every probe for 4 s: still one defense.
  await sleep(4000)
  t.equal(defenses.length, 1, `one defense in ${((monotonicNow() - defenses[0]) / 1000).toFixed(1)} s of continuing conflict (DEFEND_INTERVAL ${DEFEND_INTERVAL_MS / 1000} s)`)
  // What reached the worker is exactly the takeover burst and that one defense.
  t.equal(announcementsSeen.length, framesReported, `the worker received exactly the announced frames (${reasons.join(', ')})`)
  t.equal(announcer.metrics().defenses, 1)
})

t.test('no false alarm: our own frames and a follower replica, over many takeovers', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas } = switchedReplicas(lab, 3)
  const electors = replicas.map(() => new ManualElector())
  const announcers = replicas.map((host, i) => new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector: electors[i], netns: host.path, conflict: { probeIntervalMs: 100 } }))
  t.teardown(() => Promise.all(announcers.map((a) => a.stop())))
  let conflicts = 0
  for (const a of announcers) a.on('conflict', () => conflicts++)
  for (const a of announcers) await a.start()
  // cp3 stays a follower throughout; cp1 and cp2 trade leadership.
  for (let round = 0; round < 20; round++) {
    const i = round % 2
    const leader = nextEvent(announcers[i], 'leader')
    electors[i].elect(10_000)
    await leader
    await sleep(400) // a few probe rounds while leading
    const follower = nextEvent(announcers[i], 'follower')
    electors[i].depose('next round')
    await follower
  }
  t.equal(conflicts, 0, 'no conflict reported in 20 takeovers with probes every 100 ms')
  // Positive control: the detectors really probed while leading, and the follower's never did.
  const rounds = announcers.map((a) => (a as unknown as { detector?: { stats: { rounds: number } } }).detector?.stats.rounds ?? 0)
  t.ok(rounds[0] >= 10 && rounds[1] >= 10, `probe rounds while leading: ${rounds[0]} + ${rounds[1]}`)
  t.equal(rounds[2], 0, 'the follower replica never probed')
})
