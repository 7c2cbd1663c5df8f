// Two replicas in their own namespaces on one bridge, a FileLockElector on one
// file, a worker. The worker's TCP connection to VIP:port reaches the leader;
// after SIGKILL of the leader it reaches the other replica, the worker's
// neighbour entry shows the new MAC, and the VIP was never on both at once.
import t from 'tap'
import path from 'node:path'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, switchedReplicas, tcpProbe } from './lab/topologies'
import { ReplicaProcess } from './support/replica-process'
import { waitFor } from './support/wait'
import { tempDir } from './support/temp'

t.test('SIGKILL failover between two replicas with a file lock', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas, worker } = switchedReplicas(lab, 2)
  const lock = path.join(tempDir('vip-lock-'), 'lock')

  // Timestamped VIP add/delete in both replicas' namespaces, from one clock.
  const intervals = replicas.map(() => [] as Array<{ action: string; at: number }>)
  const monitors = replicas.map((host, i) => {
    const monitor = LinkMonitor.open({ netns: host.path })
    monitor.on('address', (e) => {
      if (e.address === VIP) intervals[i].push({ action: e.action, at: monotonicNow() })
    })
    monitor.on('overrun', () => t.fail(`replica ${i}'s address monitor overran: the interval check below is incomplete`))
    return monitor
  })
  t.teardown(() => monitors.forEach((m) => m.close()))

  const procs: ReplicaProcess[] = []
  t.teardown(() => Promise.all(procs.map((p) => p.stop())))
  for (const host of replicas) {
    procs.push(await ReplicaProcess.start(host, ['--lock', lock, '--port', '7000']))
  }
  const leaderIndex = await waitFor('a leader', () => {
    const i = procs.findIndex((p) => p.events.some((e) => e.event === 'leader'))
    return i >= 0 ? i + 1 : 0
  }) - 1
  const leader = replicas[leaderIndex]
  const other = replicas[1 - leaderIndex]
  t.equal(tcpProbe(worker, VIP, 7000), leader.name, 'worker reaches the leader through the VIP')
  await waitFor('worker neighbour entry', () => worker.neighbourMac(VIP) === leader.mac('eth0'))

  const killedAt = monotonicNow()
  procs[leaderIndex].kill('SIGKILL')
  await procs[1 - leaderIndex].waitFor('leader', 5000)
  await waitFor('worker learns the new MAC', () => worker.neighbourMac(VIP) === other.mac('eth0'), 3000, 2)
  const learnedAt = monotonicNow()
  t.ok(learnedAt - killedAt < 1000, `worker's neighbour entry moved ${(learnedAt - killedAt).toFixed(1)} ms after SIGKILL`)
  t.equal(tcpProbe(worker, VIP, 7000), other.name, 'the same target now reaches the other replica')
  await waitFor('killed replica cleaned by its guard', () => !leader.addresses('eth0').includes(`${VIP}/32`), 1000)
  t.pass("the killed replica's namespace no longer holds the VIP")

  // The checks above are synchronous spawns: the monitors' notifications may
  // still sit unread in their sockets. Yield until the three expected ones
  // (leader add + delete, new leader add) have been read, so the check below
  // judges what the kernel reported rather than how far this loop got.
  const seen = (i: number, action: string) => intervals[i].some((e) => e.action === action)
  await waitFor('address notifications from both replicas',
    () => seen(leaderIndex, 'add') && seen(leaderIndex, 'delete') && seen(1 - leaderIndex, 'add'), 2000)

  // Never on both at once: each replica's [add, delete) intervals are disjoint.
  const spans = intervals.map((events) => {
    const out: Array<[number, number]> = []
    let open: number | undefined
    for (const e of events) {
      // A lifetime refresh notifies RTM_NEWADDR again: the span starts at the first add.
      if (e.action === 'add') open ??= e.at
      else if (open !== undefined) {
        out.push([open, e.at])
        open = undefined
      }
    }
    if (open !== undefined) out.push([open, Infinity])
    return out
  })
  for (const [a0, a1] of spans[0]) {
    for (const [b0, b1] of spans[1]) {
      t.ok(a1 <= b0 || b1 <= a0, `no overlap: [${a0.toFixed(1)}, ${a1}) vs [${b0.toFixed(1)}, ${b1})`)
    }
  }
  t.ok(spans[leaderIndex].length >= 1 && spans[1 - leaderIndex].length >= 1, 'both replicas held the VIP in turn')
})
