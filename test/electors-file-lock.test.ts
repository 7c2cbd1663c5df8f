// FileLockElector with real processes and the real lock: one leader, fast
// takeover, event order, deadlines, and the fencing cases (a guard sharing the
// lock's open file description releases it; the lease lapses; the file goes).
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { FileLockElector } from '../src/electors/file-lock'
import { decodeRecord } from '../src/electors/lock-record'
import { monotonicNow } from '../src/clock'
import type { LeaderElector } from '../src/elector'

function tempLockPath(t: tap.Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-elector-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, 'leader.lock')
}

type Event = { type: 'elected' | 'renewed'; deadline: number; at: number } | { type: 'deposed'; reason: string; at: number } | { type: 'error'; error: Error; at: number }

/** Records every event; checks the contract on each one as it happens. */
function record(t: tap.Test, elector: LeaderElector, name: string): Event[] {
  const events: Event[] = []
  let leader = false
  let lastDeadline = -Infinity
  elector.on('elected', (lease) => {
    if (leader) t.fail(`${name}: elected while leader`)
    leader = true
    events.push({ type: 'elected', deadline: lease.deadline, at: monotonicNow() })
  })
  elector.on('renewed', (lease) => {
    if (!leader) t.fail(`${name}: renewed while not leader`)
    if (lease.deadline < lastDeadline) t.fail(`${name}: deadline moved back`)
    lastDeadline = lease.deadline
    events.push({ type: 'renewed', deadline: lease.deadline, at: monotonicNow() })
  })
  elector.on('deposed', (reason) => {
    if (!leader) t.fail(`${name}: deposed without elected`)
    leader = false
    events.push({ type: 'deposed', reason, at: monotonicNow() })
  })
  elector.on('error', (error) => events.push({ type: 'error', error, at: monotonicNow() }))
  return events
}

function next(elector: LeaderElector, event: 'elected' | 'deposed', timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs)
    elector.once(event, () => {
      clearTimeout(timer)
      resolve(monotonicNow())
    })
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]

t.test('two electors on one file: exactly one leader; stopping it hands over at once', async (t) => {
  const lockPath = tempLockPath(t)
  const handovers: number[] = []
  for (let round = 0; round < 10; round++) {
    const first = new FileLockElector({ path: lockPath })
    const second = new FileLockElector({ path: lockPath })
    t.teardown(() => Promise.all([first.close(), second.close()]))
    const firstEvents = record(t, first, 'first')
    const secondEvents = record(t, second, 'second')
    await first.start()
    await second.start()
    t.equal(first.isLeader, true, `round ${round}: the first to start leads`)
    t.equal(second.isLeader, false)
    await sleep(30)
    t.equal([first, second].filter((e) => e.isLeader).length, 1, 'exactly one leader')

    const elected = next(second, 'elected')
    const stopped = monotonicNow()
    await first.stop()
    handovers.push((await elected) - stopped)
    t.same(firstEvents.map((e) => e.type), ['elected', 'deposed'])
    t.match(firstEvents[1], { reason: 'stopped' })
    t.same(secondEvents.map((e) => e.type), ['elected'])
    t.equal(second.isLeader, true)
    await second.close()
    await first.close()
  }
  t.comment(`stop() of the leader -> the other elected, 10 rounds, same process: median ${median(handovers).toFixed(3)} ms, max ${Math.max(...handovers).toFixed(3)} ms`)
  t.ok(median(handovers) < 20, 'within a few milliseconds')
})

t.test('renewals move the deadline forward; stop deposes last', async (t) => {
  const elector = new FileLockElector({ path: tempLockPath(t), leaseMs: 200, renewIntervalMs: 40 })
  t.teardown(() => elector.close())
  const events = record(t, elector, 'elector')
  const before = monotonicNow()
  await elector.start()
  await sleep(300)
  await elector.stop()
  const types = events.map((e) => e.type)
  t.equal(types[0], 'elected')
  t.equal(types.at(-1), 'deposed')
  t.ok(types.slice(1, -1).every((type) => type === 'renewed'), `only renewals in between: ${types}`)
  t.ok(types.length >= 5, `several renewals in 300 ms (${types.length - 2})`)
  const leases = events.filter((e): e is Extract<Event, { deadline: number }> => 'deadline' in e)
  t.ok(leases[0].deadline >= before + 200 && leases[0].deadline <= leases[0].at + 200, 'elected: deadline = now + leaseMs')
  for (let i = 1; i < leases.length; i++) {
    t.ok(leases[i].deadline > leases[i - 1].deadline, `deadline ${i} moved forward`)
    t.ok(leases[i].deadline <= leases[i].at + 200 && leases[i].deadline > leases[i].at + 150, `deadline ${i} is about now + leaseMs`)
  }
})

t.test('SIGKILL of a leader in another process (no guard, no release): takeover once its recorded deadline passed', async (t) => {
  const lockPath = tempLockPath(t)
  const delays: number[] = []
  for (let round = 0; round < 5; round++) {
    const child = await leaderProcess(t, lockPath)
    const elector = new FileLockElector({ path: lockPath })
    const events = record(t, elector, 'follower')
    await elector.start()
    await sleep(50)
    t.equal(elector.isLeader, false, 'the child leads')
    const elected = next(elector, 'elected')
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    // Whatever the child recorded last is the instant its VIP could last until.
    const recorded = decodeRecord(readFileSync(lockPath))
    t.equal(recorded?.state, 'held', 'the dead leader left a held record')
    const until = recorded?.state === 'held' ? recorded.until : NaN
    const at = await elected
    t.ok(at >= until, `elected ${(at - until).toFixed(1)} ms after the recorded deadline, never before`)
    delays.push(at - until)
    t.same(events.map((e) => e.type), ['elected'])
    await elector.close()
  }
  t.comment(`SIGKILL of the leading process -> elected here after its recorded deadline, 5 rounds: median ${median(delays).toFixed(2)} ms, max ${Math.max(...delays).toFixed(2)} ms late`)
  t.ok(median(delays) < 100)
})

/** A child process running a FileLockElector (through tsx), elected before this resolves. */
async function leaderProcess(t: tap.Test, lockPath: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { FileLockElector } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'electors', 'file-lock.ts'))})
       const elector = new FileLockElector({ path: ${JSON.stringify(lockPath)}, leaseMs: 400, renewIntervalMs: 100 })
       elector.on('elected', () => console.log('elected'))
       elector.start()`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  t.teardown(() => child.kill('SIGKILL'))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('elected') && resolve())
    child.once('exit', (code) => reject(new Error(`leader child exited (${code})`)))
  })
  return child
}

t.test('a guard sharing the fencing fd releases the lock: lock lost, then back', async (t) => {
  const lockPath = tempLockPath(t)
  const elector = new FileLockElector({ path: lockPath, leaseMs: 400, renewIntervalMs: 50 })
  t.teardown(() => elector.close())
  const events = record(t, elector, 'leader')
  const fd = elector.fencingFd
  t.ok(fd >= 0, 'the fd exists before start()')
  await elector.start()
  t.equal(elector.isLeader, true)
  t.equal(elector.fencingFd, fd, 'the same fd after start()')

  // The guard: a separate process with our fd as its fd 3, which unlocks and
  // pokes (as on fencing) when told to.
  const guard = spawn('sh', ['-c', 'read line; flock -u 3; : < /dev/fd/3; read line'], {
    stdio: ['pipe', 'ignore', 'inherit', fd],
  })
  t.teardown(() => guard.kill('SIGKILL'))
  // Another candidate blocked in flock(2) (flock(1) -x): the kernel wakes it
  // the moment the guard unlocks, long before our next renewal could re-take it.
  const contender = spawn('flock', ['-x', lockPath, '-c', 'echo taken; read line'], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => contender.kill('SIGKILL'))
  await sleep(50)
  t.equal(elector.isLeader, true, 'the contender waits')
  const taken = new Promise((resolve) => contender.stdout!.once('data', resolve))
  const deposed = next(elector, 'deposed', 2000)
  guard.stdin!.write('release\n')
  await taken
  await deposed
  t.match(events.at(-1), { type: 'deposed', reason: 'lock lost' }, 'the next renewal notices')
  t.equal(elector.isLeader, false)

  const reElected = next(elector, 'elected')
  contender.stdin!.end('done\n') // the contender exits: its fd closes, the watch fires
  await reElected
  t.same(events.filter((e) => e.type !== 'renewed').map((e) => e.type), ['elected', 'deposed', 'elected'])
  guard.stdin!.end()
})

t.test('a renewal after the deadline deposes (lease expired), then re-elects', async (t) => {
  const elector = new FileLockElector({ path: tempLockPath(t), leaseMs: 100, renewIntervalMs: 25 })
  t.teardown(() => elector.close())
  const events = record(t, elector, 'leader')
  await elector.start()
  const blockedUntil = monotonicNow() + 150
  while (monotonicNow() < blockedUntil) {
    // a blocked event loop: the renewal timer cannot run
  }
  await sleep(60)
  const summary = events.filter((e) => e.type !== 'renewed').map((e) => (e.type === 'deposed' ? `deposed:${e.reason}` : e.type))
  t.same(summary.slice(0, 3), ['elected', 'deposed:lease expired', 'elected'])
  const [first, , second] = events.filter((e) => e.type !== 'renewed') as Array<Extract<Event, { deadline: number }>>
  t.ok(second.deadline > first.deadline)
})

t.test('the lock file is deleted: leader and follower give up, nobody leads', async (t) => {
  const lockPath = tempLockPath(t)
  const elector = new FileLockElector({ path: lockPath })
  const follower = new FileLockElector({ path: lockPath })
  t.teardown(() => Promise.all([elector.close(), follower.close()]))
  const events = record(t, elector, 'leader')
  const followerEvents = record(t, follower, 'follower')
  await elector.start()
  await follower.start()
  const errored = new Promise<Error>((resolve) => elector.once('error', resolve))
  const followerErrored = new Promise<Error>((resolve) => follower.once('error', resolve))
  unlinkSync(lockPath)
  const error = await errored
  t.match(error, { code: 'ERR_LOCK_FILE_REPLACED' })
  t.same(events.map((e) => (e.type === 'deposed' ? `deposed:${e.reason}` : e.type)), ['elected', 'deposed:lock file replaced', 'error'])
  t.equal(elector.isLeader, false)
  // The leader let go of the orphaned file; the follower, which has the same
  // orphan open, gets the lock, sees it is not the file at the path, gives up.
  t.match(await followerErrored, { code: 'ERR_LOCK_FILE_REPLACED' })
  t.same(followerEvents.map((e) => e.type), ['error'], 'the follower was never elected')
  await t.rejects(elector.start(), { code: 'ERR_LOCK_FILE_REPLACED' })
})

t.test('a stopped leader that starts again campaigns on the same fd and leads again', async (t) => {
  const lockPath = tempLockPath(t)
  const a = new FileLockElector({ path: lockPath })
  const b = new FileLockElector({ path: lockPath })
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const aEvents = record(t, a, 'a')
  const fd = a.fencingFd
  await a.start()
  await b.start()
  const bElected = next(b, 'elected')
  await a.stop()
  await bElected
  await a.start()
  await sleep(30)
  t.equal(a.isLeader, false, 'follows while b leads')
  const aElected = next(a, 'elected')
  const stoppedAt = monotonicNow()
  await b.stop()
  const takeover = (await aElected) - stoppedAt
  t.ok(takeover < 100, `took over ${takeover.toFixed(1)} ms after b stopped (through its watch)`)
  await a.stop()
  await a.start()
  t.equal(a.isLeader, true, 'alone: elected again at once')
  t.same(
    aEvents.filter((e) => e.type !== 'renewed').map((e) => e.type),
    ['elected', 'deposed', 'elected', 'deposed', 'elected'],
  )
  t.equal(a.fencingFd, fd, 'the same fd throughout (a guard may hold a copy of it)')
})

t.test("a 'deposed' listener may call start() during stop(): it leads again, and the lock stays its", async (t) => {
  const lockPath = tempLockPath(t)
  const a = new FileLockElector({ path: lockPath })
  const b = new FileLockElector({ path: lockPath })
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const aEvents = record(t, a, 'a')
  const bEvents = record(t, b, 'b')
  await a.start()
  await b.start()
  a.once('deposed', () => void a.start())
  await a.stop()
  t.equal(a.isLeader, true, 'campaigning again, and still holding the lock it never let go of')
  await sleep(50)
  t.same(aEvents.filter((e) => e.type !== 'renewed').map((e) => e.type), ['elected', 'deposed', 'elected'])
  t.same(bEvents, [], 'b never led alongside')
})

t.test('without an error listener a failure is a process warning, not a crash', async (t) => {
  const lockPath = tempLockPath(t)
  const elector = new FileLockElector({ path: lockPath })
  t.teardown(() => elector.close())
  const warnings: Error[] = []
  const onWarning = (warning: Error) => warnings.push(warning)
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const deposed = new Promise<string>((resolve) => elector.once('deposed', resolve))
  await elector.start()
  unlinkSync(lockPath)
  t.equal(await deposed, 'lock file replaced')
  await sleep(20)
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0]?.message, /^FileLockElector .*leader\.lock: lock file .* was deleted or replaced/)
})

t.test('a follower stopping emits nothing; close ends the elector', async (t) => {
  const lockPath = tempLockPath(t)
  const leader = new FileLockElector({ path: lockPath })
  const follower = new FileLockElector({ path: lockPath })
  t.teardown(() => Promise.all([leader.close(), follower.close()]))
  const events = record(t, follower, 'follower')
  await leader.start()
  await follower.start()
  await follower.stop()
  await leader.stop()
  await sleep(30)
  t.same(events, [], 'not elected after stop(), never deposed without elected')
  await follower.close()
  t.throws(() => follower.fencingFd, { code: 'ERR_ELECTOR_CLOSED' })
  await t.rejects(follower.start(), { code: 'ERR_ELECTOR_CLOSED' })
})

t.test('options are validated', async (t) => {
  t.throws(() => new FileLockElector({ path: '' }), { name: 'TypeError', message: /^path:/ })
  t.throws(() => new FileLockElector({ path: '/tmp/x', leaseMs: 0 }), { name: 'RangeError', message: /^leaseMs:/ })
  t.throws(() => new FileLockElector({ path: '/tmp/x', leaseMs: 100, renewIntervalMs: 100 }), {
    name: 'RangeError',
    message: /^renewIntervalMs:/,
  })
  t.throws(() => new FileLockElector({ path: '/tmp/x', pollIntervalMs: NaN }), { name: 'RangeError', message: /^pollIntervalMs:/ })
  const defaults = new FileLockElector({ path: '/tmp/x' })
  t.match(defaults, { leaseMs: 4000, renewIntervalMs: 1000, pollIntervalMs: 500 })
})
