// Host side of the guard process (native/guard/guard.cc): spawns it, feeds it
// the undo requests and each leadership deadline, and reports when it fenced
// or died. Everything that must happen even if this process cannot run JS any
// more is the guard's job; this class only talks to it.
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { closeSync, fstatSync, writeSync } from 'node:fs'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'
import type TypedEmitter from 'typed-emitter'
import { addon, loadNative } from './net/binding'

/** A robust mutex this thread holds; the guard sees EOWNERDEAD the moment we die (native/lifeline.cc). */
export interface Lifeline {
  readonly fd: number
  close(): void
}

export function createLifeline(): Lifeline {
  return new addon.Lifeline() as Lifeline
}

export type GuardEvents = {
  /** The guard removed the VIP: 'deadline' (not renewed in time), 'requested' or 'host-exit'. */
  fenced: (reason: string, ok: number, failed: number) => void
  /** The guard process ended (it should live as long as the announcer). */
  exit: (code: number | null, signal: NodeJS.Signals | null) => void
  /** Anything the guard wrote to stderr, line by line. */
  log: (line: string) => void
  /** The lock wait (lockWait()) ended: how, see LockWaitResult. */
  locked: (result: LockWaitResult) => void
}

/** The terms of a lock wait (GuardProcess.lockWait): the elector's grant and the takeover's. */
export interface LockWaitTerms {
  /** The grant the guard records on getting the lock: deadline = then + leaseMs. */
  leaseMs: number
  /** The guard arms deadline − marginMs (the announcer's fenceMarginMs). */
  marginMs: number
  /** The VIPs' kernel lifetime, whole seconds (finite: a file lock's lease always ends). */
  lifetimeS: number
  /** The guard takes over only this long after its flock at most (ms): later, the lifetime would outlive the grant. */
  addWithinMs: number
  /** Fallback interval between tries, ms (the elector's pollIntervalMs). */
  pollMs: number
  /** What the record names as holder: the host's pid and this boot's id (src/electors/lock-record.ts). */
  pid: number
  boot: string
}

/**
 * How a lock wait ended. 'taken' and 'failed': the guard got the lock and
 * wrote the grant `deadline` into the record; 'taken' then the takeover
 * succeeded (`outcome`), 'failed' TAKE refused (`code`, `errno`, `message` as
 * take()'s rejections) with nothing added and the guard disarmed. 'held': it
 * got the lock but the record says a dead holder's VIP may be configured
 * until `until`: it did nothing else. 'unrecorded': it got the lock but could
 * not write the record: it did nothing else. 'error': flock failed otherwise
 * than "busy"; the guard does not hold it. In every case but 'error' the
 * lock is held by the shared open file description.
 */
export type LockWaitResult =
  | { verdict: 'taken'; acquiredAt: number; deadline: number; outcome: TakeOutcome }
  | { verdict: 'failed'; acquiredAt: number; deadline: number; code: string; errno: number; message: string }
  | { verdict: 'held'; acquiredAt: number; until: number }
  | { verdict: 'unrecorded'; acquiredAt: number; errno: number }
  | { verdict: 'error'; errno: number; message: string }

export interface GuardOptions {
  /** Network namespace path the guard enters at start. */
  netns?: string
  /** An fd whose open file description carries leadership (file lock); the guard keeps a duplicate. */
  lockFd?: number
  /** The host's lifeline (see createLifeline); without it the guard learns of a death from the pipe's EOF. */
  lifeline?: Lifeline
  /**
   * How long the guard may stay silent after a command before it is declared
   * unresponsive (default 2000 ms). Time this thread spends busy does not
   * count against the guard: see judge().
   */
  replyTimeoutMs?: number
  /** The nice value the guard asks for at start (setpriority), -20 to 19; 0 or absent: it keeps the one it inherited. */
  nice?: number
}

/**
 * The ARM argument for a deadline: a finite CLOCK_MONOTONIC instant, or
 * Infinity for a lease without end (1e300, which the guard takes as finite
 * and never reaches). Anything else (NaN, undefined, -Infinity, a string) is
 * a broken elector and must not be mistaken for "never fence": undefined.
 */
function armArgument(deadline: unknown): string | undefined {
  if (typeof deadline !== 'number') return undefined
  if (Number.isFinite(deadline)) return deadline.toFixed(3)
  return deadline === Infinity ? '1e300' : undefined
}

function badDeadline(deadline: unknown): RangeError {
  const shown = typeof deadline === 'number' ? String(deadline) : `${typeof deadline} ${JSON.stringify(deadline) ?? String(deadline)}`
  return new RangeError(`deadline: expected a finite CLOCK_MONOTONIC instant in ms or Infinity, got ${shown}`)
}

/** 'EADDRNOTAVAIL' for its number (the guard reports errno values). */
function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name
  return `ERRNO_${errno}`
}

/** A TAKE success: "<armed> <added> <first-frame|-> <sent|->". */
function parseTakeOutcome(fields: string[]): TakeOutcome {
  const [armedAt, addedAt, first, sent] = fields
  return {
    armedAt: Number(armedAt),
    addedAt: Number(addedAt),
    ...(first !== '-' ? { firstFrameAt: Number(first) } : {}),
    sent: sent === '-' || sent === undefined ? [] : [...sent].map((c) => c === '1'),
  }
}

/** The code take() gives a refusal with this errno: declined (0, EEXIST: the host's path may try) or the errno's name. */
function takeFailureCode(errno: number): string {
  return errno === 0 || errno === constants.errno.EEXIST ? 'ERR_TAKE_DECLINED' : errnoName(errno)
}

/** The rest of a "* LOCKED <verdict> ..." line (guard.cc: OnLockAcquired). */
function parseLocked(text: string): LockWaitResult {
  const [verdict, ...fields] = text.split(' ')
  const acquiredAt = Number(fields[0])
  switch (verdict) {
    case 'taken':
      return { verdict, acquiredAt, deadline: Number(fields[1]), outcome: parseTakeOutcome(fields.slice(2)) }
    case 'failed': {
      const errno = Number(fields[2])
      return { verdict, acquiredAt, deadline: Number(fields[1]), errno, code: takeFailureCode(errno), message: `guard takeover: ${fields.slice(3).join(' ')}` }
    }
    case 'held':
      return { verdict, acquiredAt, until: Number(fields[1]) }
    case 'unrecorded':
      return { verdict, acquiredAt, errno: Number(fields[1]) }
    default:
      return { verdict: 'error', errno: Number(fields[0]), message: fields.slice(1).join(' ') || text }
  }
}

function fileId(fd: number): string {
  const stat = fstatSync(fd)
  return `${stat.dev}:${stat.ino}`
}

/** One footprint step for TAKE: the add request and the delete that undoes it (Footprint.takeSteps). */
export interface TakeStep {
  add: Buffer
  undo: Buffer
}

/** A frame of the first announcement burst, for the link `ifindex` (in the guard's namespace). */
export interface TakeFrame {
  ifindex: number
  frame: Buffer
}

/** What the guard did on TAKE: CLOCK_MONOTONIC ms instants, and which frames went out. */
export interface TakeOutcome {
  /** The deadline held (as ARM). */
  armedAt: number
  /** Every add done. */
  addedAt: number
  /** The first frame sent; undefined when none went out (link down). */
  firstFrameAt?: number
  /** Per frame of the plan, in order: sent or not. */
  sent: boolean[]
}

interface Pending {
  resolve: (reply: string) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

export class GuardProcess extends (EventEmitter as new () => TypedEmitter<GuardEvents>) {
  readonly pid: number
  private readonly child: ChildProcess
  /** Write end of the command pipe: written synchronously, see command(). */
  private commandFd: number
  /** Its device and inode, to recognise the pipe before closing the fd (it may have been closed and the number reused). */
  private readonly commandId: string
  private readonly pending = new Map<number, Pending>()
  private sequence = 0
  private exited = false
  private readonly replyTimeoutMs: number

  private constructor(child: ChildProcess, commandFd: number, replyTimeoutMs: number) {
    super()
    this.child = child
    this.commandFd = commandFd
    this.commandId = fileId(commandFd)
    this.pid = child.pid!
    this.replyTimeoutMs = replyTimeoutMs
  }

  /** Spawns the guard and resolves once it has entered the namespace and opened its netlink socket. */
  static start(options: GuardOptions = {}): Promise<GuardProcess> {
    const args: string[] = []
    if (options.netns) args.push('--netns', options.netns)
    const [readFd, writeFd] = addon.createPipe() as [number, number]
    const stdio: Array<'pipe' | 'ignore' | number> = [readFd, 'pipe', 'pipe', options.lockFd ?? 'ignore', options.lifeline?.fd ?? 'ignore']
    if (options.lockFd !== undefined) args.push('--lock-fd')
    if (options.lifeline) args.push('--lifeline-fd')
    if (options.nice) args.push('--nice', String(options.nice))
    let child: ChildProcess
    try {
      child = spawn(loadNative().guardPath, args, { stdio })
    } finally {
      closeSync(readFd) // the guard has its copy; ours would hide the EOF
    }
    const guard = new GuardProcess(child, writeFd, options.replyTimeoutMs ?? 2000)
    return new Promise((resolve, reject) => {
      let ready = false
      const stderr: string[] = []
      createInterface({ input: child.stderr! }).on('line', (line) => {
        stderr.push(line)
        guard.emit('log', line)
      })
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!ready && line.startsWith('* READY')) {
          ready = true
          resolve(guard)
          return
        }
        guard.onLine(line)
      })
      child.once('error', (error) => {
        if (!ready) reject(error)
      })
      child.once('exit', (code, signal) => {
        guard.exited = true
        guard.closeCommandPipe()
        for (const [, p] of guard.pending) {
          clearTimeout(p.timer)
          p.reject(Object.assign(new Error('guard process exited'), { code: 'ERR_GUARD_EXITED' }))
        }
        guard.pending.clear()
        if (!ready) {
          reject(new Error(`guard process failed to start (exit ${code ?? signal}): ${stderr.join(' ')}`))
        } else {
          guard.emit('exit', code, signal)
        }
      })
    })
  }

  get alive(): boolean {
    return !this.exited
  }

  /**
   * Replaces the takeover plan that take() executes: the footprint's adds
   * (with their undo) and the first burst's frames. Resolves false when this
   * guard does not know TAKE (an older build): take() is then not to be used.
   */
  async setTakePlan(steps: TakeStep[], frames: TakeFrame[]): Promise<boolean> {
    try {
      await this.command('TAKECLEAR')
    } catch (error) {
      if (/unknown command/.test((error as Error).message)) return false
      throw error
    }
    for (const step of steps) await this.command(`TAKEADD ${step.add.toString('hex')} ${step.undo.toString('hex')}`)
    for (const { ifindex, frame } of frames) await this.command(`TAKEFRAME ${ifindex} ${frame.toString('hex')}`)
    return steps.length > 0
  }

  /**
   * The takeover in one command: the guard arms `deadline` exactly as arm()
   * does, adds the plan's footprint with address lifetime `lifetimeS` (whole
   * seconds, or Infinity: none) all or nothing, and sends the first burst.
   * Written synchronously like arm(). Rejects with the kernel's errno as
   * `code` ('EADDRNOTAVAIL', ...) when an add failed: the guard then undid its
   * adds and is disarmed; `code` 'ERR_TAKE_DECLINED' when the guard took
   * nothing (no plan, armed already, deadline passed, an IPv6 VIP already on
   * the link, 'EEXIST' then): the host's own path may try.
   */
  async take(deadline: number, lifetimeS: number): Promise<TakeOutcome> {
    const argument = armArgument(deadline)
    if (argument === undefined) throw badDeadline(deadline)
    const lifetime = lifetimeS === Infinity ? 'inf' : Number.isInteger(lifetimeS) && lifetimeS >= 1 ? String(lifetimeS) : undefined
    if (lifetime === undefined) throw new RangeError(`lifetime: expected whole seconds >= 1 or Infinity, got ${lifetimeS}`)
    let reply: string
    try {
      reply = await this.command(`TAKE ${argument} ${lifetime}`)
    } catch (error) {
      const match = /^guard refused command: TAKE (\d+) (.*)$/.exec((error as Error).message)
      if (!match) throw error
      const errno = Number(match[1])
      throw Object.assign(new Error(`guard takeover: ${match[2]}`), { code: takeFailureCode(errno), errno })
    }
    return parseTakeOutcome(reply.split(' '))
  }

  /**
   * Has the guard wait for the file lock on the lock fd it shares with the
   * elector and take over the instant it gets it (see LockWaitResult and the
   * 'locked' event, which ends the wait). Resolves false when this guard does
   * not know LOCKWAIT (an older build). The plan cannot change during the
   * wait: cancel it first (lockCancel()).
   */
  async lockWait(terms: LockWaitTerms): Promise<boolean> {
    const numbers = [terms.leaseMs, terms.marginMs, terms.addWithinMs, terms.pollMs]
    if (numbers.some((n) => !Number.isFinite(n)) || !Number.isInteger(terms.lifetimeS) || terms.lifetimeS < 1 || !Number.isInteger(terms.pid)) {
      throw new RangeError(`lock wait: bad terms ${JSON.stringify(terms)}`)
    }
    try {
      await this.command(`LOCKWAIT ${terms.leaseMs.toFixed(3)} ${terms.marginMs.toFixed(3)} ${terms.lifetimeS} ${terms.addWithinMs.toFixed(3)} ${terms.pollMs.toFixed(3)} ${terms.pid} ${terms.boot}`)
      return true
    } catch (error) {
      if (/unknown command/.test((error as Error).message)) return false
      throw error
    }
  }

  /**
   * Ends a lock wait, if any. A 'locked' event of that wait, if it ended by
   * itself before, is emitted before this resolves.
   */
  lockCancel(): Promise<void> {
    return this.command('LOCKCANCEL').then(() => {})
  }

  /** Replaces the list of requests to replay when fencing. */
  async setActions(requests: Buffer[]): Promise<void> {
    await this.command('CLEAR')
    for (const request of requests) await this.command(`ACTION ${request.toString('hex')}`)
  }

  /**
   * Bytes to write at offset 0 of the lock file (fd 3) after a fence that
   * removed everything, before the lock is released: the elector's
   * "released" mark (LeaderElector.fencingRecord). Not written when a removal
   * failed, so a successor then waits out the recorded deadline.
   */
  setReleaseRecord(record: Uint8Array): Promise<void> {
    if (record.length === 0 || record.length > 4096) return Promise.reject(new RangeError(`fencingRecord: expected 1 to 4096 bytes, got ${record.length}`))
    return this.command(`RECORD ${Buffer.from(record).toString('hex')}`).then(() => {})
  }

  /**
   * Arms the guard: leadership is valid until `deadline` (CLOCK_MONOTONIC ms).
   * The command is in the pipe when this returns (a synchronous write), so the
   * guard acts on it even if this process dies right after; the promise
   * resolves when the guard confirms.
   */
  arm(deadline: number): Promise<void> {
    const argument = armArgument(deadline)
    if (argument === undefined) return Promise.reject(badDeadline(deadline))
    return this.command(`ARM ${argument}`).then(() => {})
  }

  /**
   * Moves the deadline forward without waiting for the answer (renewals are
   * frequent and only ever extend). A deadline that is neither finite nor
   * Infinity is not sent, so the one armed before stays in force; false then.
   */
  renew(deadline: number): boolean {
    const argument = armArgument(deadline)
    if (argument === undefined) return false
    this.command(`ARM ${argument}`).catch(() => {})
    return true
  }

  disarm(): Promise<void> {
    return this.command('DISARM').then(() => {})
  }

  fence(): Promise<void> {
    return this.command('FENCE').then(() => {})
  }

  ping(): Promise<void> {
    return this.command('PING').then(() => {})
  }

  /** Disarms and ends the guard (closing its stdin); resolves when it has exited. */
  async close(): Promise<void> {
    if (this.exited) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    try {
      await this.disarm()
    } catch {
      // already gone or unresponsive: closing the pipe is all that is left
    }
    this.closeCommandPipe() // EOF: the guard exits
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(timer)
  }

  /** For tests: kill the guard as an outside event would. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal)
  }

  private closeCommandPipe(): void {
    if (this.commandFd < 0) return
    const fd = this.commandFd
    this.commandFd = -1
    // Someone in this process may have closed the fd behind our back (the
    // guard then saw EOF and exited: this runs from its exit), and the number
    // may since belong to another file: close it only if it is still our pipe.
    try {
      if (fileId(fd) !== this.commandId) return
      closeSync(fd)
    } catch {
      // EBADF: already closed
    }
  }

  private command(text: string): Promise<string> {
    if (this.exited || this.commandFd < 0) {
      return Promise.reject(Object.assign(new Error('guard process is not running'), { code: 'ERR_GUARD_EXITED' }))
    }
    const seq = ++this.sequence
    const line = Buffer.from(`${seq} ${text}\n`)
    try {
      // Synchronous and short (< PIPE_BUF, so atomic): ordering with the
      // netlink changes that follow is guaranteed by the kernel, not by libuv.
      writeSync(this.commandFd, line)
    } catch (error) {
      return Promise.reject(Object.assign(new Error(`guard pipe: ${(error as Error).message}`), { code: 'ERR_GUARD_EXITED' }))
    }
    return new Promise((resolve, reject) => {
      const entry: Pending = { resolve, reject, timer: setTimeout(() => this.judge(seq, entry, text), this.replyTimeoutMs) }
      this.pending.set(seq, entry)
    })
  }

  /**
   * The reply timer has run out: reject, but only if the reply is not waiting
   * in the pipe. The timeout must measure the guard's silence, not this
   * thread's (issue 11, defect 9): a takeover that adds thousands of VIPs
   * keeps the thread busy for seconds right after arm() wrote its command; the
   * guard answers within microseconds, but its reply sits unread in the pipe,
   * and libuv runs expired timers (the first phase of a loop iteration) before
   * it polls for I/O. So the verdict waits for one poll: setImmediate runs in
   * the check phase, which comes right after the poll phase of the same
   * iteration, when every reply that was readable has been read and handled
   * (readline emits lines synchronously from the stream's data callback).
   * Rejecting then means the loop looked into the pipe at least
   * replyTimeoutMs after the write and found nothing: the guard really was
   * silent that long, however long this thread was busy in between.
   *
   * Rejected alternatives: starting the timer from a setImmediate after the
   * write only excuses the first busy stretch (a second one before the next
   * poll, say another instance's takeover in this process, counts again), and
   * comparing against the instant the reply became readable is not possible:
   * a pipe carries no timestamp, and by the time we read the reply we cannot
   * tell how long it waited.
   */
  private judge(seq: number, entry: Pending, text: string): void {
    setImmediate(() => {
      if (this.pending.get(seq) !== entry) return // answered (or the guard exited) in the meantime
      this.pending.delete(seq)
      entry.reject(Object.assign(new Error(`guard did not answer "${text.split(' ')[0]}" within ${this.replyTimeoutMs} ms`), { code: 'ETIMEDOUT' }))
    })
  }

  private onLine(line: string): void {
    if (line.startsWith('* FENCED ')) {
      const [, , reason, ok, failed] = line.split(' ')
      this.emit('fenced', reason, Number(ok), Number(failed))
      return
    }
    if (line.startsWith('* LOCKED ')) {
      this.emit('locked', parseLocked(line.slice('* LOCKED '.length)))
      return
    }
    const [seqText, status, ...rest] = line.split(' ')
    const seq = Number(seqText)
    const pending = this.pending.get(seq)
    if (!pending) return
    this.pending.delete(seq)
    clearTimeout(pending.timer)
    if (status === 'OK') pending.resolve(rest.join(' '))
    else pending.reject(new Error(`guard refused command: ${rest.join(' ')}`))
  }
}
