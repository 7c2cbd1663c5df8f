// EtcdElector against a real etcd (test/support/etcd-runner.ts starts
// /usr/bin/etcd on loopback with free ports and a temporary data directory).
import t from 'tap'
import { monotonicNow } from '../src/clock'
import { EtcdElector } from '../src/electors/etcd'
import { inspector, proxiedCandidate, uniqueName } from './support/etcd'
import { EtcdServer, etcdTestOptions, freePort } from './support/etcd-runner'
import { Recorder, sleep, waitUntil } from './support/recorder'
import { makeTestPki } from './support/tls'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()
const skip = etcdTestOptions()

t.test('configuration errors are thrown at construction, naming the option', async (t) => {
  const valid = { endpoints: ['http://192.0.2.2:2379'], name: 'vip', identity: 'pod-a' }
  t.throws(() => new EtcdElector({ ...valid, ttlSeconds: 1 }), {
    name: 'RangeError',
    message: /ttlSeconds must be a whole number of seconds ≥ 2 .*got 1/,
  })
  t.throws(() => new EtcdElector({ ...valid, ttlSeconds: 2.5 }), { name: 'RangeError' })
  t.throws(() => new EtcdElector({ ...valid, identity: '' }), {
    name: 'TypeError',
    message: 'EtcdElector: identity must be a non-empty string, got ""',
  })
  t.throws(() => new EtcdElector({ ...valid, name: '  ' }), { name: 'TypeError', message: /name must be a non-empty string/ })
  t.throws(() => new EtcdElector({ ...valid, endpoints: [] }), { name: 'TypeError', message: /endpoints must be a non-empty array/ })
  t.throws(() => new EtcdElector({ ...valid, endpoints: ['ftp://192.0.2.2:2379'] }), {
    name: 'TypeError',
    message: 'EtcdElector: endpoint "ftp://192.0.2.2:2379" is not an http(s)://host:port URL',
  })
  t.throws(() => new EtcdElector({ ...valid, endpoints: ['https://192.0.2.2:2379', 'http://192.0.2.3:2379'] }), {
    name: 'TypeError',
    message: /endpoints mix http:\/\/ and https:\/\//,
  })
  t.throws(() => new EtcdElector({ ...valid, tls: { ca: 'x' } }), { name: 'TypeError', message: /no endpoint is https/ })
  t.throws(() => new EtcdElector({ ...valid, endpoints: ['https://192.0.2.2:2379'], tls: { cert: 'x' } }), {
    name: 'TypeError',
    message: /cert and key go together/,
  })
  t.ok(new EtcdElector({ ...valid, endpoints: ['https://192.0.2.2:2379', 'https://[2001:db8::2]:2379'] }), 'https accepted')
  const elector = new EtcdElector({ ...valid, endpoints: ['192.0.2.2:2379', 'http://[2001:db8::2]:2379'] })
  t.equal(elector.ttlSeconds, 10, 'default TTL')
  t.equal(elector.key, 'vip-announcer/leader/vip')
})

t.test('against a real etcd', skip, async (t) => {
  const server = await EtcdServer.start()
  t.teardown(() => server.stop())
  const outside = inspector(server)
  t.teardown(() => outside.close())

  /** A started candidate (behind its own proxy) with a recorder, stopped in teardown. */
  async function running(t: tap.Test, name: string, identity: string, options = {}) {
    const { elector, proxy } = await proxiedCandidate(server, name, identity, options)
    const rec = new Recorder(elector)
    t.teardown(async () => {
      await elector.stop()
      await proxy.close()
    })
    await elector.start()
    return { elector, proxy, rec }
  }

  t.test('a single candidate takes the key on its lease and renews', async (t) => {
    const name = uniqueName('single')
    const { elector, rec } = await running(t, name, 'pod-a')
    await waitUntil(() => elector.isLeader, 3000, 'elected')
    const elected = rec.of('elected')[0]!
    const ahead = elected.deadline - elected.at
    t.ok(ahead > 0 && ahead <= 2000 - 200, `deadline ${Math.round(ahead)} ms ahead (TTL 2 s − 200 ms margin)`)
    const kv = (await outside.get(elector.key).exec()).kvs[0]!
    t.equal(kv.value.toString(), 'pod-a')
    const ttl = await outside.leaseClient.leaseTimeToLive({ ID: kv.lease })
    t.equal(ttl.grantedTTL, '2', 'bound to a 2 s lease')
    await waitUntil(() => rec.of('renewed').length >= 4, 5000, 'four renewals')
    const deadlines = [elected, ...rec.of('renewed')].map((e) => e.deadline)
    for (let i = 1; i < deadlines.length; i++) t.ok(deadlines[i]! > deadlines[i - 1]!, 'the deadline moves forward')
    const gaps = rec.of('renewed').map((e, i, all) => (i ? e.at - all[i - 1]!.at : NaN)).filter((g) => !isNaN(g))
    // Cadence TTL/3 (667 ms); one late timer on a loaded machine is tolerated,
    // but every renewal must land well before the 1800 ms deadline.
    const middle = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!
    t.ok(middle > 550 && middle < 850, `renewed every ${gaps.map(Math.round).join(', ')} ms (median near TTL/3)`)
    t.ok(gaps.every((g) => g > 500 && g < 1300), 'no renewal early, none late enough to endanger the deadline')
    t.same(rec.of('error'), [])
  })

  /** IDs of every lease etcd knows now. */
  async function leases(): Promise<string[]> {
    return (await outside.leaseClient.leaseLeases()).leases.map((l) => l.ID).sort()
  }

  t.test('start and stop are idempotent within a campaign; start() after stop() campaigns again on a new lease', async (t) => {
    const name = uniqueName('idem')
    const { elector, rec, proxy } = await running(t, name, 'pod-a')
    t.equal(elector.start(), elector.start())
    await waitUntil(() => elector.isLeader, 3000, 'elected')
    const firstLease = (await outside.get(elector.key).exec()).kvs[0]!.lease
    await Promise.all([elector.stop(), elector.stop()])
    t.same(rec.of('deposed').map((e) => e.reason), ['stopped'])
    t.equal((await outside.get(elector.key).exec()).kvs.length, 0, 'key deleted with the revoked lease')
    t.equal((await outside.leaseClient.leaseTimeToLive({ ID: firstLease })).TTL, '-1', 'its lease revoked')
    await waitUntil(() => proxy.connections === 0, 2000, 'its own client closed')

    const again = elector.start()
    t.equal(elector.start(), again, 'the same promise within the new campaign')
    await again
    await waitUntil(() => elector.isLeader, 3000, 'elected again')
    const kv = (await outside.get(elector.key).exec()).kvs[0]!
    t.equal(kv.value.toString(), 'pod-a')
    t.not(kv.lease, firstLease, 'on a new lease')
    await elector.stop()
    t.same(rec.events.filter((e) => e.type !== 'renewed').map((e) => e.type), ['elected', 'deposed', 'elected', 'deposed'])
    t.equal((await outside.get(elector.key).exec()).kvs.length, 0, 'released again')

    const unstarted = new EtcdElector({ endpoints: [server.clientUrl], name, identity: 'x', ttlSeconds: 2 })
    t.teardown(() => unstarted.stop())
    await unstarted.stop()
    await unstarted.start()
    await waitUntil(() => unstarted.isLeader, 3000, 'a stop() before any start() does not prevent campaigning')
  })

  t.test('start() while stop() is in flight waits for it; a stop() before that start() began cancels it; nothing left behind', async (t) => {
    const name = uniqueName('restart')
    const leasesBefore = await leases()
    await sleep(1000) // for timers of earlier tests' clients to run out
    const timersBefore = activeTimers()
    const { elector, rec, proxy } = await running(t, name, 'pod-a')
    await waitUntil(() => elector.isLeader, 3000, 'elected')
    const firstLease = (await outside.get(elector.key).exec()).kvs[0]!.lease

    const order: string[] = []
    const stopped = elector.stop().then(() => order.push('stop resolved'))
    const restarted = elector.start().then(() => order.push('start resolved'))
    t.equal(elector.isLeader, false, 'deposed at once')
    await Promise.all([stopped, restarted])
    t.same(order, ['stop resolved', 'start resolved'], 'the new campaign began after the stop finished')
    t.equal((await outside.leaseClient.leaseTimeToLive({ ID: firstLease })).TTL, '-1', 'the old lease was revoked')
    await waitUntil(() => elector.isLeader, 3000, 'elected again')
    t.not((await outside.get(elector.key).exec()).kvs[0]!.lease, firstLease, 'on a new lease')

    const first = elector.stop()
    void elector.start()
    const second = elector.stop()
    t.not(first, second, 'the second stop() belongs to the new campaign')
    await Promise.all([first, second])
    // etcd3 itself schedules a watch reconnect (100 ms) when the closed
    // client ends the watch stream; it finds no watcher and does nothing.
    await sleep(1000)
    t.equal(activeTimers(), timersBefore, 'no timer left')
    t.equal(elector.isLeader, false)
    t.same(
      rec.events.filter((e) => e.type !== 'renewed').map((e) => e.type),
      ['elected', 'deposed', 'elected', 'deposed'],
      'the cancelled campaign was never elected',
    )
    t.equal((await outside.get(elector.key).exec()).kvs.length, 0, 'no leader key')
    t.same(await leases(), leasesBefore, 'no etcd lease left behind')
    t.equal(proxy.connections, 0, 'no connection left open')
    t.same(rec.of('error'), [])
  })

  t.test("a 'deposed' listener may call start() during stop(): the new campaign begins after the revoke", async (t) => {
    const name = uniqueName('listener')
    const { elector } = await running(t, name, 'pod-a')
    await waitUntil(() => elector.isLeader, 3000, 'elected')
    const firstLease = (await outside.get(elector.key).exec()).kvs[0]!.lease
    let restarted: Promise<void> | undefined
    elector.once('deposed', () => {
      restarted = elector.start()
    })
    const order: string[] = []
    const stopped = elector.stop().then(() => order.push('stop resolved'))
    t.ok(restarted, 'start() was called from the listener')
    await Promise.all([stopped, restarted!.then(() => order.push('start resolved'))])
    t.same(order, ['stop resolved', 'start resolved'])
    t.equal((await outside.leaseClient.leaseTimeToLive({ ID: firstLease })).TTL, '-1', 'the old lease was revoked')
    await waitUntil(() => elector.isLeader, 3000, 'elected again')
  })

  t.test('stop releases at once and a follower takes over through its watch', async (t) => {
    const name = uniqueName('stop')
    // TTL 9 s: the fallback poll runs every 3 s, so a takeover well under
    // that comes from the watch.
    const a = await running(t, name, 'pod-a', { ttlSeconds: 9 })
    await waitUntil(() => a.elector.isLeader, 3000, 'a elected')
    const b = await running(t, name, 'pod-b', { ttlSeconds: 9 })
    await sleep(1500)
    t.equal(b.elector.isLeader, false, 'b follows')
    const stoppedAt = monotonicNow()
    await a.elector.stop()
    t.equal(a.rec.last('deposed')?.reason, 'stopped')
    await waitUntil(() => b.elector.isLeader, 3000, 'b elected')
    const takeover = b.rec.of('elected')[0]!.at - stoppedAt
    t.ok(takeover < 500, `b took over ${Math.round(takeover)} ms after stop() began (poll interval 3 s)`)
    t.comment(`etcd: takeover after leader stop ${takeover.toFixed(0)} ms`)
  })

  t.test('a leader that dies without releasing is replaced after its lease expires', async (t) => {
    const name = uniqueName('death')
    const a = await running(t, name, 'pod-a', { releaseOnStop: false })
    await waitUntil(() => a.elector.isLeader, 3000, 'a elected')
    const b = await running(t, name, 'pod-b')
    await sleep(1000)
    const deadline = a.rec.deadline!
    const diedAt = monotonicNow()
    await a.elector.stop() // no revoke, client closed: keep-alives just stop
    await waitUntil(() => b.elector.isLeader, 6000, 'b elected')
    const elected = b.rec.of('elected')[0]!
    t.ok(elected.at >= deadline, `b elected ${Math.round(elected.at - deadline)} ms after a's deadline`)
    const takeover = elected.at - diedAt
    t.ok(takeover < 2000 + 1500, `b took over ${Math.round(takeover)} ms after a died (TTL 2 s)`)
    t.comment(`etcd TTL 2 s: takeover after leader death ${takeover.toFixed(0)} ms`)
  })

  t.test('a leader cut off etcd steps down before its deadline; the other takes over after it', async (t) => {
    const name = uniqueName('cut')
    const a = await running(t, name, 'pod-a')
    await waitUntil(() => a.elector.isLeader, 3000, 'a elected')
    const b = await running(t, name, 'pod-b')
    await sleep(1000)
    const heal = a.proxy.partition()
    await waitUntil(() => !a.elector.isLeader, 3000, 'a deposed')
    const deposed = a.rec.last('deposed')!
    const deadline = a.rec.deadline!
    t.match(deposed.reason, /no successful keep-alive within the lease TTL \(2 s\)/)
    t.ok(deposed.at < deadline, `deposed ${Math.round(deadline - deposed.at)} ms before its deadline`)
    await waitUntil(() => b.elector.isLeader, 5000, 'b elected')
    t.ok(b.rec.of('elected')[0]!.at >= deadline, 'b elected after a’s deadline')
    heal()
    await sleep(2500)
    t.equal(a.elector.isLeader, false, 'a stays follower')
    t.equal(b.elector.isLeader, true, 'b stays leader')
    t.ok(a.rec.of('error').length > 0, 'a reported the failed keep-alives')
  })

  t.test('a host can pass its own client, which stop() leaves open and start() uses again', async (t) => {
    const client = inspector(server)
    t.teardown(() => client.close())
    const elector = new EtcdElector({ client, name: uniqueName('client'), identity: 'pod-a', ttlSeconds: 2 })
    await elector.start()
    await waitUntil(() => elector.isLeader, 3000, 'elected')
    await elector.stop()
    t.equal((await client.get(elector.key).exec()).kvs.length, 0, 'released, and the client still works')
    await elector.start()
    await waitUntil(() => elector.isLeader, 3000, 'elected again through the same client')
    await elector.stop()
    t.equal((await client.get(elector.key).exec()).kvs.length, 0, 'released again')
    t.throws(() => new EtcdElector({ client, endpoints: [server.clientUrl], name: 'x', identity: 'y' }), {
      name: 'TypeError',
      message: /either client or endpoints/,
    })
  })

  t.test('the leader key deleted from outside deposes the leader', async (t) => {
    const name = uniqueName('deleted')
    const { elector, rec } = await running(t, name, 'pod-a')
    await waitUntil(() => elector.isLeader, 3000, 'elected')
    await outside.delete().key(elector.key).exec()
    await waitUntil(() => rec.of('deposed').length > 0, 2000, 'deposed')
    t.equal(rec.last('deposed')!.reason, 'the leader key was deleted')
    await waitUntil(() => elector.isLeader, 3000, 'elected again')
  })

  t.test('a key held by another lease is never taken', async (t) => {
    const name = uniqueName('foreign')
    const lease = outside.lease(2)
    t.teardown(() => lease.revoke().catch(() => undefined))
    const key = `vip-announcer/leader/${name}`
    await lease.put(key).value('someone-else')
    const { rec } = await running(t, name, 'pod-a')
    await sleep(3000)
    t.same(rec.of('elected'), [], 'not elected while the other lease is kept alive')
    await lease.revoke()
    await waitUntil(() => rec.of('elected').length > 0, 1000, 'elected once it is revoked')
  })
})

t.test('SIGSTOP of etcd: the leader steps down before its deadline; after SIGCONT one leader resumes', skip, async (t) => {
  const server = await EtcdServer.start()
  t.teardown(() => server.stop())
  const name = uniqueName('frozen')
  const candidates = ['pod-a', 'pod-b', 'pod-c'].map(
    (identity) => new EtcdElector({ endpoints: [server.clientUrl], name, identity, ttlSeconds: 2 }),
  )
  const recs = candidates.map((c) => new Recorder(c))
  t.teardown(() => Promise.all(candidates.map((c) => c.stop())))
  await Promise.all(candidates.map((c) => c.start()))
  await waitUntil(() => candidates.some((c) => c.isLeader), 3000, 'a leader')
  await sleep(1000)
  const leaderIndex = candidates.findIndex((c) => c.isLeader)
  const leader = recs[leaderIndex]!
  const before = recs.map((r) => r.of('elected').length)
  server.freeze()
  let thawed = false
  t.teardown(() => {
    if (!thawed) server.thaw()
  })
  await waitUntil(() => !candidates[leaderIndex]!.isLeader, 3000, 'leader deposed')
  const deposed = leader.last('deposed')!
  const deadline = leader.deadline!
  t.ok(deposed.at < deadline, `deposed ${Math.round(deadline - deposed.at)} ms before its deadline`)
  await sleep(1500)
  t.same(recs.map((r) => r.of('elected').length), before, 'nobody elected while etcd is frozen')
  server.thaw()
  thawed = true
  const thawedAt = monotonicNow()
  await waitUntil(() => candidates.filter((c) => c.isLeader).length === 1, 8000, 'one leader again')
  const resumed = Math.max(...recs.map((r) => r.last('elected')?.at ?? -Infinity)) - thawedAt
  t.comment(`one leader ${resumed.toFixed(0)} ms after SIGCONT`)
  // Stay a while: never two.
  const sampleUntil = monotonicNow() + 3000
  let most = 0
  while (monotonicNow() < sampleUntil) {
    most = Math.max(most, candidates.filter((c) => c.isLeader).length)
    await sleep(5)
  }
  t.equal(most, 1, 'exactly one leader for 3 s after SIGCONT')
})

t.test('https endpoints with a private CA and client certificates', skip, async (t) => {
  const pki = makeTestPki()
  t.teardown(() => pki.remove())
  const server = await EtcdServer.start({
    tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.caFile, clientCertAuth: true },
  })
  t.teardown(() => server.stop())
  t.match(server.clientUrl, /^https:/)
  const name = uniqueName('tls')
  const withCert = new EtcdElector({
    endpoints: [server.clientUrl],
    tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    name,
    identity: 'pod-a',
    ttlSeconds: 2,
  })
  const withoutCert = new EtcdElector({ endpoints: [server.clientUrl], tls: { ca: pki.ca }, name, identity: 'pod-b', ttlSeconds: 2 })
  const recs = [new Recorder(withCert), new Recorder(withoutCert)]
  t.teardown(() => Promise.all([withCert.stop(), withoutCert.stop()]))
  await Promise.all([withCert.start(), withoutCert.start()])
  await waitUntil(() => withCert.isLeader, 5000, 'the candidate with a client certificate elected')
  await waitUntil(() => recs[1]!.of('error').length > 0, 5000, 'the other reports errors')
  t.match(recs[1]!.of('error')[0]!.error.message, /could not grant an etcd lease/)
  t.equal(withoutCert.isLeader, false)
})

t.test('an unreachable etcd gives error events and retries, never a crash', skip, async (t) => {
  const port = await freePort()
  const elector = new EtcdElector({ endpoints: [`127.0.0.1:${port}`], name: uniqueName('late'), identity: 'pod-a', ttlSeconds: 2 })
  const rec = new Recorder(elector)
  t.teardown(() => elector.stop())
  await elector.start()
  await waitUntil(() => rec.of('error').length >= 2, 5000, 'two error events')
  t.match(rec.of('error')[0]!.error.message, /could not grant an etcd lease: .*(UNAVAILABLE|no answer)/)
  t.equal(elector.isLeader, false)
  const server = await EtcdServer.start({ clientPort: port })
  t.teardown(() => server.stop())
  await waitUntil(() => elector.isLeader, 6000, 'elected once etcd is up')
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}
