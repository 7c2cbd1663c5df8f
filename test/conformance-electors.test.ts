// The conformance kit on the shipped multi-host electors: Kubernetes Lease
// (through the real client against the fake Lease API, 3/2/1 s) and etcd
// (a real etcd, TTL 2 s), three candidates each, a partition of the leader.
import t from 'tap'
import type { EtcdElector } from '../src/electors/etcd'
import { assertConformance, runElectorConformance } from '../src/testing'
import { proxiedCandidate, uniqueName } from './support/etcd'
import { EtcdServer, etcdTestOptions } from './support/etcd-runner'
import { FakeLeaseApi } from './support/fake-lease-api'
import { kubeCandidate } from './support/kube'
import type { TcpProxy } from './support/tcp-proxy'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()

t.test('KubernetesLeaseElector (lease 3 s, renew deadline 2 s, retry 1 s)', async (t) => {
  const api = new FakeLeaseApi()
  await api.listen()
  t.teardown(() => api.close())
  const report = await runElectorConformance({
    name: 'kubernetes',
    candidates: 3,
    create: (index) => kubeCandidate(api, `pod-${index}`),
    partition: async (_elector, index) => {
      const heal = api.partition(`pod-${index}`)
      return async () => heal()
    },
    timeoutMs: 15_000,
    log: (line) => t.comment(line),
  })
  assertConformance(t, report)
})

t.test('EtcdElector (TTL 2 s)', etcdTestOptions(), async (t) => {
  const server = await EtcdServer.start()
  t.teardown(() => server.stop())
  const name = uniqueName('conformance')
  const proxies: TcpProxy[] = []
  t.teardown(() => Promise.all(proxies.map((p) => p.close())))
  const report = await runElectorConformance({
    name: 'etcd',
    candidates: 3,
    create: async (index) => {
      const { elector, proxy } = await proxiedCandidate(server, name, `pod-${index}`)
      proxies[index] = proxy
      return elector as EtcdElector
    },
    partition: async (_elector, index) => {
      const heal = proxies[index]!.partition()
      return async () => heal()
    },
    timeoutMs: 15_000,
    log: (line) => t.comment(line),
  })
  assertConformance(t, report)
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
