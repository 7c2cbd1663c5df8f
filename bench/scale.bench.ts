// Scale (issue 9, item 4): one announcer holding 1, 10, 100 and 1,000 VIPs
// of one family (IPv4, then IPv6), in a namespace. Per size: takeover (elected
// -> 'leader': every VIP on the interface and its first burst sent) and
// release (deposed -> 'follower': every VIP removed), the kernel checked after
// each (every VIP present, then none), the guard's RSS while leader, and this
// process's RSS growth for the size. Sizes are interleaved round by round, so
// machine noise lands on all of them alike. Then, per size, a follower of its
// own (test/fixtures/replica.ts, a separate process, waiting on a file lock
// this process holds) for the memory a follower and its guard need.
//
//   node --import tsx bench/scale.bench.ts [--rounds 5] [--sizes 1,10,100,1000] [--families 4,6]
// (IPv4 stops at 750: the documentation ranges hold 759 usable addresses.)
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { VipAnnouncer, type LeaderEvent } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { FileLockElector } from '../src/electors/file-lock'
import { Lab, type LabHost } from '../test/lab/lab'
import { ManualElector } from '../test/support/manual-elector'
import { ReplicaProcess } from '../test/support/replica-process'
import { tempDir } from '../test/support/temp'
import { nextEvent, sleep } from '../test/support/wait'
import { fmt, median, percentile, progress } from './stats'

const HELP = `Usage: node --import tsx bench/scale.bench.ts [options]   (as root)

One announcer holding N VIPs of one family: takeover and release of all,
the per-VIP growth against N = 1, the guard's memory while leader, and a
follower process's (and its guard's) memory per N.

  --rounds N        rounds per size (default 5)
  --sizes LIST      VIP counts (default 1,10,100,1000; IPv4 is capped at 750)
  --families LIST   4 and/or 6 (default 4,6)
  --help            this text
Progress on stderr, the tables on stdout.`

/** The n-th VIP of a family, from the documentation ranges (IPv4: 198.51.100.0/24 then 203.0.113.0/24, and so on). */
function vips(family: 4 | 6, n: number): string[] {
  if (family === 6) return Array.from({ length: n }, (_, i) => `2001:db8:1::${(i + 1).toString(16)}`)
  const blocks = ['198.51.100', '203.0.113', '192.0.2']
  if (n > 253 * blocks.length) throw new RangeError(`at most ${253 * blocks.length} IPv4 VIPs in the documentation ranges`)
  return Array.from({ length: n }, (_, i) => `${blocks[Math.floor(i / 253)]}.${(i % 253) + 2}`)
}

function rssKiB(pid: number | 'self'): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) : NaN
}

/** The guard processes this process started (its children named vip_guard). */
function guardPids(): number[] {
  const children = readdirSync('/proc/self/task').flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number))
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'vip_guard'
    } catch {
      return false
    }
  })
}

function countOnHost(host: LabHost, family: 4 | 6, wanted: Set<string>): number {
  const info = host.ipJson(family === 4 ? '-4' : '-6', 'addr', 'show', 'dev', 'eth0')[0]?.addr_info ?? []
  return info.filter((a: { local: string }) => wanted.has(a.local)).length
}

/** Quiet time before each takeover and release. */
const SETTLE_MS = 150

interface SizeResult {
  family: 4 | 6
  size: number
  takeoverMs: number[]
  releaseMs: number[]
  guardRssKiB: number[]
  hostRssGrowthKiB: number
  /** who performed each takeover ('guard': the guard's TAKE; 'host') */
  takenBy: string[]
  /** a follower process holding this many VIPs (never elected): its RSS and its guard's */
  followerRssKiB?: number
  followerGuardRssKiB?: number
}

/**
 * A follower with `list` as its VIPs, in its own process: it waits on a file
 * lock this process holds, so it never takes over. Its RSS and its guard's,
 * read once its start-up (and the follower's takeover rehearsal) is done.
 */
async function followerMemory(host: LabHost, list: string[]): Promise<{ rss: number; guard: number }> {
  const lock = path.join(tempDir('vip-scale-lock-'), 'lock')
  const holder = new FileLockElector({ path: lock })
  holder.on('error', () => undefined)
  await holder.start()
  const proc = await ReplicaProcess.start(host, ['--lock', lock, ...list.flatMap((v) => ['--vip', v])], 60_000, { fromRoot: true })
  try {
    await sleep(3000) // the follower's warm-up runs when the interface appears; let it settle
    if (proc.events.some((e) => e.event === 'leader')) throw new Error('the follower took over a held lock')
    const guard = proc.guardPid()
    return { rss: rssKiB(proc.pid), guard: guard === undefined ? NaN : rssKiB(guard) }
  } finally {
    await proc.stop()
    await holder.stop()
  }
}

export async function scaleBench(rounds = 5, sizes = [1, 10, 100, 1000], families: Array<4 | 6> = [4, 6]) {
  const lab = new Lab()
  const results: SizeResult[] = []
  try {
    const host = lab.host('scale')
    const peer = lab.host('peer')
    lab.cable(host, 'eth0', peer, 'eth0', { addresses: ['192.0.2.252/24', '2001:db8::11/64'] }, { addresses: ['192.0.2.253/24', '2001:db8::50/64'] })
    for (const family of families) {
      const setups = []
      // IPv4 has 759 documentation addresses: its largest size is capped at 750
      // (the lab's own addresses are 192.0.2.252 and .253).
      for (const size of family === 4 ? sizes.map((n) => Math.min(n, 750)) : sizes) {
        const rssBefore = rssKiB('self')
        const elector = new ManualElector()
        const list = vips(family, size)
        const announcer = new VipAnnouncer({ vip: list, interface: 'eth0', elector, netns: host.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
        const before = new Set(guardPids())
        await announcer.start()
        // Its own guard: the vip_guard child that start() added.
        const guard = guardPids().find((pid) => !before.has(pid))
        setups.push({ size, list, elector, announcer, rssBefore, guard, result: { family, size, takeoverMs: [], releaseMs: [], guardRssKiB: [], hostRssGrowthKiB: 0, takenBy: [] } as SizeResult })
      }
      const total = rounds * setups.length
      let done = 0
      for (let round = 0; round < rounds; round++) {
        for (const setup of setups) {
          const wanted = new Set(setup.list)
          // Every announcer of the family reads every address notification of the shared
          // namespace (and the kernel check spawns ip): let the previous step's be digested,
          // or the next size's takeover is timed behind them.
          await sleep(SETTLE_MS)
          const leader = nextEvent<LeaderEvent>(setup.announcer, 'leader', 30_000)
          const electedAt = monotonicNow()
          setup.elector.elect()
          setup.result.takenBy.push((await leader).takenBy)
          setup.result.takeoverMs.push(monotonicNow() - electedAt)
          const present = countOnHost(host, family, wanted)
          if (present !== setup.size) throw new Error(`IPv${family} ${setup.size}: ${present} VIPs on the interface after the takeover`)
          if (setup.guard !== undefined) setup.result.guardRssKiB.push(rssKiB(setup.guard))
          await sleep(SETTLE_MS)
          const follower = nextEvent(setup.announcer, 'follower', 30_000)
          const deposedAt = monotonicNow()
          setup.elector.depose('bench')
          await follower
          setup.result.releaseMs.push(monotonicNow() - deposedAt)
          const left = countOnHost(host, family, wanted)
          if (left !== 0) throw new Error(`IPv${family} ${setup.size}: ${left} VIPs left after the release`)
          progress(`scale IPv${family}`, ++done, total)
        }
      }
      for (const setup of setups) {
        setup.result.hostRssGrowthKiB = rssKiB('self') - setup.rssBefore
        await setup.announcer.stop()
        results.push(setup.result)
      }
      // Nothing on the interface now: a follower refuses to start beside VIPs configured by someone else.
      for (const setup of setups) {
        const memory = await followerMemory(host, setup.list)
        setup.result.followerRssKiB = memory.rss
        setup.result.followerGuardRssKiB = memory.guard
        progress(`scale IPv${family} follower memory`, setups.indexOf(setup) + 1, setups.length)
      }
    }
    return results
  } finally {
    lab.destroy()
  }
}

/** Least-squares slope of log(time) against log(N): 1 is linear, above 1 grows faster per VIP. */
function exponent(points: Array<[number, number]>): number {
  const xs = points.map(([n]) => Math.log(n))
  const ys = points.map(([, t]) => Math.log(t))
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0)
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0)
  return num / den
}

const mib = (kib: number | undefined) => (kib === undefined || !Number.isFinite(kib) ? '?' : `${(kib / 1024).toFixed(1)} MiB`)

export function formatScale(results: SizeResult[]): string {
  const lines = [
    '| family | VIPs | takeover median (p90) | per VIP | growth: t(N) ÷ (N·t(1)) | release median (p90) | per VIP | growth | taken by | guard RSS while leader | follower RSS | follower\'s guard RSS | this process, RSS growth |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ]
  const fits: string[] = []
  for (const family of [...new Set(results.map((r) => r.family))]) {
    const rows = results.filter((r) => r.family === family)
    const one = rows.find((r) => r.size === 1)
    const take1 = one ? median(one.takeoverMs) : NaN
    const release1 = one ? median(one.releaseMs) : NaN
    for (const r of rows) {
      const take = median(r.takeoverMs)
      const release = median(r.releaseMs)
      const by = [...new Set(r.takenBy)].map((t) => `${t} ${r.takenBy.filter((x) => x === t).length}`).join(', ')
      lines.push(
        `| IPv${r.family} | ${r.size} | ${fmt(take)} (${fmt(percentile(r.takeoverMs, 90))}) | ${fmt(take / r.size)} | ${(take / (r.size * take1)).toFixed(3)} | ${fmt(release)} (${fmt(percentile(r.releaseMs, 90))}) | ${fmt(release / r.size)} | ${(release / (r.size * release1)).toFixed(3)} | ${by} | ${r.guardRssKiB.length ? mib(median(r.guardRssKiB)) : '?'} | ${mib(r.followerRssKiB)} | ${mib(r.followerGuardRssKiB)} | ${mib(r.hostRssGrowthKiB)} |`,
      )
    }
    const big = rows.filter((r) => r.size >= 10)
    if (big.length >= 2) {
      const first = big[0]
      const last = big[big.length - 1]
      const marginal = (f: (r: SizeResult) => number[]) => (median(f(last)) - median(f(first))) / (last.size - first.size)
      // Between neighbouring sizes: 1.0 where each VIP costs the same, above where the kernel's work per address grows with the count.
      const steps = (f: (r: SizeResult) => number[]) => big.slice(1).map((r, i) => `${big[i].size}→${r.size} ${(Math.log(median(f(r)) / median(f(big[i]))) / Math.log(r.size / big[i].size)).toFixed(2)}`).join(', ')
      fits.push(`IPv${family}: time ∝ N^b over N = ${big.map((r) => r.size).join(', ')}: takeover b = ${exponent(big.map((r) => [r.size, median(r.takeoverMs)])).toFixed(2)} (step by step ${steps((r) => r.takeoverMs)}), release b = ${exponent(big.map((r) => [r.size, median(r.releaseMs)])).toFixed(2)} (${steps((r) => r.releaseMs)}); marginal cost per VIP from ${first.size} to ${last.size}: takeover ${fmt(marginal((r) => r.takeoverMs))}, release ${fmt(marginal((r) => r.releaseMs))}`)
    }
  }
  return [...lines, '', ...fits].join('\n')
}

if (require.main === module) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, sizes: { type: 'string', default: '1,10,100,1000' }, families: { type: 'string', default: '4,6' }, help: { type: 'boolean', default: false } } })
  if (values.help) {
    console.log(HELP)
    process.exit(0)
  }
  const rounds = Number(values.rounds)
  const sizes = values.sizes!.split(',').map(Number)
  const families = values.families!.split(',').map(Number) as Array<4 | 6>
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, got ${values.rounds}`)
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes takes whole numbers ≥ 1, got ${values.sizes}`)
  if (families.some((f) => f !== 4 && f !== 6)) throw new Error(`--families takes 4 and/or 6, got ${values.families}`)
  scaleBench(rounds, sizes, families).then(
    (results) => {
      console.log(`# scale: one announcer, N VIPs of one family, ${rounds} rounds each, interleaved; ${new Date().toISOString()}`)
      console.log(formatScale(results))
    },
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
}
