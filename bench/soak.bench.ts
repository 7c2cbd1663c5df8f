// Soak: thousands of leadership flips of one VipAnnouncer, and thousands of
// start()/stop() cycles, against the real addon and guard in a namespace lab,
// sampling memory, descriptors, libuv resources and the guard processes. The
// kernel is checked at sampled flips: the VIP, its rules and table routes are
// on the host exactly while leader.
//
//   node --import tsx bench/soak.bench.ts [--flips 10000] [--cycles 1000] [--sample-every 100] [--json]
//   node --import tsx bench/soak.bench.ts --compare [--cycles 3000] [--save runs.json]   # the RSS plateau, side by side
//   node --import tsx bench/soak.bench.ts --render runs.json   # a saved comparison, judged again
//   VIP_ANNOUNCER_BUILD_DIR=DIR ...   # the same against another build of the addon and guard
//   --elector file-lock: the cycles use a FileLockElector (new each cycle, closed after stop()) instead of a manual one
//
// --compare runs the cycles in child processes one after another: default,
// MALLOC_ARENA_MAX=2, --expose-gc with gc() at each sample, and both, and
// prints their RSS next to each other (see docs/reliability.md, "Soak").
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { VipAnnouncer } from '../src/announcer'
import type { LeaderElector } from '../src/elector'
import { FileLockElector } from '../src/electors/file-lock'
import { loadNative } from '../src/net/binding'
import { Lab, type LabHost } from '../test/lab/lab'
import { VIP, VIP6, switchedReplicas } from '../test/lab/topologies'
import { ManualElector } from '../test/support/manual-elector'
import { tempDir } from '../test/support/temp'
import { nextEvent } from '../test/support/wait'
import { formatSamples, formatVerdicts, judge, sample, type Sample, type Verdict } from './soak-metrics'
import { progress } from './stats'

const TABLE = 30100
const GATEWAYS = ['192.0.2.1/24', '2001:db8::1/64']
/** A finite lease, so every takeover arms the guard's deadline and gives the VIPs a kernel lifetime. */
const LEASE_MS = 60_000

export interface SoakOptions {
  flips: number
  cycles: number
  sampleEvery: number
  /** Flips between kernel checks. */
  verifyEvery: number
  /** Iterations left out of the slope (V8 and malloc reaching their working size). */
  warmupFraction: number
  /** gc() before each sample (needs node --expose-gc). */
  gc: boolean
  /**
   * The cycles' elector: 'manual' (never elected), or 'file-lock' (a new
   * FileLockElector on one lock file each cycle, closed after stop(); it is
   * usually elected during start()).
   */
  elector: 'manual' | 'file-lock'
}

export interface PhaseResult {
  name: string
  iterations: number
  wallMs: number
  samples: Sample[]
  verdicts: Verdict[]
  warmupIterations: number
  errors: string[]
  /** The cycles' elector. */
  elector?: string
  /** gc() ran before each sample. */
  gc?: boolean
  /** Kernel checks made and failed (flips only). */
  checks?: { made: number; failed: string[] }
}

function announcerFor(host: LabHost, elector: LeaderElector): VipAnnouncer {
  return new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', gateway: GATEWAYS, elector, netns: host.path })
}

/** What ip(8) shows of our footprint in the namespace. */
function kernelFootprint(host: LabHost): { vips: string[]; rules: number; routes: number } {
  const addrs = host.addresses('eth0')
  const rules = [4, 6].flatMap((f) => host.ipJson(`-${f}`, 'rule', 'show') as Array<{ table?: string }>).filter((r) => r.table === String(TABLE)).length
  const routes = host.tableRoutes(TABLE, 4).length + host.tableRoutes(TABLE, 6).length
  return { vips: addrs.filter((a) => a === `${VIP}/32` || a === `${VIP6}/128`), rules, routes }
}

function check(host: LabHost, leader: boolean, at: number, failed: string[]): void {
  const seen = kernelFootprint(host)
  const ok = leader ? seen.vips.length === 2 && seen.rules === 2 && seen.routes === 4 : seen.vips.length === 0 && seen.rules === 0 && seen.routes === 0
  if (!ok) failed.push(`flip ${at} (${leader ? 'leader' : 'follower'}): ${JSON.stringify(seen)}`)
}

function finish(name: string, options: SoakOptions, iterations: number, startedAt: number, samples: Sample[], errors: string[]): PhaseResult {
  const warmupIterations = Math.round(iterations * options.warmupFraction)
  return { name, iterations, wallMs: Date.now() - startedAt, samples, verdicts: judge(samples, warmupIterations, options.gc), warmupIterations, errors, gc: options.gc }
}

/** (1) One announcer, `flips` takeovers and step-downs driven by a manual elector. */
export async function soakFlips(options: SoakOptions): Promise<PhaseResult> {
  const lab = new Lab()
  const startedAt = Date.now()
  let announcer: VipAnnouncer | undefined
  try {
    const { replicas: [cp1] } = switchedReplicas(lab, 1)
    const elector = new ManualElector()
    announcer = announcerFor(cp1, elector)
    const errors: string[] = []
    announcer.on('error', (e) => errors.push(e.message))
    await announcer.start()
    const samples = [sample(0, options)]
    const failed: string[] = []
    let made = 0
    for (let i = 1; i <= options.flips; i++) {
      const leader = nextEvent(announcer, 'leader', 5000)
      elector.elect(LEASE_MS)
      await leader
      const verify = i % options.verifyEvery === 0
      if (verify) check(cp1, true, i, failed)
      const follower = nextEvent(announcer, 'follower', 5000)
      elector.depose('soak')
      await follower
      if (verify) {
        check(cp1, false, i, failed)
        made += 2
      }
      if (i % options.sampleEvery === 0) samples.push(sample(i, options))
      progress('soak flips', i, options.flips)
    }
    await announcer.stop()
    check(cp1, false, options.flips, failed)
    made++
    const result = finish('flips', options, options.flips, startedAt, samples, errors)
    return { ...result, checks: { made, failed } }
  } finally {
    await announcer?.stop().catch(() => {}) // a failed flip must not leave the guard behind
    lab.destroy()
  }
}

/**
 * (2) `cycles` start()/stop() cycles, a new VipAnnouncer (and elector) each
 * time. The same instance cannot be restarted: start() after stop() rejects
 * ('create a new one'), checked once here so the report can say so.
 */
export async function soakCycles(options: SoakOptions): Promise<PhaseResult & { restart: string }> {
  const lab = new Lab()
  const startedAt = Date.now()
  let current: VipAnnouncer | undefined
  try {
    const { replicas: [cp1] } = switchedReplicas(lab, 1)
    const errors: string[] = []
    const samples = [sample(0, options)]
    let restart = ''
    const lockPath = path.join(tempDir('vip-soak-'), 'lock')
    for (let i = 1; i <= options.cycles; i++) {
      const elector = options.elector === 'file-lock' ? new FileLockElector({ path: lockPath }) : new ManualElector()
      const announcer = announcerFor(cp1, elector)
      current = announcer
      announcer.on('error', (e) => errors.push(e.message))
      await announcer.start()
      // The guard is sampled while it lives; the process after stop().
      const guard = i % options.sampleEvery === 0 ? sample(i) : undefined
      await announcer.stop()
      if (elector instanceof FileLockElector) await elector.close()
      if (i === 1) restart = await announcer.start().then(() => 'restarted (unexpected)', (e: Error) => `start() after stop() rejects: ${e.message}`)
      if (guard) {
        const s = sample(i, options)
        samples.push({ ...s, guardRss: guard.guardRss, guardFds: guard.guardFds, guardsStarted: guard.guards })
      }
      progress('soak cycles', i, options.cycles)
    }
    return { ...finish('cycles', options, options.cycles, startedAt, samples, errors), restart, elector: options.elector }
  } finally {
    await current?.stop().catch(() => {}) // idempotent; after a failed cycle it ends that cycle's guard
    lab.destroy()
  }
}

function report(result: PhaseResult & { restart?: string }): string {
  const lines = [`\n## soak: ${result.name}${result.elector ? `, ${result.elector} elector` : ''} (${result.iterations}, ${(result.wallMs / 1000).toFixed(0)} s, warm-up ${result.warmupIterations}; addon and guard from ${loadNative().dir})`]
  if (result.checks) lines.push(`kernel checks: ${result.checks.made} made, ${result.checks.failed.length} failed${result.checks.failed.length ? ': ' + result.checks.failed.slice(0, 5).join('; ') : ''}`)
  if (result.restart) lines.push(`same instance: ${result.restart}`)
  const started = result.samples.filter((s) => s.guardsStarted !== undefined)
  if (started.length > 0) lines.push(`guards alive while started: ${[...new Set(started.map((s) => s.guardsStarted))].join(', ')} (${started.length} samples); after stop(): ${[...new Set(started.map((s) => s.guards))].join(', ')}`)
  lines.push(`announcer errors: ${result.errors.length}${result.errors.length ? ' (first: ' + result.errors[0] + ')' : ''}`)
  lines.push('', formatSamples(result.samples), '', formatVerdicts(result.verdicts))
  return lines.join('\n')
}

// --- the RSS plateau, side by side ------------------------------------------

const VARIANTS: Array<{ name: string; env: Record<string, string>; node: string[]; args: string[] }> = [
  { name: 'default', env: {}, node: [], args: [] },
  { name: 'MALLOC_ARENA_MAX=2', env: { MALLOC_ARENA_MAX: '2' }, node: [], args: [] },
  { name: 'gc() at samples', env: {}, node: ['--expose-gc'], args: ['--gc'] },
  { name: 'both', env: { MALLOC_ARENA_MAX: '2' }, node: ['--expose-gc'], args: ['--gc'] },
]

const VARIANT_NAMES: Record<string, string> = { default: 'default', arena: 'MALLOC_ARENA_MAX=2', gc: 'gc() at samples', both: 'both' }

async function compare(options: SoakOptions & { save?: string; variants?: string[] }): Promise<void> {
  const runs: Array<{ name: string; result: PhaseResult; wallMs: number }> = []
  for (const variant of VARIANTS.filter((v) => !options.variants || options.variants.includes(v.name))) {
    const args = [...variant.node, '--import', 'tsx', __filename, '--phase', 'cycles', '--json', '--cycles', String(options.cycles), '--sample-every', String(options.sampleEvery), '--elector', options.elector, ...variant.args]
    const t0 = Date.now()
    process.stderr.write(`compare: ${variant.name}: node ${args.join(' ')}\n`)
    const child = spawnSync(process.execPath, args, { env: { ...process.env, ...variant.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'], cwd: path.join(__dirname, '..') })
    if (child.status !== 0) throw new Error(`${variant.name}: child exited ${child.status ?? child.signal}`)
    runs.push({ name: variant.name, result: JSON.parse(child.stdout).cycles, wallMs: Date.now() - t0 })
  }
  if (options.save) writeFileSync(options.save, JSON.stringify({ buildDir: loadNative().dir, cycles: options.cycles, elector: options.elector, runs }))
  renderCompare({ buildDir: loadNative().dir, cycles: options.cycles, elector: options.elector, runs }, options.warmupFraction)
}

type CompareRuns = { buildDir: string; cycles: number; elector?: string; runs: Array<{ name: string; result: PhaseResult; wallMs: number }> }

/** Prints a comparison, judged here (so a saved one can be judged again: --render FILE). */
function renderCompare(saved: CompareRuns, warmupFraction: number): void {
  const warmup = Math.round(saved.cycles * warmupFraction)
  const runs = saved.runs.map((r) => ({ ...r, result: { ...r.result, warmupIterations: warmup, verdicts: judge(r.result.samples, warmup, r.result.gc ?? r.name.includes('gc')) } }))
  const options = { cycles: saved.cycles, elector: saved.elector ?? 'manual' }
  const buildDir = saved.buildDir
  const mb = (v: number) => (v / 1024 / 1024).toFixed(1)
  const head = () => `| cycles | ${runs.map((r) => r.name).join(' | ')} |`
  const table = (value: (s: Sample) => string) => {
    const rows = runs[0].result.samples.map((s0, index) => `| ${s0.iteration} | ${runs.map((r) => (r.result.samples[index] ? value(r.result.samples[index]) : '-')).join(' | ')} |`)
    return [head(), '|' + '---|'.repeat(runs.length + 1), ...rows].join('\n')
  }
  console.log(`\n## soak: RSS plateau, ${options.cycles} start/stop cycles per variant, ${options.elector} elector (child processes, one after another; addon and guard from ${buildDir})`)
  console.log(runs.map((r) => `${r.name}: ${(r.wallMs / 1000).toFixed(0)} s`).join('; ') + `; warm-up ${warmup} cycles`)
  console.log('\nRSS MB (RssAnon; brk [heap]; heapTotal+external; heapUsed), MB\n')
  console.log(table((s) => `${mb(s.rss)} (${mb(s.rssAnon)}; ${mb(s.brkHeap)}; ${mb(s.heapTotal + s.external)}; ${mb(s.heapUsed)})`))
  for (const r of runs) {
    console.log(`\n### ${r.name}\n`)
    console.log(formatVerdicts(r.result.verdicts.filter((v) => ['rss', 'RssAnon', 'brk [heap]', 'anon mmap', 'heapUsed', 'heapTotal', 'external', 'code space', 'threads', 'fds', 'active resources', 'guards alive'].includes(v.label))))
  }
}

// --- command line -----------------------------------------------------------

function parseArgs(argv: string[]): SoakOptions & { json: boolean; phase: 'all' | 'flips' | 'cycles'; compare: boolean; save?: string; render?: string; variants?: string[] } {
  const value = (name: string, fallback: number) => {
    const index = argv.indexOf(name)
    if (index < 0) return fallback
    const n = Number(argv[index + 1])
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a whole number, got ${argv[index + 1]}`)
    return n
  }
  const phaseIndex = argv.indexOf('--phase')
  const phase = phaseIndex < 0 ? 'all' : (argv[phaseIndex + 1] as 'flips' | 'cycles')
  if (!['all', 'flips', 'cycles'].includes(phase)) throw new Error(`--phase is flips or cycles, got ${phase}`)
  return {
    flips: value('--flips', 10_000),
    cycles: value('--cycles', argv.includes('--compare') ? 3000 : 1000),
    sampleEvery: Math.max(1, value('--sample-every', 100)),
    verifyEvery: Math.max(1, value('--verify-every', 500)),
    // A third: V8 grows its heap to its working size over the first
    // thousand or so cycles (docs/reliability.md, "Soak").
    warmupFraction: value('--warmup-percent', 33) / 100,
    gc: argv.includes('--gc'),
    elector: argv.includes('--elector') && argv[argv.indexOf('--elector') + 1] === 'file-lock' ? 'file-lock' : 'manual',
    json: argv.includes('--json'),
    compare: argv.includes('--compare'),
    save: argv.includes('--save') ? argv[argv.indexOf('--save') + 1] : undefined,
    render: argv.includes('--render') ? argv[argv.indexOf('--render') + 1] : undefined,
    // --variants default,gc: a subset, by name (default, arena, gc, both)
    variants: argv.includes('--variants') ? argv[argv.indexOf('--variants') + 1].split(',').map((n) => VARIANT_NAMES[n] ?? n) : undefined,
    phase,
  }
}

/** Options with the defaults of the command line (bench/run.ts passes SOAK_FLIPS and SOAK_CYCLES). */
export function soakOptions(overrides: Partial<SoakOptions> = {}): SoakOptions {
  return { ...parseArgs([]), ...overrides }
}

/** Runs the flips and then the cycles (either skipped at 0) in this process. */
export async function soakBench(options: SoakOptions, phase: 'all' | 'flips' | 'cycles' = 'all'): Promise<Record<string, PhaseResult>> {
  const out: Record<string, PhaseResult> = {}
  if (phase !== 'cycles' && options.flips > 0) out.flips = await soakFlips(options)
  if (phase !== 'flips' && options.cycles > 0) out.cycles = await soakCycles(options)
  return out
}

export function formatSoak(results: Record<string, PhaseResult>): string {
  return Object.values(results).map(report).join('\n')
}

async function main(argv: string[]): Promise<void> {
  const options = parseArgs(argv)
  if (options.render) return renderCompare(JSON.parse(readFileSync(options.render, 'utf8')), options.warmupFraction)
  if (options.compare) return compare(options)
  const results = await soakBench(options, options.phase)
  console.log(options.json ? JSON.stringify(results) : formatSoak(results))
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
