// Writing your own LeaderElector, and proving it keeps the contract with the
// conformance kit. The backend here is a tiny TCP "lock server" (a line
// protocol on loopback, in this file) standing in for any store with an
// atomic "take it if free, expired or mine, for T ms" operation: a database
// row updated with a condition, Redis `SET key id NX PX ttl` plus a
// compare-and-renew script, a Consul session...
//
// In your project the imports are `from 'vip-announcer'` and
// `from 'vip-announcer/testing'`; this file imports '../src' so it runs from a
// checkout.
//
//   node --import tsx examples/custom-elector.ts
//
// starts a lock server on 127.0.0.1, runs three TcpLockElector candidates
// through the kit (election, a partition of the leader, a stop of the leader)
// and prints each check; it exits 1 if any failed. Plugging the elector into
// an announcer is one line: `new VipAnnouncer({ ..., elector: new TcpLockElector({...}) })`.
//
// The rules that matter (docs/electors.md, "The contract"):
//  - a deadline is a promise that nobody else can lead before it: derive it from
//    when the winning request was *sent* (the server counts the TTL from when
//    it *arrived*, which is later), minus a margin;
//  - without a successful renewal, say `deposed` before that deadline, and
//    never wait for an answer past it;
//  - stop(): `deposed` first, then release, so another candidate takes over at once;
//  - nothing in the background may throw; emit 'error' only when someone listens.
// LeaseTracker (exported next to ElectorEmitter) keeps the grant rule for you:
// grant(deadline) says elected or renewed, only ever moves the deadline forward
// and re-arms the step-down timer; lose(reason) says deposed.
import net from 'node:net'
import { createInterface } from 'node:readline'
import { ElectorEmitter, LeaseTracker, monotonicNow, type LeaderElector } from '../src'
import { formatMeasurements, runElectorConformance, type ConformanceReport } from '../src/testing'

// --- the backend: a lock server -----------------------------------------------

/**
 * One line per request, one line per answer:
 *
 *   ACQUIRE <lock> <identity> <ttlMs>  ->  GRANTED | HELD <holder>
 *   RELEASE <lock> <identity>          ->  RELEASED | NOT-HOLDER
 *
 * ACQUIRE takes the lock if it is free, expired or already the caller's, for
 * ttlMs counted from when the request arrived. For tests, `partition(identity)`
 * makes the server ignore that candidate's requests until healed, as a cut
 * network link would.
 */
export class LockServer {
  private readonly locks = new Map<string, { holder: string; expiresAt: number }>()
  private readonly cut = new Map<string, Set<net.Socket>>()
  private readonly sockets = new Set<net.Socket>()
  private readonly server = net.createServer((socket) => this.serve(socket))

  /** Listens on 127.0.0.1; resolves to the port (0 = any free port). */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port))
    })
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Who holds an unexpired lock, if anyone. */
  holder(lock: string): string | undefined {
    const entry = this.locks.get(lock)
    return entry && entry.expiresAt > monotonicNow() ? entry.holder : undefined
  }

  /** Stops answering `identity`; the returned function heals (held connections are then reset). */
  partition(identity: string): () => void {
    const held = new Set<net.Socket>()
    this.cut.set(identity, held)
    return () => {
      if (this.cut.get(identity) !== held) return
      this.cut.delete(identity)
      for (const socket of held) socket.destroy()
    }
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => {}) // a client that gave up and reset: nothing to do
    createInterface({ input: socket }).on('line', (line) => {
      const [command, lock, identity, ttlText] = line.trim().split(/\s+/)
      const held = identity === undefined ? undefined : this.cut.get(identity)
      if (held) {
        held.add(socket) // the request "never arrived"
        return
      }
      if (!socket.writable) return
      socket.write(this.apply(command, lock, identity, ttlText) + '\n')
    })
  }

  private apply(command?: string, lock?: string, identity?: string, ttlText?: string): string {
    if (!lock || !identity) return 'ERROR expected: ACQUIRE <lock> <identity> <ttlMs> | RELEASE <lock> <identity>'
    const now = monotonicNow()
    const entry = this.locks.get(lock)
    if (command === 'ACQUIRE') {
      const ttlMs = Number(ttlText)
      if (!Number.isInteger(ttlMs) || ttlMs <= 0) return `ERROR ttlMs must be a positive integer, got ${ttlText}`
      if (entry && entry.holder !== identity && entry.expiresAt > now) return `HELD ${entry.holder}`
      this.locks.set(lock, { holder: identity, expiresAt: now + ttlMs })
      return 'GRANTED'
    }
    if (command === 'RELEASE') {
      if (entry?.holder !== identity) return 'NOT-HOLDER'
      this.locks.delete(lock)
      return 'RELEASED'
    }
    return `ERROR unknown command ${command}`
  }
}

// --- the elector ----------------------------------------------------------------

/** Options of {@link TcpLockElector}. */
export interface TcpLockElectorOptions {
  /** The lock server's port (on `host`). */
  port: number
  /** Default '127.0.0.1'. */
  host?: string
  /** Name of the lock all candidates compete for. */
  lock: string
  /** This candidate's name, unique among candidates (no whitespace). */
  identity: string
  /**
   * Lease length asked of the server. Default 6000 ms; renewed every ttlMs/3.
   * With a VipAnnouncer, the VIP's kernel lifetime needs grants of at least
   * 3250 ms and 2525 ms left when a renewal is due (see `timing`).
   */
  ttlMs?: number
}

/**
 * Leadership = holding a lock on a {@link LockServer}. The pattern every
 * lease-based elector follows: try to take or renew every ttl/3; a success
 * whose request was sent at `t` is leadership until `t + ttl − margin`;
 * without one, step down a margin before that.
 */
export class TcpLockElector extends ElectorEmitter implements LeaderElector {
  readonly identity: string
  private readonly options: Required<TcpLockElectorOptions>
  private readonly marginMs: number
  /** Leadership and its deadline: grants in, 'elected'/'renewed'/'deposed' and the step-down timer out. */
  private readonly lease: LeaseTracker
  private running = false
  private stopping?: Promise<void>
  private loop?: Promise<void>
  private tick?: NodeJS.Timeout
  private wake?: () => void

  constructor(options: TcpLockElectorOptions) {
    super()
    // Bad input fails here, naming the option, not later in the background.
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new RangeError(`TcpLockElector: port must be an integer from 1 to 65535, got ${JSON.stringify(options.port)}`)
    }
    for (const field of ['lock', 'identity'] as const) {
      if (typeof options[field] !== 'string' || !/^\S+$/.test(options[field])) {
        throw new TypeError(`TcpLockElector: ${field} must be a non-empty string without whitespace, got ${JSON.stringify(options[field])}`)
      }
    }
    const ttlMs = options.ttlMs ?? 6000
    if (!Number.isInteger(ttlMs) || ttlMs < 100) throw new RangeError(`TcpLockElector: ttlMs must be an integer ≥ 100, got ${ttlMs}`)
    this.options = { host: '127.0.0.1', ...options, ttlMs }
    this.identity = options.identity
    this.marginMs = ttlMs / 10
    this.lease = new LeaseTracker(
      { elected: (lease) => this.emit('elected', lease), renewed: (lease) => this.emit('renewed', lease), deposed: (reason) => this.emit('deposed', reason) },
      { stepDownLeadMs: this.marginMs, expiredReason: 'no successful renewal in time' },
    )
  }

  get isLeader(): boolean {
    return this.lease.isLeader
  }

  /**
   * How far grants reach and how often we renew: the announcer checks at
   * construction that this leaves room for the VIP's kernel lifetime.
   */
  get timing(): { leaseMs: number; renewIntervalMs: number } {
    return { leaseMs: this.options.ttlMs - this.marginMs, renewIntervalMs: this.options.ttlMs / 3 }
  }

  /** Resolves at once: campaigning runs in the background (an unreachable server must not hang the host). */
  async start(): Promise<void> {
    // start() after stop() campaigns again, once the stop has finished (the
    // contract: an announcer steps down this way when its guard dies).
    if (this.stopping) {
      const stopping = this.stopping
      await stopping
      if (this.stopping !== stopping) return // stopped again meanwhile
      this.stopping = undefined
    }
    if (this.running) return
    this.running = true
    this.loop = this.campaign()
  }

  stop(): Promise<void> {
    if (!this.running && !this.stopping) return Promise.resolve()
    this.stopping ??= (async () => {
      this.running = false
      clearTimeout(this.tick)
      this.wake?.()
      this.lease.lose('stopped') // deposed first: the announcer removes the VIP...
      await this.loop
      // ...then release, so a follower takes over at once. Even as a follower:
      // an attempt cut short by stop() may have won. Never rejects.
      const { lock, identity, ttlMs } = this.options
      await this.request(`RELEASE ${lock} ${identity}`, ttlMs / 3).catch(() => undefined)
    })()
    return this.stopping
  }

  private async campaign(): Promise<void> {
    while (this.running) {
      await this.attempt()
      await new Promise<void>((resolve) => {
        this.wake = resolve
        this.tick = setTimeout(resolve, this.options.ttlMs / 3)
      })
    }
  }

  private async attempt(): Promise<void> {
    const { lock, identity, ttlMs } = this.options
    const sentAt = monotonicNow() // before connecting: the request arrives later still
    // A leader never waits past the moment it must give up.
    const patienceMs = this.lease.isLeader ? this.lease.msUntilStepDown(sentAt) : ttlMs / 3
    let answer: string
    try {
      answer = await this.request(`ACQUIRE ${lock} ${identity} ${ttlMs}`, patienceMs)
    } catch (error) {
      if (this.running && this.listenerCount('error') > 0) this.emit('error', error as Error)
      return // a leader keeps its step-down timer: it gives up in time by itself
    }
    if (!this.running) return
    if (answer.startsWith('HELD')) {
      this.lease.lose(`the lock is held by ${answer.slice(5)}`)
      return
    }
    if (answer !== 'GRANTED') {
      if (this.listenerCount('error') > 0) this.emit('error', new Error(`lock server: ${answer}`))
      return
    }
    // Elected, or the deadline moved forward; the tracker re-arms the step-down.
    this.lease.grant(sentAt + ttlMs - this.marginMs)
  }

  /** One request on its own connection; rejects if no answer comes within timeoutMs. */
  private request(line: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.options.port, this.options.host)
      const finish = (error: Error | undefined, answer?: string) => {
        clearTimeout(timer)
        socket.destroy()
        if (error) reject(error)
        else resolve(answer!)
      }
      const timer = setTimeout(() => finish(new Error(`lock server: no answer within ${Math.round(timeoutMs)} ms`)), Math.max(0, timeoutMs))
      socket.once('error', (error) => finish(error))
      socket.once('close', () => finish(new Error('lock server closed the connection')))
      createInterface({ input: socket }).once('line', (answer) => finish(undefined, answer))
      socket.write(line + '\n')
    })
  }
}

// --- proving it: the conformance kit ------------------------------------------------

/**
 * Runs `candidates` TcpLockElectors against a fresh LockServer through the
 * conformance kit, partitions included. In a test, pass the report to
 * `assertConformance(t, report)` from vip-announcer/testing.
 */
export async function checkTcpLockElector(options: { candidates?: number; ttlMs?: number; settleMs?: number; log?: (line: string) => void } = {}): Promise<ConformanceReport> {
  const server = new LockServer()
  const port = await server.listen()
  const electors: TcpLockElector[] = []
  try {
    return await runElectorConformance({
      name: 'tcp-lock',
      candidates: options.candidates ?? 3,
      create: (index) => {
        const elector = new TcpLockElector({ port, lock: 'vip', identity: `candidate-${index}`, ttlMs: options.ttlMs ?? 1000 })
        electors.push(elector)
        return elector
      },
      partition: async (elector) => server.partition((elector as TcpLockElector).identity),
      timeoutMs: 10_000,
      settleMs: options.settleMs ?? 1000,
      log: options.log,
    })
  } finally {
    await Promise.all(electors.map((e) => e.stop()))
    await server.close()
  }
}

if (require.main === module) {
  checkTcpLockElector({ log: (line) => console.log(`  ${line}`) }).then(
    (report) => {
      for (const check of report.checks) console.log(`${check.status.toUpperCase().padEnd(4)}  ${check.id.padEnd(13)} ${check.message}`)
      console.log(formatMeasurements(report))
      console.log(report.ok ? 'TcpLockElector keeps the LeaderElector contract' : 'TcpLockElector broke the contract')
      process.exitCode = report.ok ? 0 : 1
    },
    (error: Error) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}
