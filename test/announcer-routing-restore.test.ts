// Rules and table routes are part of the footprint: removed from outside while
// leader, they are put back like the VIP (issue 11, defect 3). The announcer's
// own removals (release) are not restored, and routes the kernel flushes when
// the link goes down are left to the link-up path. Timed by an independent
// watcher in the namespace.
import t from 'tap'
import { VipAnnouncer, type RestoredEvent } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, VIP6, routedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()
const TABLE = 30100

function hasRule(host: LabHost, family: 4 | 6, vip: string): boolean {
  return (host.ipJson(`-${family}`, 'rule', 'show') as Array<{ src?: string; table?: string; priority: number }>).some(
    (r) => r.src === vip && r.table === String(TABLE) && r.priority === 1000,
  )
}

function routeCount(host: LabHost, family: 4 | 6): number {
  return host.tableRoutes(TABLE, family).length
}

t.test('a rule or table routes deleted from outside are restored while leader; our own release is not undone', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  cp1.ip('-6', 'addr', 'add', '2001:db8::11/64', 'dev', 'net1', 'nodad')

  // The kernel's side of the story, from one clock: deletions and additions
  // of our rules and of the routes in our table.
  const watcher = LinkMonitor.open({ netns: cp1.path, rules: true, routes: true })
  t.teardown(() => watcher.close())
  const seen: Array<{ what: string; action: string; at: number }> = []
  watcher.on('rule', (e) => {
    if (e.rule.table === TABLE) seen.push({ what: `rule ${e.rule.source}`, action: e.action, at: monotonicNow() })
  })
  watcher.on('route', (e) => {
    if (e.route.table === TABLE) seen.push({ what: `route ${e.route.family} ${e.route.destination}`, action: e.action, at: monotonicNow() })
  })
  /** Delete-to-add gap of `what` in the watcher's record, after `since`. */
  const gap = (what: string, since: number) => {
    const del = seen.find((e) => e.what === what && e.action === 'delete' && e.at >= since)
    const add = del && seen.find((e) => e.what === what && e.action === 'add' && e.at >= del.at)
    return add && del ? add.at - del.at : undefined
  }

  const elector = new ManualElector()
  const announcer = new VipAnnouncer({
    vip: [VIP, VIP6],
    interface: 'net1',
    gateway: ['192.0.2.1/24', '2001:db8::1/64'],
    elector,
    netns: cp1.path,
    announce: { repeats: 0, refreshIntervalMs: 0 },
  })
  t.teardown(() => announcer.stop())
  const restored: RestoredEvent[] = []
  announcer.on('restored', (e) => restored.push(e))
  const errors: Error[] = []
  announcer.on('error', (e) => errors.push(e))
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  elector.elect()
  await leader
  t.ok(hasRule(cp1, 4, VIP) && hasRule(cp1, 6, VIP6), 'leader: both rules')
  t.equal(routeCount(cp1, 4), 2, 'leader: two IPv4 table routes')
  t.equal(routeCount(cp1, 6), 2, 'leader: two IPv6 table routes')

  for (const [family, vip] of [[4, VIP], [6, VIP6]] as const) {
    // `ip rule del from VIP lookup 30100`
    let since = monotonicNow()
    const ruleBack = nextEvent<RestoredEvent>(announcer, 'restored', 1000, (e) => e.kind === 'rule')
    cp1.ip(`-${family}`, 'rule', 'del', 'from', vip, 'lookup', String(TABLE))
    const rule = await ruleBack
    // The watcher's reading first: the `ip` checks below block this process (and its sockets).
    const ruleGap = await waitFor('the rule re-added, as the watcher saw it', () => gap(`rule ${vip}/${family === 4 ? 32 : 128}`, since), 1000)
    t.ok(ruleGap < 100, `IPv${family}: rule back ${ruleGap.toFixed(2)} ms after its removal (announcer measured ${rule.delayMs.toFixed(2)} ms)`)
    t.match(rule, { kind: 'rule', vip, item: `rule from ${vip}/${family === 4 ? 32 : 128} lookup ${TABLE} priority 1000` }, `IPv${family}: 'restored' names the rule`)
    t.ok(hasRule(cp1, family, vip), `IPv${family}: rule back`)

    // `ip route flush table 30100`: both routes of the family at once.
    since = monotonicNow()
    const before = restored.length
    cp1.ip(`-${family}`, 'route', 'flush', 'table', String(TABLE))
    await waitFor(`IPv${family} routes restored`, () => restored.slice(before).filter((e) => e.kind === 'route').length >= 2, 1000)
    const dst = family === 4 ? '0.0.0.0/0' : '::/0'
    const routeGap = await waitFor('the default route re-added, as the watcher saw it', () => gap(`route ${family} ${dst}`, since), 1000)
    const routeDelay = Math.max(...restored.slice(before).filter((e) => e.kind === 'route').map((e) => e.delayMs))
    t.ok(routeGap < 100, `IPv${family}: default route back ${routeGap.toFixed(2)} ms after the flush (announcer measured ${routeDelay.toFixed(2)} ms)`)
    t.equal(routeCount(cp1, family), 2, `IPv${family}: both table routes back`)
    const items = restored.slice(before).map((e) => e.item)
    const gateway = family === 4 ? '192.0.2.1' : '2001:db8::1'
    t.ok(items.includes(`route default via ${gateway} table ${TABLE}`), `IPv${family}: 'restored' names the default route`)
  }
  t.equal(announcer.metrics().restores, restored.length, 'each item counted once')

  // Link administratively down: the kernel flushes the table's routes itself.
  // Not fought while down; the link-up path puts everything back.
  const beforeDown = restored.filter((e) => e.kind !== 'address').length
  cp1.ip('link', 'set', 'net1', 'down')
  await sleep(300)
  t.equal(restored.filter((e) => e.kind !== 'address').length, beforeDown, 'no rule/route restore while the link is down')
  cp1.ip('link', 'set', 'net1', 'up')
  await waitFor('table routes back after link up', () => routeCount(cp1, 4) === 2 && routeCount(cp1, 6) === 2, 2000)
  t.pass('link up: the table routes are back (re-applied by the link-up path)')

  // Our own release deletes rules and routes: those deletions stay.
  const beforeRelease = restored.length
  const follower = nextEvent(announcer, 'follower')
  elector.depose('test')
  await follower
  await sleep(300)
  t.equal(restored.length, beforeRelease, 'nothing restored after our own release')
  t.notOk(hasRule(cp1, 4, VIP) || hasRule(cp1, 6, VIP6), 'follower: no rule')
  t.equal(routeCount(cp1, 4) + routeCount(cp1, 6), 0, 'follower: table empty')
  t.same(errors.map((e) => e.message), [], 'no errors along the way')
  await announcer.stop()
})

// Found by the chaos suite (etcd, link flap): a link-up that comes while the
// lease is less than 3 s from its deadline (every etcd renewal period ends
// so) re-applied nothing, and the table routes the link-down had flushed
// stayed missing for good.
t.test('link down/up while the lease is too short for another second of address lifetime: the table routes come back', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = routedReplicas(lab, 1)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'net1', gateway: '192.0.2.1/24', elector, netns: cp1.path })
  t.teardown(() => announcer.stop())
  await announcer.start()
  const leader = nextEvent(announcer, 'leader')
  const deadline = elector.elect(3300) // lifetime 1 s now; 0 once fewer than 3 s are left
  await leader
  const routes = routeCount(cp1, 4)
  t.ok(routes >= 2, `${routes} routes in table ${TABLE}`)
  while (deadline - monotonicNow() > 2900) await sleep(20)
  cp1.ip('link', 'set', 'net1', 'down')
  await waitFor('routes flushed by the kernel', () => routeCount(cp1, 4) === 0, 1000)
  cp1.ip('link', 'set', 'net1', 'up')
  await waitFor('table routes back after link-up', () => routeCount(cp1, 4) === routes, 1000)
  t.ok(deadline - monotonicNow() > 200, 'while still leader, before the fence margin')
  t.ok(hasRule(cp1, 4, VIP), 'the rule is there too')
  t.ok(cp1.addresses('net1').includes(`${VIP}/32`), 'and the VIP')
})
