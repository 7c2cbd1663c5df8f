// The guard's lock wait (LOCKWAIT, issue 9 part A) and the elector's side of
// it, without namespaces or root: a real lock file, real flocks on separate
// open file descriptions, the real guard. Its takeover plan is an address add
// on an interface index that does not exist, so the kernel refuses it
// (ENODEV) and nothing on the machine changes, root or not; the namespace
// tests (test/announcer-lock-wait.test.ts) show the takeover itself.
import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { constants } from 'node:os'
import path from 'node:path'
import { monotonicNow } from '../src/clock'
import { FileLockElector } from '../src/electors/file-lock'
import { bootId, decodeRecord, encodeRecord } from '../src/electors/lock-record'
import { Footprint } from '../src/footprint'
import { GuardProcess, type LockWaitResult, type LockWaitTerms } from '../src/guard'
import { FileLock } from '../src/net/file-lock'
import { Netlink } from '../src/net/netlink'
import { resolveOptions } from '../src/options'
import { ManualElector } from './support/manual-elector'
import { tempDir } from './support/temp'
import { nextEvent, sleep } from './support/wait'

const NO_SUCH_IFINDEX = 0x7ffffff0
const boot = bootId()

interface Setup {
  file: string
  /** Our side: the description the guard shares (as the elector's). */
  ours: FileLock
  /** Someone else: another open file description of the same file. */
  other: FileLock
  guard: GuardProcess
  terms: LockWaitTerms
}

async function setup(t: Test): Promise<Setup> {
  const file = path.join(tempDir('vip-lockwait-'), 'vip.lock')
  const ours = new FileLock(file)
  const other = new FileLock(file)
  t.teardown(() => {
    ours.close()
    other.close()
  })
  const netlink = Netlink.open()
  t.teardown(() => netlink.close())
  const footprint = new Footprint(netlink, resolveOptions({ vip: '192.0.2.100', interface: 'none0', elector: new ManualElector() }), NO_SUCH_IFINDEX)
  const guard = await GuardProcess.start({ lockFd: ours.fd })
  t.teardown(() => guard.close())
  t.equal(await guard.setTakePlan(footprint.takeSteps(), []), true, 'the guard accepts the plan')
  return { file, ours, other, guard, terms: { leaseMs: 4000, marginMs: 200, lifetimeS: 1, addWithinMs: 1000, pollMs: 500, pid: 4242, boot } }
}

t.test('a released record: the guard takes over the instant the holder unlocks; its refused add leaves it disarmed', async (t) => {
  const s = await setup(t)
  t.ok(s.other.tryLock(), 'someone else holds the lock')
  writeFileSync(s.file, encodeRecord({ state: 'released', boot, pid: 1 }))
  t.equal(await s.guard.lockWait(s.terms), true, 'the guard waits')
  await sleep(50)
  const locked = nextEvent<LockWaitResult>(s.guard, 'locked', 3000)
  const unlockedAt = monotonicNow()
  s.other.unlock() // unlock, then the poke: what a fencing guard and stop() do
  const result = await locked
  t.equal(result.verdict, 'failed', 'it got the lock and tried to take over')
  if (result.verdict !== 'failed') return
  t.equal(result.errno, constants.errno.ENODEV, 'the kernel refused the add (no such interface)')
  t.equal(result.code, 'ENODEV')
  t.ok(result.acquiredAt >= unlockedAt && result.acquiredAt - unlockedAt < 50, `got the lock ${(result.acquiredAt - unlockedAt).toFixed(3)} ms after the unlock`)
  t.ok(Math.abs(result.deadline - (result.acquiredAt + s.terms.leaseMs)) < 0.001, 'the grant reaches acquisition + leaseMs')
  const record = decodeRecord(readFileSync(s.file))
  t.same(record && { ...record, until: record.state === 'held' ? Math.round(record.until * 1000) : 0 }, { state: 'held', until: Math.round(Math.ceil(result.deadline * 1000)), boot, pid: 4242 }, 'the record (read by the TS side) says held by the host until the grant, rounded up to the microsecond')
  t.notOk(s.other.tryLock(), 'our description holds the lock now')
  t.ok(s.ours.tryLock(), "the elector's own flock succeeds at once: it is the same description")
  // Disarmed: another TAKE is tried again (and refused by the kernel), not declined as "already armed".
  await t.rejects(s.guard.take(monotonicNow() + 3000, 1), { code: 'ENODEV' }, 'disarmed: nothing half-applied')
})

t.test("a dead holder's held record in this boot: the guard keeps the lock but does not take", async (t) => {
  const s = await setup(t)
  t.ok(s.other.tryLock())
  const until = monotonicNow() + 60_000
  writeFileSync(s.file, encodeRecord({ state: 'held', until, boot, pid: 1 }))
  await s.guard.lockWait(s.terms)
  const locked = nextEvent<LockWaitResult>(s.guard, 'locked', 3000)
  s.other.close() // the holder dies: no unlock, no poke; the close itself is the event
  const result = await locked
  t.equal(result.verdict, 'held')
  if (result.verdict === 'held') t.ok(Math.abs(result.until - until) < 0.002, 'with the recorded deadline')
  const record = decodeRecord(readFileSync(s.file))
  t.equal(record?.state === 'held' && record.pid, 1, 'the record is left as the dead holder wrote it')
  t.ok(s.ours.tryLock(), 'the lock is ours (shared description); the elector waits the deadline out')
})

for (const [what, bytes] of [
  ['another boot', encodeRecord({ state: 'held', until: monotonicNow() + 60_000, boot: 'another-boot', pid: 1 })],
  ['no record (an empty file)', Buffer.alloc(0)],
  ['a deadline already past', encodeRecord({ state: 'held', until: monotonicNow() - 1, boot, pid: 1 })],
] as const) {
  t.test(`${what}: the guard takes over at once, as waitBeforeTakeover says`, async (t) => {
    const s = await setup(t)
    writeFileSync(s.file, bytes)
    const locked = nextEvent<LockWaitResult>(s.guard, 'locked', 3000)
    await s.guard.lockWait(s.terms) // the lock is free: the try right after the command gets it
    t.equal((await locked).verdict, 'failed', 'it took the lock and tried the takeover (refused add)')
  })
}

// The guard splits the record by hand (no iostream on the takeover's path):
// any whitespace separates fields, as operator>> did; anything but five
// fields is no record of ours.
for (const [what, text, verdict] of [
  ['tabs, runs of spaces and a CR between the fields of a held record', (until: number) => `vip-announcer-lock/1\t held  ${until.toFixed(3)}\r\n${boot}\t1\n`, 'held'],
  ['a sixth field', (until: number) => `vip-announcer-lock/1 held ${until.toFixed(3)} ${boot} 1 extra\n`, 'failed'],
  ['a NUL inside the pid', (until: number) => `vip-announcer-lock/1 held ${until.toFixed(3)} ${boot} 1\u00002\n`, 'failed'],
] as const) {
  t.test(`the guard's record decoder: ${what} -> ${verdict}`, async (t) => {
    const s = await setup(t)
    writeFileSync(s.file, text(monotonicNow() + 60_000))
    const locked = nextEvent<LockWaitResult>(s.guard, 'locked', 3000)
    await s.guard.lockWait(s.terms)
    t.equal((await locked).verdict, verdict, verdict === 'held' ? 'read as held: the deadline is waited out' : 'not a record: taken at once (refused add)')
  })
}

t.test('LOCKCANCEL ends the wait: the guard does not take a lock released afterwards; the plan is frozen while it waits', async (t) => {
  const s = await setup(t)
  t.ok(s.other.tryLock())
  await s.guard.lockWait(s.terms)
  await t.rejects(s.guard.setTakePlan([], []), /lock wait in progress/, 'no plan change during the wait')
  await t.rejects(s.guard.lockWait(s.terms), /already waiting/, 'one wait at a time')
  let locked = 0
  s.guard.on('locked', () => locked++)
  await s.guard.lockCancel()
  s.other.unlock()
  await sleep(100)
  t.equal(locked, 0, "no 'locked' after the cancel")
  const third = new FileLock(s.file)
  t.teardown(() => third.close())
  t.ok(third.tryLock(), 'anyone else can take the lock: the guard did not')
  t.equal(await s.guard.setTakePlan([], []), false, 'the plan can change again')
})

t.test('a guard later than addWithinMs after its flock adds nothing: declined, the host takes over with its own lifetime', async (t) => {
  const s = await setup(t)
  const locked = nextEvent<LockWaitResult>(s.guard, 'locked', 3000)
  await s.guard.lockWait({ ...s.terms, addWithinMs: 0 }) // any time at all since the flock is too late
  const result = await locked
  t.equal(result.verdict, 'failed')
  if (result.verdict === 'failed') {
    t.equal(result.code, 'ERR_TAKE_DECLINED', 'declined: nothing tried')
    t.match(result.message, /too late for the lifetime/)
  }
})

t.test('the guard refuses terms it cannot honour', async (t) => {
  const s = await setup(t)
  await t.rejects(s.guard.lockWait({ ...s.terms, boot: 'two words' }), /bad/, 'a boot id with a space')
  await t.rejects(s.guard.lockWait({ ...s.terms, marginMs: 5000 }), /bad lock wait terms/, 'a margin beyond the lease')
  const bare = await GuardProcess.start()
  t.teardown(() => bare.close())
  await t.rejects(bare.lockWait(s.terms), /no lock fd/, 'a guard without the lock fd')
})

t.test('FileLockElector deferred to the guard: no tries of its own, resume tries at once, adopt leads under the given deadline', async (t) => {
  const file = path.join(tempDir('vip-lockwait-'), 'vip.lock')
  const holder = new FileLock(file)
  t.teardown(() => holder.close())
  t.ok(holder.tryLock())
  const elector = new FileLockElector({ path: file, leaseMs: 4000, pollIntervalMs: 20 })
  t.teardown(() => elector.close())
  let elected = 0
  elector.on('elected', () => elected++)
  await elector.start()
  let cancels = 0
  const terms = elector.deferToGuard(async () => void cancels++)
  t.same(terms, { leaseMs: 4000, pollIntervalMs: 20, pid: process.pid, boot }, 'the terms for the guard')
  t.equal(elector.deferToGuard(async () => {}), undefined, 'deferred once')
  holder.unlock()
  await sleep(150) // events and several polls
  t.equal(elected, 0, 'no election of its own while the guard waits, though the lock is free')
  elector.resumeFromGuard()
  t.equal(elected, 1, 'resumed: it tries at once and leads')
  t.equal(elector.deferToGuard(async () => {}), undefined, 'a leader does not defer')
  await elector.stop()
  t.equal(cancels, 0, 'nothing to cancel after the deferral ended')

  // adopt: the guard got the lock on our description and recorded the grant
  await elector.start()
  t.ok(elector.isLeader, 'free lock: elected again')
  await elector.stop()
  t.ok(holder.tryLock(), 'someone else holds it')
  await elector.start()
  const deadline = monotonicNow() + 4000
  elector.deferToGuard(async () => {})
  const recorded = encodeRecord({ state: 'held', until: deadline, boot, pid: process.pid })
  holder.unlock()
  // Stand in for the guard: it wrote the grant; adoptFromGuard's own flock
  // on our description then succeeds (for the guard's, it holds already).
  writeFileSync(file, recorded)
  const event = nextEvent<{ deadline: number }>(elector, 'elected', 1000)
  t.equal(elector.adoptFromGuard({ deadline }), true, 'adopted')
  t.equal((await event).deadline, deadline, "elected with the guard's deadline")
  t.same(readFileSync(file), recorded, 'the record is the one the guard wrote (the elector did not write over it)')
  await elector.stop()
})

t.test('FileLockElector: stop() ends the guard\'s wait before it unlocks; guardLockWait: false never defers', async (t) => {
  const file = path.join(tempDir('vip-lockwait-'), 'vip.lock')
  const holder = new FileLock(file)
  t.teardown(() => holder.close())
  t.ok(holder.tryLock())
  const elector = new FileLockElector({ path: file })
  t.teardown(() => elector.close())
  await elector.start()
  const order: string[] = []
  elector.deferToGuard(async () => {
    await sleep(20)
    order.push('cancelled')
  })
  await elector.stop()
  order.push('stopped')
  t.same(order, ['cancelled', 'stopped'], 'stop() waited for the cancel')
  const plain = new FileLockElector({ path: file, guardLockWait: false })
  t.teardown(() => plain.close())
  await plain.start()
  t.equal(plain.deferToGuard(async () => {}), undefined, 'guardLockWait: false')
  t.throws(() => new FileLockElector({ path: file, guardLockWait: 'yes' as never }), /guardLockWait: expected a boolean/)
})
