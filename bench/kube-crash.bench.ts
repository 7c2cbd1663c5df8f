// Kubernetes crash failover at the defaults (issue 9, part C): the leader's
// process dies without releasing the Lease (SIGKILL of the Node process, its
// guard surviving to fence; or `cgroup`: cgroup.freeze + cgroup.kill of the
// whole replica, guard included, so only the VIP's kernel lifetime removes
// it). KubernetesLeaseElector at leaseDuration 15 s / renewDeadline 10 s /
// retryPeriod 2 s against the stand-in API server (a process of its own, with
// watch semantics), two replica processes and a worker in namespaces.
//
// Per round, on this process's CLOCK_MONOTONIC: kill → the successor's VIP
// add (RTM_NEWADDR in its namespace) and → the worker's neighbour entry on
// the new MAC (RTM_NEWNEIGH), each also minus leaseDuration; and the overshoot
// a follower can control: the killed leader's last renewal accepted by the
// API server (its request log, same clock) → the successor's VIP, minus
// leaseDuration. Never two holders: the address notifications of both
// namespaces on one clock (most holders at once over the whole run), `ip addr`
// of both sampled every 100 ms from 0.5 s before the kill to 0.5 s after the
// worker's entry moved, and the MACs that answer the
// worker's arping afterwards.
//
//   node --import tsx bench/kube-crash.bench.ts [--rounds 5] [--kill sigkill,cgroup]
import { parseArgs } from 'node:util'
import { monotonicNow } from '../src/clock'
import { answeringMacs } from '../test/lab/container-kill'
import { mostHoldersAtOnce } from '../test/support/holders'
import { sleep } from '../test/support/wait'
import { LeaseApiProcess, ReplicaPair, sampleHolders, watchNeighbour } from './pair'
import { fmt, progress, summary } from './stats'

const HELP = `Usage: node --import tsx bench/kube-crash.bench.ts [options]   (as root)

KubernetesLeaseElector crash failover (stand-in API server): kill of the leader
-> the successor's VIP and the worker's neighbour entry, against leaseDuration;
never two holders.

  --rounds N       rounds per kill mode (default 5)
  --kill LIST      sigkill (the Node process; its guard fences) and/or cgroup
                   (the whole replica frozen and killed); default sigkill
  --timing L/R/P   lease/renew/retry seconds (default 15/10/2, the defaults)
  --help           this text
Progress on stderr, the table on stdout.`

type Kill = 'sigkill' | 'cgroup'

const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${fmt(Math.abs(ms))}`

interface Round {
  /** kill -> the stale VIP's deletion in the dead replica's namespace */
  goneMs: number
  /** kill -> the successor's add */
  addedMs: number
  /** kill -> the worker's entry on the new MAC */
  neighMs: number
  /** the killed leader's last accepted renewal -> the successor's add */
  sinceRenewMs: number
  /** the successor's elector 'elected', from the kill */
  electedMs: number
  sampledMost: number
  samples: number
  macsAfter: number
}

export async function kubeCrashBench(rounds: number, kills: Kill[], timing: [number, number, number]) {
  const [lease] = timing
  const api = await LeaseApiProcess.start()
  const pairs = new Map<Kill, ReplicaPair>()
  const results = new Map<Kill, Round[]>(kills.map((k) => [k, []]))
  const holders = new Map<Kill, number>()
  const requestLog: Awaited<ReturnType<LeaseApiProcess['requests']>> = []
  try {
    for (const kill of kills) {
      const pair = new ReplicaPair(['--kube', `vcluster-a/vip-${kill}`, '--kube-timing', timing.join('/')], { KUBECONFIG: api.kubeconfig })
      pairs.set(kill, pair)
      for (const host of pair.replicas) await pair.start(host, { cgroup: kill === 'cgroup' })
      await pair.leader()
    }
    for (let i = 0; i < rounds; i++) {
      for (const kill of kills) {
        const pair = pairs.get(kill)!
        const leader = await pair.leader()
        const next = pair.other(leader)
        const old = pair.procs.get(leader)!
        const successor = pair.procs.get(next)!
        const seenNext = successor.events.length
        await sleep(2000 + Math.random() * timing[2] * 1000) // the follower watching; a random phase of the renewals
        const neighbour = await watchNeighbour(pair, leader.mac('eth0'), next.mac('eth0'), (lease + 15) * 1000)
        // Sampling from before the kill until after the takeover, so each round's samples see the holder on both sides.
        const sampler = sampleHolders(pair.replicas)
        try {
          await sleep(500)
          const t0 = monotonicNow()
          if (kill === 'sigkill') old.kill('SIGKILL')
          else await old.killContainer(5000, { frozen: true })
          const gone = await pair.addressAfter(leader, 'delete', t0, (lease + 5) * 1000)
          const added = await pair.addressAfter(next, 'add', t0, (lease + 15) * 1000)
          const neighAt = await neighbour.changed
          await sleep(500)
          const sampled = await sampler.stop()
          requestLog.push(...(await api.requests()))
          const renewals = requestLog.filter((r) => r.method === 'PUT' && r.outcome === 200 && r.spec?.holderIdentity === leader.name && r.at < t0)
          if (renewals.length === 0) throw new Error(`no renewal by ${leader.name} in the API's log before the kill`)
          const lastRenew = Math.max(...renewals.map((r) => r.at))
          const elected = await successor.waitFor('elected', 5000, () => true, seenNext)
          const macs = await answeringMacs(pair.worker)
          const r: Round = {
            goneMs: gone.at - t0,
            addedMs: added.at - t0,
            neighMs: neighAt - t0,
            sinceRenewMs: added.at - lastRenew,
            electedMs: (elected.electedAt as number) - t0,
            sampledMost: sampled.most,
            samples: sampled.samples,
            macsAfter: macs.length,
          }
          results.get(kill)!.push(r)
          process.stderr.write(`  ${kill} #${i + 1}: stale VIP gone +${fmt(r.goneMs)}, successor +${fmt(r.addedMs)} (lease ${signed(r.addedMs - lease * 1000)}), since last renewal ${fmt(r.sinceRenewMs)}, worker +${fmt(r.neighMs)}, sampled holders max ${r.sampledMost} of ${r.samples}, MACs ${r.macsAfter}\n`)
        } finally {
          await neighbour.close()
          await sampler.stop()
          await old.exited()
          await pair.start(leader, { cgroup: kill === 'cgroup' })
        }
      }
      progress('kube crash', i + 1, rounds)
    }
    for (const [kill, pair] of pairs) holders.set(kill, mostHoldersAtOnce(pair.addressEvents))
  } finally {
    for (const pair of pairs.values()) await pair.close().catch((error) => console.error(error))
    await api.stop()
  }
  return kills.map((kill) => ({ kill, rounds: results.get(kill)!, mostHolders: holders.get(kill) ?? NaN, leaseMs: lease * 1000 }))
}

export function formatKubeCrash(rows: Awaited<ReturnType<typeof kubeCrashBench>>): string {
  const lines = [
    '| kill | N | stale VIP gone, median / max | kill → successor\'s VIP, median / p90 | the same − leaseDuration, median | kill → worker entry on new MAC, median / p90 | the same − leaseDuration, median | last renewal → successor\'s VIP − leaseDuration, median / max | most holders at once (notifications / ip addr samples) | MACs answering after (max) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of rows) {
    const pick = (f: (r: Round) => number) => summary(row.rounds.map(f))
    const gone = pick((r) => r.goneMs)
    const added = pick((r) => r.addedMs)
    const neigh = pick((r) => r.neighMs)
    const over = pick((r) => r.sinceRenewMs - row.leaseMs)
    lines.push(`| ${row.kill === 'sigkill' ? 'SIGKILL of the Node process (guard fences)' : 'cgroup.kill of the whole replica (kernel lifetime)'} | ${added.n} | ${fmt(gone.median)} / ${fmt(gone.max)} | ${fmt(added.median)} / ${fmt(added.p90)} | ${signed(added.median - row.leaseMs)} | ${fmt(neigh.median)} / ${fmt(neigh.p90)} | ${signed(neigh.median - row.leaseMs)} | ${signed(over.median)} / ${signed(over.max)} | ${row.mostHolders} / ${Math.max(...row.rounds.map((r) => r.sampledMost))} (${row.rounds.reduce((n, r) => n + r.samples, 0)} samples) | ${Math.max(...row.rounds.map((r) => r.macsAfter))} |`)
  }
  return lines.join('\n')
}

if (require.main === module) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, kill: { type: 'string', default: 'sigkill' }, timing: { type: 'string', default: '15/10/2' }, help: { type: 'boolean', default: false } } })
  if (values.help) {
    console.log(HELP)
  } else {
    const rounds = Number(values.rounds)
    const kills = values.kill!.split(',') as Kill[]
    const timing = values.timing!.split('/').map(Number) as [number, number, number]
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, got ${values.rounds}`)
    if (kills.some((k) => k !== 'sigkill' && k !== 'cgroup')) throw new Error(`--kill takes sigkill and/or cgroup, got ${values.kill}`)
    if (timing.length !== 3 || timing.some((t) => !(t > 0))) throw new Error(`--timing takes lease/renew/retry seconds, got ${values.timing}`)
    kubeCrashBench(rounds, kills, timing).then((rows) => {
      console.log(`# Kubernetes crash failover: ${timing.join('/')} s, stand-in API server, ${rounds} rounds per kill mode, interleaved; ${new Date().toISOString()}`)
      console.log(formatKubeCrash(rows))
    }, (error) => {
      console.error(error)
      process.exit(1)
    })
  }
}
