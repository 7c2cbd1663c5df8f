// Followers of KubernetesLeaseElector watch the Lease (issue 9, item 2): a
// released Lease is taken at once, an expired one at the instant its duration
// has passed on the follower's clock, and the watch survives what API servers
// do to watches (end them, expire their resourceVersion, get partitioned).
// The retry period is long on purpose (3 s, so polls are 3-3.6 s apart): a
// takeover within a few hundred milliseconds cannot be a poll's doing. The
// requests the stand-in recorded say which path acted.
import t, { type Test } from 'tap'
import { monotonicNow } from '../src/clock'
import { FakeLeaseApi, type RequestRecord } from './support/fake-lease-api'
import { LEASE, NAMESPACE, kubeCandidate } from './support/kube'
import { Recorder, sleep, waitUntil } from './support/recorder'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()
const timing = { leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 3 }

const isWatch = (r: RequestRecord) => r.method === 'GET' && r.path.includes('watch=true')

async function pair(t: Test, options: { a?: object; b?: object } = {}) {
  const api = new FakeLeaseApi()
  await api.listen()
  t.teardown(() => api.close())
  const a = await kubeCandidate(api, 'pod-a', { ...timing, ...options.a })
  const b = await kubeCandidate(api, 'pod-b', { ...timing, ...options.b })
  const recA = new Recorder(a)
  const recB = new Recorder(b)
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await waitUntil(() => a.isLeader, 3000, 'a elected')
  await b.start()
  return { api, a, b, recA, recB }
}

t.test('a released Lease is taken within about one round trip, straight from the watch event', async (t) => {
  const { api, a, b, recB } = await pair(t)
  await waitUntil(() => api.requests.some((r) => r.token === 'pod-b' && isWatch(r)) && api.openWatches >= 2, 3000, 'b watching')
  await sleep(200)
  const stoppedAt = monotonicNow()
  await a.stop()
  await waitUntil(() => b.isLeader, 8000, 'b elected')
  const takeoverMs = recB.of('elected')[0]!.at - stoppedAt
  t.ok(takeoverMs < 500, `b elected ${takeoverMs.toFixed(1)} ms after a's stop (polls are 3-3.6 s apart)`)
  // The release, then b's takeover write with no read in between: the watch event was the record.
  const release = api.requests.map((r) => r.token === 'pod-a' && r.method === 'PUT' && r.spec?.holderIdentity === '').lastIndexOf(true)
  t.ok(release >= 0, 'a released the Lease')
  const afterRelease = api.requests.slice(release + 1).filter((r) => r.token === 'pod-b' && !isWatch(r))
  t.match(afterRelease[0], { method: 'PUT', outcome: 200, spec: { holderIdentity: 'pod-b' } }, "b's first request after the release is its winning write")
  t.comment(`kubernetes 6/4/3 with watch: takeover after leader stop ${takeoverMs.toFixed(1)} ms`)
})

t.test('an abandoned Lease is taken at the instant its duration has passed on the follower clock, never before', async (t) => {
  const { api, a, b, recB } = await pair(t)
  await waitUntil(() => api.openWatches >= 2, 3000, 'b watching')
  await sleep(3500) // a has renewed at least once
  // a's node is cut off: its renewals stop reaching the API server.
  const heal = api.partition('pod-a')
  t.teardown(heal)
  await waitUntil(() => b.isLeader, 12_000, 'b elected')
  const lastRenew = api.requests.filter((r) => r.token === 'pod-a' && (r.method === 'PUT' || r.method === 'POST') && (r.outcome === 200 || r.outcome === 201)).pop()!
  const electedAt = recB.of('elected')[0]!.at
  const sinceRenew = electedAt - lastRenew.at
  t.ok(sinceRenew >= 6000, `b elected ${sinceRenew.toFixed(0)} ms after a's last renewal reached the server: not before the 6 s lease duration`)
  t.ok(sinceRenew < 6000 + 400, 'and within 400 ms of it (a poll would act up to 3.6 s later)')
  t.notOk(a.isLeader, 'a stepped down before')
  t.comment(`kubernetes 6/4/3 with watch: takeover ${(sinceRenew - 6000).toFixed(0)} ms after expiry`)
})

t.test('the watch resumes when the server ends it, lists afresh after 410 Expired, and comes back after a partition', async (t) => {
  const { api, a, b, recB } = await pair(t)
  await waitUntil(() => api.openWatches >= 2, 3000, 'both watching')
  const watchesOf = (token: string) => api.requests.filter((r) => r.token === token && isWatch(r))
  const before = watchesOf('pod-b').length
  api.endWatches()
  await waitUntil(() => watchesOf('pod-b').length > before, 8000, 'b watches again')
  t.match(watchesOf('pod-b').at(-1)!.path, /resourceVersion=\d+/, 'resumed from the last resourceVersion it saw')
  // The history is compacted past what b saw: resuming fails with 410, and
  // the elector watches again without a version.
  const compacted = watchesOf('pod-b').length
  api.endWatches()
  const endedAt = monotonicNow()
  await waitUntil(() => api.requests.some((r) => r.token === 'pod-a' && r.method === 'PUT' && r.outcome === 200 && r.at > endedAt), 5000, 'a renews meanwhile')
  api.compactHistory()
  await waitUntil(() => watchesOf('pod-b').slice(compacted).some((r) => !/resourceVersion=\d/.test(r.path)), 12_000, 'b watches from scratch')
  t.ok(watchesOf('pod-b').slice(compacted).some((r) => /resourceVersion=\d/.test(r.path)), 'after trying to resume first (answered 410 Expired)')
  // A partition holds b's watch; after it heals, b watches again.
  const heal = api.partition('pod-b')
  api.endWatches()
  await sleep(500)
  const held = watchesOf('pod-b').length
  heal()
  await waitUntil(() => watchesOf('pod-b').slice(held).some((r) => r.outcome === 200), 8000, 'b watches after the partition')
  await waitUntil(() => api.openWatches >= 2, 8000, 'both watching again')
  // And it still works: a release is taken at once.
  const stoppedAt = monotonicNow()
  await a.stop()
  await waitUntil(() => b.isLeader, 8000, 'b elected')
  t.ok(recB.of('elected')[0]!.at - stoppedAt < 500, `b elected ${(recB.of('elected')[0]!.at - stoppedAt).toFixed(1)} ms after the stop`)
})

t.test('a deleted Lease is re-created by a follower at once', async (t) => {
  const { api, a, b } = await pair(t)
  await waitUntil(() => api.openWatches >= 2, 3000, 'b watching')
  await a.stop() // released, then deleted by someone: a follower must not wait for a poll
  await waitUntil(() => b.isLeader, 2000, 'b takes the released Lease')
  await b.stop()
  await a.start()
  await waitUntil(() => a.isLeader, 5000, 'a leads again')
  await b.start()
  await waitUntil(() => api.requests.filter((r) => r.token === 'pod-b' && isWatch(r) && r.outcome === 200).length >= 2, 5000, 'b watching again')
  await sleep(200)
  const deletedAt = monotonicNow()
  api.deleteLease(NAMESPACE, LEASE)
  // Both race to create it; whoever wins, it exists again within a round trip or two.
  await waitUntil(() => api.lease(NAMESPACE, LEASE) !== undefined, 1000, 'the Lease exists again')
  const createdAt = api.requests.find((r) => r.method === 'POST' && r.at >= deletedAt && r.outcome === 201)!.at
  t.ok(createdAt - deletedAt < 500, `re-created ${(createdAt - deletedAt).toFixed(1)} ms after the deletion`)
})

t.test('stop closes the watch; watch: false and a bare client poll only', async (t) => {
  const { api, a, b } = await pair(t)
  await waitUntil(() => api.openWatches >= 2, 3000, 'both watching')
  await Promise.all([a.stop(), b.stop()])
  await waitUntil(() => api.openWatches === 0, 2000, 'no watch left open at the server')

  const polling = await kubeCandidate(api, 'pod-c', { ...timing, watch: false })
  t.teardown(() => polling.stop())
  await polling.start()
  await waitUntil(() => polling.isLeader, 3000, 'c elected')
  await sleep(300)
  t.equal(api.requests.filter((r) => r.token === 'pod-c' && isWatch(r)).length, 0, 'watch: false never watches')
  await polling.stop()
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
