// Runs the product benchmarks one after another on this machine (as root) and
// prints a summary to paste into docs/benchmarks.md. Each benchmark measures
// its comparison side by side in the same run; figures are medians.
//
//   npm run bench                    # all
//   npm run bench -- takeover        # some: netlink takeover failover lifetime soak
// The elector failover benchmark is separate (minutes long): bench/electors.bench.ts.
// Not in the default set, by name only (each also runs alone with --help):
// `rolling` (SIGTERM handover, three electors and keepalived, ROLLING_ROUNDS=10, ~2 min),
// `kube-crash` (Kubernetes crash failover at 15/10/2 s, KUBE_CRASH_ROUNDS=5, ~2 min;
// KUBE_CRASH_KILL=sigkill,cgroup), `scale` (1-1,000 VIPs, SCALE_ROUNDS=5).
// `lifetime` (the kernel's deletion of expired addresses, docs/address-lifetime.md)
// takes LIFETIME_SECONDS (150) plus setup; LIFETIME_ROUNDS=N runs N rounds per namespace instead.
// `soak` runs SOAK_FLIPS (10000) leadership flips and SOAK_CYCLES (1000) start/stop
// cycles, about two minutes; its RSS-plateau comparison is `bench/soak.bench.ts --compare`.
import { addressLifetimeBench, formatAddressLifetime, saveAddressLifetime } from './address-lifetime.bench'
import { failoverBench } from './failover.bench'
import { formatNetlinkBench, runNetlinkBench } from './netlink.bench'
import { formatSoak, soakBench, soakOptions } from './soak.bench'
import { formatKubeCrash, kubeCrashBench } from './kube-crash.bench'
import { formatRollingUpdate, rollingUpdateBench } from './rolling-update.bench'
import { formatScale, scaleBench } from './scale.bench'
import { fmt } from './stats'
import { takeoverBench } from './takeover.bench'

async function main(): Promise<void> {
  const wanted = new Set(process.argv.slice(2))
  const all = wanted.size === 0
  console.log(`# vip-announcer benchmarks, ${new Date().toISOString()}, ${require('node:os').cpus().length} CPUs, Node ${process.version}`)
  if (all || wanted.has('netlink')) {
    console.log('\n## netlink address add+delete: addon vs spawning ip(8)')
    console.log(formatNetlinkBench(await runNetlinkBench()))
  }
  if (all || wanted.has('takeover')) {
    const r = await takeoverBench(Number(process.env.TAKEOVER_RUNS ?? 200))
    console.log(`\n## takeover (n=${r.captured.n}): elected -> first gratuitous ARP captured in a peer namespace`)
    console.log(`median ${fmt(r.captured.median)}, p90 ${fmt(r.captured.p90)}, p99 ${fmt(r.captured.p99)}; announcer's own elected -> first frame sent: median ${fmt(r.internal.median)}, p99 ${fmt(r.internal.p99)}`)
  }
  if (all || wanted.has('failover')) {
    const r = await failoverBench(Number(process.env.FAILOVER_RUNS ?? 20), Number(process.env.KEEPALIVED_RUNS ?? 5))
    const row = (name: string, s: typeof r.vipAnnouncer) =>
      `| ${name} | ${s.runs} | ${fmt(s.frame.median)} | ${fmt(s.frame.p90)} | ${fmt(s.neigh.median)} | ${fmt(s.neigh.p90)} | ${s.leftBehind}/${s.runs} |`
    console.log('\n## failover: SIGKILL of the leader -> the worker hears the new leader')
    console.log('| peer | runs | first GARP arrives at worker (median) | p90 | worker neighbour entry has the new MAC (median) | p90 | VIP left on killed replica |')
    console.log('|---|---|---|---|---|---|---|')
    console.log(row('vip-announcer, FileLockElector', r.vipAnnouncer))
    const phase = (s: typeof r.phases.fenced) => `median ${fmt(s.median)}, p90 ${fmt(s.p90)}`
    console.log(`\nvip-announcer, from SIGKILL: VIP deleted by the guard ${phase(r.phases.fenced)}; successor elected ${phase(r.phases.elected)}; successor's first frame sent ${phase(r.phases.sent)}\n`)
    if (r.keepalived) {
      console.log(row('keepalived, VRRP defaults', r.keepalived))
      console.log(`ratio (medians): keepalived / vip-announcer = ${(r.keepalived.frame.median / r.vipAnnouncer.frame.median).toFixed(0)}x (first GARP), ${(r.keepalived.neigh.median / r.vipAnnouncer.neigh.median).toFixed(0)}x (neighbour entry)`)
    }
  }
  if (all || wanted.has('lifetime')) {
    const rounds = process.env.LIFETIME_ROUNDS ? Number(process.env.LIFETIME_ROUNDS) : undefined
    const r = await addressLifetimeBench({ seconds: Number(process.env.LIFETIME_SECONDS ?? 150), rounds })
    saveAddressLifetime(r)
    console.log('\n## address lifetime: how late the kernel deletes an address whose valid_lft ran out (docs/address-lifetime.md)')
    console.log(formatAddressLifetime(r))
  }
  if (all || wanted.has('soak')) {
    const r = await soakBench(soakOptions({ flips: Number(process.env.SOAK_FLIPS ?? 10_000), cycles: Number(process.env.SOAK_CYCLES ?? 1000) }))
    console.log('\n## soak: leadership flips and start/stop cycles, memory, descriptors and guards sampled (docs/reliability.md)')
    console.log(formatSoak(r))
  }
  if (wanted.has('rolling')) {
    const rounds = Number(process.env.ROLLING_ROUNDS ?? 10)
    console.log(`\n## rolling update: SIGTERM of the leader -> the worker's neighbour entry on the new MAC, ${rounds} rounds each, interleaved`)
    console.log(formatRollingUpdate(await rollingUpdateBench(rounds)))
  }
  if (wanted.has('kube-crash')) {
    const rounds = Number(process.env.KUBE_CRASH_ROUNDS ?? 5)
    const kills = (process.env.KUBE_CRASH_KILL ?? 'sigkill').split(',') as Array<'sigkill' | 'cgroup'>
    console.log(`\n## Kubernetes crash failover at 15/10/2 s (stand-in API server), ${rounds} rounds per kill mode`)
    console.log(formatKubeCrash(await kubeCrashBench(rounds, kills, [15, 10, 2])))
  }
  if (wanted.has('scale')) {
    const rounds = Number(process.env.SCALE_ROUNDS ?? 5)
    console.log(`\n## scale: one announcer, N VIPs of one family, ${rounds} rounds each, interleaved`)
    console.log(formatScale(await scaleBench(rounds)))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
