// The announcer's races and failures, without root: the state machine, its
// tenure and its link binding run against a fake host (test/support/
// fake-host.ts) whose guard can be held in the middle of a command, can fence
// on cue and can die, and whose kernel can lose the link at any point. The
// orderings these tests pin down are the ones the namespace tests
// (announcer-fencing, announcer-interface-removal, announcer.test.ts) can only
// reach with sleeps, SIGSTOP and luck; those stay as the end-to-end proof.
import t, { type Test } from 'tap'
import { VipAnnouncer, type FollowerEvent, type LeaderEvent, type RestoredEvent } from '../src/announcer'
import { FakeHost, type FakeKernel } from './support/fake-host'
import { ManualElector } from './support/manual-elector'
import { nextEvent, sleep, waitFor } from './support/wait'

const VIP = '192.0.2.100'
const LEASE_MS = 10_000

/** A ManualElector that writes its stop() into the kernel's log, to check "VIP removed, then leadership released". */
class LoggedElector extends ManualElector {
  constructor(private readonly kernel: FakeKernel) {
    super()
  }
  override async stop(): Promise<void> {
    this.kernel.log.push('elector stop')
    return super.stop()
  }
}

interface Setup {
  host: FakeHost
  elector: LoggedElector
  announcer: VipAnnouncer
  errors: Error[]
  followers: FollowerEvent[]
  leaders: LeaderEvent[]
  restored: RestoredEvent[]
}

function setup(t: Test, elector?: (kernel: FakeKernel) => LoggedElector, link = true): Setup {
  const host = new FakeHost()
  if (link) host.kernel.addLink('eth0')
  const e = elector ? elector(host.kernel) : new LoggedElector(host.kernel)
  const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector: e, announce: { repeats: 0, refreshIntervalMs: 0 } }, host)
  t.teardown(() => announcer.stop())
  const errors: Error[] = []
  const followers: FollowerEvent[] = []
  const leaders: LeaderEvent[] = []
  const restored: RestoredEvent[] = []
  announcer.on('error', (error) => errors.push(error))
  announcer.on('follower', (event) => followers.push(event))
  announcer.on('leader', (event) => leaders.push(event))
  announcer.on('restored', (event) => restored.push(event))
  return { host, elector: e, announcer, errors, followers, leaders, restored }
}

async function leading(s: Setup): Promise<LeaderEvent> {
  const leader = nextEvent<LeaderEvent>(s.announcer, 'leader')
  s.elector.elect(LEASE_MS)
  return leader
}

t.test('a renewal racing a fence: the fence is not taken for an outside removal, and the VIP comes back at once', async (t) => {
  const s = setup(t)
  await s.announcer.start()
  t.equal((await leading(s)).takenBy, 'guard')
  const guard = s.host.guard
  t.ok(s.host.kernel.hasAddress(VIP, 32), 'leader: the VIP is on the link')
  const commandsBefore = guard.commands.length
  const back = nextEvent<LeaderEvent>(s.announcer, 'leader')
  // The guard fences (the deadline passed while this thread was late), and
  // the renewal lands before its report is read: the announcer still holds,
  // so the renewal only moves the deadline. The kernel's notification of the
  // deletion comes first, then the report, in the order the real guard's
  // netlink socket and stdout deliver them.
  guard.fence('deadline')
  s.elector.renew(LEASE_MS)
  await back
  t.ok(guard.commands.slice(commandsBefore).includes('PING'), 'the deletion was seen, and the guard asked before restoring (the race happened)')
  t.same(s.followers.map((f) => f.reason), ['fenced by guard (deadline)'], 'one step down, for the fence')
  t.same(s.restored, [], 'nothing counted as restored: the deletion was our own fence')
  t.equal(s.announcer.metrics().restores, 0)
  t.equal(s.announcer.metrics().fences, 1, 'the fence is counted')
  t.equal(s.leaders.length, 2, 'taken back at once, without waiting for another renewal')
  t.equal(s.announcer.state, 'leader')
  t.ok(s.host.kernel.hasAddress(VIP, 32), 'the VIP is back on the link')
  t.ok(s.leaders[1].deadline > s.leaders[0].deadline, 'under the renewed lease')
  t.equal(guard.armedUntil, s.leaders[1].deadline - 200, "the guard is armed with the renewed deadline, less the fence margin")
  t.notOk(s.host.kernel.log.some((line) => line.startsWith(`add address ${VIP}/32 by host`)), 'the host never re-added the VIP itself (only the guard, on TAKE)')
})

t.test('the guard dying while leader: step down, a new guard, leadership released and campaigned for again', async (t) => {
  const s = setup(t)
  await s.announcer.start()
  await leading(s)
  const first = s.host.guard
  const firstCommands = first.commands.length
  const follower = nextEvent<FollowerEvent>(s.announcer, 'follower')
  first.die('SIGKILL')
  t.equal((await follower).reason, 'guard process died')
  t.notOk(s.host.kernel.hasAddress(VIP), 'the VIP removed by this thread (nothing enforces the deadline without a guard)')
  await waitFor('a new guard and the elector campaigning again', () => s.host.guards.length === 2 && s.elector.started && s.elector.stopped === 1)
  t.match(s.errors.map((e) => e.message), [/guard process exited unexpectedly \(SIGKILL\)/], 'reported')
  const log = s.host.kernel.log
  t.ok(log.lastIndexOf(`delete address ${VIP}/32 by host`) < log.indexOf('elector stop'), 'the VIP removed before leadership was released')
  const second = s.host.guard
  t.not(second, first)
  t.ok(second.actions.length > 0 && second.plan.steps.length > 0, 'the new guard was taught the removal and the takeover plan')
  const leader = await leading(s)
  t.equal(leader.takenBy, 'guard', 'and takes over next time')
  t.ok(second.commands.includes('TAKE'), 'through the new guard')
  t.equal(first.commands.length, firstCommands, 'the dead one was sent nothing more')
  t.equal(s.announcer.state, 'leader')
})

t.test('the link vanishing mid-takeover', async (t) => {
  t.test('before the guard added the footprint: nothing added, the replica steps back, and returns with the link', async (t) => {
    const s = setup(t)
    await s.announcer.start()
    const guard = s.host.guard
    const held = guard.hold('TAKE')
    s.elector.elect(LEASE_MS)
    await held.reached
    const gone = nextEvent(s.announcer, 'link', 3000, (e: { state: string }) => e.state === 'gone')
    s.host.kernel.removeLink('eth0')
    held.release()
    await gone
    t.same(s.leaders, [], 'never leader')
    t.match(s.errors.map((e) => e.message), [/ENODEV/], 'the failed takeover is reported')
    t.same(s.host.kernel.addresses, [], 'nothing on the host')
    t.equal(s.elector.stopped, 1, 'the elector stopped: leadership released for a replica that can hold the VIP')
    t.same([guard.actions, guard.plan.steps], [[], []], 'the guard forgot the removal and the plan of the old ifindex')
    t.equal(s.announcer.state, 'follower')
    const present = nextEvent(s.announcer, 'link', 3000, (e: { state: string }) => e.state === 'present')
    s.host.kernel.addLink('eth0')
    await present
    await waitFor('campaigning again', () => s.elector.started)
    t.ok(guard.plan.steps.length > 0, 'taught the new ifindex')
    t.equal((await leading(s)).takenBy, 'guard', 'and leads again')
  })

  t.test('after the guard added the footprint: leader, then follower for the removed interface, the elector stopped', async (t) => {
    const s = setup(t)
    await s.announcer.start()
    const guard = s.host.guard
    const held = guard.hold('TAKE', 'after')
    s.elector.elect(LEASE_MS)
    await held.reached
    t.ok(s.host.kernel.hasAddress(VIP, 32), 'the guard added the VIP')
    const follower = nextEvent<FollowerEvent>(s.announcer, 'follower')
    s.host.kernel.removeLink('eth0')
    held.release()
    t.equal((await follower).reason, 'interface removed')
    t.equal(s.leaders.length, 1, 'the takeover was reported (the footprint was on the host)')
    await waitFor('stepped back', () => s.elector.stopped === 1)
    t.same(s.host.kernel.addresses, [], 'nothing on the host')
    await waitFor('the guard forgets the old link', () => guard.plan.steps.length === 0 && guard.actions.length === 0)
    t.equal(guard.armedUntil, undefined, 'the guard is disarmed')
    t.same(s.restored, [], 'the addresses that went with the link are not restored')
    t.equal(s.announcer.health().condition, 'degraded', 'health says it cannot take over')
  })
})

t.test('a failed start is undone', async (t) => {
  t.test('the elector names us leader, then fails: the VIP removed, everything closed, start() again works', async (t) => {
    class ElectThenFail extends LoggedElector {
      failures = 1
      override async start(): Promise<void> {
        if (this.failures-- <= 0) return super.start()
        this.elect(LEASE_MS)
        await sleep(20) // the takeover runs meanwhile
        throw new Error('lost the backend during start')
      }
    }
    const s = setup(t, (kernel) => new ElectThenFail(kernel))
    const leader = nextEvent(s.announcer, 'leader')
    const started = s.announcer.start()
    await leader
    t.ok(s.host.kernel.hasAddress(VIP, 32), 'the VIP was added while start() ran')
    await t.rejects(started, /lost the backend/)
    t.notOk(s.host.kernel.hasAddress(VIP), 'removed when start() failed')
    t.equal(s.announcer.state, 'stopped')
    t.same(s.host.openResources(), [], 'guard, sockets, monitor and lifeline all closed')
    t.equal(s.elector.listenerCount('elected'), 0, 'no elector listener left behind')
    await s.announcer.start()
    t.equal(s.announcer.state, 'follower', 'a second start() campaigns')
    t.equal((await leading(s)).takenBy, 'guard')
  })

  t.test('the packet socket cannot be opened: nothing left open, nothing campaigned', async (t) => {
    const s = setup(t)
    s.host.failPacketSocket = 'EPERM'
    await t.rejects(s.announcer.start(), { code: 'EPERM' })
    t.equal(s.announcer.state, 'stopped')
    t.same(s.host.openResources(), [], 'the guard, lifeline, netlink and monitor opened before it are closed')
    t.equal(s.host.guards.length, 1, 'a guard had been started')
    t.notOk(s.elector.started, 'the elector was never started')
    s.host.failPacketSocket = undefined
    await s.announcer.start()
    t.equal(s.announcer.state, 'follower', 'start() again works')
  })
})

t.test('a stop during every transition leaves nothing behind', async (t) => {
  /** Each: brings the announcer into the transition, resolves when it is in the middle of it, with the gate to let it go on. */
  const transitions: Record<string, (s: Setup) => Promise<{ release(): void }>> = {
    'starting (the guard starting)': async (s) => {
      const held = s.host.holdGuardStart()
      void s.announcer.start()
      await held.reached
      return held
    },
    "the guard's takeover, before it added anything": async (s) => {
      await s.announcer.start()
      const held = s.host.guard.hold('TAKE')
      s.elector.elect(LEASE_MS)
      await held.reached
      return held
    },
    "the guard's takeover, footprint added, answer not read yet": async (s) => {
      await s.announcer.start()
      const held = s.host.guard.hold('TAKE', 'after')
      s.elector.elect(LEASE_MS)
      await held.reached
      return held
    },
    "this thread's takeover, the guard's ARM not confirmed yet": async (s) => {
      s.host.guardsKnowTake = false
      await s.announcer.start()
      const held = s.host.guard.hold('ARM', 'after')
      s.elector.elect(LEASE_MS)
      await held.reached
      return held
    },
    'a release (deposed), the guard not disarmed yet': async (s) => {
      await s.announcer.start()
      await leading(s)
      const held = s.host.guard.hold('DISARM')
      s.elector.depose('test')
      await held.reached
      return held
    },
    'a fence being handled': async (s) => {
      await s.announcer.start()
      await leading(s)
      const held = s.host.guard.hold('DISARM')
      s.host.guard.fence('deadline')
      await held.reached
      return held
    },
    'a guard restart after the guard died': async (s) => {
      await s.announcer.start()
      await leading(s)
      const held = s.host.holdGuardStart()
      s.host.guard.die()
      await held.reached
      return held
    },
    'the interface appearing (the guard being taught)': async (s) => {
      s.host.kernel.links.clear()
      await s.announcer.start()
      const held = s.host.guard.hold('CLEAR')
      s.host.kernel.addLink('eth0')
      await held.reached
      return held
    },
  }
  for (const [name, into] of Object.entries(transitions)) {
    t.test(name, async (t) => {
      const s = setup(t)
      const held = await into(s)
      const stopping = s.announcer.stop()
      held.release()
      await stopping
      t.equal(s.announcer.state, 'stopped')
      t.same(s.host.kernel.addresses, [], 'no VIP on the host')
      t.same(s.host.openResources(), [], 'every guard, socket, monitor and lifeline closed')
      t.notOk(s.elector.started, 'the elector stopped')
      const log = s.host.kernel.log
      const removed = log.lastIndexOf(`delete address ${VIP}/32 by host`)
      if (removed >= 0) t.ok(removed < log.lastIndexOf('elector stop'), 'the VIP removed before leadership was released')
      await sleep(20)
      t.same(s.host.kernel.addresses, [], 'and nothing added after stop() resolved')
    })
  }
})

t.test("a follower's warm-up runs the takeover's steps on the real objects and changes nothing", async (t) => {
  const s = setup(t)
  await s.announcer.start()
  await sleep(20)
  const guard = s.host.guard
  t.same(s.host.kernel.log, [], 'no change to the kernel')
  t.same(guard.commands.filter((c) => c === 'ARM' || c === 'TAKE' || c === 'DISARM'), [], 'the guard neither armed nor asked to take over')
  t.equal(guard.armedUntil, undefined)
  t.same(s.host.packetSockets.flatMap((p) => p.sent), [], 'no frame sent')
  t.equal(s.announcer.state, 'follower')
  t.same([s.leaders, s.followers, s.errors], [[], [], []], 'no event')
  // And the first takeover after it is a normal one.
  t.equal((await leading(s)).takenBy, 'guard')
  t.equal(s.host.kernel.addresses.length, 1)
})
