// The chaos topology: three replica processes of test/fixtures/replica.ts,
// each in its own namespace and cgroup (a "container"), with eth0 on the data
// bridge (192.0.2.0/24, where the VIP lives and the worker probes it) and
// eth1 on a management bridge (198.51.100.0/24, where etcd runs), so a fault
// on the leader's data interface does not also cut it off its elector's
// backend. The file lock is a file on this host, shared like a volume.
import path from 'node:path'
import { Lab, type LabHost } from '../lab/lab'
import { VIP } from '../lab/topologies'
import { ReplicaProcess } from '../support/replica-process'
import { tempDir } from '../support/temp'
import { ChaosEtcd } from './etcd'

export type ElectorKind = 'file-lock' | 'etcd'
export const ELECTORS: readonly ElectorKind[] = ['file-lock', 'etcd']
export const PORT = 7000
export const TABLE = 30100
export const GATEWAY = '192.0.2.1/24'
/** The timing the replicas run with (the fixture's defaults, the shortest the docs support for etcd). */
export const LEASE_MS = 4000
export const ETCD_TTL_S = 5

export interface Footprint {
  /** Interfaces that carry the VIP (as /32). */
  vipOn: string[]
  rule: boolean
  routes: number
}

export class Cluster {
  readonly lab = new Lab()
  readonly hosts: LabHost[] = []
  readonly worker: LabHost
  readonly sw: LabHost
  readonly procs: Array<ReplicaProcess | undefined> = []
  /** Every replica process and guard pid seen, for the final leak check. */
  readonly pids = new Set<number>()
  readonly etcd?: ChaosEtcd
  private readonly lock?: string

  constructor(readonly elector: ElectorKind) {
    this.sw = this.lab.switch('sw')
    const msw = this.lab.switch('msw')
    for (let i = 0; i < 3; i++) {
      const host = this.lab.host(`cp${i + 1}`)
      this.lab.plug(host, 'eth0', this.sw, { addresses: [this.dataAddress(i)] })
      this.lab.plug(host, 'eth1', msw, { addresses: [`198.51.100.${11 + i}/24`] })
      this.hosts.push(host)
    }
    this.worker = this.lab.host('wk')
    this.lab.plug(this.worker, 'eth0', this.sw, { addresses: ['192.0.2.50/24'] })
    // Re-resolve the VIP quickly after a failed resolution, so the probes
    // measure the announcer, not the worker's ARP back-off (1 s by default).
    this.worker.run('sysctl', '-qw', 'net.ipv4.neigh.eth0.retrans_time_ms=100')
    if (elector === 'etcd') {
      const host = this.lab.host('etcd')
      this.lab.plug(host, 'eth0', msw, { addresses: ['198.51.100.2/24'] })
      this.etcd = new ChaosEtcd(host, '198.51.100.2')
    } else {
      this.lock = path.join(tempDir('vip-chaos-lock-'), 'vip.lock')
    }
  }

  dataAddress(index: number): string {
    return `192.0.2.${11 + index}/24`
  }

  replicaArgs(): string[] {
    const elector = this.elector === 'etcd' ? ['--etcd', this.etcd!.clientUrl, '--ttl', String(ETCD_TTL_S)] : ['--lock', this.lock!, '--lease-ms', String(LEASE_MS)]
    return [...elector, '--vip', VIP, '--interface', 'eth0', '--gateway', GATEWAY, '--port', String(PORT)]
  }

  async start(): Promise<void> {
    await this.etcd?.start()
    await Promise.all(this.hosts.map((_, i) => this.startReplica(i)))
  }

  async startReplica(index: number): Promise<ReplicaProcess> {
    const proc = await ReplicaProcess.start(this.hosts[index], this.replicaArgs(), 30_000, { cgroup: true })
    this.procs[index] = proc
    this.pids.add(proc.pid)
    return proc
  }

  /** Stops what is left of replica `index` (removing its cgroup) and starts a new one. */
  async restartReplica(index: number): Promise<void> {
    await this.procs[index]?.stop()
    await this.startReplica(index)
  }

  alive(index: number): boolean {
    const child = this.procs[index]?.child
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }

  /** What of the VIP's footprint namespace `index` holds now (the kernel's view). */
  footprint(index: number): Footprint {
    const host = this.hosts[index]
    const links = host.ipJson('-4', 'addr', 'show') as Array<{ ifname: string; addr_info?: Array<{ local: string; prefixlen: number }> }>
    const vipOn = links.filter((l) => (l.addr_info ?? []).some((a) => a.local === VIP)).map((l) => l.ifname)
    const rules = host.ipJson('-4', 'rule', 'show') as Array<{ src?: string; table?: string }>
    return { vipOn, rule: rules.some((r) => r.src === VIP && r.table === String(TABLE)), routes: host.tableRoutes(TABLE, 4).length }
  }

  /** Indices of the namespaces that hold the VIP now. */
  holders(): number[] {
    return this.hosts.flatMap((_, i) => (this.footprint(i).vipOn.length > 0 ? [i] : []))
  }

  /** Notes the guard pids of live replicas (for the final leak check). */
  noteGuards(): void {
    for (const proc of this.procs) {
      const guard = proc?.guardPid()
      if (guard) this.pids.add(guard)
    }
  }

  async destroy(): Promise<void> {
    this.noteGuards()
    await Promise.allSettled(this.procs.map((p) => p?.stop()))
    await this.etcd?.stop()
    this.lab.destroy()
  }
}
