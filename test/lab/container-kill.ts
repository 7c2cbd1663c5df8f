// A whole-container kill of the leader, measured: replicas of test/fixtures
// /replica.ts, each in its own cgroup v2 group and network namespace on one
// bridge with a worker; the leader's cgroup.kill takes its Node process and
// its guard at once while the namespace lives on. The address monitors of
// every namespace, on this process's clock, say when the stale VIP
// disappeared and when the successor added it. Shared by
// test/container-kill.test.ts (which asserts) and bench/container-kill.bench.ts.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { monotonicNow } from '../../src/clock'
import { LinkMonitor } from '../../src/net/monitor'
import { mostHoldersAtOnce } from '../support/holders'
import { ReplicaProcess } from '../support/replica-process'
import { waitFor } from '../support/wait'
import { Lab, type LabHost } from './lab'
import { VIP, switchedReplicas } from './topologies'

const execFileAsync = promisify(execFile)

/**
 * The distinct MACs that answer the worker's ARP requests for the VIP (Habets
 * arping). Asynchronous on purpose: a synchronous child process would stall
 * this event loop for seconds, and with it the address monitors' timestamps
 * and any API stand-in this process serves to the replicas.
 */
export async function answeringMacs(worker: LabHost, count = 3): Promise<string[]> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', worker.name, 'arping', '-c', String(count), '-w', String(count + 1), '-i', 'eth0', VIP]).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }), // exit 1 when nobody answers
  )
  return [...new Set([...stdout.matchAll(/bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5})/gi)].map((m) => m[1].toLowerCase()))]
}

export interface ContainerKillRound {
  leaderMac: string
  /** MACs answering the worker's ARP for the VIP before the kill. */
  macsBefore: string[]
  /** The guard was gone when cgroup.kill returned. */
  guardDied: boolean
  /** kill -> the stale VIP's deletion in the dead namespace (the kernel's doing). */
  staleGoneMs: number
  /** kill -> the successor's add. */
  takeoverMs: number
  successorMac: string
  /** Most namespaces holding the VIP at one instant over the whole round. */
  mostHolders: number
  /** MACs answering the worker's ARP for the VIP after the takeover. */
  macsAfter: string[]
  /** The dead namespace still had the VIP at the end. */
  leftBehind: boolean
}

/**
 * `frozen`: freeze the leader's cgroup before killing it, so its guard gets no
 * chance to fence in the microseconds it outlives the Node process (a plain
 * cgroup.kill sometimes lets it): the kernel's lifetime alone removes the VIP.
 */
export async function containerKillRound(replicaArgs: string[], count: number, limitMs: number, env: NodeJS.ProcessEnv = {}, frozen = true): Promise<ContainerKillRound> {
  const lab = new Lab()
  const events: Array<{ host: LabHost; action: string; at: number }> = []
  const monitors: LinkMonitor[] = []
  const procs: ReplicaProcess[] = []
  try {
    const { replicas, worker } = switchedReplicas(lab, count)
    for (const host of replicas) {
      const monitor = LinkMonitor.open({ netns: host.path })
      monitor.on('address', (e) => {
        if (e.address === VIP) events.push({ host, action: e.action, at: monotonicNow() })
      })
      monitors.push(monitor)
    }
    for (const host of replicas) {
      procs.push(await ReplicaProcess.start(host, [...replicaArgs, '--identity', host.name], 20000, { fromRoot: true, env, cgroup: true }))
    }
    const holder = () => replicas.filter((h) => h.addresses('eth0').includes(`${VIP}/32`))
    const leader = await waitFor('a leader', () => (holder().length === 1 ? holder()[0] : undefined), 20000).catch((error: Error) => {
      const seen = procs.map((p) => `${p.host.name}: ${p.events.map((e) => e.event === 'error' ? JSON.stringify(e) : e.event).slice(0, 4).join(',')} | ${p.stderr.slice(-3).join(' | ')}`)
      throw new Error(`${error.message}; holders: ${holder().map((h) => h.name).join(',') || 'none'}; ${seen.join('; ')}`)
    })
    const leaderProc = procs[replicas.indexOf(leader)]
    await waitFor("the leader's guard", () => leaderProc.guardPid(), 3000)
    const macsBefore = await answeringMacs(worker)
    // The kill must find the VIP in place: the round measures its removal.
    if (!leader.addresses('eth0').includes(`${VIP}/32`)) throw new Error(`${leader.name} lost the VIP before the kill`)

    const killedAt = monotonicNow()
    await leaderProc.killContainer(5000, { frozen })
    const guardDied = !leaderProc.guardPid()
    const removed = await waitFor('the stale VIP deleted', () => events.find((e) => e.host === leader && e.action === 'delete' && e.at > killedAt), limitMs + 2000, 10)
    const added = await waitFor('a successor', () => events.find((e) => e.host !== leader && e.action === 'add' && e.at > killedAt), limitMs + 4000, 10)
    worker.run('ping', '-c1', '-W1', VIP)
    return {
      leaderMac: leader.mac('eth0'),
      macsBefore,
      guardDied,
      staleGoneMs: removed.at - killedAt,
      takeoverMs: added.at - killedAt,
      successorMac: added.host.mac('eth0'),
      mostHolders: mostHoldersAtOnce(events),
      macsAfter: await answeringMacs(worker),
      leftBehind: leader.addresses('eth0').includes(`${VIP}/32`),
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
    monitors.forEach((m) => m.close())
    lab.destroy()
  }
}
