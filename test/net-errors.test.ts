// Bad input and refusals: every case must fail with a clear error (a `code`,
// and the field name for validation errors) and leave the namespace exactly as
// it was (addresses, rules, routes of every table, both families).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { Netlink } from '../src/net'

function snapshot(host: LabHost): string {
  const strip = (key: string, value: unknown) => (key.endsWith('_life_time') ? undefined : value)
  return JSON.stringify({
    addr: JSON.parse(host.ip('-j', 'addr'), strip),
    rule4: host.ipJson('-4', 'rule'),
    rule6: host.ipJson('-6', 'rule'),
    route4: host.ipJson('-4', 'route', 'show', 'table', 'all'),
    route6: host.ipJson('-6', 'route', 'show', 'table', 'all'),
  })
}

async function settled(host: LabHost): Promise<void> {
  // IPv6 link-local addresses are tentative until DAD ends; wait, so the
  // snapshots compare configuration, not DAD's progress.
  for (let i = 0; i < 100 && host.ip('-j', 'addr').includes('"tentative"'); i++) await new Promise((r) => setTimeout(r, 50))
}

type Expect = { code: string; name?: string; field?: string; syscall?: string; message?: RegExp }
type Case = [title: string, run: (nl: Netlink) => unknown, expect: Expect]

t.test('bad input and kernel refusals leave the namespace unchanged', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  lab.cable(a, 'eth0', lab.host('b'), 'eth0', { addresses: ['192.0.2.10/24', '2001:db8::10/64'] })
  a.ip('route', 'add', '192.0.2.0/24', 'dev', 'eth0', 'table', '100', 'proto', 'static')
  a.ip('route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0', 'table', '100', 'proto', 'static')
  a.ip('rule', 'add', 'from', '192.0.2.100', 'lookup', '100', 'pref', '100')
  await settled(a)
  const nl = Netlink.open({ netns: a.path })
  t.teardown(() => nl.close())
  const closed = Netlink.open({ netns: a.path })
  closed.close()

  const existingRoute = { table: 100, destination: '192.0.2.0/24', link: 'eth0' }
  const existingRule = { source: '192.0.2.100', table: 100, priority: 100 }
  const cases: Case[] = [
    // Validation: refused before anything reaches the kernel.
    ['malformed IPv4 address', (nl) => nl.addAddress({ link: 'eth0', address: '192.0.2.300', prefixLength: 24 }),
      { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError', field: 'address', message: /^address: "192\.0\.2\.300" is not an IPv4 or IPv6 address$/ }],
    ['address of the wrong type', (nl) => nl.addAddress({ link: 'eth0', address: 3221225985 as any, prefixLength: 24 }),
      { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError', field: 'address' }],
    ['IPv4-mapped IPv6 address', (nl) => nl.addAddress({ link: 'eth0', address: '::ffff:192.0.2.20', prefixLength: 96 }),
      { code: 'ERR_INVALID_ARG_VALUE', field: 'address', message: /IPv4-mapped/ }],
    ['IPv4 prefix out of range', (nl) => nl.addAddress({ link: 'eth0', address: '192.0.2.20', prefixLength: 33 }),
      { code: 'ERR_OUT_OF_RANGE', name: 'RangeError', field: 'prefixLength', message: /prefixLength: 33 is out of range \(0 to 32 for IPv4\)/ }],
    ['IPv6 prefix out of range', (nl) => nl.addAddress({ link: 'eth0', address: '2001:db8::20', prefixLength: 129 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'prefixLength' }],
    ['fractional prefix', (nl) => nl.addAddress({ link: 'eth0', address: '192.0.2.20', prefixLength: 24.5 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'prefixLength' }],
    ['gateway of the wrong family', (nl) => nl.addRoute({ table: 100, destination: '198.51.100.0/24', gateway: '2001:db8::1' }),
      { code: 'ERR_INVALID_ARG_VALUE', field: 'gateway', message: /is IPv6 but IPv4 is required/ }],
    ['destination with host bits', (nl) => nl.addRoute({ table: 100, destination: '198.51.100.1/24', link: 'eth0' }),
      { code: 'ERR_INVALID_ARG_VALUE', field: 'destination', message: /host bits set.*198\.51\.100\.0\/24/ }],
    ['over-long interface name', (nl) => nl.addAddress({ link: 'abcdefghijklmnop', address: '192.0.2.20', prefixLength: 24 }),
      { code: 'ERR_INVALID_ARG_VALUE', field: 'link', message: /is 16 bytes long; Linux allows at most 15/ }],
    ['interface name with a slash', (nl) => nl.getLink('eth0/1'), { code: 'ERR_INVALID_ARG_VALUE', field: 'link' }],
    ['label for another interface', (nl) => nl.addAddress({ link: 'eth0', address: '192.0.2.20', prefixLength: 24, label: 'lo:vip' }),
      { code: 'ERR_INVALID_ARG_VALUE', field: 'label', message: /must start with the interface name "eth0"/ }],
    ['table 0', (nl) => nl.addRoute({ table: 0, destination: '198.51.100.0/24', link: 'eth0' }),
      { code: 'ERR_OUT_OF_RANGE', field: 'table' }],
    ['table above 2^32-1', (nl) => nl.addRule({ source: '192.0.2.101', table: 2 ** 32, priority: 5 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'table' }],
    ['rule priority 0', (nl) => nl.addRule({ source: '192.0.2.101', table: 100, priority: 0 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'priority' }],
    ['rule priority above 2^32-1', (nl) => nl.addRule({ source: '192.0.2.101', table: 100, priority: 2 ** 32 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'priority' }],
    ['negative metric', (nl) => nl.addRoute({ table: 100, destination: '198.51.100.0/24', link: 'eth0', metric: -1 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'metric' }],
    ['preferred lifetime above valid', (nl) => nl.addAddress({ link: 'eth0', address: '2001:db8::20', prefixLength: 64, preferredLifetime: 60, validLifetime: 30 }),
      { code: 'ERR_OUT_OF_RANGE', field: 'preferredLifetime' }],
    ['spec that is not an object', (nl) => nl.addRule(null as any), { code: 'ERR_INVALID_ARG_TYPE', field: 'spec' }],
    ['onlink without gateway', (nl) => nl.addRoute({ table: 100, destination: '198.51.100.0/24', link: 'eth0', onlink: true }),
      { code: 'ERR_INVALID_ARG_VALUE', field: 'onlink' }],
    // The kernel's refusals, as SystemErrors.
    ['unknown interface name', (nl) => nl.addAddress({ link: 'nope0', address: '192.0.2.20', prefixLength: 24 }),
      { code: 'ENODEV', syscall: 'SIOCGIFINDEX', message: /ENODEV .*link "nope0"/ }],
    ['unknown interface index', (nl) => nl.addAddress({ link: 9999, address: '192.0.2.20', prefixLength: 24 }),
      { code: 'ENODEV', message: /RTM_NEWADDR ENODEV/ }],
    ['adding an address already there', (nl) => nl.addAddress({ link: 'eth0', address: '192.0.2.10', prefixLength: 24 }),
      { code: 'EEXIST', message: /RTM_NEWADDR EEXIST.*adding 192\.0\.2\.10\/24 to link "eth0"/ }],
    ['adding an IPv6 address already there', (nl) => nl.addAddress({ link: 'eth0', address: '2001:db8::10', prefixLength: 64, nodad: true }),
      { code: 'EEXIST' }],
    ['adding a route already there', (nl) => nl.addRoute(existingRoute), { code: 'EEXIST', message: /RTM_NEWROUTE EEXIST/ }],
    ['adding a rule already there', (nl) => nl.addRule(existingRule), { code: 'EEXIST', message: /RTM_NEWRULE EEXIST/ }],
    ['deleting an address not there', (nl) => nl.deleteAddress({ link: 'eth0', address: '192.0.2.99', prefixLength: 24 }),
      { code: 'EADDRNOTAVAIL', message: /deleting 192\.0\.2\.99\/24 from link "eth0"/ }],
    ['deleting an address with the wrong prefix', (nl) => nl.deleteAddress({ link: 'eth0', address: '192.0.2.10', prefixLength: 25 }),
      { code: 'EADDRNOTAVAIL' }],
    ['deleting a route not there', (nl) => nl.deleteRoute({ table: 100, destination: '198.51.100.0/24' }), { code: 'ESRCH' }],
    ['deleting a rule not there', (nl) => nl.deleteRule({ source: '192.0.2.100', table: 100, priority: 99 }), { code: 'ENOENT' }],
    ['gateway not on any link', (nl) => nl.addRoute({ table: 100, destination: '198.51.100.0/24', gateway: '203.0.113.1', link: 'eth0' }),
      { code: 'ENETUNREACH', message: /Nexthop has invalid gateway/ }],
    ['source address the host does not have', (nl) => nl.addRoute({ table: 100, destination: '198.51.100.0/24', link: 'eth0', source: '203.0.113.7' }),
      { code: 'EINVAL', message: /Invalid prefsrc address/ }],
    ['a closed handle', () => closed.addAddress({ link: 'eth0', address: '192.0.2.20', prefixLength: 24 }), { code: 'ERR_SOCKET_CLOSED' }],
    ['a closed handle, even for bad input', () => closed.addAddress({ link: 'eth0', address: 'junk', prefixLength: 24 }), { code: 'ERR_SOCKET_CLOSED' }],
    ['a namespace path that does not exist', () => Netlink.open({ netns: `${a.path}-missing` }), { code: 'ENOENT', message: /open ENOENT/ }],
  ]
  t.ok(cases.length >= 20, `${cases.length} cases`)

  for (const [title, run, expected] of cases) {
    const before = snapshot(a)
    let thrown: any
    try {
      run(nl)
    } catch (error) {
      thrown = error
    }
    t.ok(thrown instanceof Error, `${title}: throws`)
    if (!(thrown instanceof Error)) continue
    t.match(thrown, expected, `${title}: ${thrown.message}`)
    if (/^E[A-Z]+$/.test(expected.code)) t.match(thrown, { errno: Number, syscall: String }, `${title}: SystemError-shaped`)
    t.equal(snapshot(a), before, `${title}: namespace unchanged`)
  }
})

// Without CAP_NET_ADMIN the kernel says EPERM; the error must say which
// capability is missing. A child runs inside the namespace with every
// capability dropped (as a non-root user, and as root with an empty bounding set).
t.test('EPERM without CAP_NET_ADMIN names the capability', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  lab.cable(a, 'eth0', lab.host('b'), 'eth0', { addresses: ['192.0.2.10/24'] })
  await settled(a)
  const dir = mkdtempSync(path.join(tmpdir(), 'nlperm-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const script = path.join(dir, 'child.ts')
  writeFileSync(script, `
    import { Netlink } from ${JSON.stringify(path.resolve(__dirname, '../src/net/index.ts'))}
    const nl = Netlink.open()
    const attempt = (run: () => void) => { try { run(); return 'no error' } catch (e: any) { return { code: e.code, capability: e.capability, message: e.message } } }
    process.stdout.write(JSON.stringify({
      uid: process.getuid!(),
      links: nl.listLinks().map((l) => l.name).sort(),
      address: attempt(() => nl.addAddress({ link: 'eth0', address: '192.0.2.20', prefixLength: 24 })),
      deleteAddress: attempt(() => nl.deleteAddress({ link: 'eth0', address: '192.0.2.10', prefixLength: 24 })),
      route: attempt(() => nl.addRoute({ table: 100, destination: '198.51.100.0/24', link: 'eth0' })),
      rule: attempt(() => nl.addRule({ source: '192.0.2.100', table: 100, priority: 100 })),
    }))
  `)
  chmodSync(script, 0o644)
  const tsx = require.resolve('tsx')
  const identities: Array<[string, string[]]> = [
    ['nobody', ['--reuid=65534', '--regid=65534', '--clear-groups']],
    ['root without capabilities', []],
  ]
  for (const [who, ids] of identities) {
    const before = snapshot(a)
    const child = spawnSync(
      'ip',
      ['netns', 'exec', a.name, 'setpriv', ...ids, '--inh-caps=-all', '--bounding-set=-all', '--',
        process.execPath, '--import', tsx, script],
      { encoding: 'utf8', cwd: dir, env: { ...process.env, HOME: dir, NODE_OPTIONS: '' }, timeout: 30000 },
    )
    t.equal(child.status, 0, `${who}: child ran (${child.stderr.trim().split('\n').slice(-3).join(' | ')})`)
    const report = JSON.parse(child.stdout)
    t.equal(report.uid, who === 'nobody' ? 65534 : 0, `${who}: uid`)
    t.same(report.links, ['eth0', 'lo'], `${who}: reading needs no capability`)
    for (const op of ['address', 'deleteAddress', 'route', 'rule']) {
      t.match(report[op], { code: 'EPERM', capability: 'CAP_NET_ADMIN', message: /EPERM.*requires CAP_NET_ADMIN/ }, `${who}: ${op} -> ${report[op].message}`)
    }
    t.equal(snapshot(a), before, `${who}: namespace unchanged`)
  }
})
