// Records an elector's events with monotonic timestamps, for assertions on
// order and timing.
import { monotonicNow } from '../../src/clock'
import type { LeaderElector } from '../../src/elector'

export type Recorded =
  | { at: number; type: 'elected'; deadline: number }
  | { at: number; type: 'renewed'; deadline: number }
  | { at: number; type: 'deposed'; reason: string }
  | { at: number; type: 'error'; error: Error }

export class Recorder {
  readonly events: Recorded[] = []

  constructor(readonly elector: LeaderElector) {
    elector.on('elected', (lease) => this.push({ at: monotonicNow(), type: 'elected', deadline: lease.deadline }))
    elector.on('renewed', (lease) => this.push({ at: monotonicNow(), type: 'renewed', deadline: lease.deadline }))
    elector.on('deposed', (reason) => this.push({ at: monotonicNow(), type: 'deposed', reason }))
    elector.on('error', (error) => this.push({ at: monotonicNow(), type: 'error', error }))
  }

  of<T extends Recorded['type']>(type: T): Extract<Recorded, { type: T }>[] {
    return this.events.filter((e): e is Extract<Recorded, { type: T }> => e.type === type)
  }

  last<T extends Recorded['type']>(type: T): Extract<Recorded, { type: T }> | undefined {
    const all = this.of(type)
    return all[all.length - 1]
  }

  /** The deadline in force: from the last elected/renewed event. */
  get deadline(): number | undefined {
    const lease = this.events.filter((e) => e.type === 'elected' || e.type === 'renewed').pop() as
      | { deadline: number }
      | undefined
    return lease?.deadline
  }

  private push(event: Recorded): void {
    this.events.push(event)
  }
}

/** Polls `predicate` every 5 ms until it holds; rejects after `timeoutMs`. */
export function waitUntil(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = monotonicNow()
    const check = () => {
      if (predicate()) {
        clearInterval(poll)
        resolve()
      } else if (monotonicNow() - started > timeoutMs) {
        clearInterval(poll)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }
    }
    const poll = setInterval(check, 5)
    check()
  })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
