// TAKE (issue 9, item 1): the guard arms, adds the footprint and sends the
// first burst on one command. The kernel is the witness: `ip` shows the same
// addresses (flags, lifetimes), rules and table routes as after the host's own
// Footprint.apply(), a peer captures the frames, a refused add leaves nothing
// behind, and the deadline armed by TAKE is enforced like ARM's.
import t, { type Test } from 'tap'
import { monotonicNow } from '../src/clock'
import { Footprint } from '../src/footprint'
import { GuardProcess } from '../src/guard'
import { FrameCapture, type CapturedFrame } from '../src/net/capture'
import { gratuitousArp, neighbourAdvertisement } from '../src/net/frames'
import { Netlink } from '../src/net/netlink'
import { resolveOptions } from '../src/options'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, VIP6, routedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()
const TABLE = 30100
const LIFETIME_S = 30

interface Setup {
  cp1: LabHost
  router: LabHost
  netlink: Netlink
  footprint: Footprint
  ifindex: number
  mac: string
}

function setup(t: Test): Setup {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1], router } = routedReplicas(lab, 1)
  cp1.ip('-6', 'addr', 'add', '2001:db8::11/64', 'dev', 'net1', 'nodad')
  router.ip('-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'net1', 'nodad')
  const options = resolveOptions({ vip: [VIP, VIP6], interface: 'net1', gateway: ['192.0.2.1/24', '2001:db8::1/64'], elector: new ManualElector(), netns: cp1.path })
  const netlink = Netlink.open({ netns: cp1.path })
  t.teardown(() => netlink.close())
  const ifindex = netlink.findLink('net1')!.index
  return { cp1, router, netlink, footprint: new Footprint(netlink, options, ifindex), ifindex, mac: cp1.mac('net1') }
}

/** The footprint as `ip` shows it; lifetimes to the second, since they count down. */
function snapshot(host: LabHost): unknown {
  const vips = new Set([VIP, VIP6])
  const addresses = (host.ipJson('addr', 'show', 'dev', 'net1')[0]?.addr_info ?? [])
    .filter((a: any) => vips.has(a.local))
    .map((a: any) => ({ ...a, valid_life_time: Math.round(a.valid_life_time / 2), preferred_life_time: Math.round(a.preferred_life_time / 2) }))
  const rules = [4, 6].flatMap((family) => host.ipJson(`-${family}`, 'rule', 'show').filter((r: any) => r.table === String(TABLE)))
  const routes = [4, 6].flatMap((family) => host.tableRoutes(TABLE, family as 4 | 6))
  return { addresses, rules, routes }
}

function empty(host: LabHost): boolean {
  const s = snapshot(host) as { addresses: unknown[]; rules: unknown[]; routes: unknown[] }
  return s.addresses.length === 0 && s.rules.length === 0 && s.routes.length === 0
}

/** The first burst as the announcer builds it (both ARP kinds, one NA), for the link of `s`. */
function frames(s: Setup): Array<{ ifindex: number; frame: Buffer }> {
  return [gratuitousArp('request', s.mac, VIP), gratuitousArp('reply', s.mac, VIP), neighbourAdvertisement(s.mac, VIP6)].map((frame) => ({ ifindex: s.ifindex, frame }))
}

async function guardFor(t: Test, s: Setup): Promise<GuardProcess> {
  const guard = await GuardProcess.start({ netns: s.cp1.path })
  t.teardown(() => guard.close())
  await guard.setActions(s.footprint.fenceRequests())
  t.equal(await guard.setTakePlan(s.footprint.takeSteps(), frames(s)), true, 'the guard accepts the plan')
  return guard
}

t.test('TAKE adds exactly the footprint that Footprint.apply() adds, and the fence removes it', nsOptions, async (t) => {
  const s = setup(t)
  t.ok(empty(s.cp1), 'nothing there to begin with')
  s.footprint.apply(LIFETIME_S)
  const byHost = snapshot(s.cp1)
  s.footprint.remove()
  t.ok(empty(s.cp1), 'removed again')

  const guard = await guardFor(t, s)
  const before = monotonicNow()
  const outcome = await guard.take(monotonicNow() + 60_000, LIFETIME_S)
  const byGuard = snapshot(s.cp1)
  t.same(byGuard, byHost, 'ip addr / rule / route show table: identical')
  const counts = byGuard as { addresses: unknown[]; rules: unknown[]; routes: unknown[] }
  t.same([counts.addresses.length, counts.rules.length, counts.routes.length], [2, 2, 4], 'two VIPs, a rule each, two routes per family')
  t.ok(before <= outcome.armedAt && outcome.armedAt <= outcome.addedAt && outcome.addedAt <= outcome.firstFrameAt!, `armed ${(outcome.armedAt - before).toFixed(3)} ms after the call, footprint ${(outcome.addedAt - outcome.armedAt).toFixed(3)} ms, first frame ${(outcome.firstFrameAt! - outcome.addedAt).toFixed(3)} ms`)
  t.same(outcome.sent, [true, true, true], 'three frames sent')

  // A second TAKE while armed is refused and changes nothing.
  await t.rejects(guard.take(monotonicNow() + 60_000, LIFETIME_S), { code: 'ERR_TAKE_DECLINED' }, 'no TAKE over a held footprint')
  t.same(snapshot(s.cp1), byHost, 'still the same footprint')

  const fenced = nextEvent<string>(guard, 'fenced')
  await guard.fence()
  t.equal(await fenced, 'requested')
  t.ok(empty(s.cp1), 'the fence removed all of it')
})

t.test('an infinite lifetime: the addresses are permanent, as apply() without a lifetime', nsOptions, async (t) => {
  const s = setup(t)
  s.footprint.apply()
  const byHost = snapshot(s.cp1)
  s.footprint.remove()
  const guard = await guardFor(t, s)
  await guard.take(monotonicNow() + 60_000, Infinity)
  t.same(snapshot(s.cp1), byHost, 'identical, "forever" included')
  const address = (s.cp1.ipJson('addr', 'show', 'dev', 'net1')[0].addr_info as any[]).find((a) => a.local === VIP)
  t.equal(address.valid_life_time, 4294967295, 'valid_lft forever')
})

t.test('an IPv4 VIP already there gets the lifetime (replace) and is not undone; others are added', nsOptions, async (t) => {
  const s = setup(t)
  s.cp1.ip('addr', 'add', `${VIP}/32`, 'dev', 'net1') // permanent: a leftover
  const guard = await guardFor(t, s)
  await guard.take(monotonicNow() + 60_000, LIFETIME_S)
  const address = (s.cp1.ipJson('addr', 'show', 'dev', 'net1')[0].addr_info as any[]).find((a) => a.local === VIP)
  t.ok(address.valid_life_time <= LIFETIME_S, `the lifetime was set: valid_lft ${address.valid_life_time}s`)
  t.equal((snapshot(s.cp1) as { rules: unknown[] }).rules.length, 2, 'rules added')
})

t.test('the first burst reaches a peer: both ARP kinds and the NA, from our MAC, after the footprint', nsOptions, async (t) => {
  const s = setup(t)
  const capture = FrameCapture.open({ link: 'net1', netns: s.router.path })
  t.teardown(() => capture.close())
  const seen: CapturedFrame[] = []
  capture.on('frame', (f) => {
    if (!f.outgoing && 'senderMac' in f ? f.senderMac === s.mac : 'target' in f && f.target === VIP6) seen.push(f)
  })
  const guard = await guardFor(t, s)
  const outcome = await guard.take(monotonicNow() + 60_000, LIFETIME_S)
  await waitFor('three frames captured', () => seen.length >= 3, 2000)
  await sleep(50)
  t.equal(seen.length, 3, 'exactly the burst, nothing more')
  const kinds = seen.map((f) => f.kind).sort()
  t.same(kinds, ['arp-reply', 'arp-request', 'neighbour-advertisement'])
  for (const f of seen) {
    if (f.kind === 'arp-request' || f.kind === 'arp-reply') t.same([f.senderIp, f.targetIp, f.senderMac], [VIP, VIP, s.mac], `${f.kind} for the VIP from our MAC`)
    if (f.kind === 'neighbour-advertisement') t.same([f.target, f.linkLayerAddress, f.override, f.checksumValid], [VIP6, s.mac, true, true], 'NA for VIP6')
    const arrived = f.arrivedAt ?? f.at
    // After the adds. The kernel's receive stamp is a wall-clock time that the
    // capture converts to CLOCK_MONOTONIC (native/packet.cc: ArrivalMs), which
    // is good to some tens of microseconds: hence the 0.2 ms of slack.
    t.ok(arrived >= outcome.addedAt - 0.2, `${f.kind} arrived ${(arrived - outcome.addedAt).toFixed(3)} ms after the footprint was added`)
    t.ok(arrived <= outcome.firstFrameAt! + 50, 'and right after the first send')
  }
})

t.test('a refused add leaves nothing behind, disarms, and reports the kernel error', nsOptions, async (t) => {
  const s = setup(t)
  // The IPv6 VIP's add fails (EACCES) after the IPv4 VIP's succeeded.
  s.cp1.run('sysctl', '-qw', 'net.ipv6.conf.net1.disable_ipv6=1')
  let hostCode: string | undefined
  try {
    s.footprint.apply(LIFETIME_S)
  } catch (error) {
    hostCode = (error as NodeJS.ErrnoException).code
  }
  t.ok(hostCode, `the host path fails: ${hostCode}`)
  t.ok(empty(s.cp1), 'and leaves nothing')

  const guard = await guardFor(t, s)
  let fenced = false
  guard.on('fenced', () => {
    fenced = true
  })
  const error = await guard.take(monotonicNow() + 300, LIFETIME_S).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  )
  t.equal(error?.code, hostCode, `the same error as the host path: ${error?.message}`)
  t.ok(empty(s.cp1), 'no address, rule or route left')
  await sleep(500)
  t.notOk(fenced, 'disarmed: no fence at the deadline of the failed TAKE')
  await t.resolves(guard.ping(), 'the guard keeps serving')
})

t.test('the deadline TAKE armed is enforced: not renewed, the guard removes the footprint by it', nsOptions, async (t) => {
  const s = setup(t)
  const guard = await guardFor(t, s)
  const deadline = monotonicNow() + 400
  await guard.take(deadline, LIFETIME_S)
  t.notOk(empty(s.cp1), 'footprint added')
  const reason = await nextEvent<string>(guard, 'fenced', 2000)
  const at = monotonicNow()
  t.equal(reason, 'deadline')
  t.ok(at >= deadline && at < deadline + 100, `fenced ${(at - deadline).toFixed(1)} ms after the deadline`)
  t.ok(empty(s.cp1), 'all of it removed')
})

t.test('TAKE without a plan, or with a passed deadline, declines and adds nothing', nsOptions, async (t) => {
  const s = setup(t)
  const guard = await GuardProcess.start({ netns: s.cp1.path })
  t.teardown(() => guard.close())
  await t.rejects(guard.take(monotonicNow() + 60_000, LIFETIME_S), { code: 'ERR_TAKE_DECLINED' }, 'no plan')
  await guard.setTakePlan(s.footprint.takeSteps(), frames(s))
  await t.rejects(guard.take(monotonicNow() - 1, LIFETIME_S), { code: 'ERR_TAKE_DECLINED' }, 'deadline passed')
  await t.rejects(guard.take(monotonicNow() + 60_000, 0), RangeError, 'a lifetime of 0 is refused before the pipe')
  t.equal(await guard.setTakePlan([], []), false, 'an empty plan: not usable')
  await t.rejects(guard.take(monotonicNow() + 60_000, LIFETIME_S), { code: 'ERR_TAKE_DECLINED' }, 'cleared')
  t.ok(empty(s.cp1), 'nothing added')
})
