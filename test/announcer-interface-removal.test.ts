// A leader whose interface disappears can't hold the VIP, so it must not keep
// leadership: it steps back (its elector stops, releasing the lock at once),
// another replica takes the VIP, and when the interface returns the first
// replica campaigns again as a follower (issue 11, defect 8). Two announcers in
// this process, each in its own namespace, with a FileLockElector each on one
// lock file; then two replica processes, for the takeover time as deployed
// (in one process the second announcer waits for the first one's event loop).
import t from 'tap'
import path from 'node:path'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { FileLockElector } from '../src/electors/file-lock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, switchedReplicas } from './lab/topologies'
import { ReplicaProcess } from './support/replica-process'
import { nextEvent, sleep, waitFor } from './support/wait'
import { tempDir } from './support/temp'

const nsOptions = namespaceTestOptions()

t.test("the leader's interface removed: another replica takes the VIP at once; back, the first campaigns as follower", nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { sw, replicas: [cp1, cp2] } = switchedReplicas(lab, 2)
  const lock = path.join(tempDir('vip-lock-'), 'lock')
  const make = (netns: string) => {
    const elector = new FileLockElector({ path: lock })
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns, announce: { repeats: 0, refreshIntervalMs: 0 } })
    t.teardown(() => announcer.stop().then(() => elector.close()))
    return { elector, announcer }
  }
  const a = make(cp1.path)
  const b = make(cp2.path)
  const errors: string[] = []
  for (const { announcer } of [a, b]) announcer.on('error', (e) => errors.push(e.message))

  const aLeader = nextEvent(a.announcer, 'leader')
  await a.announcer.start()
  await aLeader
  await b.announcer.start()
  await sleep(100)
  t.equal(b.announcer.isLeader, false, 'b: follower while a leads')
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'the VIP on cp1')

  // When cp2's kernel has the VIP, from one clock.
  let addedOnB: number | undefined
  const watcher = LinkMonitor.open({ netns: cp2.path })
  t.teardown(() => watcher.close())
  watcher.on('address', (e) => {
    if (e.action === 'add' && e.address === VIP) addedOnB ??= monotonicNow()
  })

  const aFollower = nextEvent<{ reason: string }>(a.announcer, 'follower', 2000)
  const bLeader = nextEvent(b.announcer, 'leader', 500)
  let steppedBackAt: number | undefined
  a.announcer.once('follower', () => (steppedBackAt = monotonicNow()))
  const removedAt = monotonicNow()
  cp1.ip('link', 'del', 'eth0') // the veth pair goes, the switch's port with it
  const ipReturnedAt = monotonicNow() // this process (both announcers) was blocked until then
  await bLeader
  const takeoverMs = await waitFor('the VIP on cp2, as its kernel reports', () => addedOnB, 500) - removedAt
  t.ok(takeoverMs < 500, `b holds the VIP ${takeoverMs.toFixed(1)} ms after \`ip link del\` began ` +
    `(it returned after ${(ipReturnedAt - removedAt).toFixed(1)} ms; a released ${((steppedBackAt ?? NaN) - ipReturnedAt).toFixed(1)} ms later, ` +
    `b added the VIP ${(addedOnB! - (steppedBackAt ?? NaN)).toFixed(1)} ms after that)`)
  t.equal((await aFollower).reason, 'interface removed', 'a: follower, because its interface went')
  t.equal(a.elector.isLeader, false, "a's elector released leadership")
  t.ok(cp2.addresses('eth0').includes(`${VIP}/32`), 'the VIP on cp2')

  // The interface comes back: a campaigns again, as a follower (b holds the lock).
  const present = nextEvent(a.announcer, 'link', 2000, (e: any) => e.state === 'present')
  lab.plug(cp1, 'eth0', sw, { addresses: ['192.0.2.11/24', '2001:db8::11/64'] })
  await present
  await sleep(300)
  t.equal(a.announcer.state, 'follower', 'a: follower')
  t.equal(a.announcer.isLeader, false, 'a does not take the VIP while b leads')
  t.notOk(cp1.addresses('eth0').includes(`${VIP}/32`), 'no VIP on cp1')
  t.ok(b.announcer.isLeader && cp2.addresses('eth0').includes(`${VIP}/32`), 'b keeps it')

  // a really campaigns: when b stops, a takes over.
  const aAgain = nextEvent(a.announcer, 'leader', 1000)
  const stoppedAt = monotonicNow()
  await b.announcer.stop()
  await aAgain
  t.ok(monotonicNow() - stoppedAt < 1000, `a leads again ${(monotonicNow() - stoppedAt).toFixed(1)} ms after b stopped`)
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'the VIP on cp1 again')
  t.notOk(cp2.addresses('eth0').includes(`${VIP}/32`), 'and not on cp2')
  t.same(errors, [], 'no errors along the way')
  await a.announcer.stop()
})

t.test('a follower whose interface is removed stops campaigning until it is back', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { sw, replicas: [cp1, cp2] } = switchedReplicas(lab, 2)
  const lock = path.join(tempDir('vip-lock-'), 'lock')
  const a = { elector: new FileLockElector({ path: lock }) }
  const b = { elector: new FileLockElector({ path: lock }) }
  const announcers = [a, b].map(({ elector }, i) => {
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: [cp1, cp2][i].path })
    t.teardown(() => announcer.stop().then(() => elector.close()))
    return announcer
  })
  const leader = nextEvent(announcers[0], 'leader')
  await announcers[0].start()
  await leader
  await announcers[1].start()
  const gone = nextEvent(announcers[1], 'link', 2000, (e: any) => e.state === 'gone')
  cp2.ip('link', 'del', 'eth0')
  await gone
  // With b not campaigning, a's stop leaves nobody to take the lock.
  await announcers[0].stop()
  await sleep(300)
  t.equal(b.elector.isLeader, false, 'b did not win the lock without an interface')
  const bLeader = nextEvent(announcers[1], 'leader', 2000)
  lab.plug(cp2, 'eth0', sw, { addresses: ['192.0.2.12/24'] })
  await bLeader
  t.ok(cp2.addresses('eth0').includes(`${VIP}/32`), 'interface back: b campaigns and takes the VIP')
  await announcers[1].stop()
})

t.test('two replica processes: the VIP moves within the bound when the leader loses its interface', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { sw, replicas } = switchedReplicas(lab, 2)
  const lock = path.join(tempDir('vip-lock-'), 'lock')
  const procs: ReplicaProcess[] = []
  t.teardown(() => Promise.all(procs.map((p) => p.stop())))
  procs.push(await ReplicaProcess.start(replicas[0], ['--lock', lock]))
  await procs[0].waitFor('leader', 5000)
  procs.push(await ReplicaProcess.start(replicas[1], ['--lock', lock]))
  await sleep(200)
  t.notOk(procs[1].events.some((e) => e.event === 'leader'), 'the second replica follows')

  const removedAt = monotonicNow()
  replicas[0].ip('link', 'del', 'eth0')
  const returnedAt = monotonicNow()
  const stepped = await procs[0].waitFor('follower', 2000)
  const took = await procs[1].waitFor('leader', 500)
  t.equal(stepped.reason, 'interface removed')
  t.ok(took.at - removedAt < 500, `the other replica leads ${(took.at - removedAt).toFixed(1)} ms after \`ip link del\` began ` +
    `(${(returnedAt - removedAt).toFixed(1)} ms in the kernel; the old leader stepped back ${(stepped.at - removedAt).toFixed(1)} ms in, ` +
    `the new one led ${(took.at - stepped.at).toFixed(1)} ms after that)`)
  t.ok(replicas[1].addresses('eth0').includes(`${VIP}/32`), 'the VIP on the other replica')

  const after = procs[0].events.length
  lab.plug(replicas[0], 'eth0', sw, { addresses: ['192.0.2.11/24'] })
  await procs[0].waitFor('link', 2000, (e) => e.state === 'present', after)
  await sleep(300)
  t.notOk(procs[0].events.slice(after).some((e) => e.event === 'leader'), 'back: the first replica follows')
  t.notOk(replicas[0].addresses('eth0').includes(`${VIP}/32`), 'no VIP on it')
  t.same(procs.flatMap((p) => p.events.filter((e) => e.event === 'error').map((e) => e.message)), [], 'no errors')
})
