// Scale (issue 9, item 4): one announcer holding 1, 10, 100 and 1,000 VIPs
// of one family (IPv4, then IPv6), in a namespace. Per size: takeover (elected
// -> 'leader': every VIP on the interface and its first burst sent) and
// release (deposed -> 'follower': every VIP removed), the kernel checked after
// each (every VIP present, then none), the guard's RSS while leader, and this
// process's RSS growth for the size. Sizes are interleaved round by round, so
// machine noise lands on all of them alike.
//
//   node --import tsx bench/scale.bench.ts [rounds=5] [sizes=1,10,100,1000]
// (IPv4 stops at 750: the documentation ranges hold 759 usable addresses.)
import { readFileSync, readdirSync } from 'node:fs'
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { Lab, type LabHost } from '../test/lab/lab'
import { ManualElector } from '../test/support/manual-elector'
import { nextEvent } from '../test/support/wait'
import { fmt, median, percentile, progress } from './stats'

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

interface SizeResult {
  family: 4 | 6
  size: number
  takeoverMs: number[]
  releaseMs: number[]
  guardRssKiB: number[]
  hostRssGrowthKiB: number
}

export async function scaleBench(rounds = 5, sizes = [1, 10, 100, 1000]) {
  const lab = new Lab()
  const results: SizeResult[] = []
  try {
    const host = lab.host('scale')
    const peer = lab.host('peer')
    lab.cable(host, 'eth0', peer, 'eth0', { addresses: ['192.0.2.252/24', '2001:db8::11/64'] }, { addresses: ['192.0.2.253/24', '2001:db8::50/64'] })
    for (const family of [4, 6] as const) {
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
        setups.push({ size, list, elector, announcer, rssBefore, guard, result: { family, size, takeoverMs: [], releaseMs: [], guardRssKiB: [], hostRssGrowthKiB: 0 } as SizeResult })
      }
      const total = rounds * setups.length
      let done = 0
      for (let round = 0; round < rounds; round++) {
        for (const setup of setups) {
          const wanted = new Set(setup.list)
          const leader = nextEvent(setup.announcer, 'leader', 30_000)
          const electedAt = monotonicNow()
          setup.elector.elect()
          await leader
          setup.result.takeoverMs.push(monotonicNow() - electedAt)
          const present = countOnHost(host, family, wanted)
          if (present !== setup.size) throw new Error(`IPv${family} ${setup.size}: ${present} VIPs on the interface after the takeover`)
          if (setup.guard !== undefined) setup.result.guardRssKiB.push(rssKiB(setup.guard))
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
    }
    return results
  } finally {
    lab.destroy()
  }
}

export function formatScale(results: SizeResult[]): string {
  const lines = [
    '| family | VIPs | takeover median (p90) | per VIP | release median (p90) | per VIP | guard RSS while leader | this process, RSS growth |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of results) {
    const take = median(r.takeoverMs)
    const release = median(r.releaseMs)
    lines.push(
      `| IPv${r.family} | ${r.size} | ${fmt(take)} (${fmt(percentile(r.takeoverMs, 90))}) | ${fmt(take / r.size)} | ${fmt(release)} (${fmt(percentile(r.releaseMs, 90))}) | ${fmt(release / r.size)} | ${r.guardRssKiB.length ? `${(median(r.guardRssKiB) / 1024).toFixed(1)} MiB` : '?'} | ${(r.hostRssGrowthKiB / 1024).toFixed(1)} MiB |`,
    )
  }
  return lines.join('\n')
}

if (require.main === module) {
  const rounds = Number(process.argv[2] ?? 5)
  const sizes = (process.argv[3] ?? '1,10,100,1000').split(',').map(Number)
  scaleBench(rounds, sizes).then(
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
