// One kernel-ordered record of an address's comings and goings in several
// namespaces, to judge "never on two at once" without timestamps.
//
// Stamping each namespace's notifications when this process reads them
// (LinkMonitor per namespace) measures read order: with the test descheduled,
// the successor's add can be read, and stamped, before the old leader's
// delete that preceded it (issue 11, defect 11: 45 µs apart, the wrong way).
// Netlink gives no kernel timestamp to compare instead: SO_TIMESTAMP(NS) is
// accepted on a netlink socket but recvmsg never returns the control message.
//
// What the kernel does give is one order: a single rtnetlink socket with
// NETLINK_LISTEN_ALL_NSID (`ip monitor address all-nsid`) receives the
// notifications of every namespace that has an id in its own, and each
// notification is queued on that socket inside the change it reports, before
// the change is acknowledged (changes are serialized by the RTNL lock). So the
// socket's queue order is the order of the changes themselves, whenever this
// process gets round to reading it: a delete acknowledged before an add was
// sent is always queued first, and an add made while the address is still on
// another namespace is queued before that namespace's delete.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Lab, LabHost } from '../lab/lab'
import { waitFor } from './wait'

export interface WitnessedChange {
  /** Index of the watched host (as passed to start()). */
  host: number
  action: 'add' | 'delete'
  address: string
  prefixLength: number
}

/** Spans of presence in queue order, or the first moment two hosts held `address` at once. */
export interface OverlapVerdict {
  /** Changes of `address`, in the kernel's order. */
  changes: WitnessedChange[]
  /** Per host, how many times it gained the address (refreshes of a present address do not count). */
  tenures: number[]
  /** Human-readable descriptions of every overlap, empty when there was none. */
  overlaps: string[]
}

const LINE = /^\[nsid (\d+|current)\](Deleted )?\d+: \S+\s+inet6? ([0-9a-fA-F.:]+)\/(\d+)/

export class AddressWitness {
  /** Every address change of the watched hosts, in the order the kernel queued them. */
  readonly changes: WitnessedChange[] = []
  /** stderr of `ip monitor`: "netlink receive error ... No buffer space" would mean lost notifications. */
  readonly errors: string[] = []
  private readonly child: ChildProcess
  private readyMarker = false

  private constructor(child: ChildProcess, ids: Map<number, number>) {
    this.child = child
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = LINE.exec(line)
      if (!match) return // continuation lines (lifetimes, flags) and other objects
      if (match[1] === 'current') {
        this.readyMarker = true
        return
      }
      const host = ids.get(Number(match[1]))
      if (host === undefined) return
      this.changes.push({ host, action: match[2] ? 'delete' : 'add', address: match[3], prefixLength: Number(match[4]) })
    })
    createInterface({ input: child.stderr! }).on('line', (line) => this.errors.push(line))
  }

  /**
   * A witness namespace of `lab` that gives each of `hosts` an nsid and
   * listens to all of them; resolves once it is listening (a marker address
   * on its own loopback has been seen).
   */
  static async start(lab: Lab, hosts: LabHost[]): Promise<AddressWitness> {
    const witness = lab.host('wit')
    const ids = new Map<number, number>()
    hosts.forEach((host, i) => {
      witness.ip('netns', 'set', host.name, String(100 + i))
      ids.set(100 + i, i)
    })
    const child = spawn('ip', ['-n', witness.name, 'monitor', 'address', 'all-nsid'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const self = new AddressWitness(child, ids)
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`ip monitor exited (${code}): ${self.errors.join(' | ')}`))))
    exited.catch(() => {})
    // Repeated until seen: the monitor may not have subscribed when the first marker goes by.
    await Promise.race([
      waitFor('the witness listening', () => {
        if (self.readyMarker) return true
        witness.ip('addr', 'replace', '203.0.113.254/32', 'dev', 'lo')
        witness.ip('addr', 'del', '203.0.113.254/32', 'dev', 'lo')
        return false
      }, 3000, 20),
      exited,
    ])
    return self
  }

  /** Waits until `count` changes matching `match` have been read. */
  async waitFor(what: string, match: (c: WitnessedChange) => boolean, count = 1, timeoutMs = 2000): Promise<void> {
    await waitFor(what, () => this.changes.filter(match).length >= count, timeoutMs, 2)
  }

  /** Judges `address` (any prefix length) over everything read so far. */
  verdict(address: string, hostCount: number): OverlapVerdict {
    return judgeOverlap(this.changes.filter((c) => c.address === address), hostCount)
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill()
  }
}

/**
 * Walks the changes in order, tracking which hosts hold the address; an add
 * on one host while another holds it is an overlap. An add on a host that
 * already holds it is a lifetime refresh (RTM_NEWADDR again), not a new
 * tenure.
 */
export function judgeOverlap(changes: WitnessedChange[], hostCount: number): OverlapVerdict {
  const holding = new Array<boolean>(hostCount).fill(false)
  const tenures = new Array<number>(hostCount).fill(0)
  const overlaps: string[] = []
  changes.forEach((change, index) => {
    if (change.action === 'delete') {
      holding[change.host] = false
      return
    }
    if (holding[change.host]) return
    const others = holding.flatMap((held, i) => (held && i !== change.host ? [i] : []))
    if (others.length > 0) overlaps.push(`change #${index}: host ${change.host} added ${change.address} while host ${others.join(', ')} still held it`)
    holding[change.host] = true
    tenures[change.host]++
  })
  return { changes, tenures, overlaps }
}
