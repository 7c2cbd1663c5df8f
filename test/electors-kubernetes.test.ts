// KubernetesLeaseElector through the real @kubernetes/client-node client
// against test/support/fake-lease-api.ts, which stands in for the API server's
// Lease endpoints (resourceVersion, 404, 409) and injects faults per client.
import net from 'node:net'
import t from 'tap'
import { monotonicNow } from '../src/clock'
import { KubernetesLeaseElector, loadDefaultKubeConfig } from '../src/electors/kubernetes'
import { loadOptionalPeer } from '../src/electors/optional-peer'
import { FakeLeaseApi } from './support/fake-lease-api'
import { kubeCandidate, kubeConfigFor, LEASE, loadK8s, NAMESPACE } from './support/kube'
import { Recorder, sleep, waitUntil } from './support/recorder'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()

async function fakeApi(t: tap.Test, port = 0): Promise<FakeLeaseApi> {
  const api = new FakeLeaseApi()
  await api.listen(port)
  t.teardown(() => api.close())
  return api
}

/** A started candidate with a recorder, stopped in teardown. */
async function running(t: tap.Test, api: FakeLeaseApi, identity: string, options = {}) {
  const elector = await kubeCandidate(api, identity, options)
  const rec = new Recorder(elector)
  t.teardown(() => elector.stop())
  await elector.start()
  return { elector, rec }
}

const validOptions = { namespace: 'ns', name: 'lease', identity: 'pod-a' }

t.test('configuration errors are thrown at construction, naming the option', async (t) => {
  t.throws(
    () => new KubernetesLeaseElector({ ...validOptions, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }),
    { name: 'RangeError', message: /leaseDurationSeconds \(10\) must be greater than renewDeadlineSeconds \(10\)/ },
  )
  t.throws(
    () => new KubernetesLeaseElector({ ...validOptions, renewDeadlineSeconds: 2.4, retryPeriodSeconds: 2 }),
    { name: 'RangeError', message: /renewDeadlineSeconds \(2.4\) must be greater than 1.2 × retryPeriodSeconds \(2\)/ },
  )
  t.throws(() => new KubernetesLeaseElector({ ...validOptions, retryPeriodSeconds: 0 }), {
    name: 'RangeError',
    message: /retryPeriodSeconds must be a positive number of seconds, got 0/,
  })
  t.throws(() => new KubernetesLeaseElector({ ...validOptions, leaseDurationSeconds: 15.5 }), {
    name: 'RangeError',
    message: /leaseDurationSeconds must be a whole number/,
  })
  t.throws(() => new KubernetesLeaseElector({ ...validOptions, identity: '' }), {
    name: 'TypeError',
    message: /identity must be a non-empty string/,
  })
  t.throws(() => new KubernetesLeaseElector({ ...validOptions, namespace: '' }), {
    name: 'TypeError',
    message: /namespace must be a non-empty string, got ""/,
  })
  t.throws(() => new KubernetesLeaseElector({ ...validOptions, name: 'Not_A_Name' }), {
    name: 'TypeError',
    message: /name "Not_A_Name" is not a valid Kubernetes name/,
  })
  const defaults = new KubernetesLeaseElector(validOptions)
  t.same(
    [defaults.leaseDurationSeconds, defaults.renewDeadlineSeconds, defaults.retryPeriodSeconds],
    [15, 10, 2],
    'client-go defaults',
  )
  t.equal(defaults.isLeader, false)
})

t.test('a missing optional peer dependency is a clear error', async (t) => {
  await t.rejects(loadOptionalPeer('@example/not-installed', 'KubernetesLeaseElector', '^1.0.0'), {
    message:
      'KubernetesLeaseElector needs the optional peer dependency @example/not-installed (^1.0.0), which is not installed: run `npm install @example/not-installed@"^1.0.0"`',
  })
})

t.test('in-cluster configuration is used when the service environment is set', async (t) => {
  const k8s = await loadK8s()
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT }
  t.teardown(() => {
    for (const [key, value] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })
  process.env.KUBERNETES_SERVICE_HOST = '192.0.2.1'
  process.env.KUBERNETES_SERVICE_PORT = '6443'
  const kc = new k8s.KubeConfig()
  loadDefaultKubeConfig(kc)
  t.equal(kc.getCurrentCluster()?.server, 'https://192.0.2.1:6443')
})

t.test('a single candidate creates the Lease, becomes leader and renews', async (t) => {
  const api = await fakeApi(t)
  const before = monotonicNow()
  const { elector, rec } = await running(t, api, 'pod-a')
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  const elected = rec.of('elected')[0]!
  // The deadline is when the winning request was sent + renewDeadline (2 s).
  t.ok(
    elected.deadline >= before + 2000 && elected.deadline <= elected.at + 2000,
    `deadline ${Math.round(elected.deadline - elected.at)} ms after election`,
  )
  const lease = api.lease(NAMESPACE, LEASE)!
  t.equal(lease.spec.holderIdentity, 'pod-a')
  t.equal(lease.spec.leaseDurationSeconds, 3)
  t.equal(lease.spec.leaseTransitions, 0)
  t.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is an RFC 3339 micro time')
  t.equal(lease.spec.acquireTime, lease.spec.renewTime)
  await waitUntil(() => rec.of('renewed').length >= 2, 4000, 'two renewals')
  const deadlines = [elected, ...rec.of('renewed')].map((e) => e.deadline)
  for (let i = 1; i < deadlines.length; i++) t.ok(deadlines[i]! > deadlines[i - 1]!, 'the deadline moves forward')
  const renewed = api.lease(NAMESPACE, LEASE)!
  t.equal(renewed.spec.acquireTime, lease.spec.acquireTime, 'acquireTime kept on renew')
  t.not(renewed.spec.renewTime, lease.spec.renewTime, 'renewTime moves')
  t.equal(renewed.spec.leaseTransitions, 0)
  t.same(rec.of('error'), [])
})

t.test('a host can pass its own CoordinationV1Api client', async (t) => {
  const api = await fakeApi(t)
  const k8s = await loadK8s()
  const client = (await kubeConfigFor(api, 'pod-a')).makeApiClient(k8s.CoordinationV1Api)
  const elector = new KubernetesLeaseElector({ namespace: NAMESPACE, name: LEASE, identity: 'pod-a', client })
  t.teardown(() => elector.stop())
  await elector.start()
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  t.equal(api.requests[0]!.token, 'pod-a', 'through the given client')
})

t.test('start and stop are idempotent within a campaign; start() after stop() campaigns again', async (t) => {
  const api = await fakeApi(t)
  const elector = await kubeCandidate(api, 'pod-a')
  const rec = new Recorder(elector)
  t.teardown(() => elector.stop())
  t.equal(elector.start(), elector.start(), 'the same promise')
  await elector.start()
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  await Promise.all([elector.stop(), elector.stop()])
  await elector.stop()
  t.same(rec.events.map((e) => e.type), ['elected', 'deposed'], 'one deposed')
  t.equal(rec.last('deposed')!.reason, 'stopped')
  t.equal(elector.isLeader, false)
  t.equal(api.lease(NAMESPACE, LEASE)!.spec.holderIdentity, '', 'released')

  const again = elector.start()
  t.equal(elector.start(), again, 'the same promise within the new campaign')
  await again
  await waitUntil(() => elector.isLeader, 3000, 'elected again')
  t.equal(api.lease(NAMESPACE, LEASE)!.spec.holderIdentity, 'pod-a', 'holds the Lease again')
  await elector.stop()
  t.same(rec.events.filter((e) => e.type !== 'renewed').map((e) => e.type), ['elected', 'deposed', 'elected', 'deposed'])
  t.equal(api.lease(NAMESPACE, LEASE)!.spec.holderIdentity, '', 'released again')

  const fresh = await kubeCandidate(api, 'pod-b')
  t.teardown(() => fresh.stop())
  await fresh.stop()
  await fresh.start()
  await waitUntil(() => fresh.isLeader, 3000, 'a stop() before any start() does not prevent campaigning')
})

t.test('start() while stop() is in flight waits for it; a stop() before that start() began cancels it', async (t) => {
  const api = await fakeApi(t)
  const timersBefore = activeTimers()
  const elector = await kubeCandidate(api, 'pod-a')
  const rec = new Recorder(elector)
  t.teardown(() => elector.stop())
  await elector.start()
  await waitUntil(() => elector.isLeader, 3000, 'elected')

  // The release (GET, then PUT) answers only after 500 ms: stop() is in flight a while.
  api.addFault({ token: 'pod-a', method: 'PUT', fault: { kind: 'delay-after', ms: 500 }, times: 1 })
  const order: string[] = []
  const stopped = elector.stop().then(() => order.push('stop resolved'))
  const restarted = elector.start().then(() => order.push('start resolved'))
  t.equal(elector.isLeader, false, 'deposed at once')
  await Promise.all([stopped, restarted])
  t.same(order, ['stop resolved', 'start resolved'], 'the new campaign began after the stop finished')
  const releasedAt = api.requests.findIndex((r) => r.method === 'PUT' && r.spec?.holderIdentity === '')
  t.ok(releasedAt >= 0, 'the old campaign released the Lease')
  await waitUntil(() => elector.isLeader, 3000, 'elected again')
  const reacquire = api.requests.findIndex((r, i) => i > releasedAt && r.method === 'PUT' && r.spec?.holderIdentity === 'pod-a')
  t.ok(reacquire > releasedAt, 'and the new one took it after that release')
  t.equal(api.lease(NAMESPACE, LEASE)!.spec.leaseTransitions, 1, 'a new acquisition, not a renewal')

  // stop(), start(), stop(): the start() waits for the first stop, the second stop() cancels it.
  const first = elector.stop()
  void elector.start()
  const second = elector.stop()
  t.not(first, second, 'the second stop() belongs to the new campaign')
  await Promise.all([first, second])
  t.equal(activeTimers(), timersBefore, 'no timer left once stop() resolved')
  const requests = api.requests.filter((r) => r.token === 'pod-a').length
  await sleep(2500)
  t.equal(api.requests.filter((r) => r.token === 'pod-a').length, requests, 'no request after stop() resolved')
  t.equal(elector.isLeader, false)
  t.same(
    rec.events.filter((e) => e.type !== 'renewed').map((e) => e.type),
    ['elected', 'deposed', 'elected', 'deposed'],
    'the cancelled campaign was never elected',
  )
  t.equal(api.lease(NAMESPACE, LEASE)!.spec.holderIdentity, '', 'released')
  t.same(rec.of('error'), [])
})

t.test("a 'deposed' listener may call start() during stop(): the new campaign begins after the release", async (t) => {
  const api = await fakeApi(t)
  const { elector } = await running(t, api, 'pod-a')
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  let restarted: Promise<void> | undefined
  elector.once('deposed', () => {
    restarted = elector.start()
  })
  const order: string[] = []
  const stopped = elector.stop().then(() => order.push('stop resolved'))
  t.ok(restarted, 'start() was called from the listener')
  await Promise.all([stopped, restarted!.then(() => order.push('start resolved'))])
  t.same(order, ['stop resolved', 'start resolved'])
  t.ok(api.requests.some((r) => r.method === 'PUT' && r.spec?.holderIdentity === ''), 'released first')
  await waitUntil(() => elector.isLeader, 3000, 'elected again')
})

t.test('stop releases like client-go and a follower takes over within a retry period', async (t) => {
  const api = await fakeApi(t)
  const a = await running(t, api, 'pod-a')
  await waitUntil(() => a.elector.isLeader, 3000, 'a elected')
  const b = await running(t, api, 'pod-b')
  await sleep(1500)
  t.equal(b.elector.isLeader, false, 'b follows while a renews')
  const stoppedAt = monotonicNow()
  await a.elector.stop()
  t.equal(a.rec.last('deposed')?.reason, 'stopped')
  t.ok(a.rec.last('deposed')!.at <= monotonicNow(), 'deposed before stop() resolved')
  const released = api.lease(NAMESPACE, LEASE)!
  t.equal(released.spec.holderIdentity, '', 'holder cleared')
  t.equal(released.spec.leaseDurationSeconds, 1, 'leaseDurationSeconds 1, as ReleaseOnCancel')
  await waitUntil(() => b.elector.isLeader, 3000, 'b elected')
  const takeover = b.rec.of('elected')[0]!.at - stoppedAt
  t.ok(takeover < 1.2 * 1000 + 300, `b took over ${Math.round(takeover)} ms after stop (retry period 1 s)`)
  const lease = api.lease(NAMESPACE, LEASE)!
  t.equal(lease.spec.holderIdentity, 'pod-b')
  t.equal(lease.spec.leaseTransitions, 1, 'a transition counted')
})

t.test('a foreign record is judged on our clock, not on its timestamps', async (t) => {
  for (const [label, skewMs] of [
    ['an hour in the past', -3_600_000],
    ['an hour in the future', 3_600_000],
  ] as const) {
    await t.test(`renewTime ${label}`, async (t) => {
      const api = await fakeApi(t)
      const stamp = new Date(Date.now() + skewMs).toISOString().replace('Z', '000Z')
      api.setLease(NAMESPACE, LEASE, {
        holderIdentity: 'someone-else',
        leaseDurationSeconds: 3,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: 7,
      })
      const { elector, rec } = await running(t, api, 'pod-a')
      await waitUntil(() => api.requests.some((r) => r.token === 'pod-a'), 2000, 'first read')
      const firstSeen = api.requests.find((r) => r.token === 'pod-a')!.at
      await waitUntil(() => elector.isLeader, 6000, 'elected')
      const waited = rec.of('elected')[0]!.at - firstSeen
      t.ok(waited >= 3000, `waited ${Math.round(waited)} ms ≥ leaseDurationSeconds from first observation`)
      t.ok(waited < 3000 + 1200 + 500, 'and not much more than one retry period beyond it')
      t.equal(api.lease(NAMESPACE, LEASE)!.spec.leaseTransitions, 8)
    })
  }
})

t.test('a holder that keeps renewing is never taken over', async (t) => {
  const api = await fakeApi(t)
  const spec = () => {
    const now = new Date().toISOString().replace('Z', '000Z')
    return { holderIdentity: 'someone-else', leaseDurationSeconds: 3, acquireTime: now, renewTime: now }
  }
  api.setLease(NAMESPACE, LEASE, spec())
  const renewer = setInterval(() => api.setLease(NAMESPACE, LEASE, spec()), 1000)
  t.teardown(() => clearInterval(renewer))
  const { rec } = await running(t, api, 'pod-a')
  await sleep(7000)
  t.same(rec.of('elected'), [], 'not elected in 7 s (lease 3 s)')
  clearInterval(renewer)
  await waitUntil(() => rec.of('elected').length > 0, 6000, 'elected once the holder stops renewing')
})

t.test('racing creators: the API server picks one (POST 409 AlreadyExists)', async (t) => {
  const api = await fakeApi(t)
  // Hold every create long enough that both candidates have read 404 and sent one.
  api.addFault({ method: 'POST', fault: { kind: 'delay-before', ms: 300 } })
  const a = await kubeCandidate(api, 'pod-a')
  const b = await kubeCandidate(api, 'pod-b')
  const recs = [new Recorder(a), new Recorder(b)]
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await Promise.all([a.start(), b.start()])
  await waitUntil(() => a.isLeader || b.isLeader, 3000, 'a leader')
  await sleep(2500)
  const posts = api.requests.filter((r) => r.method === 'POST')
  t.same(posts.map((r) => r.outcome).sort(), [201, 409], 'two creates, one conflict')
  t.equal(recs.map((r) => r.of('elected').length).reduce((x, y) => x + y), 1, 'one candidate elected, once')
  t.same(recs.flatMap((r) => r.of('error')), [], 'a lost race is not an error')
})

t.test('racing updates: a stale resourceVersion loses (PUT 409 Conflict)', async (t) => {
  const api = await fakeApi(t)
  const free = new Date().toISOString().replace('Z', '000Z')
  api.setLease(NAMESPACE, LEASE, { holderIdentity: '', leaseDurationSeconds: 1, renewTime: free, acquireTime: free })
  api.addFault({ method: 'PUT', fault: { kind: 'delay-before', ms: 300 }, times: 2 })
  const a = await kubeCandidate(api, 'pod-a')
  const b = await kubeCandidate(api, 'pod-b')
  const recs = [new Recorder(a), new Recorder(b)]
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await Promise.all([a.start(), b.start()])
  await waitUntil(() => a.isLeader || b.isLeader, 3000, 'a leader')
  await sleep(2500)
  const firstPuts = api.requests.filter((r) => r.method === 'PUT').slice(0, 2)
  t.equal(firstPuts[0]!.resourceVersion, firstPuts[1]!.resourceVersion, 'both wrote over the same version')
  t.same(firstPuts.map((r) => r.outcome).sort(), [200, 409])
  t.equal(recs.map((r) => r.of('elected').length).reduce((x, y) => x + y), 1, 'one candidate elected, once')
  t.equal(a.isLeader !== b.isLeader, true)
})

t.test('a partitioned leader steps down before its deadline; the follower waits for it', async (t) => {
  const api = await fakeApi(t)
  const a = await running(t, api, 'pod-a')
  await waitUntil(() => a.elector.isLeader, 3000, 'a elected')
  const b = await running(t, api, 'pod-b')
  await sleep(1200)
  const heal = api.partition('pod-a')
  await waitUntil(() => !a.elector.isLeader, 4000, 'a deposed')
  const deposed = a.rec.last('deposed')!
  const deadline = a.rec.deadline!
  t.match(deposed.reason, /no successful renew within renewDeadlineSeconds \(2 s\)/)
  t.ok(deposed.at < deadline, `deposed ${Math.round(deadline - deposed.at)} ms before its deadline`)
  await waitUntil(() => b.elector.isLeader, 6000, 'b elected')
  const elected = b.rec.of('elected')[0]!
  t.ok(elected.at >= deadline, `b elected ${Math.round(elected.at - deadline)} ms after a's deadline`)
  heal()
  await sleep(2500)
  t.equal(a.elector.isLeader, false, 'a stays follower after the partition heals')
  t.equal(b.elector.isLeader, true)
  t.ok(a.rec.of('error').length > 0, 'a reported the failed renewals')
})

t.test('one failed renew is reported and survived when the renew deadline allows a retry', async (t) => {
  const api = await fakeApi(t)
  const { elector, rec } = await running(t, api, 'pod-a', {
    leaseDurationSeconds: 5,
    renewDeadlineSeconds: 3,
    retryPeriodSeconds: 1,
  })
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  api.addFault({ token: 'pod-a', method: 'PUT', fault: { kind: 'status', status: 500 }, times: 1 })
  await waitUntil(() => rec.of('error').length > 0, 3000, 'an error event')
  t.match(rec.of('error')[0]!.error.message, /could not renew the Lease: HTTP 500: injected fault/)
  const renewals = rec.of('renewed').length
  await waitUntil(() => rec.of('renewed').length > renewals, 3000, 'a later renewal')
  t.same(rec.of('deposed'), [], 'still leader')
})

t.test('a renew answered too late counts as failed; the leader steps down in time, then re-acquires', async (t) => {
  const api = await fakeApi(t)
  const { elector, rec } = await running(t, api, 'pod-a')
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  // Applied at once, answered after the renew deadline.
  api.addFault({ token: 'pod-a', method: 'PUT', fault: { kind: 'delay-after', ms: 2500 }, times: 1 })
  await waitUntil(() => rec.of('deposed').length > 0, 4000, 'deposed')
  const deposed = rec.last('deposed')!
  const deadlines = rec.events.filter((e) => e.at < deposed.at && (e.type === 'elected' || e.type === 'renewed'))
  const deadline = (deadlines[deadlines.length - 1] as { deadline: number }).deadline
  t.ok(deposed.at < deadline, `deposed ${Math.round(deadline - deposed.at)} ms before the deadline`)
  // The write did land, and nobody else changed the Lease: as in client-go,
  // the holder named in the record may take it back at once.
  await waitUntil(() => rec.of('elected').length === 2, 3000, 'elected again')
  t.equal(api.lease(NAMESPACE, LEASE)!.spec.leaseTransitions, 0, 'never another holder')
})

t.test('an unreachable API server gives error events and retries, never a crash', async (t) => {
  const port = await freePort()
  const elector = await kubeCandidate({ port }, 'pod-a')
  const rec = new Recorder(elector)
  t.teardown(() => elector.stop())
  await elector.start()
  await waitUntil(() => rec.of('error').length >= 2, 5000, 'two error events')
  t.match(rec.of('error')[0]!.error.message, /could not read the Lease: .*ECONNREFUSED/)
  t.equal(elector.isLeader, false)
  await fakeApi(t, port)
  await waitUntil(() => elector.isLeader, 4000, 'elected once the API server is up')
})

t.test('the Lease object deleted under the leader deposes it', async (t) => {
  const api = await fakeApi(t)
  const { elector, rec } = await running(t, api, 'pod-a')
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  api.deleteLease(NAMESPACE, LEASE)
  await waitUntil(() => rec.of('deposed').length > 0, 3000, 'deposed')
  t.equal(rec.last('deposed')!.reason, 'the Lease object was deleted')
  await waitUntil(() => elector.isLeader, 3000, 'elected again after re-creating it')
})

t.test('a stop during an unreachable API still resolves and reports the failed release', async (t) => {
  const api = await fakeApi(t)
  const { elector, rec } = await running(t, api, 'pod-a')
  await waitUntil(() => elector.isLeader, 3000, 'elected')
  api.partition('pod-a')
  const started = monotonicNow()
  await elector.stop()
  const took = monotonicNow() - started
  t.ok(took < 2 * 2000 + 500, `stop() resolved in ${Math.round(took)} ms`)
  t.equal(rec.last('deposed')?.reason, 'stopped')
  t.match(rec.last('error')?.error.message, /could not read the Lease to release it: no answer within 2000 ms/)
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
