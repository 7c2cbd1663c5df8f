// What `vip-announcer run --config vcluster.yaml` does, in code: read the
// kube-vip keys of a vcluster.yaml and hand them to a VipAnnouncer. Embed this
// when your process should own the VIP itself instead of running the command.
//
// In your project the imports are `from 'vip-announcer'`; this file imports
// '../../src' so it runs from a checkout.
//
//   node --import tsx examples/vcluster-multus/from-config.ts [--config FILE] [--elector kubernetes|static|file:PATH] [--netns PATH]
//
// The defaults are this directory's vcluster.yaml and the Kubernetes Lease
// elector (in a pod: the in-cluster service account, a Lease named after the
// VIP in the pod's namespace, the pod name as identity). `static` is for a
// single replica; `file:PATH` for replicas on one host.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import {
  FileLockElector,
  KubernetesLeaseElector,
  StaticElector,
  VipAnnouncer,
  type LeaderElector,
  type VipAnnouncerOptions,
  ConfigError,
  loadVclusterConfig,
  type EnabledVipConfig,
} from '../../src'

/** The VipAnnouncer options a vcluster.yaml describes; the elector is yours to choose. */
export function announcerOptions(config: EnabledVipConfig, elector: LeaderElector): VipAnnouncerOptions {
  return {
    vip: config.vip,
    interface: config.interface,
    // The loader gives the gateway's parts; the announcer takes CIDR notation.
    gateway: config.gateway ? `${config.gateway.address}/${config.gateway.prefixLength}` : undefined,
    elector,
  }
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

function createElector(spec: string, vip: string): LeaderElector {
  if (spec === 'static') return new StaticElector()
  if (spec.startsWith('file:')) return new FileLockElector({ path: spec.slice('file:'.length) })
  if (spec === 'kubernetes') {
    let namespace = 'default'
    try {
      namespace = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim()
    } catch {
      // not in a pod: keep 'default'
    }
    return new KubernetesLeaseElector({
      namespace,
      // One Lease per VIP, so two virtual clusters in one namespace never share one.
      name: `vip-announcer-${vip.replace(/[.:]/g, '-')}`.replace(/-+$/, ''),
      identity: process.env.POD_NAME ?? hostname(),
    })
  }
  throw new TypeError(`--elector: ${JSON.stringify(spec)} is not kubernetes, static or file:PATH`)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: path.join(__dirname, 'vcluster.yaml') },
      elector: { type: 'string', default: 'kubernetes' },
      netns: { type: 'string' },
    },
  })
  // Throws one ConfigError listing every problem, with line and column.
  const config = await loadVclusterConfig(values.config!)
  if (!config.enabled) {
    console.log(`${values.config}: kube-vip is disabled (controlPlane.advanced.kubeVip.enabled); nothing to do`)
    return
  }
  const announcer = new VipAnnouncer({
    ...announcerOptions(config, createElector(values.elector!, config.vip)),
    netns: values.netns,
  })
  announcer.on('leader', (e) => console.log(`leader: ${e.vips.join(', ')} on ${e.interface}, clients reach ${config.vip}:${config.port}`))
  announcer.on('follower', (e) => console.log(`follower: ${e.reason}`))
  announcer.on('link', (e) => console.log(`link ${e.interface}: ${e.state}`))
  announcer.on('error', (error) => console.error(`error: ${error.message}`))

  let stopping: Promise<void> | undefined
  const shutdown = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      console.log(`${signal}: stopping`)
      await announcer.stop() // VIP, rule and routes removed, then leadership released
      console.log('stopped')
    })()
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  await announcer.start()
  console.log(`campaigning for ${config.vip} on ${config.interface} (gateway ${config.gateway?.address ?? 'none'})`)
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error instanceof ConfigError ? error.message : `cannot run: ${error.message}`)
    process.exitCode = 1
  })
}
