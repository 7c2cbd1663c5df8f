// Every process of the leader's container killed at once (cgroup.kill of the
// replica's own cgroup: Node and guard together; the namespace lives on):
// when does the stale VIP disappear from the dead namespace, when does the
// successor add it, and how many MACs answer the worker afterwards.
// vip-announcer with each elector, and keepalived (VRRP defaults, both of its
// processes in a cgroup, killed the same way) in the same run. The group is
// frozen before the kill, so no process (the guard) runs another instruction:
// the kernel's lifetime alone removes the VIP.
//
//   node --import tsx bench/container-kill.bench.ts [rounds]     (as root; default 3)
import { spawn } from 'node:child_process'
import { monotonicNow } from '../src/clock'
import { Lab } from '../test/lab/lab'
import { answeringMacs, containerKillRound, type ContainerKillRound } from '../test/lab/container-kill'
import { VIP, switchedReplicas } from '../test/lab/topologies'
import { createCgroup, inCgroup } from '../test/support/cgroup'
import { EtcdServer } from '../test/support/etcd-runner'
import { fakeApiKubeconfig } from '../test/support/fake-lease-api'
import { tempDir } from '../test/support/temp'
import { sleep, waitFor } from '../test/support/wait'
import { hasKeepalived, keepalivedConfigFile } from './failover.bench'
import { fmt, progress, summary } from './stats'
import path from 'node:path'

interface Row {
  name: string
  rounds: ContainerKillRound[]
}

async function keepalivedRound(): Promise<ContainerKillRound> {
  const lab = new Lab()
  const dir = tempDir('vip-keepalived-')
  const groups = [createCgroup('vip-bench-ka'), createCgroup('vip-bench-ka')]
  try {
    const { replicas, worker } = switchedReplicas(lab, 2)
    replicas.forEach((host, i) => {
      const conf = keepalivedConfigFile(dir, host.name, 100 - i * 10)
      const argv = inCgroup(groups[i], ['ip', 'netns', 'exec', host.name, 'keepalived', '--dont-fork', '--log-console', '--vrrp', '-f', conf, '-p', path.join(dir, `${host.name}.pid`), '-r', path.join(dir, `${host.name}.vrrp.pid`)])
      spawn(argv[0], argv.slice(1), { stdio: 'ignore' })
    })
    const leader = await waitFor('keepalived master', () => replicas.find((h) => h.addresses('eth0').includes(`${VIP}/32`)), 15000)
    const other = replicas.find((h) => h !== leader)!
    await sleep(1500)
    const macsBefore = await answeringMacs(worker)
    const killedAt = monotonicNow()
    await groups[replicas.indexOf(leader)].kill(5000, { frozen: true })
    const added = await waitFor('backup takes over', () => other.addresses('eth0').includes(`${VIP}/32`) && monotonicNow(), 15000, 10)
    await sleep(2000) // the stale VIP has every chance to go
    worker.run('ping', '-c1', '-W1', VIP)
    const leftBehind = leader.addresses('eth0').includes(`${VIP}/32`)
    return {
      leaderMac: leader.mac('eth0'),
      macsBefore,
      guardDied: true,
      staleGoneMs: leftBehind ? Infinity : NaN,
      takeoverMs: (added as number) - killedAt,
      successorMac: other.mac('eth0'),
      mostHolders: leftBehind ? 2 : 1,
      macsAfter: await answeringMacs(worker),
      leftBehind,
    }
  } finally {
    await Promise.all(groups.map((g) => g.remove()))
    lab.destroy()
  }
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3)
  const etcd = await EtcdServer.start()
  const cleanups: Array<() => unknown> = []
  const kubeconfig = await fakeApiKubeconfig({ teardown: (fn: () => unknown) => void cleanups.push(fn) })
  const configs: Array<{ name: string; args: string[]; limit: number; env?: NodeJS.ProcessEnv }> = [
    { name: 'vip-announcer, FileLockElector (lease 4 s)', args: ['--lock', path.join(tempDir('vip-lock-'), 'vip.lock')], limit: 4500 },
    { name: 'vip-announcer, EtcdElector (TTL 5 s)', args: ['--etcd', etcd.clientUrl, '--ttl', '5'], limit: 6500 },
    { name: 'vip-announcer, KubernetesLeaseElector (stand-in, 6/4/1 s)', args: ['--kube', 'vcluster-a/vcluster-a-vip', '--kube-timing', '6/4/1'], limit: 9400, env: { KUBECONFIG: kubeconfig } },
  ]
  const rows: Row[] = configs.map((c) => ({ name: c.name, rounds: [] }))
  const ka: Row = { name: 'keepalived (VRRP defaults)', rounds: [] }
  try {
    // Interleaved: one round of each per pass, so drift on this shared machine hits all alike.
    for (let i = 0; i < rounds; i++) {
      for (const [j, c] of configs.entries()) rows[j].rounds.push(await containerKillRound(c.args, 2, c.limit, c.env))
      if (hasKeepalived()) ka.rounds.push(await keepalivedRound())
      progress('container kill', i + 1, rounds)
    }
  } finally {
    await etcd.stop()
    for (const cleanup of cleanups) await cleanup()
  }
  console.log(`\n## Whole-container kill of the leader (cgroup.freeze + cgroup.kill: every process, namespace alive), ${rounds} rounds each, interleaved`)
  console.log('| peer | stale VIP gone after (median / max) | successor adds it after (median / max) | gap, gone → added (min) | rounds with two holders at once | MACs answering the worker after (max) |')
  console.log('|---|---|---|---|---|---|')
  for (const row of [...rows, ka]) {
    if (row.rounds.length === 0) continue
    const gone = row.rounds.filter((r) => Number.isFinite(r.staleGoneMs)).map((r) => r.staleGoneMs)
    const add = summary(row.rounds.map((r) => r.takeoverMs))
    const gaps = row.rounds.filter((r) => Number.isFinite(r.staleGoneMs)).map((r) => r.takeoverMs - r.staleGoneMs)
    const goneText = gone.length === row.rounds.length ? `${fmt(summary(gone).median)} / ${fmt(summary(gone).max)}` : `never (${row.rounds.length - gone.length}/${row.rounds.length} left behind)`
    const gapText = gaps.length > 0 ? fmt(Math.min(...gaps)) : '—'
    console.log(`| ${row.name} | ${goneText} | ${fmt(add.median)} / ${fmt(add.max)} | ${gapText} | ${row.rounds.filter((r) => r.mostHolders > 1).length}/${row.rounds.length} | ${Math.max(...row.rounds.map((r) => r.macsAfter.length))} |`)
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
