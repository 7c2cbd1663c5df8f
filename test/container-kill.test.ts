// Every process of the leader's container killed at once — the Node process
// and its guard, as kubelet, a liveness restart or a cgroup-wide OOM kill do
// it — while its network namespace lives on. Each replica runs in its own
// cgroup v2 group; the test freezes the leader's group (so its guard cannot
// act in the microseconds it outlives Node) and writes 1 to its cgroup.kill. Nobody is
// left to remove the VIP but the kernel, through the VIP's lifetime. The
// kernel is the witness: address monitors in every namespace (the stale VIP
// must be gone before the successor adds it), the worker's arping (exactly
// one MAC answers) and its neighbour entry.
import t, { type Test } from 'tap'
import { monotonicNow } from '../src/clock'
import { Lab, namespaceTestOptions } from './lab/lab'
import { answeringMacs, containerKillRound } from './lab/container-kill'
import { VIP, switchedReplicas } from './lab/topologies'
import { cgroupTestOptions } from './support/cgroup'
import { EtcdServer, etcdTestOptions } from './support/etcd-runner'
import { fakeApiKubeconfig } from './support/fake-lease-api'
import { ReplicaProcess } from './support/replica-process'
import { tempDir } from './support/temp'
import { sleep, waitFor } from './support/wait'

const nsOptions = { ...namespaceTestOptions(), ...cgroupTestOptions() }

async function containerKill(t: Test, replicaArgs: string[], count: number, limitMs: number, env: NodeJS.ProcessEnv = {}) {
  const r = await containerKillRound(replicaArgs, count, limitMs, env)
  t.same(r.macsBefore, [r.leaderMac], 'before: one MAC answers, the leader')
  t.ok(r.guardDied, 'the guard died with the container')
  t.ok(r.staleGoneMs < r.takeoverMs, `the stale VIP was gone ${(r.takeoverMs - r.staleGoneMs).toFixed(0)} ms before the successor added it (gone at +${r.staleGoneMs.toFixed(0)} ms, added at +${r.takeoverMs.toFixed(0)} ms)`)
  t.equal(r.mostHolders, 1, 'no instant with the VIP on two replicas')
  t.ok(r.takeoverMs < limitMs, `the successor holds it within the bound (${r.takeoverMs.toFixed(0)} < ${limitMs} ms)`)
  t.notOk(r.leftBehind, 'the dead namespace has no VIP')
  t.same(r.macsAfter, [r.successorMac], 'after: exactly one MAC answers, the successor')
  return r
}

t.test('file lock: a whole-container kill of the leader', nsOptions, async (t) => {
  const lock = `${tempDir('vip-lock-')}/vip.lock`
  // The dead holder's record says until when its VIP may live: the successor
  // waits for that (≤ leaseMs 4000 after its last renewal), and the kernel's
  // deletion comes before it.
  await containerKill(t, ['--lock', lock], 2, 4000 + 500)
})

t.test('etcd (TTL 5 s, the shortest supported): a whole-container kill of the leader', { ...nsOptions, ...etcdTestOptions() }, async (t) => {
  const etcd = await EtcdServer.start()
  t.teardown(() => etcd.stop())
  await containerKill(t, ['--etcd', etcd.clientUrl, '--ttl', '5'], 2, 5000 + 1500)
})

t.test('etcd (TTL 10 s, the default): a whole-container kill of the leader', { ...nsOptions, ...etcdTestOptions() }, async (t) => {
  const etcd = await EtcdServer.start()
  t.teardown(() => etcd.stop())
  await containerKill(t, ['--etcd', etcd.clientUrl, '--ttl', '10'], 2, 10_000 + 1500)
})

t.test('Kubernetes Lease (stand-in, 6/4/1 s): a whole-container kill of the leader', nsOptions, async (t) => {
  const kubeconfig = await fakeApiKubeconfig(t)
  // Followers act at their first poll after the lease expired on their clock.
  await containerKill(t, ['--kube', 'vcluster-a/vcluster-a-vip', '--kube-timing', '6/4/1'], 2, 6000 + 2 * 1200 + 1000, { KUBECONFIG: kubeconfig })
})

t.test('static: a single replica killed whole leaves no VIP behind', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1], worker } = switchedReplicas(lab, 1)
  const replica = await ReplicaProcess.start(cp1, ['--identity', cp1.name], 20000, { fromRoot: true, cgroup: true })
  t.teardown(() => replica.stop())
  await waitFor('the VIP', () => cp1.addresses('eth0').includes(`${VIP}/32`), 5000)
  const killedAt = monotonicNow()
  await replica.killContainer(5000, { frozen: true })
  // StaticElector's default lease is 4 s: the lifetime given ends 2 s before its deadline at the latest.
  await waitFor('the VIP deleted by the kernel', () => !cp1.addresses('eth0').includes(`${VIP}/32`), 4000 + 500, 20)
  const goneMs = monotonicNow() - killedAt
  t.ok(goneMs <= 4000 + 500, `gone ${goneMs.toFixed(0)} ms after the kill`)
  await sleep(200)
  t.same(await answeringMacs(worker, 2), [], 'nobody answers for the VIP')
})
