// The arithmetic of the VIP's kernel lifetime (src/kernel-lifetime.ts) and the
// announcer's refusal, at construction, of electors whose leases are too short
// for it. The kernel's side is in announcer-lifetime.test.ts.
import t from 'tap'
import { VipAnnouncer } from '../src/announcer'
import {
  EXPIRY_LATENESS_MS,
  MAX_LIFETIME_S,
  MIN_GRANT_MS,
  MIN_RENEWAL_HEADROOM_MS,
  REFRESH_TICK_MS,
  RENEWAL_SLACK_MS,
  EARLY_EXPIRY_MS,
  lifetimeFor,
  shouldRefresh,
  timingProblem,
} from '../src/kernel-lifetime'
import { StaticElector } from '../src/electors/static'
import { FileLockElector } from '../src/electors/file-lock'
import { EtcdElector } from '../src/electors/etcd'
import { KubernetesLeaseElector } from '../src/electors/kubernetes'
import { ManualElector } from './support/manual-elector'

t.test('the lifetime always ends, however late the kernel deletes, by the deadline', async (t) => {
  const now = 1_000_000
  for (let remaining = 0; remaining <= 20_000; remaining += 37) {
    const L = lifetimeFor(now + remaining, now)
    t.ok(Number.isInteger(L) && L >= 0 && L <= MAX_LIFETIME_S, `whole seconds within the cap (${remaining} ms left: ${L})`)
    if (L > 0) t.ok(now + L * 1000 + EXPIRY_LATENESS_MS <= now + remaining, `deleted by the deadline (${remaining} ms left, L ${L})`)
    else t.ok(remaining < MIN_GRANT_MS, `0 only when less than ${MIN_GRANT_MS} ms remain (${remaining})`)
  }
  t.equal(lifetimeFor(Infinity, now), Infinity, 'an unlimited lease: no lifetime')
  t.equal(lifetimeFor(now - 5, now), 0, 'a deadline in the past: none')
})

t.test('refreshes only when they move the expiry a second, or when it is near', async (t) => {
  t.notOk(shouldRefresh(5000, 5000, 2000), 'no move: no request')
  t.notOk(shouldRefresh(5000, 4000, 2000), 'never backwards')
  t.notOk(shouldRefresh(5000, 5500, 2000), 'half a second forward, expiry 3 s away: wait')
  t.ok(shouldRefresh(5000, 6000, 2000), 'a whole second forward')
  t.ok(shouldRefresh(5000, 5250, 4200), 'any move when the expiry is within a second')
})

t.test('in steady state a renewal always lands before the lifetime runs out', async (t) => {
  // Simulate the announcer's tick against a lease renewed every R, reaching
  // leaseMs, with the renewal arriving `late` ms after it is due: the
  // expiry must never pass before the next renewal moves the deadline.
  for (const [leaseMs, renewMs] of [[4000, 1000], [4500, 1667], [10_000, 2000], [3250, 500], [6000, 3475]]) {
    t.notOk(timingProblem({ leaseMs, renewIntervalMs: renewMs }), `${leaseMs}/${renewMs} is accepted`)
    const late = RENEWAL_SLACK_MS // as late as the minimum allows
    let deadline = leaseMs
    let expiry = lifetimeFor(deadline, 0) * 1000
    let nextRenewal = renewMs + late
    let ok = true
    for (let now = 0; now < 60_000; now += 1) {
      let renewed = false
      if (now >= nextRenewal) {
        deadline = Math.max(deadline, now - late + leaseMs)
        nextRenewal += renewMs
        renewed = true
      }
      if (now % REFRESH_TICK_MS === 0 || renewed) {
        const L = lifetimeFor(deadline, now)
        if (L > 0 && shouldRefresh(expiry, now + L * 1000, now)) expiry = now + L * 1000
      }
      if (now >= expiry - EARLY_EXPIRY_MS) ok = false // the kernel may delete a little early
      if (expiry + EXPIRY_LATENESS_MS > deadline) ok = false
    }
    t.ok(ok, `${leaseMs}/${renewMs}: no expiry before a renewal, none after the deadline`)
  }
  t.ok(timingProblem({ leaseMs: 6000, renewIntervalMs: 3476 }), 'one step shorter headroom is refused')
  t.equal(MIN_RENEWAL_HEADROOM_MS, EXPIRY_LATENESS_MS + REFRESH_TICK_MS + RENEWAL_SLACK_MS + EARLY_EXPIRY_MS)
})

t.test('timing too short for the kernel lifetime is refused with the reason', async (t) => {
  t.match(timingProblem({ leaseMs: 2000, renewIntervalMs: 500 }), /grants reach 2000 ms; .*at least 3250 ms/)
  t.match(timingProblem({ leaseMs: 3600, renewIntervalMs: 1333 }), /2267 ms left when the renewal is due; .*at least 2525 ms/)
  t.equal(timingProblem({ leaseMs: Infinity, renewIntervalMs: Infinity }), undefined)
})

t.test('the announcer refuses, at construction, an elector whose leases are too short', async (t) => {
  const make = (elector: ConstructorParameters<typeof VipAnnouncer>[0]['elector']) => () =>
    new VipAnnouncer({ vip: '192.0.2.100', interface: 'eth0', elector })
  const endpoints = ['http://127.0.0.1:1']
  t.throws(make(new EtcdElector({ endpoints, name: 'x', identity: 'a', ttlSeconds: 4 })), {
    name: 'RangeError',
    message: /^elector: its lease is too short for the VIP's kernel lifetime: .*2267 ms left/,
  })
  t.doesNotThrow(make(new EtcdElector({ endpoints, name: 'x', identity: 'a', ttlSeconds: 5 })), 'etcd TTL 5 s: the shortest')
  const kube = { namespace: 'default', name: 'vip', identity: 'a' }
  t.throws(make(new KubernetesLeaseElector({ ...kube, leaseDurationSeconds: 5, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 })), /grants reach 3000 ms/)
  t.doesNotThrow(make(new KubernetesLeaseElector({ ...kube, leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 })))
  t.doesNotThrow(make(new KubernetesLeaseElector(kube)), 'Kubernetes defaults 15/10/2')
  t.throws(make(new FileLockElector({ path: '/tmp/never-opened.lock', leaseMs: 2000 })), /grants reach 2000 ms/)
  t.doesNotThrow(make(new FileLockElector({ path: '/tmp/never-opened.lock' })), 'file lock defaults 4000/1000')
  t.doesNotThrow(make(new StaticElector()), 'static defaults 4000/1000')
  t.doesNotThrow(make(new StaticElector({ leaseMs: Infinity })), 'static without a lease: allowed, warned at takeover')
  t.doesNotThrow(make(new ManualElector()), 'an elector that states no timing is checked grant by grant')
})

t.test('StaticElector renews itself with a finite deadline', async (t) => {
  const elector = new StaticElector({ leaseMs: 300, renewIntervalMs: 50 })
  const leases: number[] = []
  elector.on('elected', (l) => leases.push(l.deadline))
  elector.on('renewed', (l) => leases.push(l.deadline))
  await elector.start()
  await new Promise((resolve) => setTimeout(resolve, 180))
  await elector.stop()
  t.ok(leases.length >= 3, `elected and renewed (${leases.length} grants)`)
  t.ok(leases.every((d, i) => Number.isFinite(d) && (i === 0 || d >= leases[i - 1])), 'finite deadlines that only move forward')
  const count = leases.length
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal(leases.length, count, 'no renewal after stop()')
  t.throws(() => new StaticElector({ leaseMs: 100, renewIntervalMs: 100 }), { name: 'RangeError', message: /^renewIntervalMs:/ })
  t.throws(() => new StaticElector({ leaseMs: Number.NaN }), { name: 'RangeError', message: /^leaseMs:/ })
})
