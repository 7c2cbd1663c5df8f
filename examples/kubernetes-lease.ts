// Several replicas in a Kubernetes cluster: leadership from a
// coordination.k8s.io/v1 Lease (client-go's semantics), and Prometheus metrics
// on /metrics through prom-client.
//
// In your project the import is `from 'vip-announcer'`; this file imports
// '../src' so it runs from a checkout. It needs the optional peer dependencies
// @kubernetes/client-node (1.x) and prom-client.
//
// In a pod (every replica runs the same thing; POD_NAME from the downward API):
//
//   VIP=192.0.2.100 VIP_INTERFACE=net1 VIP_GATEWAY=192.0.2.1/24 \
//   LEASE_NAME=my-service-vip POD_NAME=$(hostname) METRICS_PORT=9100 \
//   node --import tsx examples/kubernetes-lease.ts
//
// The Kubernetes client uses the pod's service account (in-cluster config:
// KUBERNETES_SERVICE_HOST/PORT and the mounted token); outside a cluster it
// falls back to $KUBECONFIG or ~/.kube/config. The service account needs get,
// create and update on `leases` in LEASE_NAMESPACE (default: the pod's own
// namespace). The pod needs NET_ADMIN and NET_RAW.
//
// Environment:
//   VIP, VIP_INTERFACE        required
//   VIP_GATEWAY               optional, CIDR: policy routing for traffic from the VIP
//   VIP_NETNS                 optional: operate in another network namespace (needs CAP_SYS_ADMIN)
//   LEASE_NAMESPACE           default: the service account's namespace, else 'default'
//   LEASE_NAME                default: vip-announcer-<VIP with dashes>
//   POD_NAME                  this candidate's identity; default: the host name (the pod name)
//   METRICS_PORT              default 9100 (0: any free port, printed at start)
//   METRICS_HOST              default 0.0.0.0
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { hostname } from 'node:os'
import * as promClient from 'prom-client'
import { KubernetesLeaseElector, VipAnnouncer, registerMetrics } from '../src'

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required (see the header of examples/kubernetes-lease.ts)`)
  return value
}

function podNamespace(): string {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim()
  } catch {
    return 'default'
  }
}

async function main(): Promise<void> {
  const vip = required('VIP')
  const elector = new KubernetesLeaseElector({
    namespace: process.env.LEASE_NAMESPACE ?? podNamespace(),
    name: process.env.LEASE_NAME ?? `vip-announcer-${vip.replace(/[.:]/g, '-')}`,
    identity: process.env.POD_NAME ?? hostname(),
    // client-go's defaults, spelled out: a dead leader is replaced after about
    // 15 s; a stopped one (SIGTERM: the Lease is released) within one retry period.
    leaseDurationSeconds: 15,
    renewDeadlineSeconds: 10,
    retryPeriodSeconds: 2,
    // No kubeConfig or client: in-cluster when KUBERNETES_SERVICE_HOST/PORT are
    // set, else $KUBECONFIG / ~/.kube/config. Pass `kubeConfig` to choose yourself.
  })
  const announcer = new VipAnnouncer({
    vip,
    interface: required('VIP_INTERFACE'),
    gateway: process.env.VIP_GATEWAY || undefined,
    netns: process.env.VIP_NETNS || undefined,
    elector,
  })

  // Metrics go into the host's own registry, next to its other metrics.
  // registerMetrics loads prom-client with require(): the same copy as this import.
  const registry = new promClient.Registry()
  promClient.collectDefaultMetrics({ register: registry })
  registerMetrics(announcer, { registry })

  const server = http.createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', registry.contentType)
      res.end(await registry.metrics())
    } else if (req.url === '/healthz') {
      // Alive while campaigning, leader or not: a readiness probe on
      // "leader" would take followers out of service, which is not the point.
      const ok = announcer.state === 'leader' || announcer.state === 'follower'
      res.statusCode = ok ? 200 : 503
      res.end(`${announcer.state}\n`)
    } else {
      res.statusCode = 404
      res.end()
    }
  })
  const port = Number(process.env.METRICS_PORT ?? 9100)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, process.env.METRICS_HOST ?? '0.0.0.0', () => resolve())
  })
  const { address, port: boundPort } = server.address() as AddressInfo
  console.log(`metrics on http://${address}:${boundPort}/metrics`)

  announcer.on('leader', (e) => console.log(`leader: ${e.vips.join(', ')} on ${e.interface} (lease ${elector.namespace}/${elector.name}, identity ${elector.identity})`))
  announcer.on('follower', (e) => console.log(`follower: ${e.reason}`))
  announcer.on('link', (e) => console.log(`link ${e.interface}: ${e.state}`))
  announcer.on('fenced', (e) => console.log(`fenced: ${e.reason}`))
  announcer.on('conflict', (e) => console.log(`conflict: ${e.vip} is also answered by ${e.mac} (policy ${e.policy})`))
  // API server errors are reported while the elector retries; they are not fatal.
  announcer.on('error', (error) => console.error(`error: ${error.message}`))

  let stopping: Promise<void> | undefined
  const shutdown = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      console.log(`${signal}: stopping`)
      // VIP, rule and routes removed first, then the Lease released: a
      // follower takes over at its next poll instead of after leaseDuration.
      await announcer.stop()
      await new Promise((resolve) => server.close(resolve))
      console.log('stopped')
    })()
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  await announcer.start()
  console.log(`campaigning for ${announcer.vips.join(', ')} on ${announcer.interfaceName} as ${elector.identity}`)
}

main().catch((error: Error) => {
  console.error(`cannot run: ${error.message}`)
  process.exitCode = 1
})
