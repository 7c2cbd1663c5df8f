// Bad options fail at construction with an error naming the field, before
// anything touches the host.
import t from 'tap'
import { resolveOptions, type VipAnnouncerOptions } from '../src/options'
import { StaticElector } from '../src/electors/static'

const elector = new StaticElector()
const good: VipAnnouncerOptions = { vip: '192.0.2.100', interface: 'eth0', gateway: '192.0.2.1/24', elector }

t.test('good options resolve with defaults', async (t) => {
  const r = resolveOptions(good)
  t.same(r.vips, [{ address: '192.0.2.100', family: 4, prefixLength: 32 }])
  t.same(r.gateways, [{ address: '192.0.2.1', family: 4, prefixLength: 24, subnet: '192.0.2.0/24' }])
  t.equal(r.table, 30100)
  t.equal(r.priority, 1000)
  t.same(r.arpKinds, ['request', 'reply'])
  t.equal(r.schedule.repeats, 3)
  const v6 = resolveOptions({ ...good, vip: ['192.0.2.100', '2001:db8::100'], gateway: ['192.0.2.1/24', '2001:db8::1/64'] })
  t.same(v6.vips.map((v) => v.prefixLength), [32, 128])
  t.equal(v6.gateways[1].subnet, '2001:db8::/64')
  t.same(resolveOptions({ ...good, gateway: undefined }).gateways, [])
  t.equal(r.conflictPolicy, 'yield', 'conflicts: yield by default')
  t.equal(r.probeIntervalMs, 500, 'probe every 500 ms by default')
  const defend = resolveOptions({ ...good, conflict: { policy: 'defend', probeIntervalMs: 0 } })
  t.match(defend, { conflictPolicy: 'defend', probeIntervalMs: 0 })
  t.match(resolveOptions({ ...good, conflict: {} }), { conflictPolicy: 'yield', probeIntervalMs: 500 })
  t.match(resolveOptions({ ...good, conflict: { probeIntervalMs: 60_000 } }), { conflictPolicy: 'yield', probeIntervalMs: 60_000 })
})

const cases: Array<[string, Partial<VipAnnouncerOptions> | Record<string, unknown>, RegExp]> = [
  ['VIP not an IP', { vip: 'cp.example' }, /^vip: "cp.example" is not an IPv4 or IPv6 address/],
  ['VIP with prefix', { vip: '192.0.2.100/32' }, /^vip: /],
  ['VIP octet out of range', { vip: '192.0.2.300' }, /^vip: /],
  ['VIP legacy short form', { vip: '192.0.2' }, /^vip: /],
  ['empty VIP list', { vip: [] }, /^vip: /],
  ['duplicate VIP', { vip: ['192.0.2.100', '192.0.2.100'], gateway: undefined }, /^vip\[1\]: .*twice/],
  ['unspecified VIP', { vip: '0.0.0.0', gateway: undefined }, /unspecified/],
  ['multicast VIP', { vip: 'ff02::1', gateway: undefined }, /multicast/],
  ['IPv4-mapped VIP', { vip: '::ffff:192.0.2.1', gateway: undefined }, /IPv4-mapped/],
  ['gateway without prefix', { gateway: '192.0.2.1' }, /^gateway: "192.0.2.1" must be the gateway address with its subnet prefix/],
  ['gateway prefix out of range', { gateway: '192.0.2.1/33' }, /^gateway: .*prefix/],
  ['gateway unparsable', { gateway: 'router/24' }, /^gateway: /],
  ['VIP outside gateway subnet', { gateway: '198.51.100.1/24' }, /^vip: "192.0.2.100" is outside the gateway's subnet 198.51.100.0\/24/],
  ['family mismatch', { gateway: '2001:db8::1/64' }, /^gateway: .*family/],
  ['VIP equals gateway', { vip: '192.0.2.1' }, /gateway address itself/],
  ['missing elector', { elector: undefined }, /^elector: /],
  ['not an elector', { elector: {} }, /^elector: /],
  ['empty interface', { interface: '' }, /^interface: /],
  ['interface too long', { interface: 'a-very-long-name0' }, /^interface: "a-very-long-name0" is 17 bytes long; Linux allows at most 15$/],
  ['interface with slash', { interface: 'eth0/1' }, /^interface: /],
  ['relative netns', { netns: 'cp1' }, /^netns: /],
  ['kernel table', { routing: { table: 254 } }, /^routing.table: /],
  ['priority out of range', { routing: { priority: 40000 } }, /^routing.priority: /],
  ['bad arp kinds', { announce: { arp: ['gratuitous'] } }, /^announce.arp: /],
  ['bad repeat interval', { announce: { repeatIntervalMs: 1 } }, /^announce.repeatIntervalMs: /],
  ['bad refresh', { announce: { refreshIntervalMs: 50 } }, /^announce.refreshIntervalMs: /],
  ['negative fence margin', { fenceMarginMs: -1 }, /^fenceMarginMs: /],
  ['conflict not an object', { conflict: 'yield' }, /^conflict: expected an object/],
  ['unknown conflict policy', { conflict: { policy: 'fight' } }, /^conflict\.policy: "fight" must be 'yield' or 'defend'/],
  ['probe interval too long', { conflict: { probeIntervalMs: 60_001 } }, /^conflict\.probeIntervalMs: 60001 is out of range \(an integer from 0 to 60000\)/],
  ['probe interval negative', { conflict: { probeIntervalMs: -5 } }, /^conflict\.probeIntervalMs: /],
  ['probe interval fractional', { conflict: { probeIntervalMs: 2.5 } }, /^conflict\.probeIntervalMs: /],
  ['probe interval as text', { conflict: { probeIntervalMs: '500' } }, /^conflict\.probeIntervalMs: expected an integer/],
]

for (const [name, patch, message] of cases) {
  t.test(`bad option: ${name}`, async (t) => {
    const error = t.throws(() => resolveOptions({ ...good, ...patch } as VipAnnouncerOptions)) as Error & { code?: string }
    t.match(error.message, message)
    t.ok(error instanceof TypeError || error instanceof RangeError, 'TypeError or RangeError')
    t.match(error.code, /^ERR_/)
  })
}
