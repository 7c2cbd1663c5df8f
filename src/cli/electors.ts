// Turns the parsed --elector value (src/cli/options.ts) into a LeaderElector.
import { readFileSync } from 'node:fs'
import type { LeaderElector } from '../elector'
import { FileLockElector } from '../electors/file-lock'
import { StaticElector } from '../electors/static'
import type { ElectorSpec } from './options'

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

/** Lease names default to one per VIP, so two vClusters in one namespace don't share a lease. */
export async function createElector(spec: ElectorSpec, options: { identity: string; vip: string }): Promise<LeaderElector> {
  const identity = options.identity
  const leaseName = `vip-announcer-${options.vip.replace(/[.:]/g, '-')}`.replace(/-+$/, '')
  switch (spec.kind) {
    case 'static':
      return new StaticElector()
    case 'file':
      return new FileLockElector({ path: spec.path })
    case 'kubernetes': {
      let namespace = spec.namespace
      if (!namespace) {
        try {
          namespace = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim()
        } catch {
          namespace = 'default'
        }
      }
      // Required on use: they pull in their optional client libraries.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { KubernetesLeaseElector } = require('../electors/kubernetes') as typeof import('../electors/kubernetes')
      return new KubernetesLeaseElector({ namespace, name: spec.name ?? leaseName, identity })
    }
    case 'etcd': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { EtcdElector } = require('../electors/etcd') as typeof import('../electors/etcd')
      return new EtcdElector({ endpoints: spec.endpoints, name: leaseName, identity })
    }
  }
}
