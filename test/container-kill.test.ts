// Every process of the leader's container killed at once — the Node process
// and its guard, as kubelet, a liveness restart or a cgroup-wide OOM kill do
// it — while its network namespace lives on. Each replica runs in its own
// cgroup v2 group; the test writes 1 to the leader's cgroup.kill. Nobody is
// left to remove the VIP but the kernel, through the VIP's lifetime. The
// kernel is the witness: address monitors in every namespace (the stale VIP
// must be gone before the successor adds it), the worker's arping (exactly
// one MAC answers) and its neighbour entry.
import t, { type Test } from 'tap'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, switchedReplicas } from './lab/topologies'
import { EtcdServer, etcdTestOptions } from './support/etcd-runner'
import { fakeApiKubeconfig } from './support/fake-lease-api'
import { mostHoldersAtOnce } from './support/holders'
import { ReplicaProcess } from './support/replica-process'
import { tempDir } from './support/temp'
import { sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()

/** The distinct MACs that answer the worker's ARP requests for the VIP. */
function answeringMacs(worker: LabHost, count = 3): string[] {
  const out = worker.run('sh', '-c', `arping -c ${count} -w ${count + 1} -i eth0 ${VIP} 2>&1 || true`)
  return [...new Set([...out.matchAll(/bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5})/gi)].map((m) => m[1].toLowerCase()))]
}

interface Figures {
  staleGoneMs: number
  takeoverMs: number
}

async function containerKill(t: Test, replicaArgs: string[], count: number, limitMs: number, env: NodeJS.ProcessEnv = {}): Promise<Figures> {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas, worker } = switchedReplicas(lab, count)
  const events: Array<{ host: LabHost; action: string; at: number }> = []
  const monitors = replicas.map((host) => {
    const monitor = LinkMonitor.open({ netns: host.path })
    monitor.on('address', (e) => {
      if (e.address === VIP) events.push({ host, action: e.action, at: monotonicNow() })
    })
    return monitor
  })
  t.teardown(() => monitors.forEach((m) => m.close()))
  const procs: ReplicaProcess[] = []
  t.teardown(() => Promise.all(procs.map((p) => p.stop())))
  for (const host of replicas) {
    procs.push(await ReplicaProcess.start(host, [...replicaArgs, '--identity', host.name], 20000, { fromRoot: true, env, cgroup: true }))
  }
  const holder = () => replicas.filter((h) => h.addresses('eth0').includes(`${VIP}/32`))
  const leader = await waitFor('a leader', () => (holder().length === 1 ? holder()[0] : undefined), 20000)
  const leaderProc = procs[replicas.indexOf(leader)]
  await waitFor("the leader's guard", () => leaderProc.guardPid(), 3000)
  t.same(answeringMacs(worker), [leader.mac('eth0')], 'before: one MAC, the leader')

  const killedAt = monotonicNow()
  await leaderProc.killContainer()
  t.notOk(leaderProc.guardPid(), 'the guard died with the container')
  t.ok(leader.addresses('eth0').includes(`${VIP}/32`) || events.some((e) => e.host === leader && e.action === 'delete' && e.at > killedAt), 'the namespace lives on (the VIP still there, or already deleted by the kernel)')

  const removed = await waitFor('the stale VIP deleted by the kernel', () => events.find((e) => e.host === leader && e.action === 'delete' && e.at > killedAt), limitMs + 2000, 10)
  const added = await waitFor('a successor', () => events.find((e) => e.host !== leader && e.action === 'add' && e.at > killedAt), limitMs + 4000, 10)
  const figures = { staleGoneMs: removed.at - killedAt, takeoverMs: added.at - killedAt }
  t.ok(removed.at < added.at, `the stale VIP was gone ${(added.at - removed.at).toFixed(0)} ms before the successor added it (gone at +${figures.staleGoneMs.toFixed(0)} ms, added at +${figures.takeoverMs.toFixed(0)} ms)`)
  t.equal(mostHoldersAtOnce(events), 1, 'no instant with the VIP on two replicas')
  t.ok(figures.takeoverMs < limitMs, `the successor holds it within the bound (${figures.takeoverMs.toFixed(0)} < ${limitMs} ms)`)
  t.notOk(leader.addresses('eth0').includes(`${VIP}/32`), 'the dead namespace has no VIP')
  worker.run('ping', '-c1', '-W1', VIP)
  t.same(answeringMacs(worker), [added.host.mac('eth0')], 'after: exactly one MAC answers, the successor')
  t.comment(`container kill → stale VIP gone ${figures.staleGoneMs.toFixed(0)} ms, successor added ${figures.takeoverMs.toFixed(0)} ms`)
  return figures
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
  await replica.killContainer()
  // StaticElector's default lease is 4 s: the lifetime given ends 2 s before its deadline at the latest.
  await waitFor('the VIP deleted by the kernel', () => !cp1.addresses('eth0').includes(`${VIP}/32`), 4000 + 500, 20)
  const goneMs = monotonicNow() - killedAt
  t.ok(goneMs <= 4000 + 500, `gone ${goneMs.toFixed(0)} ms after the kill`)
  await sleep(200)
  t.same(answeringMacs(worker, 2), [], 'nobody answers for the VIP')
})
