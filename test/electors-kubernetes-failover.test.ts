// Failover times of KubernetesLeaseElector at lease 5 s / renew deadline 3 s /
// retry 1 s, through the real client against the fake Lease API: after the
// leader's stop() (release) and after its death (no release: its renewals
// just stop, as when the process or its node dies). The 15/10/2 defaults are
// measured in bench/electors.bench.ts.
import t from 'tap'
import { monotonicNow } from '../src/clock'
import { FakeLeaseApi } from './support/fake-lease-api'
import { kubeCandidate } from './support/kube'
import { Recorder, sleep, waitUntil } from './support/recorder'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()
const timing = { leaseDurationSeconds: 5, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 }

async function measure(t: tap.Test, release: boolean): Promise<{ takeoverMs: number; gapAfterDeadlineMs: number }> {
  const api = new FakeLeaseApi()
  await api.listen()
  t.teardown(() => api.close())
  const a = await kubeCandidate(api, 'pod-a', { ...timing, releaseOnStop: release })
  const b = await kubeCandidate(api, 'pod-b', timing)
  const recA = new Recorder(a)
  const recB = new Recorder(b)
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await waitUntil(() => a.isLeader, 3000, 'a elected')
  await b.start()
  await sleep(2500) // b has seen several renewals
  const deadline = recA.deadline!
  const stoppedAt = monotonicNow()
  await a.stop()
  await waitUntil(() => b.isLeader, 10_000, 'b elected')
  const elected = recB.of('elected')[0]!
  t.ok(elected.at >= (release ? stoppedAt : deadline), release ? 'b elected after the stop' : 'b elected after a’s deadline')
  return { takeoverMs: elected.at - stoppedAt, gapAfterDeadlineMs: elected.at - deadline }
}

t.test('leader stop: a follower takes over within about one retry period', async (t) => {
  const { takeoverMs } = await measure(t, true)
  t.ok(takeoverMs < 1200 + 300, `takeover ${Math.round(takeoverMs)} ms after stop (retry 1 s, jitter ≤ 20 %)`)
  t.comment(`kubernetes 5/3/1: takeover after leader stop ${takeoverMs.toFixed(0)} ms`)
})

t.test('leader death: a follower takes over about one lease duration after the last renew it saw', async (t) => {
  const { takeoverMs, gapAfterDeadlineMs } = await measure(t, false)
  // The follower saw the last renew up to one (jittered) poll after it was
  // made, waits 5 s from then, and notices at its next poll.
  t.ok(takeoverMs > 5000 - 1000 && takeoverMs < 5000 + 2 * 1200 + 300, `takeover ${Math.round(takeoverMs)} ms after death (lease 5 s)`)
  t.ok(gapAfterDeadlineMs > 0, `${Math.round(gapAfterDeadlineMs)} ms after the dead leader's deadline`)
  t.comment(`kubernetes 5/3/1: takeover after leader death ${takeoverMs.toFixed(0)} ms`)
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
