// The elector conformance kit: runs N candidates of an elector through start,
// steady leadership, an optional partition of the leader, a stop of the
// leader, a start() of that stopped leader until it leads again, and a full
// stop, and reports each rule of the LeaderElector contract as pass, fail or
// skip with measured times. Three parts (kit/): the recorder plays the
// scenario (kit/scenario.ts, data) and writes a trace; each check
// (kit/checks/) is a pure function of that trace; kit/report.ts assembles
// the report. This file is the public entry point and its types.
import type { LeaderElector } from '../elector'
import type { CHECKS } from './kit/checks'
import { record } from './kit/recorder'
import { judge } from './kit/report'
import { SCENARIO } from './kit/scenario'

/** Options of {@link runElectorConformance}. */
export interface ElectorConformanceOptions {
  /** Shown in the report. */
  name: string
  /** How many candidates compete (≥ 1; takeover checks need ≥ 2, 3 is best). */
  candidates: number
  /** Builds candidate `index` (not started). All candidates must compete for the same leadership. */
  create(index: number): LeaderElector | Promise<LeaderElector>
  /**
   * Cuts candidate `index` off its backend (a network partition as the backend
   * sees it: its requests go unanswered). Resolves to a function that heals
   * the cut. Without it the partition checks are skipped.
   */
  partition?(elector: LeaderElector, index: number): Promise<() => Promise<void> | void>
  /** Longest wait for any one step (start, election, takeover...). Default 30000 ms. */
  timeoutMs?: number
  /** How long steady leadership is watched before and after disruptions. Default 2000 ms. */
  settleMs?: number
  /** isLeader sampling interval. Default 5 ms. */
  sampleEveryMs?: number
  /** Progress lines. */
  log?(line: string): void
}

/** A check's outcome: 'skip' when it does not apply (one candidate, no `partition` hook) or was not reached. */
export type ConformanceStatus = 'pass' | 'fail' | 'skip'

/**
 * The checks of the kit, one per rule of the LeaderElector contract:
 * 'start', 'first-leader', 'single-leader', 'no-overlap', 'event-order',
 * 'deadlines', 'partition', 'heal', 'stop-takeover', 'restart', 'stop-all'
 * (each declared once, in src/testing/kit/checks/); docs/electors.md says
 * when each fails.
 */
export type ConformanceCheckId = (typeof CHECKS)[number]['id']

/** The outcome of one check. */
export interface ConformanceCheck {
  /** Which check. */
  id: ConformanceCheckId
  /** The rule checked, in one line. */
  title: string
  /** Pass, fail or skip. */
  status: ConformanceStatus
  /** What was seen: measured figures when it passed, the first violations when it failed. */
  message: string
  /** The figures this check measured (names as in ConformanceMeasurements, ms), when it measured any. */
  measurements?: Record<string, number>
}

/**
 * Figures measured over the whole run. Times are milliseconds on the monotonic
 * clock, absent when the run did not reach that step.
 */
export interface ConformanceMeasurements {
  /** start() of all candidates to the first `elected`. */
  timeToFirstLeaderMs?: number
  /** Partition of the leader to its `deposed`. */
  partitionToDeposedMs?: number
  /** How long before its deadline the partitioned leader said `deposed` (negative: after). */
  deposedBeforeDeadlineMs?: number
  /** Partition of the leader to another candidate's `elected`. */
  takeoverAfterPartitionMs?: number
  /** Heal to exactly one leader. */
  oneLeaderAfterHealMs?: number
  /** stop() of the leader to another candidate's `elected`. */
  takeoverAfterStopMs?: number
  /** start() of a stopped leader to its `elected` (other leaders stopped meanwhile, if any). */
  reElectedAfterRestartMs?: number
  /** Most candidates reporting isLeader at one sample. */
  maxConcurrentLeaders: number
  /** How many times every candidate's isLeader was sampled. */
  samples: number
  /** 'error' events emitted by all candidates together. */
  errorEvents: number
}

/** One event of the run, as recorded by the kit. */
export interface TimelineEntry {
  /** Milliseconds since the run began. */
  at: number
  /** Candidate index, or -1 for the kit's own steps. */
  candidate: number
  /** A candidate's event, or 'step' for what the kit did (start, partition, stop...). */
  event: 'elected' | 'renewed' | 'deposed' | 'error' | 'step'
  /** For elected/renewed: the deadline, in milliseconds since the run began. */
  deadline?: number
  /** The deposed reason, the error message, or the kit step's description. */
  detail?: string
}

/** What `runElectorConformance` found; `assertConformance` turns it into test assertions. */
export interface ConformanceReport {
  /** The `name` option. */
  name: string
  /** How many candidates ran. */
  candidates: number
  /** True when no check failed. */
  ok: boolean
  /** Every check, in a fixed order; those not reached are skipped. */
  checks: ConformanceCheck[]
  /** Figures measured over the run. */
  measurements: ConformanceMeasurements
  /** Every event and kit step, in order (`formatTimeline` prints it). */
  timeline: TimelineEntry[]
  /** How long the run took, ms. */
  durationMs: number
}

/**
 * Runs the conformance scenario against an elector implementation and
 * reports every check. It never throws for a misbehaving elector; it throws
 * only for invalid options.
 */
export async function runElectorConformance(options: ElectorConformanceOptions): Promise<ConformanceReport> {
  if (typeof options?.name !== 'string') throw new TypeError('runElectorConformance: name must be a string')
  if (!Number.isInteger(options.candidates) || options.candidates < 1) {
    throw new RangeError(`runElectorConformance: candidates must be an integer ≥ 1, got ${String(options.candidates)}`)
  }
  if (typeof options.create !== 'function') throw new TypeError('runElectorConformance: create must be a function')
  const trace = await record(
    {
      name: options.name,
      candidates: options.candidates,
      create: (index) => options.create(index),
      ...(options.partition ? { partition: options.partition.bind(options) } : {}),
      timeoutMs: options.timeoutMs ?? 30_000,
      settleMs: options.settleMs ?? 2_000,
      sampleEveryMs: options.sampleEveryMs ?? 5,
      ...(options.log ? { log: options.log.bind(options) } : {}),
    },
    SCENARIO,
  )
  return judge(trace)
}
