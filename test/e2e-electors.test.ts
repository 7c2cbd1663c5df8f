// End to end across "hosts": three replica processes, each managing the VIP in
// its own namespace on one bridge, agreeing through a real etcd or a stand-in
// Kubernetes API (test/support/fake-lease-api.ts). SIGKILL of the leader: the
// VIP must move to another replica within the lease time + 1 s (etcd; for
// Kubernetes add the follower's polling, below), be on one replica at a time,
// and the worker must learn the new MAC.
import t, { type Test } from 'tap'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, switchedReplicas } from './lab/topologies'
import { EtcdServer, etcdTestOptions } from './support/etcd-runner'
import { fakeApiKubeconfig } from './support/fake-lease-api'
import { ReplicaProcess } from './support/replica-process'
import { waitFor } from './support/wait'
import { mostHoldersAtOnce } from './support/holders'

const nsOptions = namespaceTestOptions()

async function failover(t: Test, replicaArgs: string[], leaseMs: number, env: NodeJS.ProcessEnv = {}, limitMs = leaseMs + 1000) {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas, worker } = switchedReplicas(lab, 3)
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
  for (const host of replicas) procs.push(await ReplicaProcess.start(host, [...replicaArgs, '--identity', host.name], 20000, { fromRoot: true, env }))
  const holder = () => replicas.filter((h) => h.addresses('eth0').includes(`${VIP}/32`))
  const leader = (await waitFor('a leader', () => (holder().length === 1 ? holder()[0] : undefined), leaseMs * 3))
  worker.run('ping', '-c1', '-W1', VIP)
  t.equal(worker.neighbourMac(VIP), leader.mac('eth0'), 'worker reaches the leader')

  const killedAt = monotonicNow()
  procs[replicas.indexOf(leader)].kill('SIGKILL')
  // Event-driven: the netlink watcher timestamps the add in the new leader's namespace.
  const added = await waitFor('a new leader', () => events.find((e) => e.host !== leader && e.action === 'add' && e.at > killedAt), limitMs + 4000, 20)
  const next = added.host
  const movedMs = added.at - killedAt
  t.ok(movedMs < limitMs, `VIP moved to ${next.name} ${movedMs.toFixed(0)} ms after SIGKILL (lease ${leaseMs} ms; limit ${limitMs} ms)`)
  await waitFor('worker learns the new MAC', () => worker.neighbourMac(VIP) === next.mac('eth0'), 3000)
  t.pass('worker neighbour entry shows the new leader')
  t.notOk(leader.addresses('eth0').includes(`${VIP}/32`), "the killed replica's guard removed its VIP")
  // One holder at a time, on one clock.
  t.equal(mostHoldersAtOnce(events), 1, 'the VIP was never on two replicas at once')
  return movedMs
}

t.test('etcd elector (TTL 5 s): SIGKILL failover', { ...nsOptions, ...etcdTestOptions() }, async (t) => {
  const etcd = await EtcdServer.start()
  t.teardown(() => etcd.stop())
  await failover(t, ['--etcd', etcd.clientUrl, '--ttl', '5'], 5000)
})


// Kubernetes bounds: a follower judges expiry from when it last saw the lease
// change, which it sees at its polls (every retry period, up to +20 % jitter),
// and acts at the poll after expiry (client-go's semantics): lease + 2 × 1.2 ×
// retry, + 1 s of slack.
t.test('Kubernetes Lease elector (6/4/1 s): SIGKILL failover', nsOptions, async (t) => {
  const kubeconfig = await fakeApiKubeconfig(t)
  await failover(t, ['--kube', 'vcluster-a/vcluster-a-vip', '--kube-timing', '6/4/1'], 6000, { KUBECONFIG: kubeconfig }, 6000 + 2 * 1200 + 1000)
})

// The defaults (lease 15 s, renew deadline 10 s, retry 2 s).
t.test('Kubernetes Lease elector (defaults 15/10/2 s): SIGKILL failover', nsOptions, async (t) => {
  const kubeconfig = await fakeApiKubeconfig(t)
  await failover(t, ['--kube', 'vcluster-a/vcluster-a-vip', '--kube-timing', '15/10/2'], 15000, { KUBECONFIG: kubeconfig }, 15000 + 2 * 2400 + 1000)
})
