// The guard's reply timeout measures the guard's silence, not this thread's
// (issue 11, defect 9): a takeover that keeps the JS thread busy longer than
// the timeout (thousands of VIPs added synchronously) must not make the
// announcer think its guard failed to confirm the deadline, while a guard
// that really does not answer is still caught.
import t from 'tap'
import { VipAnnouncer } from '../src/announcer'
import { GuardProcess } from '../src/guard'
import { monotonicNow } from '../src/clock'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, switchedReplicas } from './lab/topologies'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep } from './support/wait'

/** Keeps this thread busy, as a long synchronous takeover does. */
function busyWait(ms: number): void {
  const end = monotonicNow() + ms
  while (monotonicNow() < end) {
    // spin
  }
}

t.test('arm() followed by 2.5 s of synchronous work on this thread is confirmed, not timed out', async (t) => {
  const guard = await GuardProcess.start()
  t.teardown(() => guard.close())
  const started = monotonicNow()
  const confirmed = guard.arm(started + 60_000)
  busyWait(2500) // longer than the 2 s default: the guard answered within microseconds, the reply waits in the pipe
  await t.resolves(confirmed, `confirmed ${(monotonicNow() - started).toFixed(0)} ms after the write`)
  await t.resolves(guard.disarm(), 'the guard keeps serving')
})

t.test('the same with several commands written before the thread gets busy, and again after', async (t) => {
  const guard = await GuardProcess.start({ replyTimeoutMs: 200 })
  t.teardown(() => guard.close())
  const replies = [guard.ping(), guard.arm(monotonicNow() + 60_000), guard.ping()]
  busyWait(600)
  await t.resolves(Promise.all(replies), 'three replies, three times the timeout late to be read')
  const again = guard.ping()
  busyWait(600)
  await t.resolves(again, 'and a second time')
})

t.test('a guard that really does not answer is still declared unresponsive, within about the timeout', async (t) => {
  const guard = await GuardProcess.start({ replyTimeoutMs: 300 })
  t.teardown(async () => {
    process.kill(guard.pid, 'SIGCONT')
    await guard.close()
  })
  process.kill(guard.pid, 'SIGSTOP')
  const started = monotonicNow()
  const error = await guard.ping().then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  )
  const waited = monotonicNow() - started
  t.equal(error?.code, 'ETIMEDOUT', `rejected: ${error?.message}`)
  // libuv's timers count whole milliseconds from the loop's cached time: up to 1 ms early by this clock.
  t.ok(waited >= 298 && waited < 1000, `after ${waited.toFixed(1)} ms (timeout 300 ms)`)
})

t.test('a guard silent while this thread is busy too is declared unresponsive once the loop sees no reply', async (t) => {
  const guard = await GuardProcess.start({ replyTimeoutMs: 300 })
  t.teardown(async () => {
    process.kill(guard.pid, 'SIGCONT')
    await guard.close()
  })
  process.kill(guard.pid, 'SIGSTOP')
  const started = monotonicNow()
  const reply = guard.ping().then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  )
  busyWait(600)
  const error = await reply
  const waited = monotonicNow() - started
  t.equal(error?.code, 'ETIMEDOUT', `rejected: ${error?.message}`)
  t.ok(waited < 1200, `after ${waited.toFixed(0)} ms (600 ms of them this thread's)`)
})

t.test('a reply that comes late but within the timeout counts', async (t) => {
  // The guard is frozen for 150 ms of a 300 ms timeout: its reply comes in time.
  const guard = await GuardProcess.start({ replyTimeoutMs: 300 })
  t.teardown(async () => {
    process.kill(guard.pid, 'SIGCONT')
    await guard.close()
  })
  process.kill(guard.pid, 'SIGSTOP')
  const reply = guard.ping()
  setTimeout(() => process.kill(guard.pid, 'SIGCONT'), 150)
  await t.resolves(reply, 'answered 150 ms late, within the timeout')
})

t.test('an announcer whose takeover keeps the thread busy 2.5 s stays leader', namespaceTestOptions(), async (t) => {
  // What thousands of VIPs do (IPv6: every address add walks all the
  // interface's multicast groups in the kernel, so the takeover grows
  // quadratically): the 'leader' event is emitted synchronously at the end of
  // the takeover, right after arm() wrote its command, so a listener that spins
  // stands in for a long footprint.apply().
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = switchedReplicas(lab, 1)
  const elector = new ManualElector()
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
  t.teardown(() => announcer.stop())
  const problems: string[] = []
  announcer.on('follower', (e) => problems.push(`follower: ${e.reason}`))
  announcer.on('error', (e) => problems.push(`error: ${e.message}`))
  await announcer.start()
  announcer.once('leader', () => busyWait(2500))
  const leader = nextEvent(announcer, 'leader', 5000)
  elector.elect(30_000)
  await leader
  await sleep(500) // the confirmation, or its timeout, is handled by now
  t.same(problems, [], 'no step-down, no error')
  t.equal(announcer.state, 'leader', 'still leader')
  t.ok(cp1.addresses('eth0').includes(`${VIP}/32`), 'the VIP is on the interface')
})
