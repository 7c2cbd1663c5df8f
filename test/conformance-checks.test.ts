// The conformance kit's checks, as pure functions of hand-written traces: for
// each rule a trace that keeps it and traces that break it, with the message
// the check must give. No elector runs here (test/conformance-kit.test.ts
// runs broken electors through the whole kit).
import t, { type Test } from 'tap'
import { CHECKS, runCheck, type CheckDefinition } from '../src/testing/kit/checks'
import { deadlines } from '../src/testing/kit/checks/deadlines'
import { eventOrder } from '../src/testing/kit/checks/event-order'
import { firstLeader } from '../src/testing/kit/checks/first-leader'
import { heal } from '../src/testing/kit/checks/heal'
import { noOverlap } from '../src/testing/kit/checks/no-overlap'
import { partition } from '../src/testing/kit/checks/partition'
import { restart } from '../src/testing/kit/checks/restart'
import { singleLeader } from '../src/testing/kit/checks/single-leader'
import { start } from '../src/testing/kit/checks/start'
import { stopAll } from '../src/testing/kit/checks/stop-all'
import { stopTakeover } from '../src/testing/kit/checks/stop-takeover'
import { judge } from '../src/testing/kit/report'
import { SCENARIO } from '../src/testing/kit/scenario'
import type { Trace } from '../src/testing/kit/trace'
import { goodRun, trace, type TraceBuilder } from './support/conformance-trace'

function passes(t: Test, check: CheckDefinition, run: Trace, message?: RegExp, why?: string) {
  const verdict = runCheck(check, run)
  t.equal(verdict.status, 'pass', `${check.id} passes: ${verdict.message}${why ? ` (${why})` : ''}`)
  if (message) t.match(verdict.message, message)
  return verdict
}

function fails(t: Test, check: CheckDefinition, run: Trace, message: RegExp | string, why?: string) {
  const verdict = runCheck(check, run)
  t.equal(verdict.status, 'fail', `${check.id} fails${why ? ` (${why})` : ''}`)
  if (typeof message === 'string') t.equal(verdict.message, message)
  else t.match(verdict.message, message)
  return verdict
}

/** Three candidates started; candidate 0 elected at +10 ms with deadline +600 ms. */
function led(b: TraceBuilder = trace()): TraceBuilder {
  b.at(0).begin('start').create(0, 1, 2).at(1).start(0).start(1).start(2).start(0, 2).start(1, 2).start(2, 2).end('start')
  return b.begin('first-leader').at(10).elected(0, 600).wait('elected').at(510).end('first-leader')
}

t.test('a hand-written run that keeps every rule passes every check', async (t) => {
  const report = judge(goodRun().build())
  t.same(
    report.checks.map((c) => `${c.id}: ${c.status}`),
    CHECKS.map((c) => `${c.id}: pass`),
  )
  t.same(report.measurements, {
    maxConcurrentLeaders: 1,
    samples: 8,
    errorEvents: 0,
    timeToFirstLeaderMs: 9,
    partitionToDeposedMs: 220,
    deposedBeforeDeadlineMs: 60,
    takeoverAfterPartitionMs: 290,
    oneLeaderAfterHealMs: 5,
    takeoverAfterStopMs: 20,
    reElectedAfterRestartMs: 20,
  })
})

t.test('every check is declared once, judges a phase of the scenario, and is listed in report order', async (t) => {
  const ids = CHECKS.map((c) => c.id)
  t.equal(new Set(ids).size, ids.length, 'no id twice')
  const phases = new Set<string>(SCENARIO.map((p) => p.name))
  for (const check of CHECKS) t.ok(check.phase === 'run' || phases.has(check.phase), `${check.id}: phase ${check.phase}`)
  t.same(ids, ['start', 'first-leader', 'single-leader', 'no-overlap', 'event-order', 'deadlines', 'partition', 'heal', 'stop-takeover', 'restart', 'stop-all'])
})

t.test('a skipped phase skips its check with the reason; a phase begun but never ended is not reached', async (t) => {
  const skipped = runCheck(stopTakeover, led(trace({ candidates: 1 })).skip('stop-takeover', 'needs at least two candidates').build())
  t.same(skipped, { status: 'skip', message: 'needs at least two candidates' })
  const unfinished = runCheck(stopTakeover, led().begin('stop-takeover').wait('one-leader', true, 0).build())
  t.same(unfinished, { status: 'skip', message: 'not reached' })
  t.same(runCheck(restart, led().build()), { status: 'skip', message: 'not reached' }, 'absent')
  t.same(runCheck(singleLeader, trace().begin('start').createFails(0, 'no').end('start').build()), { status: 'skip', message: 'not reached' })
})

t.test('start: every candidate is made and start() resolves on each, twice', async (t) => {
  passes(t, start, led().build(), /^all 3 resolved in 0 ms$/)
  const rejects = trace().begin('start').create(0, 1).call(0, 'start').call(1, 'start')
  rejects.returned(1, 'start', 1, 'rejected', 'backend config missing').returned(0, 'start', 1, 'rejected', 'EIO').end('start')
  fails(t, start, rejects.build(), 'start() of candidate 0 rejected: EIO; start() of candidate 1 rejected: backend config missing')
  const second = trace().begin('start').create(0).start(0).call(0, 'start', 2).at(3000).returned(0, 'start', 2, 'timeout').end('start')
  fails(t, start, second.build(), 'second start() of candidate 0 did not resolve within 3000 ms')
  fails(t, start, trace().begin('start').create(0).createFails(1, 'no such host').end('start').build(), 'create(1) threw: no such host')
})

t.test('first-leader: someone is elected within timeoutMs', async (t) => {
  const v = passes(t, firstLeader, led().build(), /^candidate 0 elected 9 ms after start\(\)$/)
  t.same(v.measurements, { timeToFirstLeaderMs: 9 })
  const nobody = trace().begin('start').create(0).start(0).start(0, 2).end('start').begin('first-leader').at(3001).wait('elected', false).end('first-leader')
  fails(t, firstLeader, nobody.build(), 'no candidate elected within 3000 ms')
})

t.test('single-leader: no sample finds two candidates reporting isLeader', async (t) => {
  passes(t, singleLeader, led().at(20).sample(0).at(25).sample(0).build(), /^at most 1 leader over 2 samples$/)
  const two = led().at(20).sample(0).at(25).sample(0, 2).at(30).sample(0, 1, 2).at(35).sample(0, 2)
  fails(t, singleLeader, two.build(), 'two leaders at once: candidates 0 and 2 all reported isLeader at +25 ms (max 3 at one sample)')
})

t.test('no-overlap: leadership intervals of two candidates never overlap', async (t) => {
  passes(t, noOverlap, led().at(100).deposed(0, 'lost').at(600).elected(1, 1200).build(), /^2 leadership interval\(s\), none overlapping$/)
  fails(t, noOverlap, led().at(100).elected(1, 700).at(200).deposed(1, 'lost').build(), 'candidates 0 and 1 were both leader from +100 ms to +200 ms')
  const open = led().at(100).elected(2, 700).build(400)
  fails(t, noOverlap, open, 'candidates 0 and 2 were both leader from +100 ms to +400 ms', 'an open interval lasts to the end of the run')
})

t.test('no-overlap: nobody is elected before the deadline of a leader that lost leadership without releasing it', async (t) => {
  fails(
    t,
    noOverlap,
    led().at(100).deposed(0, 'lost').at(450).elected(1, 1000).build(),
    "candidate 1 elected 150 ms before candidate 0's deadline, which had lost leadership without releasing it",
  )
  const released = led().at(100).call(0, 'stop').deposed(0).returned(0, 'stop').at(110).elected(1, 1000).build()
  passes(t, noOverlap, released, undefined)
})

t.test('event-order: deposed only after elected, elected not twice, renewed only while leader', async (t) => {
  passes(t, eventOrder, led().at(200).renewed(0, 800).at(300).deposed(0, 'lost').build(), /^1 elected, 1 renewed, 1 deposed, all in order$/)
  fails(t, eventOrder, led().at(100).deposed(1).build(), 'candidate 1 emitted deposed without a prior elected (reason: "stopped", at +100 ms)')
  fails(t, eventOrder, led().at(100).elected(0, 700).build(), 'candidate 0 emitted elected twice without deposed in between (at +100 ms)')
  fails(t, eventOrder, led().at(100).renewed(2, 700).build(), 'candidate 2 emitted renewed while not leader (at +100 ms)')
  const many = led().at(100).deposed(1).deposed(1).deposed(2).deposed(2)
  fails(t, eventOrder, many.build(), /^(candidate \d emitted deposed without a prior elected [^;]*; ){2}[^;]* \(and 1 more\)$/)
})

t.test('event-order: isLeader agrees with the events, past a 100 ms grace and except while stopping', async (t) => {
  const lagging = led().at(15).sample().at(115).sample().at(116).sample(0)
  passes(t, eventOrder, lagging.build(), undefined)
  const wrong = led().at(15).sample(0, 1).at(116).sample(0, 1).at(200).sample(0, 1)
  fails(t, eventOrder, wrong.build(), 'candidate 1: isLeader was true for 101 ms while its events said follower')
  const stopping = led().at(15).call(0, 'stop').sample().at(300).sample()
  passes(t, eventOrder, stopping.build(), undefined)
})

t.test('deadlines: each lies ahead when announced and never moves backward', async (t) => {
  passes(t, deadlines, led().at(200).renewed(0, 800).at(300).sample(0).build())
  fails(t, deadlines, led().at(200).renewed(0, 550).build(), "candidate 0's deadline moved backward by 50 ms (at +200 ms)")
  fails(t, deadlines, led().at(200).deposed(0).at(300).elected(1, 250).build(), 'candidate 1 emitted elected with a deadline 50 ms in the past')
  fails(t, deadlines, led().at(200).deposed(0).at(300).elected(1).build(), 'candidate 1 emitted elected without a numeric deadline ({})')
})

t.test('deadlines: leadership ends before its deadline, by event and by isLeader', async (t) => {
  fails(t, deadlines, led().at(650).deposed(0, 'lost').build(), 'candidate 0 said deposed 50 ms after its deadline (reason: "lost")')
  const release = led().at(650).call(0, 'stop').deposed(0).returned(0, 'stop').build()
  passes(t, deadlines, release, undefined, 'a release by stop() is not a lost lease (no-overlap and stop-all judge it)')
  const outlived = led().at(590).sample(0).at(620).sample(0).at(700).sample(0).at(705).deposed(0, 'lost').sample()
  const v = fails(t, deadlines, outlived.build(), /candidate 0 still reported isLeader 100 ms past its deadline \(at \+700 ms\)$/)
  t.match(v.message, /^candidate 0 said deposed 105 ms after its deadline/, 'the late deposed comes first')
})

/** led(), then the partition phase up to the cut of candidate 0 at +520 ms. */
function cut(b = led()): TraceBuilder {
  return b.begin('partition').wait('one-leader', true, 0).at(520).hook('partition', 0)
}

t.test('partition: the partitioned leader steps down before its deadline, and another takes over after it', async (t) => {
  const good = cut().at(560).deposed(0, 'lost').at(610).elected(1, 1200).wait('deposed-and-replaced').end('partition')
  const v = passes(t, partition, good.build(), /^deposed 40 ms after the partition, 40 ms before its deadline; candidate 1 elected 90 ms after the partition$/)
  t.same(v.measurements, { partitionToDeposedMs: 40, deposedBeforeDeadlineMs: 40, takeoverAfterPartitionMs: 90 })
  const stubborn = cut().at(3520).wait('deposed-and-replaced', false).end('partition')
  fails(
    t,
    partition,
    stubborn.build(),
    'candidate 0 never gave up: still leader 3000 ms after the partition, 2920 ms past its deadline; ' +
      'no other candidate elected within 3000 ms of the partition',
  )
  const late = cut().at(620).deposed(0, 'lost').at(630).elected(1, 1200).wait('deposed-and-replaced').end('partition')
  fails(t, partition, late.build(), 'candidate 0 said deposed 20 ms after its deadline')
  const early = cut().at(560).deposed(0, 'lost').at(570).elected(1, 1200).wait('deposed-and-replaced').end('partition')
  fails(t, partition, early.build(), "candidate 1 elected 30 ms before the partitioned leader's deadline")
})

t.test('partition: a hook that throws and a leader that cannot be found are failures, alone no takeover is needed', async (t) => {
  const threw = led().begin('partition').wait('one-leader', true, 0).at(520).hook('partition', 0, 'no iptables').end('partition')
  fails(t, partition, threw.build(), 'partition(0) threw: no iptables')
  fails(t, partition, led().begin('partition').at(3510).wait('one-leader', false).end('partition').build(), 'no single leader to partition within 3000 ms')
  const alone = trace({ candidates: 1 }).at(0).begin('start').create(0).start(0).start(0, 2).end('start')
  alone.begin('first-leader').at(10).elected(0, 600).wait('elected').end('first-leader')
  cut(alone).at(560).deposed(0, 'lost').wait('deposed-and-replaced').end('partition')
  passes(t, partition, alone.build(), /^deposed 40 ms after the partition, 40 ms before its deadline$/)
})

/** The partition of 0 and 1's takeover, then the heal phase begins. */
function healing(): TraceBuilder {
  return cut().at(560).deposed(0, 'lost').at(610).elected(1, 5000).wait('deposed-and-replaced').end('partition').begin('heal')
}

t.test('heal: once the partition heals, exactly one leader, still one settleMs later', async (t) => {
  const good = healing().at(700).hook('heal', 0).at(710).wait('one-leader', true, 1).at(1210).probe(0).probe(1, true).probe(2).end('heal')
  const v = passes(t, heal, good.build(), /^one leader 10 ms after healing, still one 500 ms later$/)
  t.same(v.measurements, { oneLeaderAfterHealMs: 10 })
  const two = healing().at(700).hook('heal', 0).at(710).wait('one-leader', true, 1).at(1210).probe(0, true).probe(1, true).probe(2).end('heal')
  fails(t, heal, two.build(), '2 leaders 500 ms after one was seen following the heal')
  fails(t, heal, healing().at(700).hook('heal', 0, 'EPERM').end('heal').build(), 'heal() threw: EPERM')
  fails(t, heal, healing().at(700).hook('heal', 0).at(3700).wait('one-leader', false).end('heal').build(), 'no single leader within 3000 ms of healing')
})

/** 0 leads; the stop-takeover phase stops it at +600 ms. */
function stopping(): TraceBuilder {
  return led().begin('stop-takeover').wait('one-leader', true, 0).at(600).call(0, 'stop')
}

t.test('stop-takeover: stop() of the leader says deposed, then another takes over', async (t) => {
  const good = stopping().deposed(0).at(605).returned(0, 'stop').probe(0).at(620).elected(1, 1200).wait('elected-other').end('stop-takeover')
  const v = passes(t, stopTakeover, good.build(), /^stop\(\) took 5 ms; candidate 1 elected 20 ms after stop\(\) began$/)
  t.same(v.measurements, { takeoverAfterStopMs: 20 })
  const silent = stopping().at(605).returned(0, 'stop').probe(0, true).at(3605).wait('elected-other', false).end('stop-takeover')
  fails(
    t,
    stopTakeover,
    silent.build(),
    'stop() of leader 0 resolved without a deposed event; isLeader still true after stop() of candidate 0; no other candidate elected within 3000 ms of stopping the leader',
  )
  const rejected = stopping().deposed(0).returned(0, 'stop', 1, 'rejected', 'lease gone').probe(0).at(620).elected(1, 1200).wait('elected-other').end('stop-takeover')
  fails(t, stopTakeover, rejected.build(), 'stop() of candidate 0 rejected: lease gone')
  fails(t, stopTakeover, led().begin('stop-takeover').at(3600).wait('one-leader', false).end('stop-takeover').build(), 'no single leader to stop within 3000 ms')
})

/** 0 was stopped by stop-takeover (1 took over); the restart phase starts 0 again at +1000 ms. */
function restarting(b = led()): TraceBuilder {
  b.begin('stop-takeover').wait('one-leader', true, 0).at(600).call(0, 'stop').deposed(0).returned(0, 'stop').probe(0)
  b.at(620).elected(1, 5000).wait('elected-other').end('stop-takeover')
  return b.begin('restart').at(1000).probe(0).start(0).start(0, 2)
}

t.test('restart: a stopped leader started again is elected once the leaders in its place are stopped', async (t) => {
  const good = restarting().wait('one-leader', true, 1).at(1010).call(1, 'stop').deposed(1).returned(1, 'stop').at(1020).elected(0, 2000).end('restart')
  const v = passes(t, restart, good.build(), /^candidate 0 elected again 20 ms after start\(\) following its stop\(\) \(after stopping leader 1\)$/)
  t.same(v.measurements, { reElectedAfterRestartMs: 20 })
  const never = restarting().wait('one-leader', true, 1).at(1010).stop(1).wait('one-leader', true, 2).at(1020).stop(2).at(4020).wait('re-elected', false).end('restart')
  fails(t, restart, never.build(), 'candidate 0, started again after stop(), was not elected within 3000 ms of being the only candidate left (stopped 1, 2 meanwhile)')
  const noLeader = restarting().at(4000).wait('one-leader', false).end('restart')
  fails(t, restart, noLeader.build(), 'no single leader within 3000 ms after candidate 0 was started again')
})

t.test('restart: the stopped candidate does not lead before start(), and start() resolves again', async (t) => {
  const b = led()
  b.begin('stop-takeover').wait('one-leader', true, 0).at(600).call(0, 'stop').returned(0, 'stop').probe(0, true).end('stop-takeover')
  fails(t, restart, b.begin('restart').at(1000).probe(0, true).end('restart').build(), 'candidate 0 reports isLeader after stop() resolved, before start()')
  const hangs = restarting(led()).entries.slice(0, -2) // without the resolved second start()
  const t2 = trace()
  for (const e of hangs) t2.push(e)
  t2.call(0, 'start', 2).at(4000).returned(0, 'start', 2, 'timeout').end('restart')
  fails(t, restart, t2.build(), 'second start() after stop() of candidate 0 did not resolve within 3000 ms')
  const alone = trace({ candidates: 1 }).at(0).begin('start').create(0).start(0).start(0, 2).end('start')
  alone.begin('first-leader').at(10).elected(0, 600).wait('elected').end('first-leader')
  alone.begin('restart').at(3100).wait('one-leader', false).end('restart')
  fails(t, restart, alone.build(), 'no leader to stop within 3000 ms')
})

/** 0 leads until the stop-all phase, which stops everyone twice. */
function stoppingAll(): TraceBuilder {
  const b = led().at(1000).begin('stop-all').call(0, 'stop').call(1, 'stop').call(2, 'stop').deposed(0)
  return b.at(1002).returned(1, 'stop').returned(2, 'stop').returned(0, 'stop').stop(1, 2).stop(2, 2).stop(0, 2)
}

t.test('stop-all: stop() resolves twice on everyone, nobody leads, nothing is emitted after stop() resolved', async (t) => {
  passes(t, stopAll, stoppingAll().probe(1).probe(2).probe(0).at(1200).end('stop-all').build(), /^all stopped in 2 ms; second stop\(\) calls resolved; nothing emitted afterwards$/)
  const late = stoppingAll().probe(1).probe(2).probe(0).at(1100).elected(2, 1600).deposed(2).end('stop-all')
  fails(t, stopAll, late.build(), 'candidate 2 emitted elected after stop() resolved; candidate 2 emitted deposed after stop() resolved')
  const leads = led().at(1000).begin('stop-all').stop(0).call(0, 'stop', 2).at(4000).returned(0, 'stop', 2, 'timeout').probe(0, true).end('stop-all')
  fails(
    t,
    stopAll,
    leads.build(),
    'second stop() of candidate 0 did not resolve within 3000 ms; candidate 0 still reports isLeader after stop(); candidate 0 stopped without a deposed event',
  )
})

t.test('the timeline has the events and steps, renewals included, and the first sample that found two leaders', async (t) => {
  const report = judge(led().step('kit step').at(20).sample(0, 1).at(25).sample(0, 1).at(30).renewed(0, 700).error(1, 'EIO').build())
  t.same(
    report.timeline.filter((e) => e.at >= 10),
    [
      { at: 10, candidate: 0, event: 'elected', deadline: 600 },
      { at: 510, candidate: -1, event: 'step', detail: 'kit step' },
      { at: 20, candidate: -1, event: 'step', detail: 'sampled 2 leaders: 0, 1' },
      { at: 30, candidate: 0, event: 'renewed', deadline: 700 },
      { at: 30, candidate: 1, event: 'error', detail: 'EIO' },
    ],
  )
  t.equal(report.measurements.errorEvents, 1)
  t.equal(report.measurements.maxConcurrentLeaders, 2)
})
