// Before/after benchmark: the takeover and failover figures of two builds,
// side by side in one run, interleaved batch by batch (the machine is shared
// and noisy: A, B, B, A, A, B, ... so slow drift hits both alike).
//
//   node --import tsx bench/ab.ts [--ref 5586f42] [--rounds 12]       # as root
//
//   A = a git ref, checked out as a temporary worktree (node_modules symlinked
//       from this checkout, native addon built there with `npx node-gyp rebuild`);
//   B = this checkout's working tree. By default a frozen copy of it (tracked and
//       untracked, not ignored, files) built the same way, so edits made while
//       the benchmark runs can't mix into it; `--b live` runs this checkout's
//       own tree and build/ instead (refused when build/ is older than native/).
//
// Every batch is a child process started with cwd at its tree that requires the
// tree's own bench/takeover.bench.ts or bench/failover.bench.ts, so A runs A's
// src/, test/ and build/Release and B runs B's. Raw samples are taken by
// wrapping the tree's bench/stats.ts `summary()` (the benches return summaries).
// keepalived runs once, in one of B's failover batches (same run, same lab).
//
// Options (per round and tree: one takeover batch, one failover batch):
//   --ref REF               A (default 5586f42)
//   --rounds N              interleaved rounds (default 12; ~5 min in all on a 2-core VM)
//   --takeover-runs N       takeover rounds per batch (default 50)
//   --failover-runs N       failover SIGKILLs per batch (default 8)
//   --keepalived-runs N     keepalived rounds, once in the whole run (default 5; 0: none)
//   --order abba|abab       batch order (default abba: the first tree alternates per round)
//   --b snapshot|live       see above (default snapshot)
//   --no-warmup             skip the discarded warm-up batch per tree (primes tsx's cache, fails fast)
//   --json FILE             also write every raw sample as JSON
//   --verbose               pass the batches' own stderr through
// Interrupted (Ctrl-C, SIGTERM): the running batch removes its namespaces (and
// anything left is removed here from its log of names), then the worktree and
// temporary copies are removed.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { appendFileSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// ---------------------------------------------------------------- driver (child process)

interface TakeoverSamples {
  captured: number[]
  internal: number[]
}
interface FailoverSamples {
  frame: number[]
  neigh: number[]
  leftBehind: number
  runs: number
  fenced: number[]
  elected: number[]
  sent: number[]
  keepalived?: { frame: number[]; neigh: number[]; leftBehind: number; runs: number }
}

function kill9NamespaceProcesses(name: string): void {
  const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' })
  if (r.status !== 0) return
  for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
}

function existingNamespaces(): Set<string> {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  return new Set((r.stdout ?? '').split('\n').map((l) => l.split(' ')[0]).filter(Boolean))
}

/** Removes the namespaces named in `names` that still exist (processes inside get SIGKILL first). Returns the ones removed. */
function removeNamespaces(names: Iterable<string>): string[] {
  const present = existingNamespaces()
  const removed: string[] = []
  for (const name of names) {
    if (!present.has(name)) continue
    kill9NamespaceProcesses(name)
    spawnSync('ip', ['netns', 'del', name])
    removed.push(name)
  }
  return removed
}

async function driver(args: Map<string, string>): Promise<void> {
  const tree = args.get('tree')!
  const kind = args.get('kind')!
  const runs = Number(args.get('runs'))
  const keepalivedRuns = Number(args.get('keepalived') ?? 0)
  const out = args.get('out')!
  const nsLog = args.get('ns-log')!

  // Every namespace this process's labs create is logged before it exists, so
  // an interrupted batch (here, or in the parent if this process dies) can be cleaned.
  const namespaces = require(path.join(tree, 'src/lab/namespaces.ts'))
  const made = new Set<string>()
  const host = namespaces.Lab.prototype.host
  namespaces.Lab.prototype.host = function (this: { id: string }, short: string) {
    const name = `${this.id}-${short}`
    made.add(name)
    appendFileSync(nsLog, `${name}\n`)
    return host.call(this, short)
  }
  let exiting = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (exiting) return
    exiting = true
    removeNamespaces(made)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  // The benches return summaries: keep the values behind each summary object.
  const statsPath = require.resolve(path.join(tree, 'bench/stats.ts'))
  const stats = require(statsPath)
  const raw = new Map<object, number[]>()
  const wrapped = {
    ...stats,
    summary: (values: number[]) => {
      const s = stats.summary(values)
      raw.set(s, [...values])
      return s
    },
  }
  require.cache[statsPath]!.exports = wrapped
  const samples = (s: object | undefined, what: string): number[] => {
    const values = s && raw.get(s)
    if (!values) throw new Error(`${tree}: no raw samples behind ${what} (did bench/stats.ts or the bench's result shape change?)`)
    return values
  }

  let result: TakeoverSamples | FailoverSamples
  if (kind === 'takeover') {
    const { takeoverBench } = require(path.join(tree, 'bench/takeover.bench.ts'))
    if (typeof takeoverBench !== 'function') throw new Error(`${tree}/bench/takeover.bench.ts exports no takeoverBench`)
    const r = await takeoverBench(runs)
    result = { captured: samples(r.captured, 'captured'), internal: samples(r.internal, 'internal') }
  } else if (kind === 'failover') {
    const { failoverBench } = require(path.join(tree, 'bench/failover.bench.ts'))
    if (typeof failoverBench !== 'function') throw new Error(`${tree}/bench/failover.bench.ts exports no failoverBench`)
    const r = await failoverBench(runs, keepalivedRuns)
    const v = r.vipAnnouncer
    result = {
      frame: samples(v.frame, 'vipAnnouncer.frame'),
      neigh: samples(v.neigh, 'vipAnnouncer.neigh'),
      leftBehind: v.leftBehind,
      runs: v.runs,
      fenced: samples(r.phases.fenced, 'phases.fenced'),
      elected: samples(r.phases.elected, 'phases.elected'),
      sent: samples(r.phases.sent, 'phases.sent'),
      keepalived: r.keepalived && {
        frame: samples(r.keepalived.frame, 'keepalived.frame'),
        neigh: samples(r.keepalived.neigh, 'keepalived.neigh'),
        leftBehind: r.keepalived.leftBehind,
        runs: r.keepalived.runs,
      },
    }
  } else throw new Error(`unknown kind ${kind}`)
  writeFileSync(out, JSON.stringify(result))
  process.exit(0) // the benches may leave handles (guards' pipes) that would keep the loop alive
}

// ---------------------------------------------------------------- harness

interface Tree {
  key: 'A' | 'B'
  label: string
  dir: string
  kind: 'worktree' | 'snapshot' | 'live'
}

const repo = path.resolve(__dirname, '..')
const log = (line: string) => process.stderr.write(`[ab ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`)
    const key = a.slice(2)
    if (['no-warmup', 'verbose', 'driver'].includes(key)) args.set(key, 'true')
    else {
      const value = argv[++i]
      if (value === undefined) throw new Error(`${a} needs a value`)
      args.set(key, value)
    }
  }
  return args
}

function git(...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

// Everything made here, removed at exit on every path (normal, error, signal).
const cleanup = {
  tmp: '' as string,
  worktrees: [] as string[],
  symlinks: [] as string[],
  nsLogs: [] as string[],
  child: undefined as ChildProcess | undefined,
  done: false,
}

function leftoverNamespaces(): string[] {
  const names = new Set<string>()
  for (const file of cleanup.nsLogs) {
    if (!existsSync(file)) continue
    for (const name of readFileSync(file, 'utf8').split('\n')) if (name) names.add(name)
  }
  return removeNamespaces(names)
}

function cleanUp(): void {
  if (cleanup.done) return
  cleanup.done = true
  if (cleanup.child && cleanup.child.exitCode === null && cleanup.child.signalCode === null) {
    try {
      cleanup.child.kill('SIGKILL')
    } catch {
      // gone
    }
  }
  const left = leftoverNamespaces()
  if (left.length) log(`removed ${left.length} namespace(s) left by an interrupted batch: ${left.join(' ')}`)
  for (const link of cleanup.symlinks) {
    try {
      if (lstatSync(link).isSymbolicLink()) unlinkSync(link) // never recurse into the shared node_modules
    } catch {
      // gone
    }
  }
  for (const dir of cleanup.worktrees) {
    const r = spawnSync('git', ['-C', repo, 'worktree', 'remove', '--force', dir], { encoding: 'utf8' })
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true })
      spawnSync('git', ['-C', repo, 'worktree', 'prune'])
    }
  }
  if (cleanup.tmp) rmSync(cleanup.tmp, { recursive: true, force: true })
}

let interrupted = false
async function onSignal(signal: NodeJS.Signals): Promise<void> {
  if (interrupted) return
  interrupted = true
  log(`${signal}: stopping the running batch and cleaning up`)
  const child = cleanup.child
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM') // its handler removes its namespaces; SIGKILL after 10 s
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve()
      }, 10000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  cleanUp()
  process.exit(signal === 'SIGINT' ? 130 : 143)
}

function linkNodeModules(dir: string): void {
  const link = path.join(dir, 'node_modules')
  if (!existsSync(link)) {
    symlinkSync(path.join(repo, 'node_modules'), link, 'dir')
    cleanup.symlinks.push(link)
  }
}

/** A frozen copy of the working tree: tracked and untracked files that aren't ignored (deleted ones left out). */
function snapshotWorkingTree(dest: string): number {
  const files = execFileSync('git', ['-C', repo, 'ls-files', '-z', '-c', '-o', '--exclude-standard'], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\0')
    .filter(Boolean)
  let copied = 0
  for (const file of new Set(files)) {
    const from = path.join(repo, file)
    let st
    try {
      st = lstatSync(from)
    } catch {
      continue // deleted in the working tree
    }
    const to = path.join(dest, file)
    mkdirSync(path.dirname(to), { recursive: true })
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to)
    else if (st.isFile()) copyFileSync(from, to)
    else continue
    copied++
  }
  return copied
}

function newestMtime(dir: string, filter: (file: string) => boolean): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, filter))
    else if (filter(p)) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

function build(tree: Tree): Promise<void> {
  const logFile = path.join(cleanup.tmp, `build-${tree.key}.log`)
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['node-gyp', 'rebuild'], { cwd: tree.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: Buffer[] = []
    child.stdout!.on('data', (d) => chunks.push(d))
    child.stderr!.on('data', (d) => chunks.push(d))
    child.on('exit', (code) => {
      writeFileSync(logFile, Buffer.concat(chunks))
      const missing = ['vip_announcer.node', 'vip_guard'].filter((f) => !existsSync(path.join(tree.dir, 'build', 'Release', f)))
      if (code === 0 && missing.length === 0) resolve()
      else reject(new Error(`${tree.key} (${tree.label}): node-gyp rebuild exited ${code}${missing.length ? `, missing build/Release/${missing.join(', ')}` : ''}; last lines:\n${Buffer.concat(chunks).toString().split('\n').slice(-25).join('\n')}`))
    })
  })
}

/** The parameter list of an exported bench function, whitespace-normalized. */
function signature(dir: string, file: string, fn: string): string {
  const source = readFileSync(path.join(dir, file), 'utf8')
  const m = new RegExp(`export\\s+(async\\s+)?function\\s+${fn}\\s*\\(([^)]*)\\)`).exec(source)
  if (!m) throw new Error(`${dir}/${file} does not export function ${fn}`)
  return `${m[1] ? 'async ' : ''}${fn}(${m[2].replace(/\s+/g, ' ').trim()})`
}

let batchNo = 0
function runBatch(tree: Tree, kind: 'takeover' | 'failover', runs: number, keepalived: number, verbose: boolean): Promise<TakeoverSamples | FailoverSamples> {
  const n = batchNo++
  const out = path.join(cleanup.tmp, `batch-${n}.json`)
  const nsLog = path.join(cleanup.tmp, `batch-${n}.ns`)
  writeFileSync(nsLog, '')
  cleanup.nsLogs.push(nsLog)
  const timeoutMs = kind === 'takeover' ? 60000 + runs * 500 : 60000 + runs * 20000 + keepalived * 30000
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--driver', '--tree', tree.dir, '--kind', kind, '--runs', String(runs), '--keepalived', String(keepalived), '--out', out, '--ns-log', nsLog], {
      cwd: tree.dir,
      stdio: ['ignore', 'ignore', verbose ? 'inherit' : 'pipe'],
    })
    cleanup.child = child
    let stderr = ''
    child.stderr?.on('data', (d) => {
      stderr = (stderr + d).slice(-8000)
    })
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      cleanup.child = undefined
      if (interrupted) return
      const left = leftoverNamespaces()
      if (left.length) log(`batch left ${left.length} namespace(s), removed: ${left.join(' ')}`)
      if (code === 0 && existsSync(out)) resolve(JSON.parse(readFileSync(out, 'utf8')))
      else reject(new Error(`${kind} batch of ${tree.key} exited ${code ?? signal}${signal === 'SIGTERM' ? ` (timeout ${timeoutMs} ms?)` : ''}; stderr tail:\n${stderr.split('\n').slice(-20).join('\n')}`))
    })
  })
}

// Statistics (the repo's percentile definition, B's bench/stats.ts).
type Stats = typeof import('./stats')

function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** 95% interval of median(B)/median(A), resampling whole batches (each batch is one process: the unit of noise). */
function ratioInterval(stats: Stats, a: number[][], b: number[][], iterations = 2000): [number, number] {
  const rand = mulberry32(0x5eed)
  const pool = (batches: number[][]) => {
    const out: number[] = []
    for (let i = 0; i < batches.length; i++) out.push(...batches[Math.floor(rand() * batches.length)])
    return out
  }
  const ratios: number[] = []
  for (let i = 0; i < iterations; i++) ratios.push(stats.median(pool(b)) / stats.median(pool(a)))
  return [stats.percentile(ratios, 2.5), stats.percentile(ratios, 97.5)]
}

async function harness(args: Map<string, string>): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benches create network namespaces')
  const stats: Stats = require('./stats')
  const ref = args.get('ref') ?? '5586f42'
  const rounds = Number(args.get('rounds') ?? 12)
  const takeoverRuns = Number(args.get('takeover-runs') ?? 50)
  const failoverRuns = Number(args.get('failover-runs') ?? 8)
  const keepalivedRuns = Number(args.get('keepalived-runs') ?? 5)
  const order = args.get('order') ?? 'abba'
  const bMode = args.get('b') ?? 'snapshot'
  const verbose = args.has('verbose')
  for (const [k, v] of [['rounds', rounds], ['takeover-runs', takeoverRuns], ['failover-runs', failoverRuns], ['keepalived-runs', keepalivedRuns]] as const) {
    if (!Number.isInteger(v) || v < (k === 'keepalived-runs' ? 0 : 1)) throw new Error(`--${k} must be an integer ≥ ${k === 'keepalived-runs' ? 0 : 1}`)
  }
  if (!['abba', 'abab'].includes(order)) throw new Error('--order is abba or abab')
  if (!['snapshot', 'live'].includes(bMode)) throw new Error('--b is snapshot or live')
  const started = Date.now()

  const sha = git('rev-parse', '--verify', `${ref}^{commit}`)
  const subject = git('log', '-1', '--format=%s', sha)
  const head = git('rev-parse', '--short', 'HEAD')
  const dirty = git('status', '--porcelain').split('\n').filter(Boolean).length

  process.on('exit', cleanUp)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  cleanup.tmp = mkdtempSync(path.join(os.tmpdir(), 'vip-ab-'))

  const a: Tree = { key: 'A', label: sha.slice(0, 7), dir: path.join(cleanup.tmp, 'a'), kind: 'worktree' }
  log(`A = ${sha.slice(0, 7)} (${subject.slice(0, 70)}): worktree in ${a.dir}`)
  execFileSync('git', ['-C', repo, 'worktree', 'add', '--detach', a.dir, sha], { stdio: ['ignore', 'ignore', 'pipe'] })
  cleanup.worktrees.push(a.dir)
  linkNodeModules(a.dir)

  let b: Tree
  if (bMode === 'live') {
    b = { key: 'B', label: 'working tree', dir: repo, kind: 'live' }
    const built = Math.min(...['vip_announcer.node', 'vip_guard'].map((f) => statSync(path.join(repo, 'build', 'Release', f)).mtimeMs))
    const sources = Math.max(statSync(path.join(repo, 'binding.gyp')).mtimeMs, newestMtime(path.join(repo, 'native'), (f) => /\.(cc|h)$/.test(f) && !f.includes(`${path.sep}fuzz${path.sep}`)))
    if (sources > built) throw new Error(`--b live: ${repo}/build/Release is older than native/ or binding.gyp; rebuild it or use the default --b snapshot`)
    log(`B = ${repo} as it is (HEAD ${head} + ${dirty} changed/untracked paths), its own build/Release`)
  } else {
    b = { key: 'B', label: 'working tree', dir: path.join(cleanup.tmp, 'b'), kind: 'snapshot' }
    const copied = snapshotWorkingTree(b.dir)
    linkNodeModules(b.dir)
    log(`B = working tree of ${repo} (HEAD ${head} + ${dirty} changed/untracked paths), frozen copy of ${copied} files in ${b.dir}`)
  }

  for (const [file, fn] of [['bench/takeover.bench.ts', 'takeoverBench'], ['bench/failover.bench.ts', 'failoverBench']]) {
    const sa = signature(a.dir, file, fn)
    const sb = signature(b.dir, file, fn)
    if (sa !== sb) throw new Error(`${fn} differs: A ${sa}, B ${sb}; this harness calls ${fn}(runs${fn === 'failoverBench' ? ', keepalivedRuns' : ''})`)
    log(`signature: ${sa} (same in A and B)`)
  }

  const gyp = execFileSync('npx', ['node-gyp', '--version'], { cwd: a.dir, encoding: 'utf8' }).trim()
  const toBuild = b.kind === 'live' ? [a] : [a, b]
  log(`building ${toBuild.map((t) => t.key).join(' and ')} with node-gyp ${gyp} (in parallel; ~30-60 s)`)
  const t0 = Date.now()
  await Promise.all(toBuild.map(build))
  log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s: build/Release/vip_announcer.node and vip_guard present in ${toBuild.map((t) => t.key).join(', ')}`)

  const trees = [a, b]
  if (!args.has('no-warmup')) {
    for (const tree of trees) {
      log(`warm-up ${tree.key} (discarded): takeover 5 runs, failover 1 run`)
      await runBatch(tree, 'takeover', 5, 0, verbose)
      await runBatch(tree, 'failover', 1, 0, verbose)
    }
  }

  const takeover = { A: [] as TakeoverSamples[], B: [] as TakeoverSamples[] }
  const failover = { A: [] as FailoverSamples[], B: [] as FailoverSamples[] }
  const failed: string[] = []
  let keepalived: FailoverSamples['keepalived']
  const keepalivedRound = Math.floor(rounds / 2)
  const median = (xs: number[]) => stats.fmt(stats.median(xs))
  for (let round = 0; round < rounds; round++) {
    const ordered = order === 'abba' && round % 2 === 1 ? [b, a] : [a, b]
    for (const kind of ['takeover', 'failover'] as const) {
      for (const tree of ordered) {
        const withKeepalived = kind === 'failover' && tree.key === 'B' && round === keepalivedRound ? keepalivedRuns : 0
        const runs = kind === 'takeover' ? takeoverRuns : failoverRuns
        const t = Date.now()
        try {
          const r = await runBatch(tree, kind, runs, withKeepalived, verbose)
          const secs = ((Date.now() - t) / 1000).toFixed(1)
          if (kind === 'takeover') {
            const s = r as TakeoverSamples
            takeover[tree.key].push(s)
            log(`round ${round + 1}/${rounds} takeover ${tree.key}: ${runs} runs in ${secs} s, median ${median(s.captured)}`)
          } else {
            const s = r as FailoverSamples
            failover[tree.key].push(s)
            if (s.keepalived) keepalived = s.keepalived
            log(`round ${round + 1}/${rounds} failover ${tree.key}: ${runs} runs${withKeepalived ? ` + keepalived ${withKeepalived}` : ''} in ${secs} s, GARP median ${median(s.frame)}, neigh median ${median(s.neigh)}${s.keepalived ? `; keepalived GARP median ${median(s.keepalived.frame)}` : ''}`)
          }
        } catch (error) {
          if (interrupted) return
          failed.push(`round ${round + 1} ${kind} ${tree.key}`)
          log(`round ${round + 1}/${rounds} ${kind} ${tree.key} FAILED (left out): ${(error as Error).message}`)
        }
      }
    }
  }

  // ------------------------------------------------------------ report
  type Figure = { name: string; batches: (k: 'A' | 'B') => number[][] }
  const figures: Figure[] = [
    { name: 'takeover: `elected` → first GARP arrives at the peer', batches: (k) => takeover[k].map((s) => s.captured) },
    { name: "takeover: `elected` → first burst sent (announcer's measure)", batches: (k) => takeover[k].map((s) => s.internal) },
    { name: 'failover: SIGKILL → first GARP from the new leader arrives at the worker', batches: (k) => failover[k].map((s) => s.frame) },
    { name: "failover: SIGKILL → worker's neighbour entry has the new MAC", batches: (k) => failover[k].map((s) => s.neigh) },
    { name: 'failover, from SIGKILL: VIP deleted by the guard', batches: (k) => failover[k].map((s) => s.fenced) },
    { name: 'failover, from SIGKILL: successor elected', batches: (k) => failover[k].map((s) => s.elected) },
    { name: "failover, from SIGKILL: successor's first frame sent", batches: (k) => failover[k].map((s) => s.sent) },
  ]
  const lines: string[] = []
  const print = (line = '') => lines.push(line)
  const minutes = ((Date.now() - started) / 60000).toFixed(1)
  print(`A/B run ${new Date().toISOString().slice(0, 10)}: A = \`${sha.slice(0, 7)}\`, B = working tree (HEAD \`${head}\` + ${dirty} changed/untracked paths); ${os.cpus().length} CPUs, Node ${process.version}; ${rounds} interleaved rounds (${order.toUpperCase()}), per round and build one takeover batch of ${takeoverRuns} and one failover batch of ${failoverRuns}, each a fresh process; ${minutes} min in all.`)
  print()
  print('| figure | n (A / B) | A median | A p90 | B median | B p90 | B/A (medians) | 95% interval |')
  print('|---|---|---|---|---|---|---|---|')
  const flags: string[] = []
  for (const f of figures) {
    const ba = f.batches('A')
    const bb = f.batches('B')
    const xa = ba.flat()
    const xb = bb.flat()
    if (xa.length === 0 || xb.length === 0) {
      print(`| ${f.name} | ${xa.length} / ${xb.length} | | | | | no data | |`)
      continue
    }
    const ratio = stats.median(xb) / stats.median(xa)
    const [lo, hi] = ba.length > 1 && bb.length > 1 ? ratioInterval(stats, ba, bb) : [NaN, NaN]
    print(`| ${f.name} | ${xa.length} / ${xb.length} | ${stats.fmt(stats.median(xa))} | ${stats.fmt(stats.percentile(xa, 90))} | ${stats.fmt(stats.median(xb))} | ${stats.fmt(stats.percentile(xb, 90))} | ${ratio.toFixed(2)} | ${Number.isFinite(lo) ? `${lo.toFixed(2)}-${hi.toFixed(2)}` : ''} |`)
    if (ratio > 1.15) flags.push(`REGRESSION beyond noise threshold (B/A > 1.15): ${f.name}: A median ${stats.fmt(stats.median(xa))}, B median ${stats.fmt(stats.median(xb))}, ratio ${ratio.toFixed(2)} (95% interval over batches ${lo.toFixed(2)}-${hi.toFixed(2)}${lo > 1 ? ', excludes 1' : ', includes 1: weak evidence'})`)
    else if (ratio < 1 / 1.15) flags.push(`improvement: ${f.name}: ratio ${ratio.toFixed(2)} (${lo.toFixed(2)}-${hi.toFixed(2)})`)
  }
  const left = (k: 'A' | 'B') => `${failover[k].reduce((n, s) => n + s.leftBehind, 0)}/${failover[k].reduce((n, s) => n + s.runs, 0)}`
  print(`| failover: VIP left configured on the killed replica | | ${left('A')} | | ${left('B')} | | | |`)
  print()
  print(`| same run, failover | runs | first GARP arrives (median) | p90 | neighbour entry has the new MAC (median) | p90 | VIP left on the killed replica |`)
  print('|---|---|---|---|---|---|---|')
  const row = (name: string, s: { frame: number[]; neigh: number[]; leftBehind: number; runs: number }) =>
    print(`| ${name} | ${s.runs} | ${stats.fmt(stats.median(s.frame))} | ${stats.fmt(stats.percentile(s.frame, 90))} | ${stats.fmt(stats.median(s.neigh))} | ${stats.fmt(stats.percentile(s.neigh, 90))} | ${s.leftBehind}/${s.runs} |`)
  const pooled = (k: 'A' | 'B') => ({ frame: failover[k].flatMap((s) => s.frame), neigh: failover[k].flatMap((s) => s.neigh), leftBehind: failover[k].reduce((n, s) => n + s.leftBehind, 0), runs: failover[k].reduce((n, s) => n + s.runs, 0) })
  if (failover.A.length) row(`vip-announcer A (\`${sha.slice(0, 7)}\`), FileLockElector`, pooled('A'))
  if (failover.B.length) row('vip-announcer B (working tree), FileLockElector', pooled('B'))
  if (keepalived) {
    row("keepalived, VRRP defaults (B's lab)", keepalived)
    const pb = pooled('B')
    if (pb.runs) print(`\nkeepalived / vip-announcer B (medians): ${(stats.median(keepalived.neigh) / stats.median(pb.neigh)).toFixed(0)}x on the neighbour entry, ${(stats.median(keepalived.frame) / stats.median(pb.frame)).toFixed(0)}x on the first GARP.`)
  } else if (keepalivedRuns > 0) print('\nkeepalived: not installed or its batch failed: no keepalived row.')
  print()
  print(`The 95% interval is a bootstrap over batches (whole processes resampled, ${2000} times). Regression flag: B/A of medians > 1.15.`)
  if (failed.length) print(`Batches that failed and were left out: ${failed.join('; ')}.`)
  console.log(lines.join('\n'))
  if (flags.length) console.log(`\n${flags.join('\n')}`)
  else console.log('\nNo figure moved by more than 15% (B/A of medians within 0.87-1.15).')

  const jsonFile = args.get('json')
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ ref: sha, head, rounds, takeoverRuns, failoverRuns, order, takeover, failover, keepalived, failed }, null, 1))
}

const argv = parseArgs(process.argv.slice(2))
;(argv.has('driver') ? driver(argv) : harness(argv)).then(
  () => {
    if (!argv.has('driver')) {
      cleanUp()
      process.exit(0)
    }
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error)
    if (!argv.has('driver')) cleanUp()
    process.exit(1)
  },
)
