// Leader election on etcd: leadership is a key created with a compare-and-swap
// (create revision 0) and bound to this candidate's etcd lease, so it vanishes
// when the lease is revoked or expires. Deadlines come from when keep-alives
// were sent, on CLOCK_MONOTONIC. docs/electors.md explains the choices.
import type { ElectorTiming } from '../kernel-lifetime'
// Internal only: the published declarations use EtcdClientLike, so a
// consumer's tsc needs no etcd3 installed.
import type { Etcd3, IKeyValue, Watcher } from 'etcd3'
import { monotonicNow } from '../clock'
import { LeaseTracker } from '../elector'
import { CampaignElector } from './campaign'
import { etcdSchemeProblem, parseEtcdEndpoint, requireOptionsObject } from './names'
import { loadOptionalPeer } from './optional-peer'

/**
 * The parts of etcd3's Etcd3 client this elector calls; an Etcd3 (1.x)
 * satisfies it. Declared here so the published types need no etcd3 installed.
 */
export interface EtcdClientLike {
  readonly leaseClient: object
  if(key: string, column: never, cmp: never, value: never): object
  put(key: string): object
  get(key: string): object
  watch(): object
  close(): void
}

/** Options of {@link EtcdElector}. */
export interface EtcdElectorOptions {
  /**
   * etcd client URLs: `http://192.0.2.2:2379` (or `192.0.2.2:2379`), or all
   * `https://…` for TLS. Required unless `client` is given.
   */
  endpoints?: string[]
  /**
   * For https endpoints, PEM: the CA that signed etcd's certificate (default:
   * the system's roots) and, where etcd requires client certificates
   * (--client-cert-auth), this client's certificate and key.
   */
  tls?: {
    /** PEM of the CA that signed etcd's server certificate; default: the system's roots. */
    ca?: string | Buffer
    /** PEM client certificate; give it together with `key`. */
    cert?: string | Buffer
    /** PEM private key of `cert`. */
    key?: string | Buffer
  }
  /** Election name, the same for all candidates. */
  name: string
  /** This candidate's identity (stored as the key's value), unique among candidates. */
  identity: string
  /**
   * TTL of this candidate's etcd lease, whole seconds ≥ 2. A dead leader is
   * replaced within about this long. Default 10.
   */
  ttlSeconds?: number
  /** The leader key. Default `vip-announcer/leader/<name>`. */
  key?: string
  /**
   * A ready client. It is not closed on stop. Prefer one built without
   * etcd3's default retry and circuit-breaker policies (see docs/electors.md):
   * they stretch a call's duration past the timeouts this elector reasons with.
   */
  client?: EtcdClientLike
  /** On `stop()`, revoke the lease so the key goes at once. Default true. */
  releaseOnStop?: boolean
}

/** A granted lease and the send time of its last successful grant or keep-alive. */
interface Session {
  id: string
  ttlMs: number
  sentAt: number
}

// etcd3 takes cockatiel policies; a pass-through keeps each call to one attempt.
const passThrough = {
  execute: async (fn: (context: { signal: AbortSignal; attempt: number }) => unknown) =>
    fn({ signal: new AbortController().signal, attempt: 0 }),
}

/**
 * Leader election over etcd.
 *
 * Every candidate holds an etcd lease (TTL `ttlSeconds`, a keep-alive every
 * third of it). A candidate becomes leader by creating the leader key bound
 * to its lease in a transaction that only succeeds if the key does not exist.
 * Followers watch the key and try again as soon as it is deleted (leader
 * stopped: lease revoked; leader dead or cut off: lease expired), and poll as
 * a fallback.
 *
 * The deadline is the monotonic instant the last successful keep-alive (or
 * grant) was sent, plus the TTL, minus a margin of min(1 s, TTL/10): etcd
 * expires the lease no earlier than TTL after it received that keep-alive.
 * Without a successful keep-alive the leader gives up (`deposed`) one more
 * margin before the deadline.
 *
 * Needs the optional peer dependency `etcd3` 1.x, imported on the first
 * start(). Why not etcd3's own Election, and the client settings: see
 * docs/electors.md.
 *
 * @example
 * const elector = new EtcdElector({
 *   endpoints: ['http://192.0.2.2:2379'],
 *   name: 'vcluster-a-vip',
 *   identity: process.env.POD_NAME!, // unique per candidate
 * })
 * elector.on('error', (error) => console.warn(error.message)) // etcd trouble; it keeps retrying
 * const announcer = new VipAnnouncer({ vip: '192.0.2.100', interface: 'eth0', elector })
 */
export class EtcdElector extends CampaignElector {
  /** The election name. */
  readonly name: string
  /** This candidate's identity, the leader key's value while it leads. */
  readonly identity: string
  /** The leader key (default applied). */
  readonly key: string
  /** TTL of this candidate's etcd lease, s (default applied). */
  readonly ttlSeconds: number

  private readonly options: EtcdElectorOptions
  /** The endpoints as URLs with their scheme (host:port means http://host:port). */
  private readonly endpointUrls: string[] = []
  private readonly ttlMs: number
  private readonly keepAliveMs: number
  private readonly marginMs: number
  /** @internal */
  protected readonly label: string
  /** @internal */
  protected readonly lease: LeaseTracker

  // Per campaign, reset when a new one begins (after the previous stop finished):
  private client?: Etcd3
  private ownsClient = false
  private watcher?: Watcher
  private loops: Promise<void>[] = []
  private wakeCampaign?: () => void
  private wakePending = false

  private session?: Session
  /** Revision at which our leader key was written; older watch events predate our leadership. */
  private leaderRevision = 0n

  constructor(options: EtcdElectorOptions) {
    super()
    requireOptionsObject('EtcdElector', options)
    this.name = nonEmpty('name', options.name)
    this.identity = nonEmpty('identity', options.identity)
    this.key = options.key === undefined ? `vip-announcer/leader/${this.name}` : nonEmpty('key', options.key)
    const ttl = options.ttlSeconds ?? 10
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 2) {
      throw new RangeError(
        `EtcdElector: ttlSeconds must be a whole number of seconds ≥ 2 (etcd raises shorter TTLs to its minimum), got ${String(ttl)}`,
      )
    }
    this.ttlSeconds = ttl
    if (!options.client) {
      const endpoints = options.endpoints
      if (!Array.isArray(endpoints) || endpoints.length === 0) {
        throw new TypeError(
          `EtcdElector: endpoints must be a non-empty array of etcd client URLs (or pass client), got ${JSON.stringify(endpoints)}`,
        )
      }
      const urls = endpoints.map((endpoint) => {
        const parsed = typeof endpoint === 'string' ? parseEtcdEndpoint(endpoint) : { problem: `endpoint ${JSON.stringify(endpoint)} is not an http(s)://host:port URL` }
        if ('problem' in parsed) throw new TypeError(`EtcdElector: ${parsed.problem}`)
        return parsed.url
      })
      this.endpointUrls = urls
      const mixed = etcdSchemeProblem(urls)
      if (mixed) throw new TypeError(`EtcdElector: ${mixed}`)
      if (options.tls !== undefined && !urls[0].startsWith('https://')) {
        throw new TypeError('EtcdElector: tls is given but no endpoint is https://')
      }
      if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null || !options.tls.cert !== !options.tls.key)) {
        throw new TypeError('EtcdElector: tls must be an object; cert and key go together')
      }
    } else if (options.endpoints !== undefined || options.tls !== undefined) {
      throw new TypeError('EtcdElector: give either client or endpoints (and tls), not both')
    }
    this.options = options
    this.ttlMs = ttl * 1000
    this.keepAliveMs = this.ttlMs / 3
    this.marginMs = Math.min(1000, this.ttlMs / 10)
    this.lease = new LeaseTracker(this.leaseSink, {
      stepDownLeadMs: this.marginMs,
      expiredReason: `no successful keep-alive within the lease TTL (${this.ttlSeconds} s)`,
    })
    this.label = `EtcdElector ${this.key} (${this.identity})`
  }

  /** How far grants reach (the deadline after a successful write) and how often the leader renews (LeaderElector.timing). */
  get timing(): ElectorTiming {
    return { leaseMs: this.ttlMs - this.marginMs, renewIntervalMs: this.keepAliveMs }
  }

  /** @internal */
  protected async begin(): Promise<void> {
    this.wakeCampaign = undefined
    this.wakePending = false
    this.session = undefined
    this.leaderRevision = 0n
    let client: Etcd3
    try {
      client = (this.options.client as Etcd3 | undefined) ?? (await this.makeClient())
    } catch (error) {
      this.stopped = true
      throw error
    }
    if (this.stopped) {
      if (!this.options.client) client.close()
      return
    }
    this.client = client
    this.ownsClient = !this.options.client
    this.watch(client)
    this.loops = [this.keepAliveLoop(client), this.campaignLoop(client)]
  }

  /** @internal */
  protected async end(): Promise<void> {
    this.wake()
    await this.starting?.catch(() => undefined)
    await Promise.all(this.loops)
    this.loops = []
    const client = this.client
    this.client = undefined
    if (!client) return
    const watcher = this.watcher
    this.watcher = undefined
    if (watcher) await withTimeout(watcher.cancel(), this.keepAliveMs).catch(() => undefined)
    const session = this.session
    if (session && this.options.releaseOnStop !== false) {
      try {
        await withTimeout(client.leaseClient.leaseRevoke({ ID: session.id }, this.callOptions(this.ttlMs)), this.ttlMs)
      } catch (error) {
        if (!isLeaseGone(error)) this.report(error, 'could not revoke the lease')
      }
    }
    this.session = undefined
    if (this.ownsClient) client.close()
  }

  private async makeClient(): Promise<Etcd3> {
    const etcd3 = await loadOptionalPeer<typeof import('etcd3') & { default?: typeof import('etcd3') }>(
      'etcd3',
      'EtcdElector',
      '^1.1.0',
    )
    const Etcd3Class = etcd3.Etcd3 ?? etcd3.default!.Etcd3
    const keepAliveMs = this.keepAliveMs
    // A watch reconnect backoff capped at the keep-alive interval: after a
    // partition the watch is back about when the lease state is known again.
    const backoff = (delay: number): { duration: number; next(): unknown } => ({
      duration: delay,
      next: () => backoff(Math.min(delay * 2, keepAliveMs)),
    })
    const tls = this.options.tls
    const pem = (value: string | Buffer | undefined) => (typeof value === 'string' ? Buffer.from(value) : value)
    return new Etcd3Class({
      hosts: this.endpointUrls,
      // Without credentials etcd3 uses the system's roots for https endpoints.
      ...(tls
        ? {
            credentials: {
              rootCertificate: pem(tls.ca) as Buffer,
              privateKey: pem(tls.key),
              certChain: pem(tls.cert),
            },
          }
        : {}),
      dialTimeout: this.keepAliveMs,
      // grpc-js backs reconnects off up to 2 minutes; cap that so a candidate
      // cut off for a while is back within a keep-alive interval of healing.
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': Math.max(1000, this.keepAliveMs),
      },
      faultHandling: {
        host: () => passThrough as never,
        global: passThrough as never,
        watchBackoff: backoff(100) as never,
      },
    })
  }

  /** Keeps this candidate's lease alive; renews leadership. */
  private async keepAliveLoop(client: Etcd3): Promise<void> {
    while (!this.stopped) {
      const attemptAt = monotonicNow()
      const session = this.session
      if (session) await this.keepAlive(client, session)
      await this.sleep(attemptAt + this.keepAliveMs - monotonicNow())
    }
  }

  private async keepAlive(client: Etcd3, session: Session): Promise<void> {
    // Not past the point where we would give up anyway.
    const timeoutMs = this.leader
      ? Math.min(this.keepAliveMs, this.lease.msUntilStepDown())
      : this.keepAliveMs
    if (timeoutMs <= 0) return
    const sentAt = monotonicNow()
    let ttlSeconds: number
    try {
      ttlSeconds = await this.keepAliveOnce(client, session.id, timeoutMs)
    } catch (error) {
      if (!this.stopped) this.report(error, 'keep-alive failed')
      return
    }
    if (this.session !== session || this.stopped) return
    if (ttlSeconds <= 0) {
      this.session = undefined
      if (this.leader) this.loseLeadership('the etcd lease expired')
      this.wake()
      return
    }
    session.sentAt = sentAt
    session.ttlMs = Math.min(this.ttlMs, ttlSeconds * 1000)
    if (this.leader) this.lease.grant(this.sessionDeadline(session))
  }

  private keepAliveOnce(client: Etcd3, id: string, timeoutMs: number): Promise<number> {
    return withTimeout(
      client.leaseClient.leaseKeepAlive(this.callOptions(timeoutMs)).then(
        (stream) =>
          new Promise<number>((resolve, reject) => {
            // Keep an error listener for the stream's whole life: grpc emits
            // one when we cancel, and an unheard 'error' would throw.
            stream.on('error', (error: Error) => reject(error))
            stream.on('data', (response: { TTL: string }) => {
              resolve(Number(response.TTL))
              stream.end()
            })
            stream.write({ ID: id })
          }),
      ),
      timeoutMs,
    )
  }

  /** Grants a lease when there is none; as follower, tries to take the key; as leader, checks it. */
  private async campaignLoop(client: Etcd3): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.session) {
          await this.grant(client)
          if (this.session) continue // campaign at once with it
        } else if (!this.leader) await this.tryAcquire(client, this.session)
        else await this.checkOwnership(client, this.session)
      } catch (error) {
        this.report(error, 'unexpected failure')
      }
      await this.waitForWake(this.keepAliveMs)
    }
  }

  private async grant(client: Etcd3): Promise<void> {
    const sentAt = monotonicNow()
    try {
      const granted = await withTimeout(
        client.leaseClient.leaseGrant({ TTL: this.ttlSeconds }, this.callOptions(this.keepAliveMs)),
        this.keepAliveMs,
      )
      if (this.stopped) {
        // stop() no longer knows this lease: revoke it here, before stop() may close the client.
        await withTimeout(
          client.leaseClient.leaseRevoke({ ID: granted.ID }, this.callOptions(this.keepAliveMs)),
          this.keepAliveMs,
        ).catch(() => undefined)
        return
      }
      this.session = { id: granted.ID, ttlMs: Math.min(this.ttlMs, Number(granted.TTL) * 1000), sentAt }
    } catch (error) {
      this.report(error, 'could not grant an etcd lease')
    }
  }

  private async tryAcquire(client: Etcd3, session: Session): Promise<void> {
    let result: Awaited<ReturnType<ReturnType<Etcd3['if']>['commit']>>
    try {
      result = await withTimeout(
        client
          .if(this.key, 'Create', '==', 0)
          .then(client.put(this.key).value(this.identity).lease(session.id))
          .else(client.get(this.key))
          .options(this.callOptions(this.keepAliveMs))
          .commit(),
        this.keepAliveMs,
      )
    } catch (error) {
      if (isLeaseGone(error)) {
        if (this.session === session) this.session = undefined
        this.wake()
        return
      }
      return this.report(error, 'could not run the election transaction')
    }
    if (this.stopped || this.session !== session) return
    if (result.succeeded) return this.becomeLeader(session, BigInt(result.header.revision))
    const current = result.responses[0]?.response_range?.kvs?.[0]
    // Our own earlier write whose answer was lost (a timed-out transaction).
    if (current && current.lease === session.id) this.becomeLeader(session, BigInt(current.mod_revision))
  }

  private becomeLeader(session: Session, revision: bigint): void {
    const deadline = this.sessionDeadline(session)
    // Our lease is about to run out (keep-alives failing): the key goes with
    // it; claim nothing now and let the next keep-alive decide.
    if (deadline - this.marginMs <= monotonicNow()) return
    this.leaderRevision = revision
    this.lease.grant(deadline)
  }

  /** The watch is the fast path; this catches changes it missed while disconnected. */
  private async checkOwnership(client: Etcd3, session: Session): Promise<void> {
    let kv: IKeyValue | undefined
    try {
      const response = await withTimeout(
        client.get(this.key).options(this.callOptions(this.keepAliveMs)).exec(),
        this.keepAliveMs,
      )
      kv = response.kvs[0]
    } catch (error) {
      return this.report(error, 'could not read the leader key')
    }
    if (!this.leader || this.session !== session) return
    if (!kv) this.loseLeadership('the leader key was deleted')
    else if (kv.lease !== session.id) this.loseLeadership(`the leader key now belongs to ${JSON.stringify(kv.value.toString())}`)
  }

  private watch(client: Etcd3): void {
    // watcher() rather than create(): create() only hands the watcher over
    // once connected, so one made while etcd is unreachable could not be
    // cancelled on stop.
    const watcher = client.watch().key(this.key).watcher()
    this.watcher = watcher
    const guarded = (handler: (kv: IKeyValue) => void) => (kv: IKeyValue) => {
      // A watch whose cancel did not finish in stop() must not act on a later campaign.
      if (this.watcher !== watcher) return
      // etcd3 rethrows listener errors asynchronously, as uncaught exceptions.
      try {
        handler(kv)
      } catch (error) {
        this.report(error, 'watch handler failed')
      }
    }
    watcher.on(
      'delete',
      guarded((kv) => {
        if (this.leader && BigInt(kv.mod_revision) > this.leaderRevision) {
          this.loseLeadership('the leader key was deleted')
        }
        this.wake()
      }),
    )
    watcher.on(
      'put',
      guarded((kv) => {
        if (this.leader && BigInt(kv.mod_revision) > this.leaderRevision && kv.lease !== this.session?.id) {
          this.loseLeadership(`the leader key now belongs to ${JSON.stringify(kv.value.toString())}`)
        }
      }),
    )
    watcher.on('connected', () => {
      if (this.watcher === watcher) this.wake()
    })
    watcher.on('error', (error: Error) => {
      if (this.watcher === watcher) this.report(error, 'watch failed')
    })
    watcher.on('disconnected', () => undefined)
  }

  private sessionDeadline(session: Session): number {
    return session.sentAt + session.ttlMs - this.marginMs
  }

  private callOptions(timeoutMs: number): { deadline: Date } {
    // grpc-js turns the (wall-clock) deadline into a relative timer at once.
    return { deadline: new Date(Date.now() + Math.max(1, timeoutMs)) }
  }

  /** Runs the campaign loop's next round now (or as soon as the current one ends). */
  private wake(): void {
    if (this.wakeCampaign) this.wakeCampaign()
    else this.wakePending = true
  }

  private waitForWake(ms: number): Promise<void> {
    if (this.stopped || this.wakePending) {
      this.wakePending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        if (this.wakeCampaign === done) this.wakeCampaign = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakeCampaign = done
    })
  }
}

/** Rejects after `ms` on the monotonic timer, whatever the promise does. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms)} ms`)), Math.max(0, ms))
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

function isLeaseGone(error: unknown): boolean {
  return (
    (error as Error | undefined)?.constructor?.name === 'EtcdLeaseInvalidError' ||
    /requested lease not found/.test(String((error as Error | undefined)?.message))
  )
}


function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`EtcdElector: ${field} must be a non-empty string, got ${JSON.stringify(value)}`)
  }
  return value
}
