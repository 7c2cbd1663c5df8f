// Turns the command line's --elector value into a LeaderElector:
//   static | file:PATH | kubernetes[:NAMESPACE/NAME] | etcd:URL[,URL...]
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { LeaderElector } from '../elector'
import { EtcdElector } from '../electors/etcd'
import { FileLockElector } from '../electors/file-lock'
import { KubernetesLeaseElector } from '../electors/kubernetes'
import { StaticElector } from '../electors/static'

export type ElectorSpec =
  | { kind: 'static' }
  | { kind: 'file'; path: string }
  | { kind: 'kubernetes'; namespace?: string; name?: string }
  | { kind: 'etcd'; endpoints: string[] }

export const ELECTOR_SYNTAX = 'static | file:PATH | kubernetes[:NAMESPACE/NAME] | etcd:URL[,URL...]'

export function parseElectorSpec(text: string): ElectorSpec {
  const bad = (why: string) =>
    Object.assign(new TypeError(`--elector: ${JSON.stringify(text)} ${why} (expected ${ELECTOR_SYNTAX})`), { code: 'ERR_INVALID_ARG_VALUE' })
  const colon = text.indexOf(':')
  const kind = colon < 0 ? text : text.slice(0, colon)
  const rest = colon < 0 ? '' : text.slice(colon + 1)
  switch (kind) {
    case 'static':
      if (rest) throw bad('takes no argument')
      return { kind }
    case 'file':
      if (!rest.startsWith('/')) throw bad('needs an absolute lock file path')
      return { kind, path: rest }
    case 'kubernetes': {
      if (!rest) return { kind }
      const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(rest)
      if (!match) throw bad('needs NAMESPACE/NAME, lower-case DNS names')
      return { kind, namespace: match[1], name: match[3] }
    }
    case 'etcd': {
      const endpoints = rest.split(',').filter(Boolean)
      if (endpoints.length === 0) throw bad('needs at least one endpoint URL')
      for (const endpoint of endpoints) {
        try {
          const url = new URL(endpoint)
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error()
        } catch {
          throw bad(`has an endpoint that is not an http(s) URL: ${endpoint}`)
        }
      }
      return { kind, endpoints }
    }
    default:
      throw bad('is not a known elector')
  }
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

/** The elector to use when --elector is absent: a Lease when running in a pod, otherwise none (an error). */
export function defaultElectorSpec(env: NodeJS.ProcessEnv = process.env): ElectorSpec | undefined {
  return env.KUBERNETES_SERVICE_HOST ? { kind: 'kubernetes' } : undefined
}

export function createElector(spec: ElectorSpec, options: { identity?: string; vip: string }): LeaderElector {
  const identity = options.identity ?? hostname()
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
      return new KubernetesLeaseElector({ namespace, name: spec.name ?? leaseName, identity })
    }
    case 'etcd':
      return new EtcdElector({ endpoints: spec.endpoints, name: leaseName, identity })
  }
}
