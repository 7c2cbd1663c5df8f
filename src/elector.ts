// The leadership contract between the announcer and whoever decides who leads.
// docs/electors.md explains it for people writing their own elector.
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'

/** A grant of leadership. */
export interface Lease {
  /**
   * The instant until which no other candidate can become leader, as this
   * process measures it: milliseconds on CLOCK_MONOTONIC (see `monotonicNow()`).
   * The announcer removes the VIP before this instant unless a renewal moves it
   * forward. `Infinity` means leadership cannot end without this process
   * knowing (for example a single static replica).
   */
  deadline: number
}

export type ElectorEvents = {
  /** This candidate became leader. Always the first leadership event. */
  elected: (lease: Lease) => void
  /** Leadership renewed; the deadline only ever moves forward. */
  renewed: (lease: Lease) => void
  /** Leadership lost or released. Only ever after `elected`. */
  deposed: (reason: string) => void
  /** A problem worth reporting that did not (yet) change leadership. */
  error: (error: Error) => void
}

export interface LeaderElector extends TypedEmitter<ElectorEvents> {
  /** Begin campaigning. Resolves once campaigning runs, not when elected. Idempotent. */
  start(): Promise<void>
  /**
   * Stop campaigning and release leadership if held ('deposed' is emitted
   * first), so another candidate can take over at once. Idempotent.
   */
  stop(): Promise<void>
  readonly isLeader: boolean
  /**
   * Optional. A file descriptor whose open file description carries
   * leadership (the file-lock elector's locked file). The announcer hands a
   * duplicate to its guard process, so if this process dies the lock is only
   * released after the guard has removed the VIP: takeovers never overlap.
   * Read once, before `start()`.
   */
  readonly fencingFd?: number
}

/** Base class with a typed emitter; electors may extend it but need not. */
export class ElectorEmitter extends (EventEmitter as new () => TypedEmitter<ElectorEvents>) {}
