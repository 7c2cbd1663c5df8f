// One function per fault kind. Each injects its fault on the current leader
// (the namespace the kernel shows holding the VIP), ends it where the fault
// has an end (SIGCONT, link up, the interface back, etcd thawed or
// restarted), and says which replicas died (the runner restarts them) and
// how long the VIP may be unavailable: the bound, from docs/architecture.md's
// failure table with the margins its tests use (see docs/reliability.md).
import { sleep } from '../support/wait'
import { monotonicNow } from '../../src/clock'
import { VIP } from '../lab/topologies'
import { ETCD_TTL_S, LEASE_MS, TABLE, type Cluster, type ElectorKind } from './cluster'
import type { Random } from './random'

export interface FaultContext {
  cluster: Cluster
  /** Index of the leader replica. */
  leader: number
  rng: Random
}

export interface Injected {
  /** What was done, with its parameters ("SIGSTOP for 2710 ms"). */
  detail: string
  /** Replicas whose processes the fault killed: restarted by the runner once the VIP is back. */
  killed: number[]
  /** When the fault's cause was over (monotonic ms): recovery is judged from probes after it. */
  endedAt: number
  /** Longest unavailability allowed, measured from the injection, ms. */
  boundMs: number
}

export interface FaultKind {
  name: string
  electors: readonly ElectorKind[]
  inject(ctx: FaultContext): Promise<Injected>
}

const BOTH: readonly ElectorKind[] = ['file-lock', 'etcd']
const ms = (x: number) => Math.round(x)

/**
 * "At once" failovers (the guard fences in ms; file lock: the lock passes on
 * release; etcd: the key is deleted and the watchers campaign): 1 s, + 0.5 s
 * for etcd's round trips.
 */
const fastBound = (e: ElectorKind) => (e === 'etcd' ? 1500 : 1000)
/**
 * A leader that stops renewing without dying (frozen, blocked, every process
 * killed): the successor waits for the lease. File lock: the recorded deadline
 * (≤ lease 4000 ms) + 1000 ms; etcd: the TTL (5 s) + 1500 ms, the margins of
 * test/container-kill.test.ts.
 */
const leaseBound = (e: ElectorKind) => (e === 'etcd' ? ETCD_TTL_S * 1000 + 1500 : LEASE_MS + 1000)

export const FAULTS: readonly FaultKind[] = [
  {
    name: 'sigkill',
    electors: BOTH,
    async inject({ cluster, leader }) {
      const proc = cluster.procs[leader]!
      proc.kill('SIGKILL')
      await proc.exited()
      // File lock: the guard unlocks after its fence, at once; etcd: the lease must expire in the
      // backend, as after a whole-container kill (etcd checks expiry every 500 ms on top).
      return { detail: `SIGKILL node pid ${proc.pid}`, killed: [leader], endedAt: monotonicNow(), boundMs: cluster.elector === 'etcd' ? leaseBound('etcd') : fastBound('file-lock') }
    },
  },
  {
    name: 'container-kill',
    electors: BOTH,
    async inject({ cluster, leader, rng }) {
      const frozen = rng.next() < 0.5
      await cluster.procs[leader]!.killContainer(5000, { frozen })
      return { detail: `cgroup.kill${frozen ? ' (frozen first)' : ''}`, killed: [leader], endedAt: monotonicNow(), boundMs: leaseBound(cluster.elector) }
    },
  },
  {
    name: 'sigstop',
    electors: BOTH,
    async inject({ cluster, leader, rng }) {
      const proc = cluster.procs[leader]!
      const pause = ms(rng.between(500, 6000))
      proc.kill('SIGSTOP')
      try {
        await sleep(pause)
      } finally {
        proc.kill('SIGCONT')
      }
      return { detail: `SIGSTOP for ${pause} ms`, killed: [], endedAt: monotonicNow(), boundMs: leaseBound(cluster.elector) }
    },
  },
  {
    name: 'block',
    electors: BOTH,
    async inject({ cluster, leader, rng }) {
      const proc = cluster.procs[leader]!
      const busy = ms(rng.between(500, 6000))
      const after = proc.events.length
      proc.send(`block ${busy}`) // the fixture's busy loop: the event loop stops, the guard does not
      await proc.waitFor('unblocked', busy + 15_000, () => true, after)
      return { detail: `event loop blocked ${busy} ms`, killed: [], endedAt: monotonicNow(), boundMs: leaseBound(cluster.elector) }
    },
  },
  {
    name: 'link-flap',
    electors: BOTH,
    async inject({ cluster, leader, rng }) {
      const host = cluster.hosts[leader]
      const down = ms(rng.between(500, 3000))
      host.ip('link', 'set', 'eth0', 'down')
      try {
        await sleep(down)
      } finally {
        host.ip('link', 'set', 'eth0', 'up')
      }
      // The leader keeps its lease (its backend is reachable on eth1): the VIP is unreachable while
      // the link is down and back with the link-up re-apply.
      return { detail: `eth0 down ${down} ms`, killed: [], endedAt: monotonicNow(), boundMs: down + 1000 }
    },
  },
  {
    name: 'link-recreate',
    electors: BOTH,
    async inject({ cluster, leader, rng }) {
      const host = cluster.hosts[leader]
      const gone = ms(rng.between(500, 3000))
      host.ip('link', 'del', 'eth0') // the veth pair goes, the bridge's port with it
      await sleep(gone)
      cluster.lab.plug(host, 'eth0', cluster.sw, { addresses: [cluster.dataAddress(leader)] })
      // The leader steps back when its interface goes (docs: 12-41 ms to the successor's add).
      return { detail: `eth0 deleted, re-created after ${gone} ms`, killed: [], endedAt: monotonicNow(), boundMs: fastBound(cluster.elector) }
    },
  },
  {
    name: 'vip-delete',
    electors: BOTH,
    async inject({ cluster, leader }) {
      cluster.hosts[leader].ip('addr', 'del', `${VIP}/32`, 'dev', 'eth0')
      return { detail: 'ip addr del VIP', killed: [], endedAt: monotonicNow(), boundMs: fastBound(cluster.elector) }
    },
  },
  {
    name: 'routing-delete',
    electors: BOTH,
    async inject({ cluster, leader, rng }) {
      const host = cluster.hosts[leader]
      const what = rng.pick(['rule', 'routes', 'both'] as const)
      if (what !== 'routes') host.ip('rule', 'del', 'from', VIP, 'lookup', String(TABLE))
      if (what !== 'rule') host.ip('route', 'flush', 'table', String(TABLE))
      return { detail: `deleted from outside: ${what === 'both' ? 'rule and table routes' : what === 'rule' ? 'rule' : 'table routes'}`, killed: [], endedAt: monotonicNow(), boundMs: fastBound(cluster.elector) }
    },
  },
  {
    name: 'guard-kill',
    electors: BOTH,
    async inject({ cluster, leader }) {
      const guard = cluster.procs[leader]!.guardPid()
      if (!guard) throw new Error(`replica ${leader + 1} has no guard to kill`)
      cluster.pids.add(guard)
      process.kill(guard, 'SIGKILL')
      // The announcer steps down, restarts its guard and campaigns again.
      return { detail: `SIGKILL guard pid ${guard}`, killed: [], endedAt: monotonicNow(), boundMs: fastBound(cluster.elector) }
    },
  },
  {
    name: 'etcd-freeze',
    electors: ['etcd'],
    async inject({ cluster, rng }) {
      const pause = ms(rng.between(500, 6000))
      const started = monotonicNow()
      cluster.etcd!.freeze()
      try {
        await sleep(pause)
      } finally {
        cluster.etcd!.thaw()
      }
      // Nobody can be elected while etcd is frozen; after it, within the TTL (+1.5 s).
      return { detail: `etcd SIGSTOP for ${pause} ms`, killed: [], endedAt: monotonicNow(), boundMs: ms(monotonicNow() - started) + ETCD_TTL_S * 1000 + 1500 }
    },
  },
  {
    name: 'etcd-restart',
    electors: ['etcd'],
    async inject({ cluster, rng }) {
      const down = ms(rng.between(500, 6000))
      const started = monotonicNow()
      await cluster.etcd!.kill()
      await sleep(down)
      await cluster.etcd!.start()
      const healthy = ms(monotonicNow() - started)
      return { detail: `etcd SIGKILL, restarted after ${down} ms (serving at +${healthy} ms)`, killed: [], endedAt: monotonicNow(), boundMs: healthy + ETCD_TTL_S * 1000 + 1500 }
    },
  },
]

export function faultsFor(elector: ElectorKind, names?: readonly string[]): FaultKind[] {
  return FAULTS.filter((f) => f.electors.includes(elector) && (!names || names.includes(f.name)))
}
