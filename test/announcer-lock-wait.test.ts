// The follower's guard waits for the file lock and takes over the instant it
// gets it (issue 9, part A). The kernel is the witness: the VIP in the new
// leader's `ip addr`, the worker's neighbour entry on the new MAC, the lock
// file's record, whether another open file description can get the lock; and
// for the cases where the guard must not take (a dead holder's recorded
// deadline, a stop during the wait, a refused add) that nothing is there.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { VipAnnouncer, type LeaderEvent } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { FileLockElector } from '../src/electors/file-lock'
import { decodeRecord } from '../src/electors/lock-record'
import { FileLock } from '../src/net/file-lock'
import { LinkMonitor } from '../src/net/monitor'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, VIP6, switchedReplicas } from './lab/topologies'
import { cgroupTestOptions } from './support/cgroup'
import { ReplicaProcess } from './support/replica-process'
import { tempDir } from './support/temp'
import { nextEvent, sleep, waitFor } from './support/wait'

const nsOptions = namespaceTestOptions()

function record(lock: string) {
  return decodeRecord(readFileSync(lock).subarray(0, 128))
}

/** Whether a fresh open file description (anyone else) could take the lock now. */
function lockFree(lock: string): boolean {
  const probe = new FileLock(lock)
  try {
    const got = probe.tryLock()
    if (got) probe.unlock()
    return got
  } finally {
    probe.close()
  }
}

/** A logger that keeps every message, to see which path the announcer took. */
function recordingLogger() {
  const lines: string[] = []
  // pino's order, as src/logger.ts calls it: fields, then the message.
  const keep = (_fields: unknown, message: unknown) => void lines.push(String(message))
  return { lines, logger: { debug: keep, info: keep, warn: keep, error: keep } }
}

/** Two replicas on a switch; the first, a replica process, holds the lock (and the VIP); the second is free for the test's own announcer. */
async function holderAndCandidate(t: Test) {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas } = switchedReplicas(lab, 2)
  const lock = path.join(tempDir('vip-lockwait-'), 'lock')
  const holder = await ReplicaProcess.start(replicas[0], ['--lock', lock])
  t.teardown(() => holder.stop())
  await holder.waitFor('leader', 5000)
  return { replicas, lock, holder }
}

async function leaderOf(procs: ReplicaProcess[]): Promise<number> {
  return (await waitFor('a leader', () => {
    const i = procs.findIndex((p) => p.events.some((e) => e.event === 'leader'))
    return i >= 0 ? i + 1 : 0
  })) - 1
}

for (const lockWait of ['on', 'off'] as const) {
  t.test(`SIGKILL of the holder: the successor's guard takes over at the lock (lock wait ${lockWait})`, nsOptions, async (t) => {
    const lab = new Lab()
    t.teardown(() => lab.destroy())
    const { replicas, worker } = switchedReplicas(lab, 2)
    const lock = path.join(tempDir('vip-lockwait-'), 'lock')
    const procs: ReplicaProcess[] = []
    t.teardown(() => Promise.all(procs.map((p) => p.stop())))
    for (const host of replicas) procs.push(await ReplicaProcess.start(host, ['--lock', lock, '--lock-wait', lockWait]))
    const first = await leaderOf(procs)
    const [leader, other] = [replicas[first], replicas[1 - first]]
    const successor = procs[1 - first]
    worker.run('ping', '-c1', '-W1', VIP)
    await waitFor('worker entry at the leader', () => worker.neighbourMac(VIP) === leader.mac('eth0'))
    await sleep(200) // the successor's wait is in place

    const killedAt = monotonicNow()
    procs[first].kill('SIGKILL')
    const took = await successor.waitFor('leader', 5000)
    await waitFor('worker learns the new MAC', () => worker.neighbourMac(VIP) === other.mac('eth0'), 3000, 2)
    t.ok(monotonicNow() - killedAt < 1000, 'the neighbour entry moved within a second')
    t.ok(other.addresses('eth0').includes(`${VIP}/32`), "the VIP is in the new leader's ip addr")
    await waitFor('killed replica cleaned by its guard', () => !leader.addresses('eth0').includes(`${VIP}/32`), 1000)
    t.equal(took.takenBy, 'guard', 'the guard performed the takeover')
    t.equal(took.takenAtLock, lockWait === 'on', lockWait === 'on' ? 'at the lock, before the JS thread heard of it' : 'after the JS thread was elected')
    const phases = took.phases as LeaderEvent['phases']
    if (lockWait === 'on') t.ok(phases.armMs < 1, `armed ${phases.armMs.toFixed(3)} ms after the flock (no JS in between)`)
    // The record names the successor, until the deadline it leads under (a renewal may have moved it on).
    const held = record(lock)
    t.equal(held?.state, 'held', 'the record says held')
    t.ok(held?.state === 'held' && held.until >= (took.deadline as number) - 0.001, `until ${held?.state === 'held' ? held.until.toFixed(3) : '-'} covers the grant ${(took.deadline as number).toFixed(3)}`)
    t.notOk(lockFree(lock), 'nobody else can take the lock')
  })
}

t.test("a holder killed with its guard (cgroup): the successor's guard does not take before the recorded deadline", { ...nsOptions, ...(nsOptions.skip ? {} : cgroupTestOptions()) }, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas } = switchedReplicas(lab, 2)
  const lock = path.join(tempDir('vip-lockwait-'), 'lock')
  const procs: ReplicaProcess[] = []
  t.teardown(() => Promise.all(procs.map((p) => p.stop())))
  for (const host of replicas) procs.push(await ReplicaProcess.start(host, ['--lock', lock], 15000, { cgroup: true }))
  const first = await leaderOf(procs)
  const other = replicas[1 - first]
  const successor = procs[1 - first]
  await sleep(200)
  const watch = LinkMonitor.open({ netns: other.path })
  t.teardown(() => watch.close())
  let addedAt = NaN
  watch.on('address', (e) => {
    if (e.action === 'add' && e.address === VIP && Number.isNaN(addedAt)) addedAt = monotonicNow()
  })
  await procs[first].cgroup!.kill(5000, { frozen: true })
  const dead = record(lock)
  t.equal(dead?.state, 'held', "the dead holder's record still says held")
  const until = dead?.state === 'held' ? dead.until : NaN
  const took = await successor.waitFor('leader', 10000)
  // The successor's 'leader' line (its stdout) and the kernel's RTM_NEWADDR
  // (our monitor) reach this process by different paths, in either order.
  await waitFor('the address notification of the successor\'s VIP', () => !Number.isNaN(addedAt), 2000)
  t.ok(addedAt >= until, `the VIP appeared ${(addedAt - until).toFixed(1)} ms after the recorded deadline, not before`)
  t.equal(took.takenAtLock, false, "taken after the elector's claiming wait, not at the lock")
  t.ok(other.addresses('eth0').includes(`${VIP}/32`), 'the VIP is on the successor now')
})

t.test('stop() during the wait: no VIP, the lock not held, the guard gone', nsOptions, async (t) => {
  const { replicas, lock, holder } = await holderAndCandidate(t)
  const elector = new FileLockElector({ path: lock })
  const { lines, logger } = recordingLogger()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: replicas[1].path, logger })
  let leaders = 0
  announcer.on('leader', () => leaders++)
  await announcer.start()
  t.teardown(() => announcer.stop())
  await sleep(200)
  t.equal(elector.isLeader, false, 'a follower')
  t.ok(lines.includes('the guard waits for the file lock'), 'its guard waiting for the lock')
  await announcer.stop()
  holder.kill('SIGKILL')
  await waitFor('the lock is free once the holder died', () => lockFree(lock), 3000, 5)
  await sleep(300)
  t.equal(leaders, 0, 'the stopped replica never led')
  t.notOk(replicas[1].addresses('eth0').includes(`${VIP}/32`), 'no VIP on the stopped replica')
  t.ok(lockFree(lock), 'nobody holds the lock: the stopped guard did not take it')
})

t.test("a refused add at the lock: the guard's TAKE undoes its adds; nothing left, the error reported", nsOptions, async (t) => {
  const { replicas, lock, holder } = await holderAndCandidate(t)
  const host: LabHost = replicas[1]
  const elector = new FileLockElector({ path: lock })
  const { lines, logger } = recordingLogger()
  const announcer = new VipAnnouncer({ vip: [VIP, VIP6], interface: 'eth0', elector, netns: host.path, logger, announce: { repeats: 0, refreshIntervalMs: 0 } })
  let leaders = 0
  announcer.on('leader', () => leaders++)
  await announcer.start()
  t.teardown(() => announcer.stop())
  await sleep(200)
  const watch = LinkMonitor.open({ netns: host.path })
  t.teardown(() => watch.close())
  const changes: string[] = []
  watch.on('address', (e) => {
    if (e.address === VIP || e.address === VIP6) changes.push(`${e.action} ${e.address}`)
  })
  // The IPv6 VIP's add is refused (EACCES) after the IPv4 VIP's went in.
  host.run('sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=1')
  const error = nextEvent<NodeJS.ErrnoException>(announcer, 'error', 5000)
  holder.kill('SIGKILL')
  const failure = await error
  t.equal(failure.code, 'EACCES', `reported: ${failure.message}`)
  await sleep(200)
  t.ok(lines.includes('the guard got the lock but could not take over; this thread takes over'), "the guard's TAKE at the lock was refused first")
  t.equal(leaders, 0, "no 'leader' event")
  t.equal(announcer.state, 'follower', 'still follower')
  t.same(host.addresses('eth0').filter((a) => a.startsWith(VIP) || a.startsWith(VIP6)), [], 'nothing left on the host')
  t.same(changes.slice(0, 2), [`add ${VIP}`, `delete ${VIP}`], 'the IPv4 VIP had been added and was undone: a mid-footprint failure')
  t.equal(elector.isLeader, true, 'the elector leads (it holds the lock), as after any refused takeover: retried on renewal')
})
