// Failover times of the multi-host electors, measured side by side in one run:
// how long after the leader's stop() (release) or death (renewals just stop,
// nothing released) another candidate is elected.
//
//   node --import tsx bench/electors.bench.ts            # all scenarios
//   BENCH_REPS=2 BENCH_ONLY=etcd node --import tsx bench/electors.bench.ts
//
// Kubernetes runs through the real @kubernetes/client-node against the fake
// Lease API of the tests (it stands in for an API server; latency is loopback);
// etcd runs against a real /usr/bin/etcd. Results: stdout and
// bench/results/electors.json.
import fs from 'node:fs'
import path from 'node:path'
import { monotonicNow } from '../src/clock'
import type { LeaderElector } from '../src/elector'
import { EtcdElector } from '../src/electors/etcd'
import { EtcdServer, etcdAvailable } from '../test/support/etcd-runner'
import { FakeLeaseApi } from '../test/support/fake-lease-api'
import { kubeCandidate } from '../test/support/kube'
import { uniqueName } from '../test/support/etcd'

const reps = Number(process.env.BENCH_REPS ?? 3)
const only = process.env.BENCH_ONLY

interface Scenario {
  name: string
  /** The timing the result is compared with, for the ratio column. */
  referenceMs: number
  referenceLabel: string
  run(): Promise<number>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const until = monotonicNow() + timeoutMs
  while (!predicate()) {
    if (monotonicNow() > until) throw new Error(`timed out after ${timeoutMs} ms`)
    await sleep(2)
  }
}

/**
 * Leader a, follower b; a stops (releasing or not); ms until b is elected.
 * The stop comes at a random phase of the follower's polling (observeMs plus
 * up to jitterMs), so repetitions sample that phase instead of repeating one.
 */
async function failover(a: LeaderElector, b: LeaderElector, observeMs: number, jitterMs: number): Promise<number> {
  let electedAt = 0
  b.on('elected', () => (electedAt = monotonicNow()))
  for (const e of [a, b]) e.on('error', () => undefined)
  try {
    await a.start()
    await waitFor(() => a.isLeader, 30_000)
    await b.start()
    await sleep(observeMs + Math.random() * jitterMs) // the follower has seen the leader renew
    const stoppedAt = monotonicNow()
    await a.stop()
    await waitFor(() => electedAt > 0, 60_000)
    return electedAt - stoppedAt
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

/** `watch: false`: followers poll only, as before they watched (the A/B of issue 9, item 2). */
function kube(lease: number, renew: number, retry: number, release: boolean, watch = true): Scenario {
  return {
    name: `kubernetes ${lease}/${renew}/${retry} s ${release ? 'stop' : 'death'}${watch ? '' : ' (poll only)'}`,
    referenceMs: (release ? retry : lease) * 1000,
    referenceLabel: release ? 'retry period' : 'lease duration',
    async run() {
      const api = new FakeLeaseApi()
      await api.listen()
      try {
        const timing = { leaseDurationSeconds: lease, renewDeadlineSeconds: renew, retryPeriodSeconds: retry, watch }
        const a = await kubeCandidate(api, 'pod-a', { ...timing, releaseOnStop: release })
        const b = await kubeCandidate(api, 'pod-b', timing)
        return await failover(a, b, 2.5 * retry * 1000, 1.2 * retry * 1000)
      } finally {
        await api.close()
      }
    },
  }
}

function etcd(server: () => EtcdServer, ttl: number, release: boolean): Scenario {
  return {
    name: `etcd TTL ${ttl} s ${release ? 'stop' : 'death'}`,
    referenceMs: release ? Math.round((ttl * 1000) / 3) : ttl * 1000,
    referenceLabel: release ? 'keep-alive interval' : 'TTL',
    run() {
      const name = uniqueName('bench')
      const make = (identity: string) =>
        new EtcdElector({ endpoints: [server().clientUrl], name, identity, ttlSeconds: ttl, releaseOnStop: release })
      return failover(make('pod-a'), make('pod-b'), 1000, (ttl * 1000) / 3)
    },
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function main(): Promise<void> {
  let etcdServer: EtcdServer | undefined
  const scenarios: Scenario[] = [
    kube(15, 10, 2, true),
    kube(15, 10, 2, true, false),
    kube(15, 10, 2, false),
    kube(15, 10, 2, false, false),
    kube(5, 3, 1, true),
    kube(5, 3, 1, true, false),
    kube(5, 3, 1, false),
    kube(5, 3, 1, false, false),
  ]
  if (etcdAvailable()) {
    scenarios.push(etcd(() => etcdServer!, 2, true), etcd(() => etcdServer!, 2, false))
  } else console.log('no etcd binary: etcd scenarios left out')
  const chosen = scenarios.filter((s) => !only || s.name.includes(only))
  if (chosen.some((s) => s.name.startsWith('etcd'))) etcdServer = await EtcdServer.start()
  const results: { name: string; samplesMs: number[]; medianMs: number; ratio: number; reference: string }[] = []
  try {
    // Interleave repetitions so slow drift of the machine affects all alike.
    const samples = new Map<Scenario, number[]>(chosen.map((s) => [s, []]))
    for (let rep = 0; rep < reps; rep++) {
      for (const scenario of chosen) {
        const ms = await scenario.run()
        samples.get(scenario)!.push(ms)
        console.log(`  ${scenario.name} #${rep + 1}: ${ms.toFixed(0)} ms`)
      }
    }
    for (const scenario of chosen) {
      const values = samples.get(scenario)!
      const med = median(values)
      results.push({
        name: scenario.name,
        samplesMs: values.map((v) => Math.round(v)),
        medianMs: Math.round(med),
        ratio: Math.round((med / scenario.referenceMs) * 100) / 100,
        reference: `${scenario.referenceLabel} ${scenario.referenceMs} ms`,
      })
    }
  } finally {
    await etcdServer?.stop()
  }
  console.log(`\nfailover: median of ${reps} (ms), and the median as a multiple of the reference timing`)
  for (const r of results) {
    console.log(
      `${r.name.padEnd(34)} median ${String(r.medianMs).padStart(6)}  min ${String(Math.min(...r.samplesMs)).padStart(6)}  max ${String(Math.max(...r.samplesMs)).padStart(6)}  = ${r.ratio.toFixed(2)} × ${r.reference}`,
    )
  }
  const out = path.join(__dirname, 'results')
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, 'electors.json'), JSON.stringify({ reps, node: process.version, results }, null, 2) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
