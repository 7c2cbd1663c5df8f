// Sampling and judgement. What is sampled, for the whole run, while faults
// are injected:
// - every VIP add/delete of the three replica namespaces in the kernel's own
//   order (AddressWitness: one `ip monitor address all-nsid` socket), the
//   verdict for "two namespaces held the VIP"; per-namespace LinkMonitors add
//   this process's timestamps, used only to say how long a confirmed overlap
//   lasted;
// - which MACs answered each ARP request the worker sent (ArpWatch, from
//   frames the worker captured);
// - the worker's TCP probes of VIP:port, stamped by the worker itself.
// Judgements take a window of the run (one round) and return evidence.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { monotonicNow } from '../../src/clock'
import { LinkMonitor } from '../../src/net/monitor'
import { Lab, type LabHost } from '../lab/lab'
import { VIP, switchedReplicas } from '../lab/topologies'
import { sleep } from '../support/wait'
import { AddressWitness, type WitnessedChange } from '../support/address-witness'
import { ArpWatch } from './arp'
import { PORT, type Cluster } from './cluster'

export interface Probe {
  /** Start and end of the attempt, CLOCK_MONOTONIC ms (the worker's stamps). */
  s: number
  e: number
  ok: boolean
  /** The replica that answered (its namespace name). */
  n?: string
  err?: string
}

export interface StampedChange {
  host: number
  action: 'add' | 'delete'
  at: number
}

export interface Overlap {
  /** Index of the offending add in the witness's record. */
  index: number
  description: string
}

export interface Outage {
  /** The last served probe before the gap and the first after (their replies' arrival), ms. */
  from: number
  to: number
  ms: number
  /** Failed attempts inside the gap: evidence it was an outage, not the prober stalling. */
  failed: number
  /** Still going at the end of the window. */
  open: boolean
}

const PROBE_SCRIPT = path.join(__dirname, 'probe.ts')

export class Sampler {
  readonly probes: Probe[] = []
  readonly stamped: StampedChange[] = []
  readonly pids: number[] = []
  private readonly monitors: LinkMonitor[] = []
  private probe?: ChildProcess
  private probeErrors: string[] = []

  private constructor(readonly cluster: Cluster, readonly witness: AddressWitness, readonly arp: ArpWatch) {}

  static async start(cluster: Cluster): Promise<Sampler> {
    const witness = await AddressWitness.start(cluster.lab, cluster.hosts)
    let arp: ArpWatch
    try {
      arp = await ArpWatch.start(cluster.worker, VIP)
    } catch (error) {
      witness.close()
      throw error
    }
    const sampler = new Sampler(cluster, witness, arp)
    cluster.hosts.forEach((host, i) => {
      const monitor = LinkMonitor.open({ netns: host.path })
      monitor.on('address', (e) => {
        if (e.address === VIP) sampler.stamped.push({ host: i, action: e.action, at: monotonicNow() })
      })
      sampler.monitors.push(monitor)
    })
    sampler.startProbe()
    return sampler
  }

  private startProbe(): void {
    const child = spawn('ip', ['netns', 'exec', this.cluster.worker.name, process.execPath, '--import', 'tsx', PROBE_SCRIPT,
      '--target', VIP, '--port', String(PORT), '--interval', '50', '--timeout', '500'], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.probe = child
    this.pids.push(child.pid!)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.probes.push(JSON.parse(line) as Probe)
      } catch {
        this.probeErrors.push(line)
      }
    })
    createInterface({ input: child.stderr! }).on('line', (line) => this.probeErrors.push(line))
  }

  /** The latest served probe that started after `since`, if any. */
  servedSince(since: number): Probe | undefined {
    for (let i = this.probes.length - 1; i >= 0; i--) {
      const p = this.probes[i]
      if (p.s < since) return undefined
      if (p.ok) return p
    }
    return undefined
  }

  get errors(): string[] {
    return [...this.witness.errors.map((e) => `witness: ${e}`), ...this.arp.errors.map((e) => `arp: ${e}`), ...this.probeErrors.slice(-5).map((e) => `probe: ${e}`)]
  }

  /** Overlaps in the kernel's order, among the witness's changes [fromIndex, toIndex). */
  overlaps(fromIndex: number, toIndex: number): Overlap[] {
    return findOverlaps(this.witness.changes.filter((c) => c.address === VIP), this.cluster.hosts.length).filter((o) => o.index >= fromIndex && o.index < toIndex)
  }

  /** VIP changes read so far (the index to split rounds at). */
  get changeCount(): number {
    return this.witness.changes.filter((c) => c.address === VIP).length
  }

  /** The longest time with two holders at once in [from, to), on this process's read-time stamps (only meaningful for a confirmed overlap). */
  overlapMs(from: number, to: number): number {
    const holding = new Set<number>()
    let since = 0
    let worst = 0
    for (const c of [...this.stamped].sort((a, b) => a.at - b.at)) {
      const before = holding.size
      if (c.action === 'add') holding.add(c.host)
      else holding.delete(c.host)
      if (before < 2 && holding.size >= 2) since = c.at
      if (before >= 2 && holding.size < 2 && c.at >= from && since < to) worst = Math.max(worst, c.at - since)
    }
    return worst
  }

  outages(from: number, to: number): Outage[] {
    return findOutages(this.probes, from, to)
  }

  async close(): Promise<void> {
    this.monitors.forEach((m) => m.close())
    this.witness.close()
    await this.arp.close()
    const probe = this.probe
    if (probe && probe.exitCode === null && probe.signalCode === null) {
      const exited = new Promise((resolve) => probe.once('exit', resolve))
      probe.stdin!.end()
      const timer = setTimeout(() => probe.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Every add on one namespace while another held the VIP, by index in `changes` (kernel order). */
export function findOverlaps(changes: WitnessedChange[], hostCount: number): Overlap[] {
  const holding = new Array<boolean>(hostCount).fill(false)
  const out: Overlap[] = []
  changes.forEach((change, index) => {
    if (change.action === 'delete') {
      holding[change.host] = false
      return
    }
    if (holding[change.host]) return // a lifetime refresh, not a new tenure
    const others = holding.flatMap((held, i) => (held && i !== change.host ? [i] : []))
    if (others.length > 0) out.push({ index, description: `replica ${change.host + 1} added the VIP while replica ${others.map((o) => o + 1).join(', ')} held it (change #${index})` })
    holding[change.host] = true
  })
  return out
}

/**
 * Gaps between served probes (reply arrival times) that reach into
 * [from, to). A gap counts as an outage only if attempts failed inside it; a
 * gap without failures is the prober not running (load), not evidence.
 */
export function findOutages(probes: Probe[], from: number, to: number): Outage[] {
  const served = probes.filter((p) => p.ok).map((p) => p.e).sort((a, b) => a - b)
  const failedEnds = probes.filter((p) => !p.ok).map((p) => p.e).sort((a, b) => a - b)
  const failedIn = (a: number, b: number) => failedEnds.filter((e) => e > a && e <= b).length
  const out: Outage[] = []
  if (served.length === 0 && failedIn(from, to) > 0) out.push({ from, to, ms: to - from, failed: failedIn(from, to), open: true })
  for (let i = 0; i < served.length; i++) {
    const a = served[i]
    const b = served[i + 1]
    if (b === undefined) {
      // No served probe after `a`: an outage still open at the window's end, if probes failed since.
      if (a < to && failedIn(a, to) > 0) out.push({ from: a, to, ms: to - a, failed: failedIn(a, to), open: true })
      break
    }
    if (b <= from || a >= to) continue
    const failed = failedIn(a, b)
    if (failed > 0) out.push({ from: a, to: b, ms: b - a, failed, open: false })
  }
  return out
}

export interface ControlResult {
  overlaps: string[]
  doubleArp: number
  arpRequests: number
}

/**
 * Positive control for the samplers: the VIP put by hand on two namespaces
 * of a small lab for 300 ms must show as an overlap in the witness's order
 * and as ARP requests answered by two MACs. A chaos run whose samplers could
 * not see a split brain would pass for the wrong reason.
 */
export async function positiveControl(): Promise<ControlResult> {
  const lab = new Lab()
  let witness: AddressWitness | undefined
  let arp: ArpWatch | undefined
  try {
    const { replicas: [a, b], worker } = switchedReplicas(lab, 2)
    witness = await AddressWitness.start(lab, [a, b])
    arp = await ArpWatch.start(worker, VIP)
    const step = async (host: LabHost, action: 'add' | 'del') => {
      host.ip('addr', action, `${VIP}/32`, 'dev', 'eth0')
      await sleep(300)
    }
    await step(a, 'add')
    await step(b, 'add') // both hold it from here
    await step(a, 'del')
    await step(b, 'del')
    await witness.waitFor('the four changes', (c) => c.address === VIP, 4)
    return {
      overlaps: findOverlaps(witness.changes.filter((c) => c.address === VIP), 2).map((o) => o.description),
      doubleArp: arp.doubleAnswers().length,
      arpRequests: arp.requests(),
    }
  } finally {
    witness?.close()
    await arp?.close()
    lab.destroy()
  }
}
