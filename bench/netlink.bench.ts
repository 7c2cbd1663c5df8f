// Netlink vs ip(8): address add+delete cycles in a scratch namespace, through
// the addon and by spawning `ip addr add/del` (what a shell-out implementation
// would do), interleaved in rounds so both see the same machine state.
//
//   node --import tsx bench/netlink.bench.ts [addonCycles=500] [ipCycles=100] [rounds=5]
//
// Needs root (it creates and deletes a network namespace). bench/run.ts can
// call runNetlinkBench() and print formatNetlinkBench().
import { execFile } from 'node:child_process'
import os from 'node:os'
import { promisify } from 'node:util'
import { Lab } from '../test/lab/lab'
import { Netlink } from '../src/net'

const execFileAsync = promisify(execFile)

export interface NetlinkBenchOptions {
  /** Add+delete cycles through the addon (two operations each). Default 500. */
  addonCycles?: number
  /** Add+delete cycles by spawning ip(8). Default 100. */
  ipCycles?: number
  /** Rounds the cycles are split into, alternating addon and ip. Default 5. */
  rounds?: number
}

export interface Timing {
  operations: number
  /** Median time of one operation (one add or one delete), microseconds. */
  medianMicros: number
  p90Micros: number
}

export interface NetlinkBenchResult {
  date: string
  machine: { cpus: number; model: string; kernel: string; node: string }
  /** Link given by ifindex: one request/ACK per operation. */
  addonByIndex: Timing
  /** Link given by name: the facade resolves it first (SIOCGIFINDEX). */
  addonByName: Timing
  /** `ip -n NS addr add|del ...` spawned with execFile. */
  ip: Timing
  /** ip median / addon-by-name median. */
  ratio: number
}

function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2
  return { operations: sorted.length, medianMicros: round(median), p90Micros: round(at(0.9)) }
}

const round = (n: number) => Math.round(n * 100) / 100
const nowMicros = () => Number(process.hrtime.bigint()) / 1000

export async function runNetlinkBench(options: NetlinkBenchOptions = {}): Promise<NetlinkBenchResult> {
  const { addonCycles = 500, ipCycles = 100, rounds = 5 } = options
  const lab = new Lab()
  try {
    const host = lab.host('nl')
    lab.cable(host, 'eth0', lab.host('peer'), 'eth0')
    const nl = Netlink.open({ netns: host.path })
    try {
      const index = nl.getLink('eth0').index
      const byIndex: number[] = []
      const byName: number[] = []
      const spawned: number[] = []
      const address = (i: number) => `198.51.100.${1 + (i % 250)}`

      const addonCycle = (link: string | number, i: number, samples: number[]) => {
        const spec = { link, address: address(i), prefixLength: 32 }
        let start = nowMicros()
        nl.addAddress(spec)
        samples.push(nowMicros() - start)
        start = nowMicros()
        nl.deleteAddress(spec)
        samples.push(nowMicros() - start)
      }
      const ipCycle = async (i: number, samples: number[]) => {
        for (const verb of ['add', 'del']) {
          const start = nowMicros()
          await execFileAsync('ip', ['-n', host.name, 'addr', verb, `${address(i)}/32`, 'dev', 'eth0'])
          samples.push(nowMicros() - start)
        }
      }

      // Warm up both paths (page cache for ip, JIT for the facade).
      for (let i = 0; i < 20; i++) addonCycle(index, i, [])
      for (let i = 0; i < 3; i++) await ipCycle(i, [])

      for (let r = 0; r < rounds; r++) {
        const addonPerRound = Math.ceil(addonCycles / rounds)
        for (let i = 0; i < addonPerRound; i++) addonCycle(index, i, byIndex)
        for (let i = 0; i < addonPerRound; i++) addonCycle('eth0', i, byName)
        for (let i = 0; i < Math.ceil(ipCycles / rounds); i++) await ipCycle(i, spawned)
      }
      if (host.addresses('eth0').length !== 0) throw new Error('benchmark left addresses behind')

      const addonByIndex = summarize(byIndex)
      const addonByName = summarize(byName)
      const ip = summarize(spawned)
      const cpus = os.cpus()
      return {
        date: new Date().toISOString(),
        machine: { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', kernel: os.release(), node: process.version },
        addonByIndex,
        addonByName,
        ip,
        ratio: round(ip.medianMicros / addonByName.medianMicros),
      }
    } finally {
      nl.close()
    }
  } finally {
    lab.destroy()
  }
}

export function formatNetlinkBench(result: NetlinkBenchResult): string {
  const row = (name: string, t: Timing) =>
    `| ${name.padEnd(36)} | ${String(t.operations).padStart(5)} | ${t.medianMicros.toFixed(1).padStart(9)} | ${t.p90Micros.toFixed(1).padStart(9)} |`
  return [
    `Netlink vs ip(8), ${result.date}, ${result.machine.cpus} x ${result.machine.model}, Linux ${result.machine.kernel}, Node ${result.machine.node}`,
    '',
    '| path                                 |   ops | median µs |    p90 µs |',
    '|--------------------------------------|-------|-----------|-----------|',
    row('addon, link by ifindex', result.addonByIndex),
    row('addon, link by name (+SIOCGIFINDEX)', result.addonByName),
    row('execFile ip addr add/del', result.ip),
    '',
    `ip(8) / addon by name: ${result.ratio}x (by index: ${round(result.ip.medianMicros / result.addonByIndex.medianMicros)}x)`,
  ].join('\n')
}

if (require.main === module) {
  const [addonCycles, ipCycles, rounds] = process.argv.slice(2).map(Number)
  runNetlinkBench({ addonCycles: addonCycles || undefined, ipCycles: ipCycles || undefined, rounds: rounds || undefined })
    .then((result) => {
      console.log(formatNetlinkBench(result))
      console.log('\n' + JSON.stringify(result))
    })
    .catch((error) => {
      console.error(error)
      process.exitCode = 1
    })
}
