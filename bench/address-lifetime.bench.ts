// How late the kernel deletes an address whose valid lifetime ran out
// (IFA_CACHEINFO: `ip addr add ... valid_lft L preferred_lft L`), per family
// and lifetime L, in a quiet namespace, with other address churn in the same
// namespace, and after refreshes (replace with a new lifetime every 250 ms,
// then no more). The lateness of one sample is
//
//   (the kernel's RTM_DELADDR, stamped when this process reads it) - (add or last refresh + L)
//
// on CLOCK_MONOTONIC (monotonicNow()). The add and the refreshes go through
// the library's Netlink (synchronous, ~30 µs); the deletion is seen by a
// LinkMonitor in the address's namespace. Both kernels' lifetime checks are
// per network namespace work (IPv4 check_lifetime, net->ipv4.addr_chk_work;
// IPv6 addrconf_verify_rtnl, net->ipv6.addr_chk_work), so every cell runs in
// namespaces of its own, all at once; the `beside-churn` cell checks that
// claim: heavy churn in a neighbouring namespace must not change it.
//
//   node --import tsx bench/address-lifetime.bench.ts [--seconds 150] [--rounds N]
//        [--lifetimes 1,2,3,4,8] [--families 4,6] [--scenarios quiet,churn,...]
//        [--parallel 2] [--refresh-ms 2000] [--refresh-with auto|netlink|ip] [--json]
//   npm run bench -- lifetime          (LIFETIME_SECONDS, LIFETIME_ROUNDS)
//
// --seconds: each namespace measures round after round until this much time
// is up (a round starts only if it can end in time), so short lifetimes get
// more samples; --rounds N: exactly N rounds per namespace instead. Needs root.
// Documentation addresses only. Everything is removed at the end, on error
// and on Ctrl-C. Results also go to bench/results/address-lifetime.json.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { monotonicNow } from '../src/clock'
import { addon } from '../src/net/binding'
import { LinkMonitor } from '../src/net/monitor'
import { Netlink } from '../src/net/netlink'
import type { AddressSpec } from '../src/net/types'
import { Lab, type LabHost } from '../test/lab/lab'
import { sleep } from '../test/support/wait'
import { progress, summary } from './stats'

const execFileAsync = promisify(execFile)

export type Family = 4 | 6

/** What else happens while an address's lifetime runs out. */
export type Scenario = 'quiet' | 'churn' | 'churn-perm' | 'churn-sparse' | 'refresh' | 'beside-churn'

interface ScenarioDef {
  /** Another address of the same family toggled (added, removed, added...) at random intervals. */
  churn?: { minMs: number; maxMs: number; /** seconds; undefined: permanent */ lifetime?: number; /** in the measured namespace or a neighbouring one */ where: 'same' | 'neighbour' }
  /** The measured address is replaced with a fresh lifetime every 250 ms for refreshMs, lateness from the last refresh. */
  refresh?: boolean
  /** The lifetimes this scenario runs for (default: all). */
  lifetimes?: number[]
  describe: string
}

export const SCENARIOS: Record<Scenario, ScenarioDef> = {
  quiet: { describe: 'nothing else changes in the namespace' },
  churn: { churn: { minMs: 100, maxMs: 300, lifetime: 30, where: 'same' }, describe: 'same namespace: another address (valid_lft 30) toggled every 100-300 ms' },
  'churn-perm': { churn: { minMs: 100, maxMs: 300, where: 'same' }, describe: 'same namespace: another, permanent address toggled every 100-300 ms' },
  'churn-sparse': { churn: { minMs: 700, maxMs: 1300, lifetime: 30, where: 'same' }, describe: 'same namespace: another address (valid_lft 30) toggled every 0.7-1.3 s' },
  refresh: { refresh: true, describe: 'replaced (valid_lft L preferred_lft L) every 250 ms, then left to expire' },
  'beside-churn': { churn: { minMs: 20, maxMs: 50, lifetime: 30, where: 'neighbour' }, lifetimes: [2], describe: 'quiet, while a NEIGHBOURING namespace toggles an address every 20-50 ms' },
}

export interface LifetimeBenchOptions {
  /** Lifetimes L in seconds. Default 1, 2, 3, 4, 8. */
  lifetimes?: number[]
  families?: Family[]
  scenarios?: Scenario[]
  /** Time box: rounds continue in every namespace while one more can end within it. Default 150 s. */
  seconds?: number
  /** Exactly this many rounds per namespace instead of the time box. */
  rounds?: number
  /** Namespaces per cell, measuring side by side. Default 2. */
  parallel?: number
  /** How long the refresh scenario keeps refreshing. Default 2000 ms. */
  refreshMs?: number
  /** How the refresh scenario replaces the address: the addon (Netlink#replaceAddress) or `ip addr change`. Default: the addon if it has it. */
  refreshWith?: 'auto' | 'netlink' | 'ip'
}

export interface CellResult {
  family: Family
  lifetime: number
  scenario: Scenario
  /** Lateness of every sample, ms (negative: deleted before add + L). */
  latenessMs: number[]
  /** When each sample's deletion was read, ms since the first add (to match against loopStalls). */
  deletedAtMs: number[]
  /** Rounds in which the kernel had not deleted the address L + 6 s after the add (or last refresh). */
  timeouts: number
  /** Refresh rounds in which the address vanished while it was still being refreshed. */
  lostWhileRefreshing: number
}

export interface LifetimeBenchResult {
  cells: CellResult[]
  /**
   * This process's event loop (a 10 ms timer) was late by more than 50 ms
   * this many times, the worst by `maxMs`: a stall of the process or of the
   * whole machine, during which deletions read here are stamped late.
   */
  loopStalls: { count: number; maxMs: number; /** [start, length] of each, ms since the first add */ at: Array<[number, number]> }
  refreshWith: 'netlink' | 'ip'
  seconds: number
  kernel: string
  hz?: number
}

const REFRESH_EVERY_MS = 250
const TIMEOUT_AFTER_MS = 6000
const LINK = 'v0'

const prefixLength = (family: Family) => (family === 4 ? 32 : 128)
// Measured addresses: 198.51.100.0/24 and 2001:db8:1::/48; churn: 192.0.2.0/24 and 2001:db8:c::/48.
const measuredAddress = (family: Family, round: number) => (family === 4 ? `198.51.100.${10 + (round % 200)}` : `2001:db8:1::${(0x10 + (round % 0xfff0)).toString(16)}`)
const churnAddress = (family: Family) => (family === 4 ? '192.0.2.77' : '2001:db8:c::77')

function hasReplace(): boolean {
  const socket = (addon as { NetlinkSocket?: { prototype?: Record<string, unknown> } }).NetlinkSocket?.prototype
  return typeof (Netlink.prototype as unknown as Record<string, unknown>).replaceAddress === 'function' && typeof socket?.replaceAddress === 'function'
}

/** One namespace with a veth pair (both ends here, up, no IPv6 link-local): addresses go on v0. */
class Slot {
  readonly nl: Netlink
  readonly monitor: LinkMonitor
  readonly #deletions = new Map<string, (at: number) => void>()

  constructor(readonly host: LabHost) {
    host.ip('link', 'add', LINK, 'type', 'veth', 'peer', 'name', 'v1')
    // addrgenmode none: no link-local address, its DAD, or anything else of IPv6's own in the namespace.
    for (const ifname of [LINK, 'v1']) host.ip('link', 'set', 'dev', ifname, 'addrgenmode', 'none')
    for (const ifname of [LINK, 'v1']) host.ip('link', 'set', 'dev', ifname, 'up')
    this.nl = Netlink.open({ netns: host.path })
    this.monitor = LinkMonitor.open({ netns: host.path })
    this.monitor.on('address', (e) => {
      if (e.action !== 'delete') return
      const at = monotonicNow()
      const waiter = this.#deletions.get(e.address)
      if (waiter) {
        this.#deletions.delete(e.address)
        waiter(at)
      }
    })
    this.monitor.on('overrun', () => process.stderr.write(`${host.name}: address monitor overran (a deletion may be missed: that round times out)\n`))
  }

  /** Resolves with the instant the kernel's deletion of `address` was read; undefined after `timeoutMs`. */
  deletion(address: string): { promise: Promise<number | undefined>; seen: () => boolean; arm: (timeoutMs: number) => void } {
    let done = false
    let resolve!: (at: number | undefined) => void
    const promise = new Promise<number | undefined>((r) => (resolve = r))
    let timer: NodeJS.Timeout | undefined
    this.#deletions.set(address, (at) => {
      done = true
      clearTimeout(timer)
      resolve(at)
    })
    return {
      promise,
      seen: () => done,
      arm: (timeoutMs) => {
        if (done) return
        clearTimeout(timer)
        timer = setTimeout(() => {
          this.#deletions.delete(address)
          done = true
          resolve(undefined)
        }, timeoutMs)
      },
    }
  }

  spec(family: Family, address: string, lifetime?: number): AddressSpec {
    return { link: LINK, address, prefixLength: prefixLength(family), nodad: family === 6, ...(lifetime === undefined ? {} : { validLifetime: lifetime, preferredLifetime: lifetime }) }
  }

  close(): void {
    this.monitor.close()
    this.nl.close()
  }
}

/** Toggles an address in `slot` at random intervals until stopped. */
function startChurn(slot: Slot, family: Family, churn: NonNullable<ScenarioDef['churn']>): () => void {
  let present = false
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const spec = slot.spec(family, churnAddress(family), churn.lifetime)
  const tick = () => {
    if (stopped) return
    try {
      if (present) slot.nl.deleteAddress(spec)
      else slot.nl.addAddress(spec)
      present = !present
    } catch (error) {
      // EEXIST / EADDRNOTAVAIL: out of step with the kernel (it cannot expire in < 1.3 s); resync
      present = slot.nl.listAddresses({ link: LINK, family }).some((a) => a.address === spec.address)
      if (!/EEXIST|EADDRNOTAVAIL/.test(String((error as { code?: string }).code))) process.stderr.write(`churn in ${slot.host.name}: ${(error as Error).message}\n`)
    }
    timer = setTimeout(tick, churn.minMs + Math.random() * (churn.maxMs - churn.minMs))
  }
  timer = setTimeout(tick, Math.random() * churn.maxMs)
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

async function refreshOnce(slot: Slot, family: Family, address: string, lifetime: number, how: 'netlink' | 'ip'): Promise<void> {
  if (how === 'netlink') {
    ;(slot.nl as unknown as { replaceAddress(spec: AddressSpec): void }).replaceAddress(slot.spec(family, address, lifetime))
    return
  }
  await execFileAsync('ip', ['-n', slot.host.name, `-${family}`, 'addr', 'change', `${address}/${prefixLength(family)}`, 'dev', LINK,
    'valid_lft', String(lifetime), 'preferred_lft', String(lifetime), ...(family === 6 ? ['nodad'] : [])])
}

interface Job {
  cell: CellResult
  slot: Slot
  def: ScenarioDef
}

/** Rounds in one namespace, one address at a time, until the time box (or the round count) is used up. */
async function runJob(job: Job, epoch: number, deadline: number, rounds: number | undefined, refreshMs: number, how: 'netlink' | 'ip', onSample: () => void): Promise<void> {
  const { cell, slot, def } = job
  const { family, lifetime } = cell
  const L = lifetime * 1000
  // Random start and gaps: adds fall at every phase of the kernel's whole-second timer rounding.
  for (let round = 0; rounds === undefined || round < rounds; round++) {
    const gap = 50 + Math.random() * 1000
    const estimate = gap + (def.refresh ? refreshMs : 0) + L + 1200
    if (rounds === undefined && monotonicNow() + estimate > deadline) break
    await sleep(gap)
    const address = measuredAddress(family, round)
    const deleted = slot.deletion(address)
    const spec = slot.spec(family, address, lifetime)
    let from = monotonicNow()
    slot.nl.addAddress(spec)
    if (def.refresh) {
      const until = from + refreshMs
      for (;;) {
        const next = from + REFRESH_EVERY_MS
        if (next > until) break
        await sleep(Math.max(0, next - monotonicNow()))
        if (deleted.seen()) break
        // Stamped before the request: with `ip addr change` the kernel acts
        // a few ms later, so the lateness comes out high, never low.
        const at = monotonicNow()
        await refreshOnce(slot, family, address, lifetime, how)
        from = at
      }
      if (deleted.seen()) {
        cell.lostWhileRefreshing++
        continue
      }
    }
    deleted.arm(Math.max(0, from + L + TIMEOUT_AFTER_MS - monotonicNow()))
    const at = await deleted.promise
    if (at === undefined) {
      cell.timeouts++
      try {
        slot.nl.deleteAddress(spec)
      } catch {
        // gone meanwhile
      }
    } else {
      cell.latenessMs.push(at - (from + L))
      cell.deletedAtMs.push(at - epoch)
    }
    onSample()
  }
}

function kernelHz(): number | undefined {
  // CONFIG_HZ from /proc/config.gz or /boot/config-*, when readable.
  try {
    const text = fs.readFileSync(`/boot/config-${os.release()}`, 'utf8')
    return Number(/^CONFIG_HZ=(\d+)/m.exec(text)?.[1]) || undefined
  } catch {
    try {
      const text = require('node:zlib').gunzipSync(fs.readFileSync('/proc/config.gz')).toString('utf8') as string
      return Number(/^CONFIG_HZ=(\d+)/m.exec(text)?.[1]) || undefined
    } catch {
      return undefined
    }
  }
}

export async function addressLifetimeBench(options: LifetimeBenchOptions = {}): Promise<LifetimeBenchResult> {
  const lifetimes = options.lifetimes ?? [1, 2, 3, 4, 8]
  const families = options.families ?? [4, 6]
  const scenarios = options.scenarios ?? (Object.keys(SCENARIOS) as Scenario[])
  const seconds = options.seconds ?? 150
  const parallel = options.parallel ?? 2
  const refreshMs = options.refreshMs ?? 2000
  const wantedRefresh = options.refreshWith ?? 'auto'
  const how: 'netlink' | 'ip' = wantedRefresh === 'auto' ? (hasReplace() ? 'netlink' : 'ip') : wantedRefresh
  if (how === 'netlink' && !hasReplace()) throw new Error('--refresh-with netlink: this build of Netlink has no replaceAddress')

  const lab = new Lab()
  const slots: Slot[] = []
  const stops: Array<() => void> = []
  const cleanup = () => {
    stops.splice(0).forEach((stop) => stop())
    slots.splice(0).forEach((slot) => slot.close())
    lab.destroy()
  }
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup()
    process.exit(128 + (os.constants.signals[signal] ?? 1))
  }
  process.once('exit', cleanup)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const cells: CellResult[] = []
    const jobs: Job[] = []
    let n = 0
    for (const scenario of scenarios) {
      const def = SCENARIOS[scenario]
      for (const family of families) {
        for (const lifetime of def.lifetimes ?? lifetimes) {
          const cell: CellResult = { family, lifetime, scenario, latenessMs: [], deletedAtMs: [], timeouts: 0, lostWhileRefreshing: 0 }
          cells.push(cell)
          for (let k = 0; k < parallel; k++) {
            const slot = new Slot(lab.host(`m${(n++).toString(36)}`))
            slots.push(slot)
            jobs.push({ cell, slot, def })
            if (def.churn) {
              const churnSlot = def.churn.where === 'same' ? slot : new Slot(lab.host(`c${(n++).toString(36)}`))
              if (churnSlot !== slot) slots.push(churnSlot)
              stops.push(startChurn(churnSlot, family, def.churn))
            }
          }
        }
      }
    }
    process.stderr.write(`address lifetime: ${cells.length} cells in ${slots.length} namespaces, ${options.rounds ? `${options.rounds} rounds each` : `${seconds} s`}; refresh by ${how === 'netlink' ? 'Netlink#replaceAddress' : 'ip addr change'}\n`)
    await sleep(1500) // churn under way before the first add
    const epoch = monotonicNow()
    const deadline = epoch + seconds * 1000
    const loopStalls: LifetimeBenchResult['loopStalls'] = { count: 0, maxMs: 0, at: [] }
    let lastTick = epoch
    const lag = setInterval(() => {
      const now = monotonicNow()
      const late = now - lastTick - 10
      if (late > 50) {
        loopStalls.count++
        loopStalls.maxMs = Math.max(loopStalls.maxMs, late)
        loopStalls.at.push([Math.round(lastTick - epoch), Math.round(late)])
      }
      lastTick = now
    }, 10)
    let samples = 0
    const expected = options.rounds ? jobs.length * options.rounds : 0
    const started = monotonicNow()
    const ticker = options.rounds ? undefined : setInterval(() => progress('address lifetime (s)', Math.min(seconds, Math.round((monotonicNow() - started) / 1000)), seconds), 10000)
    await Promise.all(jobs.map((job) => runJob(job, epoch, deadline, options.rounds, refreshMs, how, () => {
      samples++
      if (options.rounds) progress('address lifetime samples', samples, expected)
    })))
    if (ticker) clearInterval(ticker)
    clearInterval(lag)
    return { cells, loopStalls, refreshWith: how, seconds: Math.round((monotonicNow() - started) / 1000), kernel: os.release(), hz: kernelHz() }
  } finally {
    cleanup()
    process.off('exit', cleanup)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** Signed milliseconds: 1 decimal below 100 ms. */
function ms(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return Math.abs(value) < 100 ? value.toFixed(1) : value.toFixed(0)
}

export function formatAddressLifetime(result: LifetimeBenchResult): string {
  const lines = [
    `kernel ${result.kernel}${result.hz ? `, HZ=${result.hz}` : ''}; ${result.seconds} s; refresh by ${result.refreshWith === 'netlink' ? 'Netlink#replaceAddress (RTM_NEWADDR, NLM_F_REPLACE)' : 'ip addr change'}`,
    'lateness = kernel deletion read - (add or last refresh + L), ms',
    '',
    '| family | L (s) | scenario | n | min | median | p90 | max | > 2000 ms | not deleted in L+6 s |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const c of result.cells) {
    const s = summary(c.latenessMs)
    const over = c.latenessMs.filter((v) => v > 2000).length
    const lost = c.lostWhileRefreshing ? ` (+${c.lostWhileRefreshing} lost while refreshing!)` : ''
    lines.push(`| IPv${c.family} | ${c.lifetime} | ${c.scenario} | ${s.n} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.p90)} | ${ms(s.max)} | ${over ? `**${over}**` : 0} | ${c.timeouts ? `**${c.timeouts}**` : 0}${lost} |`)
  }
  const stalls = result.loopStalls
  lines.push('', stalls.count === 0
    ? 'this process was never stalled > 50 ms (10 ms timer): no stamp is late because of it'
    : `this process (or the machine) stalled > 50 ms ${stalls.count} times, worst ${ms(stalls.maxMs)} ms: samples read during a stall are stamped late by up to its length`)
  const outliers = result.cells.flatMap((c) => c.latenessMs.map((late, i) => ({ c, late, at: c.deletedAtMs[i] })).filter((o) => o.late > 1000))
  if (outliers.length) {
    lines.push('', 'samples later than 1000 ms (read at, s into the run; stalled: this process was stalled within 2 s before):')
    for (const { c, late, at } of outliers) {
      const stalled = stalls.at.some(([start, length]) => start <= at && start + length >= at - 2000)
      lines.push(`- IPv${c.family} L=${c.lifetime} ${c.scenario}: ${ms(late)} ms at ${(at / 1000).toFixed(1)} s${stalled ? ' (stalled)' : ''}`)
    }
  }
  lines.push('', 'max lateness by scenario, over both families (ms):', '')
  const scenarios = [...new Set(result.cells.map((c) => c.scenario))]
  for (const limit of [3, Infinity]) {
    const parts = scenarios.map((scenario) => {
      const values = result.cells.filter((c) => c.scenario === scenario && c.lifetime <= limit).flatMap((c) => c.latenessMs)
      return values.length ? `${scenario} ${ms(Math.max(...values))} (min ${ms(Math.min(...values))}, n=${values.length})` : undefined
    }).filter(Boolean)
    lines.push(`- L ${limit === Infinity ? 'any' : `<= ${limit} s`}: ${parts.join('; ')}`)
  }
  lines.push('', 'scenarios:', ...scenarios.map((s) => `- ${s}: ${SCENARIOS[s].describe}`))
  return lines.join('\n')
}

function parseArgs(argv: string[]): LifetimeBenchOptions & { json?: boolean } {
  const out: LifetimeBenchOptions & { json?: boolean } = {}
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    const list = () => value().split(',').map((s) => s.trim()).filter(Boolean)
    switch (flag) {
      case '--seconds': out.seconds = Number(value()); break
      case '--rounds': out.rounds = Number(value()); break
      case '--parallel': out.parallel = Number(value()); break
      case '--refresh-ms': out.refreshMs = Number(value()); break
      case '--lifetimes': out.lifetimes = list().map(Number); break
      case '--families': out.families = list().map(Number) as Family[]; break
      case '--scenarios': {
        const names = list()
        for (const s of names) if (!(s in SCENARIOS)) throw new Error(`unknown scenario ${s}: ${Object.keys(SCENARIOS).join(', ')}`)
        out.scenarios = names as Scenario[]
        break
      }
      case '--refresh-with': out.refreshWith = value() as LifetimeBenchOptions['refreshWith']; break
      case '--json': out.json = true; break
      default: throw new Error(`unknown flag ${flag}; see the header of bench/address-lifetime.bench.ts`)
    }
  }
  for (const [k, v] of Object.entries(out)) if (typeof v === 'number' && !(v > 0)) throw new Error(`--${k} must be a positive number`)
  return out
}

/** Writes the raw samples next to the other benchmarks' results. */
export function saveAddressLifetime(result: LifetimeBenchResult): string {
  const dir = path.join(__dirname, 'results')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'address-lifetime.json')
  fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, ...result }, null, 2) + '\n')
  return file
}

if (require.main === module) {
  const { json, ...options } = parseArgs(process.argv.slice(2))
  addressLifetimeBench(options).then((result) => {
    const file = saveAddressLifetime(result)
    console.log(json ? JSON.stringify(result) : formatAddressLifetime(result))
    process.stderr.write(`samples written to ${file}\n`)
  }, (error) => {
    console.error(error)
    process.exitCode = 1
  })
}
