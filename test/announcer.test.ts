// VipAnnouncer in namespaces, driven from this process (which stays in the
// root namespace) through the `netns` option. The kernel is the witness: `ip
// addr`, `ip rule`, `ip route show table`, the worker's `ip neigh`, frames a
// capture sees, and TCP through the VIP.
import t from 'tap'
import { spawn } from 'node:child_process'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { FrameCapture } from '../src/net/capture'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, VIP6, routedReplicas, switchedReplicas, tcpProbe } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, openFds, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()
const WRONG_MAC = '02:00:00:00:00:99'

t.test('leader adds, announces and on stop removes the VIP; no fd left behind', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1], worker } = switchedReplicas(lab, 1)
  // The worker knows the VIP at a wrong MAC: only an announcement can fix that.
  worker.ip('neigh', 'replace', VIP, 'lladdr', WRONG_MAC, 'dev', 'eth0', 'nud', 'stale')
  worker.ip('-6', 'neigh', 'replace', VIP6, 'lladdr', WRONG_MAC, 'dev', 'eth0', 'nud', 'stale')
  // Warm-up: the first child process makes Node open its own SIGCHLD plumbing for good.
  const warm = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector: new ManualElector(), netns: cp1.path })
  t.teardown(() => warm.stop())
  await warm.start()
  await warm.stop()
  await sleep(50)
  const fdsBefore = openFds()
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  const announced: string[] = []
  announcer.on('announced', (e) => announced.push(`${e.vip}:${e.reason}:${e.kinds.join('+')}`))
  const before = netSnapshot(cp1)
  await announcer.start()
  await announcer.start() // idempotent
  t.equal(announcer.state, 'follower')
  t.equal(netSnapshot(cp1), before, "a follower's start and warm-up (a rehearsed takeover) leave addresses, rules and routes as they were")
  t.notOk(cp1.addresses('eth0').includes(`${VIP}/32`), 'follower: no VIP')
  t.same(announced, [], 'never announces before elected')

  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  const event = (await leader) as { takeoverMs: number }
  // Elected after the elector's start() resolved, as a successor is: claimed
  // at once (a probe follows); only an election inside start() probes first.
  t.ok(event.takeoverMs < 50, `takeover ${event.takeoverMs.toFixed(3)} ms`)
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'IPv4 VIP on eth0')
  t.ok(cp1.addresses('eth0').includes(`${VIP6}/128`), 'IPv6 VIP on eth0')
  const v6 = cp1.ipJson('-6', 'addr', 'show', 'dev', 'eth0')[0].addr_info.find((a: any) => a.local === VIP6)
  t.notOk(v6.tentative, 'IPv6 VIP added with nodad: not tentative')
  await waitFor('worker learns the VIP at cp1', () => worker.neighbourMac(VIP) === cp1.mac('eth0'), 2000)
  await waitFor('worker learns the IPv6 VIP at cp1', () => worker.neighbourMac(VIP6) === cp1.mac('eth0'), 2000)
  t.ok(announced.includes(`${VIP}:takeover:arp-request+arp-reply`), 'ARP request and reply at takeover')
  t.ok(announced.includes(`${VIP6}:takeover:neighbour-advertisement`), 'NA at takeover')

  await announcer.stop()
  await announcer.stop() // idempotent
  t.equal(announcer.state, 'stopped')
  t.same(cp1.addresses('eth0').filter((a) => a.startsWith(VIP) || a.startsWith(VIP6)), [], 'VIPs removed at stop')
  t.equal(elector.stopped, 1, 'leadership released after the VIP was removed')
  await sleep(50) // handles close on the loop's next turn
  t.equal(openFds(), fdsBefore, 'no fd left open (netlink, monitor, packet socket, guard pipes)')
  t.rejects(announcer.start(), /stopped/, 'a stopped announcer does not restart')
})

t.test('policy routing: the worker behind the gateway reaches VIP:port only with `gateway`', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1], worker } = routedReplicas(lab, 1)
  const server = spawn('ip', ['netns', 'exec', cp1.name, process.execPath, '-e',
    "require('net').createServer((s) => s.end('cp1\\n')).listen(7000, () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => server.kill('SIGKILL'))
  await nextEvent(server.stdout!, 'data')

  const run = async (gateway: string | undefined) => {
    const elector = new ManualElector()
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway, elector, netns: cp1.path })
    t.teardown(() => announcer.stop())
    const before = netSnapshot(cp1)
    await announcer.start()
    t.equal(netSnapshot(cp1), before, `follower with gateway ${gateway}: nothing changed before the election`)
    const leader = nextEvent(announcer, 'leader')
    elector.elect()
    await leader
    return { announcer, elector }
  }

  const plain = await run(undefined)
  t.equal(tcpProbe(worker, VIP, 7000, 1), undefined, 'without gateway: replies leave via eth0 and never arrive')
  await plain.announcer.stop()

  const routed = await run('192.0.2.1/24')
  t.equal(tcpProbe(worker, VIP, 7000), 'cp1', 'with gateway: the connection completes')
  const rules = cp1.ipJson('rule', 'show') as Array<{ src?: string; table?: string; priority: number }>
  t.ok(rules.some((r) => r.src === VIP && r.table === '30100' && r.priority === 1000), 'rule from VIP lookup 30100 priority 1000')
  const table = cp1.tableRoutes(30100) as Array<{ dst: string; gateway?: string; dev: string; scope?: string }>
  t.ok(table.some((r) => r.dst === 'default' && r.gateway === '192.0.2.1' && r.dev === 'net1'), 'default via gateway dev net1')
  t.ok(table.some((r) => r.dst === '192.0.2.0/24' && r.dev === 'net1' && r.scope === 'link'), 'subnet route scope link')

  const follower = nextEvent(routed.announcer, 'follower')
  routed.elector.depose('lost the lease')
  await follower
  t.notOk((cp1.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP), 'rule removed on loss')
  t.same(cp1.tableRoutes(30100), [], 'table empty on loss')
  t.notOk(cp1.addresses('net1').includes(`${VIP}/32`), 'VIP removed on loss')
  await routed.announcer.stop()
})

t.test('stale VIP, rule and routes of an earlier crash are removed at start', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  cp1.ip('addr', 'add', `${VIP}/32`, 'dev', 'net1')
  cp1.ip('route', 'add', '192.0.2.0/24', 'dev', 'net1', 'scope', 'link', 'table', '30100', 'proto', '118')
  cp1.ip('route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'net1', 'table', '30100', 'proto', '118')
  cp1.ip('rule', 'add', 'from', VIP, 'lookup', '30100', 'priority', '1000')
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  const cleaned = nextEvent<{ removed: string[] }>(announcer, 'cleaned')
  await announcer.start()
  t.equal((await cleaned).removed.length, 4, 'address, rule and two routes reported')
  t.notOk(cp1.addresses('net1').includes(`${VIP}/32`))
  t.notOk((cp1.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP))
  t.same(cp1.tableRoutes(30100), [])
  await announcer.stop()
})

t.test('self-healing: outside removal is undone; carrier return re-announces', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const cp1 = lab.host('cp1')
  const port = lab.plug(cp1, 'eth0', sw, { addresses: ['192.0.2.11/24'] })
  const worker = lab.host('wk')
  lab.plug(worker, 'eth0', sw, { addresses: ['192.0.2.50/24'] })

  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path, announce: { refreshIntervalMs: 0, repeats: 0 } })
  t.teardown(() => announcer.stop())
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  await leader

  // Outside removal, timed by an independent watcher in the namespace.
  const watcher = LinkMonitor.open({ netns: cp1.path })
  t.teardown(() => watcher.close())
  const addressEvents: Array<{ action: string; at: number }> = []
  watcher.on('address', (e) => { if (e.address === VIP) addressEvents.push({ action: e.action, at: monotonicNow() }) })
  const restored = nextEvent<{ delayMs: number }>(announcer, 'restored')
  cp1.ip('addr', 'del', `${VIP}/32`, 'dev', 'eth0')
  const { delayMs } = await restored
  await waitFor('re-add seen', () => addressEvents.some((e) => e.action === 'add'))
  const gap = addressEvents.find((e) => e.action === 'add')!.at - addressEvents.find((e) => e.action === 'delete')!.at
  t.ok(gap < 50, `VIP back ${gap.toFixed(2)} ms after removal (announcer measured ${delayMs.toFixed(2)} ms)`)
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`))

  // Carrier loss: the switch side of the cable goes down.
  const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
  t.teardown(() => capture.close())
  const linkDown = nextEvent(announcer, 'link', 2000, (e: any) => e.state === 'down')
  sw.ip('link', 'set', port, 'down')
  await linkDown
  let carrierBack = 0
  watcher.on('link', (e) => { if (e.link.name === 'eth0' && e.link.carrier && !carrierBack) carrierBack = monotonicNow() })
  const frame = nextEvent<{ at: number; kind: string }>(capture, 'frame', 2000, (f: any) => f.kind.startsWith('arp') && (f.senderIp === VIP || f.targetIp === VIP))
  sw.ip('link', 'set', port, 'up')
  const seen = await frame
  await waitFor('carrier event', () => carrierBack)
  const latency = seen.at - carrierBack
  t.ok(latency < 100, `announcement seen by the worker ${latency.toFixed(2)} ms after carrier returned`)

  // Admin down flushes the routes and (for IPv6) addresses; admin up restores and announces.
  cp1.ip('link', 'set', 'eth0', 'down')
  await sleep(50)
  const again = nextEvent(capture, 'frame', 2000, (f: any) => f.kind.startsWith('arp') && (f.senderIp === VIP || f.targetIp === VIP))
  cp1.ip('link', 'set', 'eth0', 'up')
  await again
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'VIP still on eth0 after admin down/up')
  await announcer.stop()
})

t.test('an interface that appears late is waited for, then used', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const cp1 = lab.host('cp1')
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  const missing = nextEvent(announcer, 'link', 2000, (e: any) => e.state === 'missing')
  await announcer.start()
  await missing
  elector.elect()
  await sleep(50)
  t.equal(announcer.isLeader, false, 'elected but no interface yet: nothing configured')
  const leader = nextEvent(announcer, 'leader', 3000)
  lab.plug(cp1, 'net1', sw, { addresses: ['192.0.2.11/24'] }) // Multus attaching late
  await leader
  t.ok(cp1.addresses('net1').includes(`${VIP}/32`), 'VIP on the late interface')
  await announcer.stop()
  t.notOk(cp1.addresses('net1').includes(`${VIP}/32`))
})

t.test('stop() during a takeover leaves the host clean', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  for (let i = 0; i < 5; i++) {
    const elector = new ManualElector()
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path })
    t.teardown(() => announcer.stop())
    await announcer.start()
    elector.elect()
    if (i % 2) await sleep(i) // stop at different points of the transition
    await announcer.stop()
    t.notOk(cp1.addresses('net1').includes(`${VIP}/32`), `run ${i}: no VIP`)
    t.notOk((cp1.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP), `run ${i}: no rule`)
    t.same(cp1.tableRoutes(30100), [], `run ${i}: no routes`)
  }
})

/**
 * Everything a takeover would change in a namespace, as `ip` prints it. IPv6
 * link-local addresses and their routes are left out: they settle on their own
 * (duplicate address detection) while a test runs.
 */
function netSnapshot(host: LabHost): string {
  const global = (host.ipJson('addr') as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>)
    .flatMap((link) => link.addr_info.filter((a) => a.scope !== 'link').map((a) => `${link.ifname} ${a.local}/${a.prefixlen}`))
  const v6routes = host.ip('-6', 'route', 'show', 'table', 'all').split('\n').filter((line) => !/fe80|ff00/.test(line))
  return [...global, host.ip('-4', 'rule'), host.ip('-6', 'rule'), host.ip('-4', 'route', 'show', 'table', 'all'), ...v6routes].join('\n')
}

t.test('a failed start() undoes itself; start() again retries', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = switchedReplicas(lab, 1)
  // Warm-up, as above: Node's SIGCHLD plumbing stays open after the first spawn.
  const warm = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector: new ManualElector(), netns: cp1.path })
  await warm.start()
  await warm.stop()
  await sleep(50)
  const fdsBefore = openFds()

  class FlakyElector extends ManualElector {
    failures = 1
    override async start(): Promise<void> {
      if (this.failures-- > 0) throw new Error('backend not reachable yet')
      return super.start()
    }
  }
  const elector = new FlakyElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  await t.rejects(announcer.start(), /backend not reachable yet/, 'the elector failure reaches the caller')
  t.equal(announcer.state, 'stopped')
  t.equal(elector.stopped, 1, 'the elector was stopped')
  t.equal(elector.listenerCount('elected'), 0, 'no elector listener left behind')
  await sleep(50)
  t.equal(openFds(), fdsBefore, 'sockets, lifeline and guard pipes closed')
  elector.elect()
  await sleep(50)
  t.notOk(cp1.addresses('eth0').includes(`${VIP}/32`), 'an election after the failed start changes nothing')
  elector.depose()

  await announcer.start()
  t.equal(announcer.state, 'follower', 'the second start() campaigns')
  t.equal(elector.listenerCount('elected'), 1, 'listening once')
  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  await leader
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'and leads')
  await announcer.stop()
  t.notOk(cp1.addresses('eth0').includes(`${VIP}/32`), 'and stops clean')
})

t.test('a start() that fails after the elector named us leader removes the VIP it added', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = switchedReplicas(lab, 1)
  class ElectThenFail extends ManualElector {
    override async start(): Promise<void> {
      this.elect()
      await sleep(50) // the takeover runs meanwhile
      throw new Error('lost the backend during start')
    }
  }
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector: new ElectThenFail(), netns: cp1.path })
  t.teardown(() => announcer.stop())
  const leader = nextEvent(announcer, 'leader', 1000)
  const started = announcer.start()
  await leader
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'the VIP was added while start() ran')
  await t.rejects(started, /lost the backend/)
  t.notOk(cp1.addresses('eth0').includes(`${VIP}/32`), 'and removed when start() failed')
  t.equal(announcer.state, 'stopped')
})
