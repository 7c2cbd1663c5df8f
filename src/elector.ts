// The leadership contract between the announcer and whoever decides who leads.
// docs/electors.md explains it for people writing their own elector.
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'
import type { ElectorTiming } from './kernel-lifetime'

/** A grant of leadership. */
export interface Lease {
  /**
   * The instant until which no other candidate can become leader, as this
   * process measures it: milliseconds on CLOCK_MONOTONIC (see `monotonicNow()`).
   * The announcer removes the VIP before this instant unless a renewal moves it
   * forward, and gives each VIP a kernel lifetime that ends before it
   * (docs/architecture.md), so the VIP disappears by this instant even if
   * every process of this replica dies. `Infinity` means leadership cannot
   * end without this process knowing: the VIP then has no kernel lifetime and
   * outlives a whole-container kill (the announcer logs a warning).
   */
  deadline: number
}

/** The events every LeaderElector emits, in the order `elected` → (`renewed`)* → `deposed`, repeated. */
export type ElectorEvents = {
  /** This candidate became leader. Always the first leadership event. */
  elected: (lease: Lease) => void
  /** Leadership renewed; the deadline only ever moves forward. */
  renewed: (lease: Lease) => void
  /** Leadership lost or released. Only ever after `elected`. */
  deposed: (reason: string) => void
  /**
   * A problem worth reporting that did not (yet) change leadership. An
   * elector must never emit 'error' while nobody listens (EventEmitter would
   * throw it, inside a timer or callback: a crash); without a listener it
   * falls back to `process.emitWarning`.
   */
  error: (error: Error) => void
}

/**
 * Decides which candidate leads; the announcer holds the VIP exactly while its
 * elector says so, and never past the announced deadline. The ready electors
 * are StaticElector, FileLockElector, KubernetesLeaseElector and EtcdElector;
 * the contract in full, and how to write and test another, is in
 * docs/electors.md.
 */
export interface LeaderElector extends TypedEmitter<ElectorEvents> {
  /**
   * Begin campaigning. Resolves once campaigning runs, not when elected.
   * Idempotent while campaigning (repeated calls return the same outcome).
   *
   * After `stop()`, `start()` campaigns again: it waits for that stop to
   * finish (also when called while `stop()` is still in flight, for example
   * from a 'deposed' listener during `stop()`), then starts a fresh campaign
   * that may be elected again later. A `stop()` after it stops the new
   * campaign. The announcer relies on this to step down and campaign
   * again (after its guard process died, and while its interface is gone:
   * a replica that can't hold the VIP does not campaign).
   */
  start(): Promise<void>
  /**
   * Stop campaigning and release leadership if held ('deposed' is emitted
   * first), so another candidate can take over at once. Idempotent within one
   * campaign; once it resolves the elector emits nothing more until the next
   * `start()`, and holds no timers, watches or connections for the campaign.
   */
  stop(): Promise<void>
  /** True between 'elected' and 'deposed'; agrees with the events. */
  readonly isLeader: boolean
  /**
   * Optional. A file descriptor whose open file description carries
   * leadership (the file-lock elector's locked file). The announcer hands a
   * duplicate to its guard process, so if this process dies the lock is only
   * released after the guard has removed the VIP: takeovers never overlap.
   * Read once, before `start()`.
   */
  readonly fencingFd?: number
  /**
   * Optional, with `fencingFd`: bytes the guard writes at offset 0 of that
   * file after it has removed every VIP and before it releases the lock (the
   * file-lock elector's "released" mark, which lets a successor take over
   * at once instead of waiting out the dead holder's deadline). Read once,
   * before `start()`.
   */
  readonly fencingRecord?: Uint8Array
  /**
   * Optional: how far grants reach and how often they are renewed. The
   * announcer refuses, at construction, timing too short for the VIP's
   * kernel lifetime (docs/electors.md says the minimum). Without it the
   * announcer checks each grant as it comes and refuses to add the VIP under
   * one that is too short.
   */
  readonly timing?: ElectorTiming
}

/** Base class with a typed emitter; electors may extend it but need not. */
export class ElectorEmitter extends (EventEmitter as new () => TypedEmitter<ElectorEvents>) {}
