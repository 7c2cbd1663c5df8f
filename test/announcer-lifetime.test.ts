// The VIP's kernel lifetime, read from the kernel (`ip -j addr`), not from our
// own state: finite while leader, moved forward by renewals, gone with the
// footprint on stop; and the kernel deletes the VIP by itself when nobody
// refreshes it.
import t from 'tap'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { MAX_LIFETIME_S, EXPIRY_LATENESS_MS } from '../src/kernel-lifetime'
import { StaticElector } from '../src/electors/static'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, VIP6, switchedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()

interface KernelAddress {
  local: string
  valid_life_time: number
  preferred_life_time: number
}

/** The VIPs on eth0 as the kernel reports them, with their remaining lifetimes (s). */
function vipLifetimes(host: LabHost): Map<string, KernelAddress> {
  const links = host.ipJson<Array<{ addr_info: KernelAddress[] }>>('-j', 'addr', 'show', 'dev', 'eth0')
  const found = new Map<string, KernelAddress>()
  for (const a of links[0]?.addr_info ?? []) if (a.local === VIP || a.local === VIP6) found.set(a.local, a)
  return found
}

const FOREVER = 4294967295

t.test('while leader every VIP has a finite lifetime that renewals move forward; stop leaves nothing', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1, cp2] } = switchedReplicas(lab, 2)
  // A lease long enough for the longest lifetime (3 s), so the remaining
  // lifetime `ip` shows (whole seconds, rounded down) visibly goes up.
  const elector = new StaticElector({ leaseMs: 10_000, renewIntervalMs: 1000 })
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  const follower = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector: new ManualElector(), netns: cp2.path })
  t.teardown(() => follower.stop())
  await follower.start()
  const leader = nextEvent(announcer, 'leader')
  await announcer.start()
  await leader
  // Sample for 5.5 s: longer than any lifetime given, so only refreshes can
  // keep the VIP (each sample shows at most 3 s left), and they must show.
  const samples: Array<{ at: number; v4?: KernelAddress; v6?: KernelAddress }> = []
  const until = monotonicNow() + 5500
  while (monotonicNow() < until) {
    const found = vipLifetimes(cp1)
    samples.push({ at: monotonicNow(), v4: found.get(VIP), v6: found.get(VIP6) })
    await sleep(150)
  }
  for (const [family, pick] of [['IPv4', (s: (typeof samples)[0]) => s.v4], ['IPv6', (s: (typeof samples)[0]) => s.v6]] as const) {
    const seen = samples.map(pick)
    t.ok(seen.every((a) => a !== undefined), `${family}: the VIP stayed on the interface for 5.5 s (${seen.length} samples)`)
    const valid = seen.map((a) => a?.valid_life_time ?? -1)
    t.ok(valid.every((v) => v !== FOREVER && v >= 0 && v <= MAX_LIFETIME_S), `${family}: valid_lft always finite and ≤ ${MAX_LIFETIME_S} s (${[...new Set(valid)].join(',')})`)
    t.ok(seen.every((a) => a?.preferred_life_time === a?.valid_life_time), `${family}: preferred_lft = valid_lft (IPv4 expires only with a finite preferred)`)
    // Moved forward: the kernel shows whole seconds left, rounded down, so the
    // first sample's lifetime ended by its instant + (valid + 1) s; a VIP still
    // there after that instant had its lifetime moved forward by the kernel.
    const firstEnd = samples[0].at + (valid[0] + 1) * 1000
    const later = samples.filter((s, i) => s.at > firstEnd + 100 && seen[i] !== undefined)
    t.ok(later.length > 0, `${family}: still there ${((samples.at(-1)!.at - firstEnd) / 1000).toFixed(1)} s after the first lifetime seen would have ended: refreshed`)
  }
  t.equal(vipLifetimes(cp2).size, 0, 'the follower has no VIP')
  await announcer.stop()
  t.equal(vipLifetimes(cp1).size, 0, 'a stopped announcer leaves no VIP')
})

t.test('no renewal, no refresh: the kernel deletes the VIP by itself before the deadline', nsOptions, async (t) => {
  // The announcer's own removal is kept out of the way (a fence margin of 0,
  // the guard far from acting): what removes the VIP here is its lifetime.
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = switchedReplicas(lab, 1)
  const deletes: Array<{ address: string; at: number }> = []
  const monitor = LinkMonitor.open({ netns: cp1.path })
  t.teardown(() => monitor.close())
  monitor.on('address', (e) => {
    if (e.action === 'delete' && (e.address === VIP || e.address === VIP6)) deletes.push({ address: e.address, at: monotonicNow() })
  })
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector, netns: cp1.path, fenceMarginMs: 0 })
  t.teardown(() => announcer.stop())
  const follower = nextEvent<{ reason: string }>(announcer, 'follower', 8000)
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  const electedAt = monotonicNow()
  const deadline = elector.elect(5500)
  await leader
  const { reason } = await follower
  await waitFor('both VIPs deleted', () => deletes.length >= 2, 1000)
  for (const d of deletes) {
    t.ok(d.at <= deadline, `${d.address} deleted ${(deadline - d.at).toFixed(0)} ms before the deadline`)
    // Under a 5.5 s lease the lifetime given is 3 s (the deadline minus the
    // lateness bound, whole seconds, capped), counted from the add, which
    // came after the election; the kernel may act 20 ms early.
    t.ok(d.at >= electedAt + 3000 - 20, `${d.address}: deleted ${(d.at - electedAt).toFixed(0)} ms after the election, not before its lifetime ran out`)
  }
  t.match(reason, /kernel lifetime of the VIP ran out|lease deadline reached/, `the announcer followed (${reason})`)
  t.ok(EXPIRY_LATENESS_MS <= 5500 - 3000, 'the bound the lifetime was chosen with fits the lease')
})
