// Failover: SIGKILL of the leader -> the first gratuitous ARP from the new
// leader reaches the worker (and the worker's neighbour entry shows the new
// MAC). vip-announcer with FileLockElector vs two keepalived instances with
// default VRRP settings, in the same topology, in one run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { monotonicNow } from '../src/clock'
import { FrameCapture } from '../src/net/capture'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, type LabHost } from '../test/lab/lab'
import { VIP, switchedReplicas } from '../test/lab/topologies'
import { ReplicaProcess } from '../test/support/replica-process'
import { tempDir } from '../test/support/temp'
import { nextEvent, sleep, waitFor } from '../test/support/wait'
import { NeighbourWatcher } from './neighbour-watch'
import { fmt, progress, summary } from './stats'

interface Round {
  /**
   * kill -> the first frame from the new leader's MAC arrives at the worker:
   * the kernel's receive timestamp of the captured frame (SO_TIMESTAMPNS,
   * put on CLOCK_MONOTONIC by its age at the read: src/net/capture.ts
   * arrivedAt), so no thread's lateness is in it.
   */
  frameMs: number
  /**
   * kill -> the worker's kernel reports its neighbour entry now has the new MAC
   * (RTM_NEWNEIGH): stamped on reading by a dedicated thread
   * (bench/neighbour-watch.ts); the kernel puts no timestamp on it. Above
   * frameMs by the ARP processing plus that thread's wake-up.
   */
  neighMs: number
  /** the first frame's arrival (frameMs's end) on CLOCK_MONOTONIC, ms: to line up with a replica's own stamps */
  frameAt: number
  /** the killed replica still had the VIP afterwards */
  leftBehind: boolean
}

/** Where the time goes (vip-announcer only; every figure from SIGKILL). */
interface Phases {
  /** the VIP's deletion in the killed replica's namespace, read by this process (the guard's fence) */
  fencedMs: number
  /** the new leader's elector reported leadership (its own CLOCK_MONOTONIC, the same clock) */
  electedMs: number
  /** the new leader sent its first frame (elected + the announcer's takeoverMs) */
  sentMs: number
}

async function measure(worker: LabHost, capture: FrameCapture, neighbours: NeighbourWatcher, newMac: string, kill: () => void, killed: LabHost, ifname = 'eth0'): Promise<Round> {
  // Gratuitous ARP updates existing entries only (arp_accept=0): make sure the
  // worker has one, pointing at the old leader, as a client talking to it would.
  worker.run('ping', '-c1', '-W1', VIP)
  await waitFor('worker entry at the old leader', () => worker.neighbourMac(VIP) === killed.mac(ifname), 2000)
  const frame = nextEvent<{ at: number; arrivedAt?: number }>(capture, 'frame', 15000, (f: any) => f.senderMac === newMac && f.senderIp === VIP)
  // The worker's kernel reports the entry's change (RTM_NEWNEIGH); stamped by
  // a thread that does nothing but read those (bench/neighbour-watch.ts), not
  // by this busy one.
  const neighbour = await neighbours.watch(VIP, newMac, 15000)
  try {
    const t0 = monotonicNow()
    kill()
    const seen = await frame
    const neighAt = await neighbour.changed
    // Cross-check with ip(8): the entry really shows the new MAC.
    await waitFor('ip neigh shows the new MAC', () => worker.neighbourMac(VIP) === newMac, 2000, 2)
    await sleep(200)
    const frameAt = seen.arrivedAt ?? seen.at
    return { frameMs: frameAt - t0, neighMs: neighAt - t0, frameAt, leftBehind: killed.addresses(ifname).includes(`${VIP}/32`) }
  } finally {
    await neighbour.close()
  }
}

export async function vipAnnouncerFailover(runs: number): Promise<Array<Round & Phases>> {
  const lab = new Lab()
  const procs = new Map<LabHost, ReplicaProcess>()
  try {
    const { replicas, worker } = switchedReplicas(lab, 2)
    const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
    const neighbours = NeighbourWatcher.open(worker.path)
    const lock = path.join(tempDir('vip-bench-'), 'lock')
    const start = async (host: LabHost) => procs.set(host, await ReplicaProcess.start(host, ['--lock', lock]))
    for (const host of replicas) await start(host)
    const rounds: Array<Round & Phases> = []
    for (let i = 0; i < runs; i++) {
      const leader = await waitFor('leader', () => replicas.find((h) => h.addresses('eth0').includes(`${VIP}/32`)), 5000)
      const other = replicas.find((h) => h !== leader)!
      const successor = procs.get(other)!
      const seenBefore = successor.events.length
      await sleep(100)
      let killedAt = 0
      let fencedAt = NaN
      const monitor = LinkMonitor.open({ netns: leader.path })
      monitor.on('address', (e) => {
        if (e.address === VIP && e.action === 'delete' && Number.isNaN(fencedAt)) fencedAt = monotonicNow()
      })
      const round = await measure(worker, capture, neighbours, other.mac('eth0'), () => {
        killedAt = monotonicNow()
        procs.get(leader)!.kill('SIGKILL')
      }, leader)
      const elected = await successor.waitFor('elected', 2000, () => true, seenBefore)
      const took = await successor.waitFor('leader', 2000, () => true, seenBefore)
      monitor.close()
      const electedMs = (elected.electedAt as number) - killedAt
      rounds.push({ ...round, fencedMs: fencedAt - killedAt, electedMs, sentMs: electedMs + (took.takeoverMs as number) })
      await procs.get(leader)!.exited()
      await start(leader) // back as a follower for the next round
      progress('vip-announcer failover', i + 1, runs)
    }
    capture.close()
    await neighbours.close()
    return rounds
  } finally {
    await Promise.all([...procs.values()].map((p) => p.stop()))
    lab.destroy()
  }
}

/** One round of the lock-wait A/B: which path the successor took and what it measured. */
interface LockWaitRound extends Round {
  mode: 'on' | 'off'
  /** the product's leader event: elected (for the guard's lock wait: its flock) -> first frame sent */
  takeoverMs: number
  /** the same, step by step (the leader event's phases) */
  phases: { armMs: number; footprintMs: number; firstFrameMs: number }
  /**
   * The lease's start (the leader event's deadline − leaseMs: for `on` the
   * guard's stamp right after its flock, for `off` the elector's after its
   * own) -> the first GARP's kernel receive stamp at the worker. "elected ->
   * first frame on the wire" without the sendto's return: a frame sent on
   * the veth is bridged and received by the worker inside the sender's
   * sendto (measured: it arrives 2-7 us after the call starts, the call
   * returns 40-60 us later), so the leader event's first-frame stamp,
   * taken when sendto returns, includes the worker's receive processing.
   */
  lockToWireMs: number
  takenAtLock: boolean
}

/**
 * The guard's lock wait (issue 9 part A) against the JS thread's own flock,
 * in one run: the same two replicas, the successor of each round started
 * with `--lock-wait on` or `off` in alternation (the killed replica comes
 * back with the next round's setting), so both paths share the machine's
 * state of the moment.
 */
export async function lockWaitAB(runs: number): Promise<LockWaitRound[]> {
  const lab = new Lab()
  const procs = new Map<LabHost, ReplicaProcess>()
  const modeOf = (round: number): 'on' | 'off' => (round % 2 === 0 ? 'on' : 'off')
  try {
    const { replicas, worker } = switchedReplicas(lab, 2)
    const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
    const neighbours = NeighbourWatcher.open(worker.path)
    const lock = path.join(tempDir('vip-bench-'), 'lock')
    const leaseMs = 4000
    const start = async (host: LabHost, mode: 'on' | 'off') => procs.set(host, await ReplicaProcess.start(host, ['--lock', lock, '--lock-wait', mode, '--lease-ms', String(leaseMs)]))
    for (const host of replicas) await start(host, modeOf(0))
    const rounds: LockWaitRound[] = []
    for (let i = 0; i < 2 * runs; i++) {
      const leader = await waitFor('leader', () => replicas.find((h) => h.addresses('eth0').includes(`${VIP}/32`)), 5000)
      const other = replicas.find((h) => h !== leader)!
      const successor = procs.get(other)!
      const seenBefore = successor.events.length
      await sleep(150)
      const round = await measure(worker, capture, neighbours, other.mac('eth0'), () => procs.get(leader)!.kill('SIGKILL'), leader)
      const took = await successor.waitFor('leader', 2000, () => true, seenBefore)
      const lockToWireMs = round.frameAt - ((took.deadline as number) - leaseMs)
      rounds.push({ ...round, mode: modeOf(i), takeoverMs: took.takeoverMs as number, phases: took.phases as LockWaitRound['phases'], lockToWireMs, takenAtLock: took.takenAtLock as boolean })
      await procs.get(leader)!.exited()
      await start(leader, modeOf(i + 1)) // the next round's successor
      progress('lock wait A/B', i + 1, 2 * runs)
    }
    capture.close()
    await neighbours.close()
    return rounds
  } finally {
    await Promise.all([...procs.values()].map((p) => p.stop()))
    lab.destroy()
  }
}

export function keepalivedConfigFile(dir: string, name: string, priority: number): string {
  const file = path.join(dir, `${name}.conf`)
  // Defaults everywhere except what a two-node VRRP pair must name, and
  // nopreempt: the restarted node must not take the VIP back in the middle of
  // the next round. It doesn't change how fast a backup detects a dead master
  // (3 x advert_int + skew).
  writeFileSync(file, `global_defs {
  router_id ${name}
}
vrrp_instance VI_1 {
  state BACKUP
  nopreempt
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/32 dev eth0
  }
}
`)
  return file
}

function startKeepalived(host: LabHost, dir: string, priority: number): ChildProcess {
  const conf = keepalivedConfigFile(dir, host.name, priority)
  return spawn('ip', ['netns', 'exec', host.name, 'keepalived', '--dont-fork', '--log-console', '--vrrp', '-f', conf,
    '-p', path.join(dir, `${host.name}.pid`), '-r', path.join(dir, `${host.name}.vrrp.pid`)], { stdio: 'ignore' })
}

/** All keepalived processes running in a namespace (parent and VRRP child). */
function keepalivedPids(host: LabHost): number[] {
  const out = execFileSync('ip', ['netns', 'pids', host.name], { encoding: 'utf8' })
  return out.split('\n').filter(Boolean).map(Number).filter((pid) => {
    try {
      return execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim() === 'keepalived'
    } catch {
      return false
    }
  })
}

export async function keepalivedFailover(runs: number): Promise<Round[]> {
  const rounds: Round[] = []
  // A fresh pair per round: restarting a killed keepalived next to a running
  // one makes the next round's roles depend on VRRP's own election timing.
  for (let i = 0; i < runs; i++) {
    const lab = new Lab()
    const dir = tempDir('vip-keepalived-')
    try {
      const { replicas, worker } = switchedReplicas(lab, 2)
      const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
    const neighbours = NeighbourWatcher.open(worker.path)
      replicas.forEach((host, index) => startKeepalived(host, dir, 100 - index * 10))
      const leader = await waitFor('keepalived master', () => replicas.find((h) => h.addresses('eth0').includes(`${VIP}/32`)), 15000)
      const other = replicas.find((h) => h !== leader)!
      await sleep(1500) // settle: both sides exchanging adverts
      rounds.push(await measure(worker, capture, neighbours, other.mac('eth0'), () => {
        for (const pid of keepalivedPids(leader)) process.kill(pid, 'SIGKILL')
      }, leader))
      capture.close()
      await neighbours.close()
      progress('keepalived failover', i + 1, runs)
    } finally {
      for (const name of lab.namespaceNames) {
        try {
          execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean).forEach((pid) => process.kill(Number(pid), 'SIGKILL'))
        } catch {
          // namespace already gone
        }
      }
      lab.destroy()
    }
  }
  return rounds
}

export function hasKeepalived(): boolean {
  try {
    execFileSync('keepalived', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export async function failoverBench(runs = 20, keepalivedRuns = 5) {
  const ours = await vipAnnouncerFailover(runs)
  const theirs = keepalivedRuns > 0 && hasKeepalived() ? await keepalivedFailover(keepalivedRuns) : undefined
  return {
    vipAnnouncer: { frame: summary(ours.map((r) => r.frameMs)), neigh: summary(ours.map((r) => r.neighMs)), leftBehind: ours.filter((r) => r.leftBehind).length, runs },
    phases: {
      fenced: summary(ours.map((r) => r.fencedMs)),
      elected: summary(ours.map((r) => r.electedMs)),
      sent: summary(ours.map((r) => r.sentMs)),
    },
    keepalived: theirs && { frame: summary(theirs.map((r) => r.frameMs)), neigh: summary(theirs.map((r) => r.neighMs)), leftBehind: theirs.filter((r) => r.leftBehind).length, runs: keepalivedRuns },
  }
}

if (require.main === module && process.argv[2] === 'lock-wait') {
  // node --import tsx bench/failover.bench.ts lock-wait [rounds of each path]
  lockWaitAB(Number(process.argv[3] ?? 20)).then((rounds) => {
    for (const mode of ['on', 'off'] as const) {
      const mine = rounds.filter((r) => r.mode === mode)
      const neigh = summary(mine.map((r) => r.neighMs))
      const frame = summary(mine.map((r) => r.frameMs))
      const took = summary(mine.map((r) => r.takeoverMs))
      const wire = summary(mine.map((r) => r.lockToWireMs))
      const atLock = mine.filter((r) => r.takenAtLock).length
      const phase = (key: keyof LockWaitRound['phases']) => fmt(summary(mine.map((r) => r.phases[key])).median)
      console.log(`lock wait ${mode} (n=${mine.length}, taken at the lock ${atLock}/${mine.length}): SIGKILL -> worker neigh has the new MAC median ${fmt(neigh.median)} (p90 ${fmt(neigh.p90)}); -> first GARP at the worker median ${fmt(frame.median)} (p90 ${fmt(frame.p90)}); elected -> first frame sent (leader event) median ${fmt(took.median)} (p90 ${fmt(took.p90)}); VIP left on killed replica ${mine.filter((r) => r.leftBehind).length}/${mine.length}`)
      console.log(`  phases (medians): elected -> armed ${phase('armMs')}, -> footprint added ${phase('footprintMs')}, -> first frame ${phase('firstFrameMs')}; lock acquired -> first GARP received by the worker (kernel stamp) median ${fmt(wire.median)} (p90 ${fmt(wire.p90)})`)
    }
    console.log(JSON.stringify(rounds.map((r) => ({ mode: r.mode, neighMs: +r.neighMs.toFixed(3), frameMs: +r.frameMs.toFixed(3), takeoverMs: +r.takeoverMs.toFixed(4), armMs: +r.phases.armMs.toFixed(4), frameAt: +r.frameAt.toFixed(4), lockToWireMs: +r.lockToWireMs.toFixed(4), atLock: r.takenAtLock }))))
  })
} else if (require.main === module) {
  failoverBench(Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 5)).then((r) => {
    const line = (name: string, s: typeof r.vipAnnouncer) =>
      console.log(`${name}: SIGKILL -> new leader's GARP at worker median ${fmt(s.frame.median)} (p90 ${fmt(s.frame.p90)}); -> worker neigh shows new MAC median ${fmt(s.neigh.median)}; VIP left on killed replica ${s.leftBehind}/${s.runs}`)
    line('vip-announcer (FileLockElector)', r.vipAnnouncer)
    const phase = (name: string, s: ReturnType<typeof summary>) => `${name} median ${fmt(s.median)} (p90 ${fmt(s.p90)})`
    console.log(`  where the time goes, from SIGKILL: ${phase('VIP deleted by the guard', r.phases.fenced)}; ${phase('successor elected', r.phases.elected)}; ${phase('first frame sent', r.phases.sent)}`)
    if (r.keepalived) {
      line('keepalived (VRRP defaults)', r.keepalived)
      console.log(`ratio keepalived / vip-announcer (neigh median): ${(r.keepalived.neigh.median / r.vipAnnouncer.neigh.median).toFixed(0)}x`)
    } else console.log('keepalived not installed: comparison skipped')
  })
}
