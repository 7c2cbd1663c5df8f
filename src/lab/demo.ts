// `vip-announcer lab`: the reference page's Multus topology in network
// namespaces, three replicas running `vip-announcer run` with a file lock, a
// leader killed with SIGKILL, and what the workers saw. Everything it creates
// is removed on every exit path, Ctrl-C included.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import { monotonicNow } from '../clock'
import { FrameCapture } from '../net/capture'
import { Lab, canUseNamespaces, type LabHost } from './namespaces'

export const LAB_VIP = '192.0.2.100'
const PORT = 8443
const GATEWAY = '192.0.2.1/24'

export interface LabOptions {
  /** Leave the namespaces in place (and print how to remove them). */
  keep?: boolean
  /** Print the report as JSON instead of text. */
  json?: boolean
  out?: Writable
  /** How to start the command for the replicas: node arguments before 'run'. */
  cliEntry?: string[]
  /** Aborts the lab (cleanup still runs). */
  signal?: AbortSignal
}

export interface LabReport {
  leaderBefore: string
  leaderAfter: string
  /** SIGKILL -> first gratuitous ARP from the new leader seen by the L2 worker, ms. */
  takeoverMs: number
  /** SIGKILL -> worker's neighbour entry shows the new MAC, ms. */
  neighbourMs: number
  framesSeen: Record<string, number>
  neighbourBefore: string | undefined
  neighbourAfter: string | undefined
  tcpBefore: { l2Worker?: string; routedWorker?: string }
  tcpAfter: { l2Worker?: string; routedWorker?: string }
  vipLeftOnKilledReplica: boolean
  timeline: Array<{ atMs: number; who: string; what: string }>
}

interface Replica {
  host: LabHost
  process: ChildProcess
  events: Array<{ at: number; event: string; [k: string]: unknown }>
  server: ChildProcess
}

class Step {
  private started = 0
  constructor(private readonly out: Writable, private readonly total: number, private index = 0) {}
  begin(text: string): void {
    this.index++
    this.started = monotonicNow()
    this.out.write(`[${this.index}/${this.total}] ${text} ... `)
  }
  done(extra = ''): void {
    this.out.write(`done (${(monotonicNow() - this.started).toFixed(0)} ms)${extra ? ' ' + extra : ''}\n`)
  }
}

function tcpProbe(host: LabHost, ip: string, port: number): string | undefined {
  try {
    return host.run('timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/${port} && cat <&3`).trim() || undefined
  } catch {
    return undefined
  }
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs: number, signal?: AbortSignal, stepMs = 5): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (signal?.aborted) throw new Error('interrupted')
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

export async function runLab(options: LabOptions = {}): Promise<LabReport> {
  const out = options.out ?? process.stdout
  if (!canUseNamespaces()) {
    throw Object.assign(new Error('vip-announcer lab needs root (it creates network namespaces): run it with sudo'), { code: 'EPERM' })
  }
  const step = new Step(out, 6)
  const lab = new Lab()
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-lab-'))
  const replicas: Replica[] = []
  let capture: FrameCapture | undefined
  const cleanup = () => {
    capture?.close()
    for (const r of replicas) {
      for (const child of [r.process, r.server]) {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            child.kill('SIGKILL')
          } catch {
            // gone
          }
        }
      }
    }
    if (!options.keep) {
      // Anything still running inside (guards) goes with a SIGKILL before the namespace.
      for (const name of lab.namespaceNames) {
        try {
          for (const pid of execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL')
        } catch {
          // namespace gone
        }
      }
      lab.destroy()
      rmSync(dir, { recursive: true, force: true })
    } else {
      out.write(`kept: namespaces ${lab.namespaceNames.join(' ')}; remove with: ip netns del NAME\n`)
    }
  }
  try {
    step.begin('building the topology (bridge br-private, 3 control-plane replicas, router, 2 workers)')
    const priv = lab.switch('priv', 'br-private')
    const podnet = lab.switch('podnet')
    const pods = lab.host('podgw')
    lab.plug(pods, 'eth0', podnet, { addresses: ['198.51.100.1/24'] })
    const router = lab.host('rtr')
    lab.plug(router, 'net1', priv, { addresses: [GATEWAY] }, 'br-private')
    const routedWorker = lab.host('wk2')
    lab.cable(router, 'wan0', routedWorker, 'eth0', { addresses: ['203.0.113.1/24'] }, { addresses: ['203.0.113.10/24'] })
    router.run('sysctl', '-qw', 'net.ipv4.ip_forward=1')
    routedWorker.ip('route', 'add', 'default', 'via', '203.0.113.1')
    const l2Worker = lab.host('wk1')
    lab.plug(l2Worker, 'eth0', priv, { addresses: ['192.0.2.50/24'] }, 'br-private')
    const cps: LabHost[] = []
    for (let i = 1; i <= 3; i++) {
      const cp = lab.host(`cp${i}`)
      lab.plug(cp, 'eth0', podnet, { addresses: [`198.51.100.${10 + i}/24`] })
      lab.plug(cp, 'net1', priv, { addresses: [`192.0.2.${10 + i}/24`] }, 'br-private')
      cp.ip('route', 'add', 'default', 'via', '198.51.100.1') // the pod network's default route
      cps.push(cp)
    }
    step.done()

    step.begin('starting 3 replicas: `vip-announcer run` with a file lock, and an API stand-in on :8443 each')
    const config = path.join(dir, 'vcluster.yaml')
    writeFileSync(config, [
      'privateNodes:', '  enabled: true',
      'controlPlane:', `  endpoint: ${LAB_VIP}:${PORT}`,
      '  advanced:', '    kubeVip:', '      enabled: true', '      interface: net1', `      gateway: ${GATEWAY}`, '',
    ].join('\n'))
    const lock = path.join(dir, 'leader.lock')
    const entry = options.cliEntry ?? [...process.execArgv, process.argv[1]]
    for (const cp of cps) {
      const name = cp.name.split('-').pop()!
      const server = spawn('ip', ['netns', 'exec', cp.name, process.execPath, '-e',
        `require('net').createServer((s) => s.end('${name}\\n')).listen(${PORT})`], { stdio: 'ignore' })
      const child = spawn('ip', ['netns', 'exec', cp.name, process.execPath, ...entry, 'run', '--config', config,
        '--elector', `file:${lock}`, '--identity', name, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
      const replica: Replica = { host: cp, process: child, events: [], server }
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const record = JSON.parse(line)
          if (record.event) replica.events.push({ ...record, at: typeof record.mono === 'number' ? record.mono : monotonicNow() })
        } catch {
          // not ours
        }
      })
      child.stderr!.resume()
      replicas.push(replica)
    }
    const leaderOf = () => replicas.find((r) => r.host.addresses('net1').includes(`${LAB_VIP}/32`))
    const first = await until('a leader', leaderOf, 20000, options.signal, 20)
    const short = (r: Replica) => r.host.name.split('-').pop()!
    step.done(`-> ${short(first)} holds ${LAB_VIP}`)

    step.begin('probing through the VIP before the failover')
    l2Worker.run('ping', '-c1', '-W1', LAB_VIP)
    const neighbourBefore = l2Worker.neighbourMac(LAB_VIP)
    const tcpBefore = { l2Worker: tcpProbe(l2Worker, LAB_VIP, PORT), routedWorker: tcpProbe(routedWorker, LAB_VIP, PORT) }
    step.done(`-> wk1 reached ${tcpBefore.l2Worker ?? 'nothing'}, wk2 (via the gateway) reached ${tcpBefore.routedWorker ?? 'nothing'}`)

    step.begin(`killing the leader ${short(first)} with SIGKILL`)
    capture = FrameCapture.open({ link: 'eth0', netns: l2Worker.path })
    const frames: Array<{ at: number; kind: string; senderMac: string; senderIp?: string }> = []
    capture.on('frame', (f: any) => frames.push(f))
    const others = replicas.filter((r) => r !== first)
    const macs = new Map(others.map((r) => [r.host.mac('net1'), r]))
    const killedAt = monotonicNow()
    first.process.kill('SIGKILL')
    // Nothing synchronous until the frame is in: the capture's timestamps are
    // taken when this thread reads, so a blocking poll here would inflate them.
    const firstFrame = await until('the new leader\'s announcement at wk1', () => frames.find((f) => macs.has(f.senderMac) && f.senderIp === LAB_VIP), 10000, options.signal, 1)
    const next = macs.get(firstFrame.senderMac)!
    const newMac = firstFrame.senderMac
    const neighbourAfter = await until('wk1 neighbour entry update', () => {
      const mac = l2Worker.neighbourMac(LAB_VIP)
      return mac === newMac ? mac : undefined
    }, 5000, options.signal, 2)
    // Polled with `ip neigh` (a few ms per look): an upper bound.
    const neighbourMs = monotonicNow() - killedAt
    await until('the new leader holds the VIP', () => next.host.addresses('net1').includes(`${LAB_VIP}/32`), 5000, options.signal)
    step.done(`-> ${short(next)} took over`)

    step.begin('probing through the VIP after the failover')
    await new Promise((r) => setTimeout(r, 1500)) // let the repeats arrive, to count them
    const tcpAfter = { l2Worker: tcpProbe(l2Worker, LAB_VIP, PORT), routedWorker: tcpProbe(routedWorker, LAB_VIP, PORT) }
    const vipLeftOnKilledReplica = first.host.addresses('net1').includes(`${LAB_VIP}/32`)
    step.done()

    const framesSeen: Record<string, number> = {}
    for (const f of frames) if (f.senderIp === LAB_VIP) framesSeen[f.kind] = (framesSeen[f.kind] ?? 0) + 1
    const timeline = replicas
      .flatMap((r) => r.events.map((e) => ({ atMs: e.at - killedAt, who: short(r), what: String(e.event) })))
      .concat([
        { atMs: 0, who: short(first), what: 'SIGKILL' },
        { atMs: firstFrame.at - killedAt, who: 'wk1', what: `first ${firstFrame.kind} from ${short(next)}` },
        { atMs: neighbourMs, who: 'wk1', what: `ip neigh shows ${short(next)}'s MAC (polled)` },
      ])
      .filter((e) => e.atMs > -60000)
      .sort((a, b) => a.atMs - b.atMs)
    const report: LabReport = {
      leaderBefore: short(first),
      leaderAfter: short(next),
      takeoverMs: firstFrame.at - killedAt,
      neighbourMs,
      framesSeen,
      neighbourBefore,
      neighbourAfter,
      tcpBefore,
      tcpAfter,
      vipLeftOnKilledReplica,
      timeline,
    }
    step.begin('stopping the replicas (SIGTERM: VIP removed, lock released)')
    await Promise.all(others.map((r) => new Promise<void>((resolve) => {
      r.process.once('exit', () => resolve())
      r.process.kill('SIGTERM')
    })))
    step.done()
    return report
  } finally {
    cleanup()
  }
}

export function formatLabReport(report: LabReport): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`
  const rows: Array<[string, string, string]> = [
    ['leader', report.leaderBefore, report.leaderAfter],
    ['wk1 neighbour entry for VIP', report.neighbourBefore ?? '(none)', report.neighbourAfter ?? '(none)'],
    ['TCP wk1 -> VIP:8443 (same L2)', report.tcpBefore.l2Worker ?? 'failed', report.tcpAfter.l2Worker ?? 'failed'],
    ['TCP wk2 -> VIP:8443 (via gateway)', report.tcpBefore.routedWorker ?? 'failed', report.tcpAfter.routedWorker ?? 'failed'],
  ]
  const width = [34, 20, 20]
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join(' | ')
  const lines = [
    '',
    'Timeline (ms from SIGKILL; replica lines carry their own clock readings, wk1 lines are when this process read them):',
    ...report.timeline.map((e) => `  ${e.atMs.toFixed(1).padStart(9)}  ${e.who.padEnd(4)} ${e.what}`),
    '',
    line(['', 'before', 'after']),
    width.map((w) => '-'.repeat(w)).join('-+-'),
    ...rows.map(line),
    '',
    `takeover (SIGKILL -> first gratuitous ARP at wk1): ${ms(report.takeoverMs)}`,
    `SIGKILL -> wk1's neighbour entry shows the new MAC: ${ms(report.neighbourMs)} (polled with ip neigh: an upper bound)`,
    `frames seen by wk1 from the new leader: ${Object.entries(report.framesSeen).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
    `VIP left on the killed replica: ${report.vipLeftOnKilledReplica ? 'YES (unexpected)' : 'no (its guard removed it)'}`,
    '',
  ]
  return lines.join('\n')
}
