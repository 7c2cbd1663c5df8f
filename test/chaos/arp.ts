// Who answers the worker's ARP requests for the VIP, from frames the worker's
// kernel captured: arping sends a request every 50 ms, tcpdump records every
// ARP frame on the worker's eth0 with its capture timestamp. The replies
// addressed to the worker between one request and the next are the answers
// to that request; two distinct MACs among them mean two hosts answered for
// the VIP at once. Gratuitous ARPs (broadcast) are announcements, not
// answers, and are left out. Habets arping's own "index" counts replies, not
// requests, so its output cannot say which request a reply answered.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { monotonicNow } from '../../src/clock'
import type { LabHost } from '../lab/lab'
import { waitFor } from '../support/wait'

export interface ArpWindow {
  /** The request's capture time, on CLOCK_MONOTONIC (converted from the capture's wall clock). */
  at: number
  macs: string[]
}

const FRAME = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP.*?: (Request who-has (\S+) tell (\S+)|Reply (\S+) is-at ([0-9a-f:]{17}))/

export class ArpWatch {
  /** One window per request the worker sent for the VIP, in capture order. */
  readonly windows: ArpWindow[] = []
  readonly errors: string[] = []
  readonly pids: number[] = []
  private readonly children: ChildProcess[] = []
  // Wall-clock capture stamps to CLOCK_MONOTONIC; the two clocks do not drift
  // apart measurably over a run (and the stamp only places a window in a round).
  private readonly offsetMs = monotonicNow() - Date.now()
  private dropped = ''

  private constructor(readonly worker: LabHost, readonly vip: string, readonly workerMac: string) {}

  static async start(worker: LabHost, vip: string, intervalS = 0.05): Promise<ArpWatch> {
    const watch = new ArpWatch(worker, vip, worker.mac('eth0'))
    const dump = spawn('ip', ['netns', 'exec', worker.name, 'tcpdump', '-i', 'eth0', '-n', '-e', '-tt', '-l', '--immediate-mode', 'arp'], { stdio: ['ignore', 'pipe', 'pipe'] })
    watch.track(dump)
    createInterface({ input: dump.stdout! }).on('line', (line) => watch.frame(line))
    let listening = false
    createInterface({ input: dump.stderr! }).on('line', (line) => {
      if (/listening on/.test(line)) listening = true
      else if (/dropped by kernel/.test(line)) watch.dropped = line
      else if (!/captured|received by filter|verbose output suppressed/.test(line)) watch.errors.push(line)
    })
    await waitFor('tcpdump listening', () => listening, 10_000, 20)
    const arping = spawn('ip', ['netns', 'exec', worker.name, 'arping', '-q', '-i', 'eth0', '-W', String(intervalS), vip], { stdio: ['ignore', 'ignore', 'pipe'] })
    watch.track(arping)
    createInterface({ input: arping.stderr! }).on('line', (line) => watch.errors.push(`arping: ${line}`))
    return watch
  }

  private track(child: ChildProcess): void {
    this.children.push(child)
    this.pids.push(child.pid!)
  }

  private frame(line: string): void {
    const m = FRAME.exec(line)
    if (!m) return
    const [, stamp, src, dst, , whoHas, , replyFrom, isAt] = m
    if (whoHas !== undefined) {
      if (whoHas === this.vip && src === this.workerMac) this.windows.push({ at: Number(stamp) * 1000 + this.offsetMs, macs: [] })
      return
    }
    if (replyFrom !== this.vip || dst !== this.workerMac) return
    const window = this.windows[this.windows.length - 1]
    if (window && !window.macs.includes(isAt)) window.macs.push(isAt)
  }

  /** Requests answered by more than one MAC, from `since` (monotonic ms) to `until`. */
  doubleAnswers(since = -Infinity, until = Infinity): ArpWindow[] {
    return this.windows.filter((w) => w.at >= since && w.at < until && w.macs.length > 1)
  }

  /** Requests sent (and captured) in an interval: evidence that the watch was running. */
  requests(since = -Infinity, until = Infinity): number {
    return this.windows.filter((w) => w.at >= since && w.at < until).length
  }

  /** tcpdump's "N packets dropped by kernel" line, once it has exited; frames it dropped were not judged. */
  get dropLine(): string {
    return this.dropped
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGINT') // tcpdump prints its drop count on SIGINT
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      return exited.then(() => clearTimeout(timer))
    }))
  }
}
