// The chaos run: for each elector, a fresh cluster and samplers, then rounds
// of (steady state -> one random fault on the leader -> recovery -> killed
// replicas restarted -> steady state again), each judged on the samplers'
// evidence over its window; at the end everything is torn down and checked
// for leaks. Used by test/chaos/run.ts (npm run chaos) and test/chaos.test.ts.
import { execFileSync } from 'node:child_process'
import { readdirSync, readlinkSync, readFileSync, watch } from 'node:fs'
import os from 'node:os'
import { monotonicNow } from '../../src/clock'
import { cgroupSupport } from '../support/cgroup'
import { sleep } from '../support/wait'
import { Cluster, type ElectorKind } from './cluster'
import { faultsFor, type FaultKind, type Injected } from './faults'
import { Sampler, positiveControl, type ControlResult } from './invariants'
import { randomStream } from './random'

export interface SuiteOptions {
  seed: number
  electors: readonly ElectorKind[]
  /** Rounds per elector (default 10 unless `minutes`). */
  rounds?: number
  /** Time budget for the whole run, split evenly between the electors. */
  minutes?: number
  /** Only these fault kinds. */
  faults?: readonly string[]
  /** Run only this round (1-based) of each elector: the same fault and parameters as in a full run. */
  round?: number
  log?: (line: string) => void
}

export interface RoundRecord {
  elector: ElectorKind
  round: number
  fault: string
  detail: string
  boundMs: number
  /** Worst gap between served probes in the round's window (failed attempts inside it), ms. */
  unavailableMs: number
  /** Fault injected -> the first probe served after the fault's end, ms. */
  recoveredMs?: number
  /** Adds while another namespace held the VIP (kernel order). */
  overlaps: string[]
  /** How long the longest confirmed overlap lasted (this process's stamps), ms. */
  overlapMs: number
  /** ARP requests answered by two MACs. */
  doubleArp: string[]
  arpRequests: number
  leaks: string[]
  failures: string[]
  wallMs: number
}

export interface ElectorRun {
  elector: ElectorKind
  rounds: RoundRecord[]
  /** After teardown: namespaces, processes, cgroups, fds, files left. */
  finalLeaks: string[]
  errors: string[]
  samplerErrors: string[]
  arpDrops: string
}

export interface SuiteResult {
  seed: number
  startedAt: string
  host: { cpus: number; loadBefore: number[]; loadAfter: number[]; kernel: string }
  /** The samplers shown a deliberate 300 ms split brain (see positiveControl). */
  control?: ControlResult
  controlError?: string
  runs: ElectorRun[]
  wallMs: number
}

interface Steady {
  leader?: number
  problems: string[]
  leaks: string[]
}

/** The steady state: three replicas running, the VIP on exactly one namespace with its full footprint, none elsewhere, and served by it. */
function steadyState(cluster: Cluster, sampler: Sampler, since: number): Steady {
  const problems: string[] = []
  const leaks: string[] = []
  cluster.hosts.forEach((_, i) => {
    if (!cluster.alive(i)) problems.push(`replica ${i + 1} not running`)
  })
  const prints = cluster.hosts.map((_, i) => cluster.footprint(i))
  const holders = prints.flatMap((p, i) => (p.vipOn.length > 0 ? [i] : []))
  if (holders.length !== 1) problems.push(`VIP held by ${holders.length} namespaces${holders.length ? ` (${holders.map((h) => h + 1).join(', ')})` : ''}`)
  const leader = holders.length === 1 ? holders[0] : undefined
  prints.forEach((p, i) => {
    if (i === leader) {
      if (p.vipOn.join() !== 'eth0' || !p.rule || p.routes < 2) problems.push(`leader ${i + 1} footprint incomplete: VIP on [${p.vipOn}], rule ${p.rule}, ${p.routes} table routes`)
    } else if (leader !== undefined && (p.vipOn.length > 0 || p.rule || p.routes > 0)) {
      leaks.push(`replica ${i + 1} (not leader): VIP on [${p.vipOn}], rule ${p.rule}, ${p.routes} table routes`)
    }
  })
  if (leader !== undefined) {
    const served = sampler.servedSince(since)
    if (!served) problems.push('no probe served since the check began')
    else if (served.n !== cluster.hosts[leader].name) problems.push(`the worker reached ${served.n}, not the holder ${cluster.hosts[leader].name}`)
  }
  return { leader, problems, leaks }
}

async function waitSteady(cluster: Cluster, sampler: Sampler, timeoutMs: number): Promise<Steady> {
  const since = monotonicNow()
  const end = since + timeoutMs
  for (;;) {
    await sleep(200) // each check runs `ip` nine times: poll gently, the machine is shared
    const state = steadyState(cluster, sampler, since)
    if ((state.problems.length === 0 && state.leaks.length === 0) || monotonicNow() > end) return state
  }
}

function fdTargets(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      return '(closed while listing)'
    }
  })
}

/** Elements of `after` not matched by one of `before` (multiset difference). */
function added(before: string[], after: string[]): string[] {
  const left = [...before]
  return after.filter((x) => {
    const i = left.indexOf(x)
    if (i < 0) return true
    left.splice(i, 1)
    return false
  })
}

function aliveProcess(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    if (state === 'Z') return undefined
    return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
  } catch {
    return undefined
  }
}

async function finalLeaks(cluster: Cluster, sampler: Sampler, fdsBefore: string[]): Promise<string[]> {
  const leaks: string[] = []
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(cluster.lab.id))
  if (namespaces.length) leaks.push(`namespaces left: ${namespaces.join(', ')}`)
  const groups = readdirSync(cgroupSupport().parent).filter((n) => n.startsWith(`vip-replica-${process.pid}-`))
  if (groups.length) leaks.push(`cgroups left: ${groups.join(', ')}`)
  // Guards are reparented when their host dies: give a fencing guard a moment to exit.
  const pids = [...cluster.pids, ...sampler.pids, ...sampler.arp.pids, ...(cluster.etcd?.pids ?? [])]
  for (let i = 0; i < 20 && pids.some((p) => aliveProcess(p)); i++) await sleep(100)
  for (const pid of pids) {
    const comm = aliveProcess(pid)
    if (comm) leaks.push(`process ${pid} (${comm}) still running`)
  }
  const fds = added(fdsBefore, fdTargets())
  if (fds.length) leaks.push(`runner fds open: ${fds.join(', ')}`)
  if (cluster.etcd) {
    try {
      readdirSync(cluster.etcd.dataDir)
      leaks.push(`etcd data dir left: ${cluster.etcd.dataDir}`)
    } catch {
      // removed
    }
  }
  return leaks
}

/** Restarts every replica that is not running; a death the fault did not cause is recorded. */
async function revive(cluster: Cluster, record: RoundRecord, killed: number[]): Promise<void> {
  for (let i = 0; i < cluster.hosts.length; i++) {
    if (cluster.alive(i)) continue
    const proc = cluster.procs[i]
    if (!killed.includes(i)) {
      record.failures.push(`replica ${i + 1} exited unexpectedly (code ${proc?.child.exitCode}, signal ${proc?.child.signalCode}): ${proc?.stderr.slice(-12).join(' | ')}`)
    }
    try {
      await cluster.restartReplica(i)
    } catch (error) {
      record.failures.push(`restarting replica ${i + 1} failed: ${(error as Error).message}`)
    }
  }
}

async function runRound(cluster: Cluster, sampler: Sampler, kinds: FaultKind[], seed: number, round: number, windowStart: number, changeIndex: number, log: (l: string) => void): Promise<RoundRecord> {
  const wallStart = monotonicNow()
  const rng = randomStream(seed, cluster.elector, round)
  const kind = rng.pick(kinds)
  const record: RoundRecord = {
    elector: cluster.elector, round, fault: kind.name, detail: '', boundMs: 0, unavailableMs: 0,
    overlaps: [], overlapMs: 0, doubleArp: [], arpRequests: 0, leaks: [], failures: [], wallMs: 0,
  }
  const before = await waitSteady(cluster, sampler, 20_000)
  let faultAt = monotonicNow()
  let injected: Injected | undefined
  if (before.leader === undefined || before.problems.length) {
    record.failures.push(`not steady before the fault: ${[...before.problems, ...before.leaks].join('; ')}`)
  } else {
    cluster.noteGuards()
    faultAt = monotonicNow()
    try {
      injected = await kind.inject({ cluster, leader: before.leader, rng })
      record.detail = `${injected.detail} on replica ${before.leader + 1}`
      record.boundMs = injected.boundMs
    } catch (error) {
      record.failures.push(`injection failed: ${(error as Error).message}`)
    }
  }
  if (injected) {
    // Recovery: a probe served after the fault's cause ended.
    const deadline = faultAt + injected.boundMs + 15_000
    let served = sampler.servedSince(injected.endedAt)
    while (!served && monotonicNow() < deadline) {
      await sleep(50)
      served = sampler.servedSince(injected.endedAt)
    }
    if (served) record.recoveredMs = Math.round(served.e - faultAt)
    else record.failures.push(`VIP not served again within ${injected.boundMs + 15_000} ms`)
  }
  // Replicas the fault killed come back; any other that died is a finding.
  await revive(cluster, record, injected?.killed ?? [])
  let after = await waitSteady(cluster, sampler, 15_000)
  if (cluster.hosts.some((_, i) => !cluster.alive(i))) {
    await revive(cluster, record, [])
    after = await waitSteady(cluster, sampler, 15_000)
  }
  record.leaks.push(...after.leaks)
  if (after.problems.length) {
    // What the replicas said about it: their error and link events of this round.
    const said = cluster.procs.flatMap((p, i) => (p?.events ?? []).filter((e) => e.at >= faultAt && ['error', 'link', 'follower', 'fenced'].includes(e.event)).map((e) => `${i + 1}:${e.event}${e.message ? ` ${e.message}` : e.state ? ` ${e.state}` : e.reason ? ` ${e.reason}` : ''}`))
    record.failures.push(`not steady after recovery: ${after.problems.join('; ')}${said.length ? ` (replica events: ${said.slice(-8).join(', ')})` : ''}`)
  }
  cluster.noteGuards()
  await sleep(200) // the witness's and the capture's lines still in their pipes
  const windowEnd = monotonicNow()

  const outages = sampler.outages(windowStart, windowEnd)
  record.unavailableMs = Math.round(Math.max(0, ...outages.map((o) => o.ms)))
  if (injected && record.unavailableMs > injected.boundMs) {
    const worst = outages.find((o) => Math.round(o.ms) === record.unavailableMs)!
    record.failures.push(`unavailable ${record.unavailableMs} ms > bound ${injected.boundMs} ms (${worst.failed} failed probes, from +${Math.round(worst.from - faultAt)} ms)`)
  }
  if (!injected && outages.length) record.failures.push(`unavailable ${record.unavailableMs} ms without a fault`)
  const overlaps = sampler.overlaps(changeIndex, sampler.changeCount)
  record.overlaps = overlaps.map((o) => o.description)
  if (overlaps.length) {
    record.overlapMs = +sampler.overlapMs(windowStart, windowEnd).toFixed(3)
    record.failures.push(...overlaps.map((o) => `overlap: ${o.description}`))
  }
  const doubles = sampler.arp.doubleAnswers(windowStart, windowEnd)
  record.doubleArp = doubles.map((w) => `request at +${Math.round(w.at - faultAt)} ms answered by ${w.macs.join(' and ')}`)
  record.failures.push(...record.doubleArp.map((d) => `two MACs: ${d}`))
  record.arpRequests = sampler.arp.requests(windowStart, windowEnd)
  if (record.arpRequests === 0) record.failures.push('the ARP watch captured no request in this round')
  record.failures.push(...record.leaks.map((l) => `leak: ${l}`))
  record.wallMs = Math.round(monotonicNow() - wallStart)
  log(`${cluster.elector} round ${round}: ${record.fault} — ${record.detail || '(not injected)'}; unavailable ${record.unavailableMs}/${record.boundMs} ms` +
    `${record.recoveredMs !== undefined ? `, served after the fault's end at +${record.recoveredMs} ms` : ''}${record.failures.length ? `; FAIL: ${record.failures.join('; ')}` : ''}`)
  return record
}

async function runElector(elector: ElectorKind, options: SuiteOptions, deadline: number, log: (l: string) => void): Promise<ElectorRun> {
  const run: ElectorRun = { elector, rounds: [], finalLeaks: [], errors: [], samplerErrors: [], arpDrops: '' }
  const kinds = faultsFor(elector, options.faults)
  if (kinds.length === 0) {
    run.errors.push(`no fault kind applies to ${elector}`)
    return run
  }
  const fdsBefore = fdTargets()
  const cluster = new Cluster(elector)
  let sampler: Sampler | undefined
  try {
    sampler = await Sampler.start(cluster)
    await cluster.start()
    const first = await waitSteady(cluster, sampler, 30_000)
    if (first.problems.length || first.leaks.length) throw new Error(`no steady state at start: ${[...first.problems, ...first.leaks].join('; ')}`)
    log(`${elector}: three replicas up, replica ${first.leader! + 1} leads`)
    const rounds = options.round ? [options.round] : undefined
    let windowStart = monotonicNow()
    let changeIndex = sampler.changeCount
    for (let r = 1; ; r++) {
      if (rounds) {
        if (r > 1) break
      } else if (options.minutes ? monotonicNow() > deadline : r > (options.rounds ?? 10)) break
      const round = rounds ? rounds[0] : r
      const record = await runRound(cluster, sampler, kinds, options.seed, round, windowStart, changeIndex, log)
      run.rounds.push(record)
      windowStart = monotonicNow() - 0
      changeIndex = sampler.changeCount
    }
  } catch (error) {
    run.errors.push((error as Error).stack ?? String(error))
    log(`${elector}: ${(error as Error).message}`)
  } finally {
    await cluster.destroy()
    if (sampler) {
      await sampler.close()
      run.samplerErrors = sampler.errors
      run.arpDrops = sampler.arp.dropLine
      run.finalLeaks = await finalLeaks(cluster, sampler, fdsBefore)
    }
  }
  return run
}

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const log = options.log ?? (() => {})
  const started = monotonicNow()
  const result: SuiteResult = {
    seed: options.seed,
    startedAt: new Date().toISOString(),
    host: { cpus: os.cpus().length, loadBefore: os.loadavg(), loadAfter: [], kernel: os.release() },
    runs: [],
    wallMs: 0,
  }
  log(`chaos: seed ${options.seed}, electors ${options.electors.join(',')}, ${options.round ? `round ${options.round} only` : options.minutes ? `${options.minutes} min` : `${options.rounds ?? 10} rounds each`}`)
  // libuv opens its inotify instance at the first fs.watch (cgroup waits) and
  // keeps it for the loop's life: open it now, so the fd baselines include it.
  watch(os.tmpdir()).close()
  try {
    result.control = await positiveControl()
    log(`positive control: ${result.control.overlaps.length} overlap(s), ${result.control.doubleArp} of ${result.control.arpRequests} ARP requests answered by two MACs`)
  } catch (error) {
    result.controlError = (error as Error).message
  }
  for (const [i, elector] of options.electors.entries()) {
    const share = options.minutes ? (options.minutes * 60_000) / options.electors.length : 0
    const deadline = started + share * (i + 1)
    result.runs.push(await runElector(elector, options, deadline, log))
  }
  result.host.loadAfter = os.loadavg()
  result.wallMs = Math.round(monotonicNow() - started)
  return result
}
