// What the soak benchmark samples, and how it judges a series: this process's
// memory as Node, V8 and the kernel see it, its descriptors and libuv
// resources, and the guard processes it spawned (read from /proc, not from
// the announcer's own bookkeeping).
import { readFileSync, readdirSync } from 'node:fs'
import v8 from 'node:v8'

const MB = 1024 * 1024

export interface Sample {
  /** Iterations done when sampled (flips or start/stop cycles). */
  iteration: number
  /** process.memoryUsage().rss */
  rss: number
  /** /proc/self/status VmRSS, RssAnon, RssFile (bytes) */
  vmRss: number
  rssAnon: number
  rssFile: number
  /** Resident bytes of the brk heap ([heap] in smaps): glibc's main arena. */
  brkHeap: number
  /** Resident anonymous bytes outside [heap]: V8's pages, thread arenas, large mallocs, stacks. */
  anonMmap: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  /** V8 code space, physical bytes (JIT output lives here). */
  codeSpace: number
  /** V8's own malloc use (v8.getHeapStatistics().malloced_memory). */
  v8Malloced: number
  threads: number
  fds: number
  /** process.getActiveResourcesInfo(), counted by type. */
  resources: Record<string, number>
  resourcesTotal: number
  /** Guard processes (vip_guard children of this process) alive, not zombies. */
  guards: number
  /** Cycles only: guards alive while the announcer was started (sampled before its stop()). */
  guardsStarted?: number
  /** The live guard's RSS and open fds (NaN when none is alive at the sample). */
  guardRss: number
  guardFds: number
}

function statusField(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
  return match ? Number(match[1]) * 1024 : NaN
}

/** Splits this process's resident anonymous memory into the brk heap and the rest, from /proc/self/smaps. */
function anonymousSplit(): { brkHeap: number; anonMmap: number } {
  let brkHeap = 0
  let anonMmap = 0
  let inHeap = false
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      inHeap = line.endsWith('[heap]')
      continue
    }
    if (!line.startsWith('Anonymous:')) continue
    const bytes = Number(line.split(/\s+/)[1]) * 1024
    if (inHeap) brkHeap += bytes
    else anonMmap += bytes
  }
  return { brkHeap, anonMmap }
}

/** vip_guard processes whose parent is this process, alive (state not Z), with their pids. */
export function guardPids(): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (comm === 'vip_guard' && Number(ppid) === process.pid && state !== 'Z') pids.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return pids
}

function guardStats(pid: number | undefined): { guardRss: number; guardFds: number } {
  if (pid === undefined) return { guardRss: NaN, guardFds: NaN }
  try {
    return { guardRss: statusField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'), guardFds: readdirSync(`/proc/${pid}/fd`).length }
  } catch {
    return { guardRss: NaN, guardFds: NaN }
  }
}

/** One sample; `gc` first runs a full collection (node --expose-gc). */
export function sample(iteration: number, options: { gc?: boolean } = {}): Sample {
  if (options.gc) {
    const gc = (globalThis as { gc?: () => void }).gc
    if (!gc) throw new Error('--gc needs node --expose-gc')
    gc()
  }
  const usage = process.memoryUsage()
  const status = readFileSync('/proc/self/status', 'utf8')
  const heap = v8.getHeapStatistics()
  const code = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'code_space')
  const resources: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1
  const guards = guardPids()
  return {
    iteration,
    rss: usage.rss,
    vmRss: statusField(status, 'VmRSS'),
    rssAnon: statusField(status, 'RssAnon'),
    rssFile: statusField(status, 'RssFile'),
    ...anonymousSplit(),
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    codeSpace: code?.physical_space_size ?? NaN,
    v8Malloced: heap.malloced_memory,
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
    fds: readdirSync('/proc/self/fd').length,
    resources,
    resourcesTotal: Object.values(resources).reduce((a, b) => a + b, 0),
    guards: guards.length,
    ...guardStats(guards[0]),
  }
}

/** The series judged: byte series in MB, counts as they are. */
export const METRICS: Array<{ key: keyof Sample; label: string; bytes: boolean }> = [
  { key: 'rss', label: 'rss', bytes: true },
  { key: 'rssAnon', label: 'RssAnon', bytes: true },
  { key: 'rssFile', label: 'RssFile', bytes: true },
  { key: 'brkHeap', label: 'brk [heap]', bytes: true },
  { key: 'anonMmap', label: 'anon mmap', bytes: true },
  { key: 'heapUsed', label: 'heapUsed', bytes: true },
  { key: 'heapTotal', label: 'heapTotal', bytes: true },
  { key: 'external', label: 'external', bytes: true },
  { key: 'arrayBuffers', label: 'arrayBuffers', bytes: true },
  { key: 'codeSpace', label: 'code space', bytes: true },
  { key: 'threads', label: 'threads', bytes: false },
  { key: 'fds', label: 'fds', bytes: false },
  { key: 'resourcesTotal', label: 'active resources', bytes: false },
  { key: 'guards', label: 'guards alive', bytes: false },
  { key: 'guardRss', label: 'guard rss', bytes: true },
  { key: 'guardFds', label: 'guard fds', bytes: false },
]

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]
}

function thirds(values: number[]): { early: number[]; late: number[] } {
  const third = Math.max(1, Math.floor(values.length / 3))
  return { early: values.slice(0, third), late: values.slice(values.length - third) }
}

/**
 * Theil-Sen slope of y over x (the median of the pairwise slopes), per unit
 * of x: a linear leak gives its rate, while the steps of V8 resizing its heap
 * or of one GC do not tilt it the way they tilt a least-squares fit.
 */
function slope(points: Array<[number, number]>): number {
  const slopes: number[] = []
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      if (points[j][0] !== points[i][0]) slopes.push((points[j][1] - points[i][1]) / (points[j][0] - points[i][0]))
    }
  }
  return median(slopes)
}

export interface Verdict {
  label: string
  start: number
  afterWarmup: number
  end: number
  max: number
  /** Per 1,000 iterations (Theil-Sen), over all samples after warm-up. */
  slope: number
  /** Per 1,000 iterations, over the last half of those samples: a plateau shows here as ~0. */
  lateSlope: number
  /** 'n/a': heapUsed sampled without a forced GC (a sawtooth of garbage). */
  verdict: 'flat' | 'growing' | 'n/a'
  bytes: boolean
}

/**
 * Judges each series after warm-up. Counts (fds, resources, threads, guards)
 * must not move: a last third whose minimum is above the first third's is growth.
 * Bytes are noisy (GC, page reuse, JIT code). A series grows when its
 * Theil-Sen slope after warm-up exceeds 2% of its post-warm-up value or
 * 1 MiB per 1,000 iterations, whichever is more (about 1 KiB per iteration,
 * the floor a few thousand iterations can resolve). It also grows when its
 * last half's slope exceeds that and its last third ends above everything
 * its first third reached: still climbing at the end. A series that reaches
 * its size within the warm-up and stays there is flat, a linear leak is
 * not. heapUsed
 * without gc() is a sawtooth of garbage: judged only when `forcedGc`.
 */
export function judge(samples: Sample[], warmupIterations: number, forcedGc = false): Verdict[] {
  const after = samples.filter((s) => s.iteration >= warmupIterations)
  const late = after.slice(Math.floor(after.length / 2))
  return METRICS.flatMap(({ key, label, bytes }) => {
    const values = samples.map((s) => s[key] as number).filter((v) => Number.isFinite(v))
    const afterValues = after.map((s) => s[key] as number).filter((v) => Number.isFinite(v))
    if (values.length === 0 || afterValues.length === 0) return []
    const points = (list: Sample[]) => list.filter((s) => Number.isFinite(s[key] as number)).map((s): [number, number] => [s.iteration, s[key] as number])
    const all = slope(points(after)) * 1000
    // Too few samples for a late half: judge on the whole post-warm-up slope.
    const lateSlope = late.length >= 3 ? slope(points(late)) * 1000 : all
    const afterWarmup = afterValues[0]
    const end = afterValues[afterValues.length - 1]
    let growing: boolean
    // Counts: the floor (minimum) of the last third against that of the
    // first third after warm-up. A leaked descriptor raises the floor; the
    // pipes of a guard that exited a moment ago, still closing when sampled,
    // come and go and do not.
    if (!bytes) growing = Math.min(...thirds(afterValues).late) > Math.min(...thirds(afterValues).early)
    else {
      const threshold = Math.max(0.02 * afterWarmup, MB)
      // The last half alone counts only if it ends above anything the first
      // third after warm-up reached: V8 shrinking its heap and growing it
      // back within the last half is a sawtooth, not growth.
      const { early, late: lastThird } = thirds(afterValues)
      growing = all > threshold || (lateSlope > threshold && median(lastThird) > Math.max(...early))
    }
    const verdict = key === 'heapUsed' && !forcedGc ? 'n/a' : growing ? 'growing' : 'flat'
    return [{ label, start: values[0], afterWarmup, end, max: Math.max(...values), slope: all, lateSlope, verdict, bytes } satisfies Verdict]
  })
}

const mb = (v: number) => (Number.isFinite(v) ? (v / MB).toFixed(1) : '-')
const num = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '-')

export function formatVerdicts(verdicts: Verdict[]): string {
  const rows = verdicts.map((v) => {
    const f = v.bytes ? mb : num
    const unit = v.bytes ? ' MB' : ''
    return `| ${v.label} | ${f(v.start)} | ${f(v.afterWarmup)} | ${f(v.end)} | ${f(v.max)} | ${f(v.slope)}${unit} | ${f(v.lateSlope)}${unit} | ${v.verdict} |`
  })
  return ['| metric | start | after warm-up | end | max | slope /1k after warm-up | slope /1k, last half | verdict |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n')
}

export function formatSamples(samples: Sample[]): string {
  const head = '| iter | rss MB | RssAnon | RssFile | brk [heap] | anon mmap | heapUsed | heapTotal | external | arrayBuf | code | thr | fds | resources | guards | guard rss | guard fds |'
  const rows = samples.map((s) => {
    const types = Object.entries(s.resources).sort().map(([t, n]) => `${t}:${n}`).join(' ')
    return `| ${s.iteration} | ${mb(s.rss)} | ${mb(s.rssAnon)} | ${mb(s.rssFile)} | ${mb(s.brkHeap)} | ${mb(s.anonMmap)} | ${mb(s.heapUsed)} | ${mb(s.heapTotal)} | ${mb(s.external)} | ${mb(s.arrayBuffers)} | ${mb(s.codeSpace)} | ${s.threads} | ${s.fds} | ${s.resourcesTotal} (${types}) | ${s.guards} | ${mb(s.guardRss)} | ${num(s.guardFds)} |`
  })
  return [head, '|' + '---|'.repeat(17), ...rows].join('\n')
}
