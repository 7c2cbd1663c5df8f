// The topologies the announcer tests share. Addresses come from the
// documentation ranges only.
import type { Lab, LabHost } from './lab'

export const VIP = '192.0.2.100'
export const VIP6 = '2001:db8::100'

export interface SwitchedReplicas {
  sw: LabHost
  replicas: LabHost[]
  worker: LabHost
}

/**
 * Two hosts on one bridge: a (192.0.2.1/24, 2001:db8::1/64, 02:00:00:00:0a:01)
 * and b (192.0.2.2/24, 2001:db8::2/64, 02:00:00:00:0b:01), for tests of
 * frames and notifications between two neighbours.
 */
export function twoNeighbours(lab: Lab): { a: LabHost; b: LabHost } {
  const sw = lab.switch('sw')
  const a = lab.host('a')
  const b = lab.host('b')
  lab.plug(a, 'eth0', sw, { addresses: ['192.0.2.1/24', '2001:db8::1/64'], mac: '02:00:00:00:0a:01' })
  lab.plug(b, 'eth0', sw, { addresses: ['192.0.2.2/24', '2001:db8::2/64'], mac: '02:00:00:00:0b:01' })
  return { a, b }
}

/**
 * `count` control-plane replicas and a worker on one layer-2 segment:
 * replica i has eth0 192.0.2.(11+i)/24 and 2001:db8::(11+i)/64, the worker
 * 192.0.2.50/24 and 2001:db8::50/64.
 */
export function switchedReplicas(lab: Lab, count: number): SwitchedReplicas {
  const sw = lab.switch('sw')
  const replicas: LabHost[] = []
  for (let i = 0; i < count; i++) {
    const host = lab.host(`cp${i + 1}`)
    lab.plug(host, 'eth0', sw, { addresses: [`192.0.2.${11 + i}/24`, `2001:db8::${11 + i}/64`] })
    replicas.push(host)
  }
  const worker = lab.host('wk')
  lab.plug(worker, 'eth0', sw, { addresses: ['192.0.2.50/24', '2001:db8::50/64'] })
  return { sw, replicas, worker }
}

export interface RoutedReplicas {
  replicas: LabHost[]
  router: LabHost
  worker: LabHost
  mgmt: LabHost
}

/**
 * The vCluster-with-Multus shape: each control-plane replica has `eth0` on a
 * management network (198.51.100.0/24, default route via 198.51.100.1 which
 * does not forward) and `net1` on the private bridge (192.0.2.0/24). A router
 * owns the gateway 192.0.2.1 and reaches the worker's subnet 203.0.113.0/24.
 * Replies from the VIP reach the worker only if they leave through net1.
 */
export function routedReplicas(lab: Lab, count: number): RoutedReplicas {
  const priv = lab.switch('priv')
  const mgmtSwitch = lab.switch('msw')
  const mgmt = lab.host('mgmt')
  lab.plug(mgmt, 'eth0', mgmtSwitch, { addresses: ['198.51.100.1/24'] })
  const router = lab.host('rtr')
  lab.plug(router, 'net1', priv, { addresses: ['192.0.2.1/24'] })
  const worker = lab.host('wk')
  lab.cable(router, 'wan0', worker, 'eth0', { addresses: ['203.0.113.1/24'] }, { addresses: ['203.0.113.10/24'] })
  router.run('sysctl', '-qw', 'net.ipv4.ip_forward=1')
  worker.ip('route', 'add', 'default', 'via', '203.0.113.1')
  const replicas: LabHost[] = []
  for (let i = 0; i < count; i++) {
    const host = lab.host(`cp${i + 1}`)
    lab.plug(host, 'eth0', mgmtSwitch, { addresses: [`198.51.100.${11 + i}/24`] })
    lab.plug(host, 'net1', priv, { addresses: [`192.0.2.${11 + i}/24`] })
    host.ip('route', 'add', 'default', 'via', '198.51.100.1')
    replicas.push(host)
  }
  return { replicas, router, worker, mgmt }
}

/**
 * Connects from `host` to ip:port and returns what the server said (trimmed),
 * or undefined if no connection completed within `timeoutSeconds`.
 */
export function tcpProbe(host: LabHost, ip: string, port: number, timeoutSeconds = 2): string | undefined {
  try {
    const out = host.run('timeout', String(timeoutSeconds), 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port} && cat <&3`)
    return out.trim() || undefined
  } catch {
    return undefined
  }
}
