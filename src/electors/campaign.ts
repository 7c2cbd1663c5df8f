// What the electors that campaign against a remote backend (Kubernetes Lease,
// etcd) share: start/stop/restart coordination, and events that never throw
// into a campaign loop. Each subclass supplies the campaign itself.
import { ElectorEmitter, type ElectorEvents, type LeaderElector, type LeaseTracker, type LeaseTrackerSink } from '../elector'

export abstract class CampaignElector extends ElectorEmitter implements LeaderElector {
  /**
   * The current campaign's start() outcome; undefined before the first start().
   * @internal
   */
  protected starting?: Promise<void>
  /**
   * The stop() in progress or done; undefined until the first stop() and again
   * once start() begins a new campaign, so start() can tell when one is due.
   * @internal
   */
  protected stopping?: Promise<void>
  /**
   * The start() whose campaign may run; stop() clears it, so a start still waiting on an earlier stop never begins.
   * @internal
   */
  protected wanted?: object
  private warnedNoErrorListener = false
  /**
   * Names this elector in messages: kind, key and identity.
   * @internal
   */
  protected abstract readonly label: string
  /**
   * Leadership and its deadline: the subclass's campaign grants it from each
   * successful write (see `leaseSink` for the events).
   * @internal
   */
  protected abstract readonly lease: LeaseTracker
  /**
   * The tracker's events, emitted so that a listener that throws is reported
   * instead of breaking the campaign loop.
   * @internal
   */
  protected readonly leaseSink: LeaseTrackerSink = {
    elected: (lease) => this.emitSafely('elected', lease),
    renewed: (lease) => this.emitSafely('renewed', lease),
    deposed: (reason) => this.emitSafely('deposed', reason),
  }

  /**
   * True between 'elected' and 'deposed'.
   * @internal
   */
  protected get leader(): boolean {
    return this.lease.isLeader
  }
  /**
   * True from stop() until the next campaign begins: loops check it to end.
   * @internal
   */
  protected stopped = true
  /**
   * Aborted by stop(): cancels the current campaign's requests and waits.
   * @internal
   */
  protected stopController = new AbortController()

  /** True between 'elected' and 'deposed'. */
  get isLeader(): boolean {
    return this.leader
  }

  /**
   * Sets up the client and starts campaigning in the background. Rejects only
   * if the client cannot be set up; an unreachable backend is reported through
   * `error` events while the elector keeps retrying. After stop() (even one
   * still in flight) it waits for the stop to finish and campaigns again.
   */
  start(): Promise<void> {
    if (this.starting === undefined || this.stopping !== undefined) {
      const previousStop = this.stopping
      const token = {}
      this.wanted = token
      this.stopping = undefined
      this.starting = this.campaign(token, previousStop)
    }
    return this.starting
  }

  /**
   * Stops campaigning. A leader emits `deposed` first, then releases (unless
   * releaseOnStop is false) so a follower takes over at once. Never rejects;
   * release failures are reported as `error` events.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping
    const wasLeader = this.isLeader
    const stopping = (this.stopping = this.finish(wasLeader))
    // Only now: a 'deposed' listener that calls start() must find this stop to
    // wait for (and then this.stopping is the new campaign's business).
    if (wasLeader) this.loseLeadership('stopped')
    return stopping
  }

  /**
   * Waits `ms`, or less if stop() aborts the campaign meanwhile.
   * @internal
   */
  protected sleep(ms: number): Promise<void> {
    const signal = this.stopController.signal
    return new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve()
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  // The previous campaign's loops and release must be over before its state
  // is reused; a stop() (or a newer start()) while waiting cancels this one.
  private async campaign(token: object, previousStop: Promise<void> | undefined): Promise<void> {
    await previousStop
    if (this.wanted !== token) return
    this.stopped = false
    this.stopController = new AbortController()
    await this.begin()
  }

  // Synchronous up to end()'s first await, so the campaign sees `stopped`
  // before loseLeadership() runs.
  private async finish(wasLeader: boolean): Promise<void> {
    this.wanted = undefined
    this.stopped = true
    this.stopController.abort()
    await this.end(wasLeader)
  }

  /**
   * Resets the subclass's per-campaign state and starts the campaign (the
   * previous one is over, `stopped` is false and `stopController` fresh).
   * @internal
   */
  protected abstract begin(): Promise<void>
  /**
   * Ends the campaign and releases what it holds (`stopped` is already true
   * and `stopController` aborted).
   * @internal
   */
  protected abstract end(wasLeader: boolean): Promise<void>
  /**
   * Emits `deposed` if leader.
   * @internal
   */
  protected loseLeadership(reason: string): void {
    this.lease.lose(reason)
  }

  /**
   * How an error reads in a report.
   * @internal
   */
  protected describeError(error: unknown): string {
    return error instanceof Error ? error.message : String(error)
  }

  /**
   * False for errors that are part of normal operation (an aborted request).
   * @internal
   */
  protected isReportable(_error: unknown): boolean {
    return true
  }

  /**
   * Emits a leadership event from inside the campaign; a listener that throws
   * is reported (see `report`) instead of breaking the campaign loop.
   * @internal
   */
  protected emitSafely<E extends keyof ElectorEvents>(event: E, ...args: Parameters<ElectorEvents[E]>): void {
    try {
      ;(this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
    } catch (error) {
      this.report(error, `a '${event}' listener threw`)
    }
  }

  /**
   * An `error` event, or (no listener: it would throw inside the campaign loop) one warning.
   * @internal
   */
  protected report(error: unknown, context: string): void {
    if (!this.isReportable(error)) return
    const wrapped = new Error(`${this.label}: ${context}: ${this.describeError(error)}`, { cause: error })
    if (this.listenerCount('error') === 0) {
      if (!this.warnedNoErrorListener) {
        this.warnedNoErrorListener = true
        process.emitWarning(`${wrapped.message} (add an 'error' listener to see every such problem)`)
      }
      return
    }
    try {
      this.emit('error', wrapped)
    } catch {
      // An error listener that throws has nowhere left to report to.
    }
  }
}
