// What the recorder saw, as plain data: the only thing the checks read. Times
// are milliseconds since the run began (monotonic clock), so a trace can be
// written by hand in a test. Entries are in the order they happened; checks
// use that order (not equal timestamps) for "before" and "after".
import type { PhaseName } from './scenario'

/** A kit call on an elector. */
export type Method = 'start' | 'stop'

/** What a wait in the scenario waited for; see `Await` in scenario.ts. */
export type WaitCondition = 'elected' | 'one-leader' | 'deposed-and-replaced' | 'elected-other' | 're-elected'

export type TraceEntry =
  /** A phase of the scenario began, ended, or was skipped (with why). */
  | { at: number; kind: 'phase'; phase: PhaseName; state: 'begin' | 'end' | 'skip'; reason?: string }
  /** What the kit did, in words: goes into the report's timeline. */
  | { at: number; kind: 'step'; detail: string }
  /** `create(candidate)` returned (or threw: `error`). */
  | { at: number; kind: 'create'; candidate: number; error?: string }
  /** The kit called `start()` or `stop()`; `round` 2 is the repeat that tests idempotence. */
  | { at: number; kind: 'call'; candidate: number; method: Method; round: 1 | 2 }
  /** That call settled, or the kit stopped waiting for it after `timeoutMs`. */
  | {
      at: number
      kind: 'return'
      candidate: number
      method: Method
      round: 1 | 2
      outcome: 'resolved' | 'rejected' | 'timeout'
      error?: string
    }
  /** The kit called the `partition` hook or the heal function it returned, and how that went. */
  | { at: number; kind: 'hook'; hook: 'partition' | 'heal'; candidate: number; state: 'call' | 'return'; error?: string }
  /** A wait ended: `ok` false when it gave up after `timeoutMs`; `candidate` is the leader a one-leader wait found. */
  | { at: number; kind: 'wait'; until: WaitCondition; ok: boolean; candidate?: number }
  /** One read of a candidate's isLeader at a chosen moment (after stop(), after the heal settled...). */
  | { at: number; kind: 'probe'; candidate: number; isLeader: boolean }
  /** The periodic sample: which candidates reported isLeader. */
  | { at: number; kind: 'sample'; leaders: number[] }
  /** A candidate's event; `deadline` relative to the run's start, `lease` (JSON) when it had no numeric deadline. */
  | { at: number; kind: 'elected'; candidate: number; deadline?: number; lease?: string }
  | { at: number; kind: 'renewed'; candidate: number; deadline?: number; lease?: string }
  | { at: number; kind: 'deposed'; candidate: number; reason: string }
  | { at: number; kind: 'error'; candidate: number; message: string }

export type ElectorEvent = Extract<TraceEntry, { kind: 'elected' | 'renewed' | 'deposed' | 'error' }>

/** A recorded run. */
export interface Trace {
  name: string
  /** Candidates asked for (`create` entries say how many were made). */
  candidates: number
  /** Whether a partition hook was given. */
  partitionHook: boolean
  timeoutMs: number
  settleMs: number
  sampleEveryMs: number
  entries: TraceEntry[]
  /** When recording ended, ms since the run began. */
  end: number
}

export function isElectorEvent(entry: TraceEntry): entry is ElectorEvent {
  return entry.kind === 'elected' || entry.kind === 'renewed' || entry.kind === 'deposed' || entry.kind === 'error'
}
