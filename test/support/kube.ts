// Candidates for KubernetesLeaseElector tests: each gets its own KubeConfig
// (its own bearer token, so the fake API server can tell them apart) pointing
// at a FakeLeaseApi, and talks to it through the real @kubernetes/client-node.
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' }
import { KubernetesLeaseElector, type KubernetesLeaseElectorOptions, type KubeConfigLike, type LeaseApiLike } from '../../src/electors/kubernetes'
import { loadOptionalPeer } from '../../src/electors/optional-peer'
import type { FakeLeaseApi } from './fake-lease-api'

// Compile-time: the real client's classes satisfy the elector's structural
// option types (what the published declarations use instead of the client's).
export type RealClientFits = [K8s.KubeConfig extends KubeConfigLike ? true : never, K8s.CoordinationV1Api extends LeaseApiLike ? true : never]
export const realClientFits: RealClientFits = [true, true]

export const NAMESPACE = 'vcluster-a'
export const LEASE = 'vcluster-a-vip'

export function loadK8s(): Promise<typeof K8s> {
  return loadOptionalPeer<typeof K8s>('@kubernetes/client-node', 'tests', '^1.0.0 || ^2.0.0')
}

export async function kubeConfigFor(api: FakeLeaseApi | { port: number; kubeConfigOptions?: never }, token: string) {
  const k8s = await loadK8s()
  const kc = new k8s.KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${api.port}`, skipTLSVerify: true }],
    users: [{ name: token, token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: token }],
    currentContext: 'fake',
  })
  return kc
}

/** Candidate `identity` authenticates as token `identity`. */
export async function kubeCandidate(
  api: FakeLeaseApi | { port: number },
  identity: string,
  options: Partial<KubernetesLeaseElectorOptions> = {},
): Promise<KubernetesLeaseElector> {
  return new KubernetesLeaseElector({
    namespace: NAMESPACE,
    name: LEASE,
    identity,
    leaseDurationSeconds: 3,
    renewDeadlineSeconds: 2,
    retryPeriodSeconds: 1,
    kubeConfig: await kubeConfigFor(api as FakeLeaseApi, identity),
    ...options,
  })
}
