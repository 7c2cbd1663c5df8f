// LinkMonitor against a real kernel: changes made by iproute2 inside a
// namespace must arrive as events, in order, within a bounded time.
import t from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Lab, namespaceTestOptions } from './lab/lab'
import { twoNeighbours } from './lab/topologies'
import { LinkMonitor, Netlink, PacketSocket, type AddressEvent, type LinkEvent, type NeighbourEvent } from '../src/net'

type Seen = { kind: 'address'; event: AddressEvent; at: number } | { kind: 'link'; event: LinkEvent; at: number } | { kind: 'overrun'; at: number }

function record(monitor: LinkMonitor): Seen[] {
  const seen: Seen[] = []
  monitor.on('address', (event) => seen.push({ kind: 'address', event, at: performance.now() }))
  monitor.on('link', (event) => seen.push({ kind: 'link', event, at: performance.now() }))
  monitor.on('overrun', () => seen.push({ kind: 'overrun', at: performance.now() }))
  return seen
}

/** Resolves with the index of the first entry (from `from`) matching, or rejects after `ms`. */
function waitFor(seen: Seen[], match: (s: Seen) => boolean, from = 0, ms = 2000): Promise<number> {
  const deadline = performance.now() + ms
  return new Promise((resolve, reject) => {
    const check = () => {
      const index = seen.findIndex((s, i) => i >= from && match(s))
      if (index >= 0) return resolve(index)
      if (performance.now() > deadline) return reject(new Error(`no matching event within ${ms} ms`))
      setTimeout(check, 5)
    }
    check()
  })
}

const isAddress = (action: string, address: string) => (s: Seen) =>
  s.kind === 'address' && s.event.action === action && s.event.address === address
const isCarrier = (name: string, carrier: boolean) => (s: Seen) =>
  s.kind === 'link' && s.event.link.name === name && s.event.link.carrier === carrier

t.test('LinkMonitor sees ip(8) changes in a namespace, in order', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  const b = lab.host('b')
  lab.cable(a, 'eth0', b, 'eth0')
  const monitor = LinkMonitor.open({ netns: a.path })
  t.teardown(() => monitor.close())
  const errors: Error[] = []
  monitor.on('error', (e) => errors.push(e))
  const seen = record(monitor)

  const started = performance.now()
  a.ip('addr', 'add', '192.0.2.50/24', 'dev', 'eth0', 'label', 'eth0:m')
  const added = await waitFor(seen, isAddress('add', '192.0.2.50'))
  t.match(seen[added], { event: { action: 'add', family: 4, prefixLength: 24, label: 'eth0:m', index: a.ipJson('link', 'show', 'eth0')[0].ifindex } })
  a.ip('addr', 'del', '192.0.2.50/24', 'dev', 'eth0')
  const removed = await waitFor(seen, isAddress('delete', '192.0.2.50'), added + 1)

  // The peer's end goes down: this end loses carrier (NO-CARRIER), then regains it.
  b.ip('link', 'set', 'eth0', 'down')
  const lost = await waitFor(seen, isCarrier('eth0', false), removed + 1)
  t.match(seen[lost], { event: { action: 'change', link: { up: true, carrier: false } } })
  t.not((seen[lost] as any).event.link.operstate, 'up')
  b.ip('link', 'set', 'eth0', 'up')
  const back = await waitFor(seen, isCarrier('eth0', true), lost + 1)
  t.match(seen[back], { event: { action: 'change', link: { up: true, carrier: true } } })
  t.ok(added < removed && removed < lost && lost < back, `in order: ${added} < ${removed} < ${lost} < ${back}`)
  t.ok(seen[back].at - started < 3000, `all within 3 s (${Math.round(seen[back].at - started)} ms)`)

  // IPv6 too, and a link created and deleted.
  a.ip('addr', 'add', '2001:db8::50/64', 'dev', 'eth0', 'nodad')
  await waitFor(seen, isAddress('add', '2001:db8::50'), back + 1)
  a.ip('link', 'add', 'vx0', 'type', 'veth', 'peer', 'name', 'vx1')
  const created = await waitFor(seen, (s) => s.kind === 'link' && s.event.link.name === 'vx0' && s.event.action === 'add', back + 1)
  a.ip('link', 'del', 'vx0')
  await waitFor(seen, (s) => s.kind === 'link' && s.event.link.name === 'vx0' && s.event.action === 'delete', created + 1)
  t.same(errors, [], 'no errors')
  t.notOk(seen.some((s) => s.kind === 'overrun'), 'no overrun at this rate')

  // After close(): no more events, and close is idempotent.
  monitor.close()
  monitor.close()
  t.equal(monitor.closed, true)
  const count = seen.length
  a.ip('addr', 'add', '192.0.2.51/24', 'dev', 'eth0')
  await new Promise((r) => setTimeout(r, 200))
  t.equal(seen.length, count, 'nothing after close')
})

t.test('route and rule events are opt-in', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  const plain = LinkMonitor.open({ netns: a.path })
  const full = LinkMonitor.open({ netns: a.path, routes: true, rules: true })
  t.teardown(() => (plain.close(), full.close()))
  const plainRoutes: unknown[] = []
  const routes: unknown[] = []
  const rules: unknown[] = []
  plain.on('route', (e) => plainRoutes.push(e))
  full.on('route', (e) => routes.push(e))
  full.on('rule', (e) => rules.push(e))
  a.ip('route', 'add', 'blackhole', '198.51.100.0/24', 'table', '77')
  a.ip('rule', 'add', 'from', '198.51.100.9', 'lookup', '77', 'pref', '77')
  const deadline = performance.now() + 2000
  while ((routes.length === 0 || rules.length === 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  t.match(routes, [{ action: 'add', route: { table: 77, destination: '198.51.100.0/24', type: 'blackhole' } }])
  t.match(rules, [{ action: 'add', rule: { source: '198.51.100.9/32', table: 77, priority: 77 } }])
  t.same(plainRoutes, [], 'not subscribed by default')
})

t.test('neighbour events: a gratuitous ARP moving an entry is reported with the new MAC', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { a, b } = twoNeighbours(lab)
  const plain = LinkMonitor.open({ netns: a.path })
  const monitor = LinkMonitor.open({ netns: a.path, neighbours: true })
  t.teardown(() => (plain.close(), monitor.close()))
  const seen: NeighbourEvent[] = []
  const plainSeen: unknown[] = []
  monitor.on('neighbour', (e) => seen.push(e))
  plain.on('neighbour', (e) => plainSeen.push(e))
  const until = async (check: () => boolean) => {
    const deadline = performance.now() + 2000
    while (!check() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  }
  // An entry pointing at a wrong MAC, as a client of a moved VIP would have.
  a.ip('neigh', 'replace', '192.0.2.100', 'lladdr', '02:00:00:00:ee:ee', 'dev', 'eth0', 'nud', 'stale')
  a.ip('-6', 'neigh', 'replace', '2001:db8::64', 'lladdr', '02:00:00:00:ee:ee', 'dev', 'eth0', 'nud', 'reachable')
  await until(() => seen.length >= 2)
  t.match(seen, [
    { action: 'add', neighbour: { family: 4, address: '192.0.2.100', mac: '02:00:00:00:ee:ee', state: ['stale'] } },
    { action: 'add', neighbour: { family: 6, address: '2001:db8::64', mac: '02:00:00:00:ee:ee', state: ['reachable'] } },
  ])
  t.equal(seen[0].neighbour.index, Netlink.open({ netns: a.path }).getLink('eth0').index, 'on eth0')
  // b takes the address over and announces it: the kernel moves a's entry.
  b.ip('addr', 'add', '192.0.2.100/32', 'dev', 'eth0')
  const sender = PacketSocket.open({ link: 'eth0', netns: b.path })
  t.teardown(() => sender.close())
  sender.sendGratuitousArp('192.0.2.100')
  await until(() => seen.some((e) => e.neighbour.mac === '02:00:00:00:0b:01'))
  t.match(seen.find((e) => e.neighbour.mac === '02:00:00:00:0b:01'), { action: 'add', neighbour: { address: '192.0.2.100' } }, 'the move, with the new MAC')
  a.ip('neigh', 'del', '192.0.2.100', 'dev', 'eth0')
  await until(() => seen.some((e) => e.action === 'delete'))
  t.match(seen.find((e) => e.action === 'delete'), { neighbour: { address: '192.0.2.100' } }, 'deletion')
  t.same(plainSeen, [], 'not subscribed by default')
})

t.test('a notification flood past the socket buffer is reported as overrun', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  lab.cable(a, 'eth0', lab.host('b'), 'eth0')
  const monitor = LinkMonitor.open({ netns: a.path, receiveBufferSize: 4096 })
  t.teardown(() => monitor.close())
  const seen = record(monitor)
  const errors: Error[] = []
  monitor.on('error', (e) => errors.push(e))
  // ip runs synchronously, so this loop cannot read while the notifications of
  // 200 addresses (and their local routes) pile up.
  const batch = Array.from({ length: 200 }, (_, i) => `addr add 198.51.100.${i}/32 dev eth0 label eth0:${i}`)
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'nlmon-')), 'batch')
  t.teardown(() => rmSync(path.dirname(file), { recursive: true, force: true }))
  writeFileSync(file, batch.join('\n') + '\n')
  a.ip('-batch', file)
  await waitFor(seen, (s) => s.kind === 'overrun')
  // The consumer's cure: a dump shows the truth.
  const nl = Netlink.open({ netns: a.path })
  t.teardown(() => nl.close())
  t.equal(nl.listAddresses({ link: 'eth0', family: 4 }).length, 200, 'resync by dump sees every address')
  t.ok(seen.filter((s) => s.kind === 'address').length < 200, 'some notifications were lost, as reported')
  t.same(errors, [], 'an overrun is not an error')
  // And the monitor keeps working after it.
  const before = seen.length
  a.ip('addr', 'add', '203.0.113.9/32', 'dev', 'eth0')
  await waitFor(seen, isAddress('add', '203.0.113.9'), before)
})

// ref()/unref() decide whether an open monitor keeps the process alive.
t.test('unref lets the process exit; ref keeps it alive', namespaceTestOptions(), async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nlmon-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const script = path.join(dir, 'child.ts')
  const facade = path.resolve(__dirname, '../src/net/index.ts')
  writeFileSync(script, `
    import { LinkMonitor } from ${JSON.stringify(facade)}
    const m = LinkMonitor.open()
    if (process.argv[2] === 'unref') m.unref()
    if (process.argv[2] === 'unref-ref') m.unref().ref()
    process.stdout.write('open\\n')
  `)
  const run = (mode: string) =>
    new Promise<{ exited: boolean; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
      let timer: NodeJS.Timeout | undefined
      child.stdout.once('data', () => {
        timer = setTimeout(() => {
          child.kill('SIGKILL')
        }, 1500)
      })
      child.on('exit', (code, signal) => {
        clearTimeout(timer)
        resolve({ exited: signal === null, code })
      })
    })
  t.same(await run('unref'), { exited: true, code: 0 }, 'unref: exits on its own')
  t.same(await run('ref'), { exited: false, code: null }, 'default: still running after 1.5 s')
  t.same(await run('unref-ref'), { exited: false, code: null }, 'ref again: still running')
})
