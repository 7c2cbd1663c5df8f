// Two control-plane replicas and a worker on one bridge, each replica a
// separate process (test/fixtures/replica.ts, started from the root namespace
// with --netns so it reaches etcd and the stand-in API server on loopback),
// for the rolling-update and crash benchmarks. The kernel is the witness:
// address monitors in both replica namespaces and a neighbour monitor in the
// worker's, all stamped on this process's CLOCK_MONOTONIC when it reads the
// notification (an upper bound on when the kernel made the change).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import path from 'node:path'
import { promisify } from 'node:util'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, type LabHost } from '../test/lab/lab'
import { VIP, switchedReplicas } from '../test/lab/topologies'
import { ReplicaProcess } from '../test/support/replica-process'
import { waitFor } from '../test/support/wait'
import { NeighbourWatcher, type NeighbourWatch } from './neighbour-watch'

const execFileAsync = promisify(execFile)

export interface AddressMark {
  host: LabHost
  action: string
  at: number
}

export class ReplicaPair {
  readonly lab = new Lab()
  readonly replicas: LabHost[]
  readonly worker: LabHost
  /** The VIP's RTM_NEWADDR/RTM_DELADDR in each replica namespace (lifetime refreshes notify 'add' again). */
  readonly addressEvents: AddressMark[] = []
  readonly procs = new Map<LabHost, ReplicaProcess>()
  private readonly monitors: LinkMonitor[] = []
  /** The worker's neighbour entries, read by a thread of their own (bench/neighbour-watch.ts). */
  readonly neighbours: NeighbourWatcher

  constructor(private readonly args: string[], private readonly env: NodeJS.ProcessEnv = {}) {
    const { replicas, worker } = switchedReplicas(this.lab, 2)
    this.replicas = replicas
    this.worker = worker
    this.neighbours = NeighbourWatcher.open(worker.path)
    for (const host of replicas) {
      const monitor = LinkMonitor.open({ netns: host.path })
      monitor.on('address', (e) => {
        if (e.address === VIP) this.addressEvents.push({ host, action: e.action, at: monotonicNow() })
      })
      this.monitors.push(monitor)
    }
  }

  async start(host: LabHost, options: { cgroup?: boolean } = {}): Promise<ReplicaProcess> {
    const proc = await ReplicaProcess.start(host, [...this.args, '--identity', host.name], 30_000, { fromRoot: true, env: this.env, cgroup: options.cgroup })
    this.procs.set(host, proc)
    return proc
  }

  /** The one replica whose namespace has the VIP (ip addr: call outside a measurement). */
  async leader(timeoutMs = 30_000): Promise<LabHost> {
    const holders = () => this.replicas.filter((h) => h.addresses('eth0').includes(`${VIP}/32`))
    return waitFor('exactly one holder of the VIP', () => (holders().length === 1 ? holders()[0] : undefined), timeoutMs, 50)
  }

  other(host: LabHost): LabHost {
    return this.replicas.find((h) => h !== host)!
  }

  /** First address event of `action` in `host` after `after`, waited for (polling this process's own list, no syscalls). */
  addressAfter(host: LabHost, action: 'add' | 'delete', after: number, timeoutMs: number): Promise<AddressMark> {
    return waitFor(`${action} of the VIP in ${host.name}`, () => this.addressEvents.find((e) => e.host === host && e.action === action && e.at > after), timeoutMs, 1)
  }

  async close(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop()))
    this.monitors.forEach((m) => m.close())
    await this.neighbours.close()
    this.lab.destroy()
  }
}

/**
 * Makes sure the worker has an entry for the VIP at `oldMac` (gratuitous ARP
 * only updates an existing entry with arp_accept=0), then watches it from a
 * dedicated thread (bench/neighbour-watch.ts): resolves with the instant
 * that thread read the worker's RTM_NEWNEIGH carrying `newMac`, unaffected
 * by how busy this thread is.
 */
export async function watchNeighbour(pair: ReplicaPair, oldMac: string, newMac: string, timeoutMs: number): Promise<NeighbourWatch> {
  const worker = pair.worker
  await execFileAsync('ip', ['netns', 'exec', worker.name, 'ping', '-c1', '-W1', VIP]).catch(() => undefined)
  await waitFor('the worker entry at the old holder', () => worker.neighbourMac(VIP) === oldMac, 3000)
  return pair.neighbours.watch(VIP, newMac, timeoutMs)
}

/**
 * Polls both namespaces' `ip addr` (asynchronously, so this event loop keeps
 * stamping notifications) until stopped; the most namespaces seen holding the
 * VIP in one sample. A second witness beside the address monitors.
 */
export function sampleHolders(hosts: LabHost[], intervalMs = 100): { stop: () => Promise<{ samples: number; most: number }> } {
  let running = true
  let samples = 0
  let most = 0
  const loop = (async () => {
    while (running) {
      const outs = await Promise.all(hosts.map((h) => execFileAsync('ip', ['-n', h.name, '-4', '-o', 'addr', 'show', 'dev', 'eth0']).then((r) => r.stdout, () => '')))
      most = Math.max(most, outs.filter((o) => o.includes(` ${VIP}/32 `)).length)
      samples++
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  })()
  return { stop: async () => ((running = false), await loop, { samples, most }) }
}

/** The stand-in Kubernetes API server (bench/lease-api-server.ts) in a process of its own. */
export class LeaseApiProcess {
  private constructor(private readonly child: ChildProcess, readonly kubeconfig: string, private readonly lines: AsyncIterator<string>) {}

  static async start(): Promise<LeaseApiProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'lease-api-server.ts')], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    const first = await lines.next()
    if (first.done) throw new Error('the stand-in API server exited before listening')
    const { kubeconfig } = JSON.parse(first.value)
    return new LeaseApiProcess(child, kubeconfig, lines)
  }

  /** Requests received since the previous call, `at` on CLOCK_MONOTONIC ms. */
  async requests(): Promise<Array<{ at: number; method: string; outcome: number | string; spec?: { holderIdentity?: string } }>> {
    this.child.stdin!.write('requests\n')
    const line = await this.lines.next()
    if (line.done) throw new Error('the stand-in API server exited')
    return JSON.parse(line.value).requests
  }

  async stop(): Promise<void> {
    this.child.stdin!.end()
    await new Promise((resolve) => (this.child.exitCode !== null ? resolve(undefined) : this.child.once('exit', resolve)))
  }
}
