// Netlink against a real kernel: every change is made by this process (which
// stays in the root namespace) on a namespace opened by path, and checked with
// iproute2 inside that namespace. The root namespace must come out unchanged.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { Lab, namespaceTestOptions } from './lab/lab'
import { Netlink } from '../src/net'
import { addon } from '../src/net/binding'

// Lifetimes count down; everything else about root's configuration must not move.
function rootSnapshot(): string {
  const ip = (...args: string[]) => execFileSync('ip', ['-j', ...args], { encoding: 'utf8' })
  const addr = JSON.parse(ip('addr'), (key, value) => (key.endsWith('_life_time') ? undefined : value))
  return JSON.stringify({ addr, rule: JSON.parse(ip('rule')), route: JSON.parse(ip('route', 'show', 'table', 'all')) })
}

const ownNamespace = () => [readlinkSync('/proc/self/ns/net'), readlinkSync('/proc/thread-self/ns/net')]

t.test('addresses, routes and rules in a namespace opened by path', namespaceTestOptions(), async (t) => {
  const rootBefore = rootSnapshot()
  const nsBefore = ownNamespace()
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  const b = lab.host('b')
  lab.cable(a, 'eth0', b, 'eth0', {}, { addresses: ['192.0.2.1/24', '2001:db8::1/64'] })
  const nl = Netlink.open({ netns: a.path })
  t.teardown(() => nl.close())
  t.equal(nl.netns, a.path)

  t.test('links', async (t) => {
    const witness = a.ipJson('link', 'show', 'dev', 'eth0')[0]
    const byName = nl.getLink('eth0')
    t.match(byName, { index: witness.ifindex, name: 'eth0', mac: witness.address, mtu: witness.mtu, up: true, carrier: true, operstate: 'up' })
    t.same(nl.getLink(witness.ifindex), byName, 'by index too')
    // ifi_type, as ip names it: ARPHRD_ETHER (1) for the veth, ARPHRD_LOOPBACK (772) for lo.
    t.equal(witness.link_type, 'ether')
    t.equal(byName.hardwareType, 1, 'hardwareType of an Ethernet link')
    t.equal(a.ipJson('link', 'show', 'dev', 'lo')[0].link_type, 'loopback')
    t.equal(nl.getLink('lo').hardwareType, 772, 'hardwareType of the loopback')
    t.same(nl.findLink('nope0'), undefined)
    t.same(
      nl.listLinks().map((l) => `${l.index}:${l.name}`).sort(),
      a.ipJson('link').map((l: any) => `${l.ifindex}:${l.ifname}`).sort(),
    )
  })

  t.test('IPv4 address with a label', async (t) => {
    const find = () => a.ipJson('addr', 'show', 'dev', 'eth0')[0].addr_info.find((x: any) => x.local === '192.0.2.10')
    t.notOk(find(), 'absent at first')
    nl.addAddress({ link: 'eth0', address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' })
    t.match(find(), { family: 'inet', prefixlen: 24, label: 'eth0:vip', scope: 'global', valid_life_time: 0xffffffff })
    t.match(nl.listAddresses({ link: 'eth0', family: 4 }), [{ address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip', family: 4, flags: { permanent: true } }])
    nl.deleteAddress({ link: 'eth0', address: '192.0.2.10', prefixLength: 24 })
    t.notOk(find(), 'absent after delete')
    t.same(nl.listAddresses({ link: 'eth0', family: 4 }), [])
  })

  t.test('IPv6 address with nodad and lifetimes', async (t) => {
    const find = () => a.ipJson('addr', 'show', 'dev', 'eth0')[0].addr_info.find((x: any) => x.local === '2001:db8::10')
    const index = nl.getLink('eth0').index
    nl.addAddress({ link: index, address: '2001:db8:0::10', prefixLength: 64, nodad: true, preferredLifetime: 300, validLifetime: 600 })
    const witness = find()
    t.match(witness, { family: 'inet6', prefixlen: 64, nodad: true })
    t.notOk(witness.tentative, 'no DAD, so never tentative')
    t.ok(witness.valid_life_time <= 600 && witness.valid_life_time > 590, `valid ${witness.valid_life_time}`)
    t.ok(witness.preferred_life_time <= 300 && witness.preferred_life_time > 290, `preferred ${witness.preferred_life_time}`)
    const listed = nl.listAddresses({ link: 'eth0', family: 6 }).find((x) => x.address === '2001:db8::10')
    t.match(listed, { prefixLength: 64, flags: { nodad: true, tentative: false, permanent: false } })
    t.ok(listed!.validLifetime! <= 600 && listed!.validLifetime! > 590)
    // The address is usable at once: the peer answers a ping to it.
    b.run('ping', '-6', '-c1', '-W2', '2001:db8::10')
    nl.deleteAddress({ link: 'eth0', address: '2001:db8::10', prefixLength: 64 })
    t.notOk(find(), 'absent after delete')
  })

  t.test('policy routing: table routes and a source rule', async (t) => {
    const T = 1234
    const vip = '192.0.2.100'
    a.ip('addr', 'add', `${vip}/24`, 'dev', 'eth0')
    t.teardown(() => a.ip('addr', 'flush', 'dev', 'eth0'))
    // Without the rule, the main table has no way out for 203.0.113.0/24.
    t.throws(() => a.ip('route', 'get', '203.0.113.5', 'from', vip), 'unreachable before')

    nl.addRoute({ table: T, destination: '192.0.2.0/24', link: 'eth0' })
    nl.addRoute({ table: T, destination: 'default', gateway: '192.0.2.1', link: 'eth0', source: vip })
    nl.addRule({ source: vip, table: T, priority: 100 })

    const routes = a.ipJson('route', 'show', 'table', String(T))
    t.equal(routes.length, 2, 'two routes in the table')
    t.ok(routes.some((r: any) => r.dst === '192.0.2.0/24' && r.dev === 'eth0' && r.scope === 'link' && !r.gateway), 'subnet route, link scope')
    t.ok(routes.some((r: any) => r.dst === 'default' && r.gateway === '192.0.2.1' && r.dev === 'eth0' && r.prefsrc === vip), 'default via gateway, src VIP')
    const rule = a.ipJson('rule').find((r: any) => r.priority === 100)
    t.match(rule, { src: vip, table: String(T) })
    // The kernel takes the new path for traffic from the VIP, and only for it.
    t.match(a.ipJson('route', 'get', '203.0.113.5', 'from', vip)[0], { gateway: '192.0.2.1', dev: 'eth0', table: String(T) })
    t.throws(() => a.ip('route', 'get', '203.0.113.5', 'from', '192.0.2.101'), 'other sources still unreachable')

    // The facade's own view agrees with ip's.
    t.same(
      nl.listRoutes({ table: T }).map((r) => `${r.destination} ${r.gateway ?? '-'} ${r.scope} ${r.source ?? '-'}`).sort(),
      ['0.0.0.0/0 192.0.2.1 universe 192.0.2.100', '192.0.2.0/24 - link -'],
    )
    t.match(nl.listRules({ family: 4 }).find((r) => r.priority === 100), { source: '192.0.2.100/32', sourceLength: 32, table: T, action: 'lookup' })
    t.ok(nl.listRoutes().some((r) => r.table === 255), 'no filter: all tables, local included')

    nl.deleteRule({ source: vip, table: T, priority: 100 })
    nl.deleteRoute({ table: T, destination: 'default', gateway: '192.0.2.1', link: 'eth0' })
    nl.deleteRoute({ table: T, destination: '192.0.2.0/24', link: 'eth0' })
    t.same(a.ipJson('route', 'show', 'table', String(T)), [], 'table empty after delete')
    t.notOk(a.ipJson('rule').some((r: any) => r.priority === 100), 'rule gone')
    t.same(nl.listRoutes({ table: T }), [])
    t.same(nl.listRoutes({ table: 4242 }), [], 'a table never used: no routes (the facade turns ENOENT into [])')
    t.same(nl.listRoutes({ table: 4242, family: 6 }), [], 'the same for IPv6')
  })

  t.test('IPv6 policy routing in a table above 255', async (t) => {
    const T = 70000
    nl.addRoute({ table: T, destination: '::/0', gateway: '2001:db8::1', link: 'eth0' })
    nl.addRule({ source: '2001:db8::100/128', table: T, priority: 200 })
    t.match(a.ipJson('-6', 'route', 'show', 'table', String(T)), [{ dst: 'default', gateway: '2001:db8::1', dev: 'eth0' }])
    t.match(a.ipJson('-6', 'rule').find((r: any) => r.priority === 200), { src: '2001:db8::100', table: String(T) })
    nl.deleteRule({ source: '2001:db8::100', table: T, priority: 200 })
    nl.deleteRoute({ table: T, destination: 'default', family: 6 })
    t.same(a.ipJson('-6', 'route', 'show', 'table', String(T)), [])
    t.notOk(a.ipJson('-6', 'rule').some((r: any) => r.priority === 200))
  })

  t.test('encoded requests replay to the same effect', async (t) => {
    const add = nl.encodeAddressRequest('add', { link: 'eth0', address: '198.51.100.7', prefixLength: 32 })
    const del = nl.encodeAddressRequest('delete', { link: 'eth0', address: '198.51.100.7', prefixLength: 32 })
    t.equal(add.readUInt32LE(0), add.length, 'nlmsg_len covers the message')
    t.equal(add.readUInt32LE(16 + 4), nl.getLink('eth0').index, 'the link name was resolved to its ifindex')
    // Replayed later through another socket, as the guard does.
    const raw = new addon.NetlinkSocket(a.path)
    t.teardown(() => raw.close())
    const present = () => a.addresses('eth0').includes('198.51.100.7/32')
    raw.request(add)
    t.ok(present(), 'replayed add took effect')
    t.throws(() => raw.request(add), { code: 'EEXIST', syscall: 'RTM_NEWADDR' }, 'and stays a create-exclusive request')
    raw.request(del)
    t.notOk(present(), 'replayed delete took effect')
    t.throws(() => raw.request(Buffer.from('garbage')), { code: 'ERR_NETLINK_MALFORMED' })
    // Only address/route/rule changes replay: an RTM_GETLINK (18) is refused.
    const getlink = Buffer.alloc(32)
    getlink.writeUInt32LE(32, 0)
    getlink.writeUInt16LE(18, 4)
    t.throws(() => raw.request(getlink), { name: 'TypeError', message: /RTM_GETLINK/ })
  })

  await t.test('the root namespace is untouched', async (t) => {
    t.same(ownNamespace(), nsBefore, 'this process and thread never moved')
    t.equal(rootSnapshot(), rootBefore, 'root addresses, rules and routes unchanged')
  })
})
