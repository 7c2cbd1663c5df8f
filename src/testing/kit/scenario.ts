// The conformance scenario as data: phases of steps, which the recorder plays
// against the candidates. Roles name a candidate chosen during the run ("the
// leader found", "the one partitioned") so later steps can act on it.
// A step that fails (a wait that gives up, a call that rejects, a hook that
// throws) ends its phase unless it says otherwise; the checks read what happened
// from the trace.
import type { WaitCondition } from './trace'

export type PhaseName = 'start' | 'first-leader' | 'partition' | 'heal' | 'stop-takeover' | 'restart' | 'stop-all'

export type Role = 'leader' | 'partitioned' | 'stopped'

/** The figures a pause is computed from. */
export interface Timing {
  settleMs: number
  sampleEveryMs: number
}

interface StepBase {
  /** What happens when it fails; default 'end-phase'. */
  onFail?: 'continue' | 'end-phase' | 'end-run'
  /** Only with exactly this many candidates. */
  onlyWith?: { candidates: number }
  /** A timeline line; `{who}` is the candidate acted on, `{n}` how many there are. */
  say?: string
}

export type Step = StepBase &
  (
    | { do: 'create' }
    | { do: 'start' | 'stop'; who: 'all' | Role; rounds: 1 | 2; as?: Role; probe?: boolean }
    /** `who`: whose change is waited for; `as`: the role a one-leader wait binds. */
    | { do: 'await'; until: WaitCondition; who?: Role; as?: Role }
    | { do: 'partition'; who: Role; as: Role }
    | { do: 'heal'; who: Role }
    | { do: 'pause'; ms: (timing: Timing) => number }
    /** Reads isLeader; with `failIfLeader` the step fails when it is true. */
    | { do: 'probe'; who: 'all' | Role; failIfLeader?: boolean }
    /** Skips the rest of the phase (with `reason`) unless the role was bound. */
    | { do: 'require'; role: Role; reason: string }
    /** While another candidate leads, stop it, until `who` is elected again or is the only one left. */
    | { do: 'stop-leaders-until-re-elected'; who: Role }
  )

export interface Phase {
  name: PhaseName
  /** Skipped, with `reason`, unless the run has these. */
  needs?: { candidates?: number; partitionHook?: boolean; created?: boolean; reason: string }
  /** Runs even after a step ended the run (cleanup). */
  always?: boolean
  /** Default for its steps' onFail. */
  onFail?: 'end-phase' | 'end-run'
  steps: Step[]
}

const settle = (t: Timing) => t.settleMs

export const SCENARIO: readonly Phase[] = [
  {
    name: 'start',
    onFail: 'end-run',
    steps: [{ do: 'create' }, { do: 'start', who: 'all', rounds: 2, say: 'starting {n} candidate(s)' }],
  },
  {
    name: 'first-leader',
    onFail: 'end-run',
    steps: [{ do: 'await', until: 'elected' }, { do: 'pause', ms: settle }],
  },
  {
    name: 'partition',
    needs: { partitionHook: true, reason: 'no partition hook given' },
    steps: [
      { do: 'await', until: 'one-leader', as: 'leader' },
      { do: 'partition', who: 'leader', as: 'partitioned', say: 'partitioning leader {who}' },
      { do: 'await', until: 'deposed-and-replaced', who: 'partitioned', onFail: 'continue' },
    ],
  },
  {
    name: 'heal',
    needs: { partitionHook: true, reason: 'no partition hook given' },
    steps: [
      { do: 'require', role: 'partitioned', reason: 'not reached' },
      { do: 'heal', who: 'partitioned', say: 'healing candidate {who}' },
      { do: 'await', until: 'one-leader' },
      { do: 'pause', ms: settle },
      { do: 'probe', who: 'all' },
    ],
  },
  {
    name: 'stop-takeover',
    needs: { candidates: 2, reason: 'needs at least two candidates' },
    steps: [
      { do: 'await', until: 'one-leader', as: 'leader' },
      { do: 'stop', who: 'leader', as: 'stopped', rounds: 1, probe: true, say: 'stopping leader {who}', onFail: 'continue' },
      { do: 'await', until: 'elected-other', who: 'stopped', onFail: 'continue' },
      { do: 'pause', ms: (t) => Math.min(t.settleMs, 1000) },
    ],
  },
  {
    name: 'restart',
    steps: [
      // Alone, the candidate is stopped here; otherwise stop-takeover stopped it.
      { do: 'await', until: 'one-leader', as: 'leader', onlyWith: { candidates: 1 } },
      { do: 'stop', who: 'leader', as: 'stopped', rounds: 1, onlyWith: { candidates: 1 }, say: 'stopping leader {who} to start it again' },
      { do: 'require', role: 'stopped', reason: 'no leader was stopped (stop-takeover did not get that far)' },
      // Events between stop() resolving and now were late (stop-all reports
      // them); from the start() on they belong to the new campaign.
      { do: 'pause', ms: (t) => Math.max(50, t.sampleEveryMs * 4) },
      { do: 'probe', who: 'stopped', failIfLeader: true },
      { do: 'start', who: 'stopped', rounds: 2, say: 'starting stopped candidate {who} again' },
      { do: 'stop-leaders-until-re-elected', who: 'stopped' },
    ],
  },
  {
    name: 'stop-all',
    always: true,
    needs: { created: true, reason: 'not reached' },
    steps: [
      { do: 'stop', who: 'all', rounds: 2, probe: true, say: 'stopping all candidates', onFail: 'continue' },
      // Anything an elector emits after its stop() resolved is a leak: give it time to show.
      { do: 'pause', ms: (t) => Math.max(200, t.sampleEveryMs * 4) },
    ],
  },
]
