// Runs test/fixtures/replica.ts as a separate process inside a namespace (as a
// pod would run), so tests can SIGKILL, SIGSTOP or block it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { LabHost } from '../lab/lab'

const fixture = path.join(__dirname, '..', 'fixtures', 'replica.ts')

export interface ReplicaEvent {
  event: string
  at: number
  pid: number
  [key: string]: unknown
}

export class ReplicaProcess extends EventEmitter {
  readonly events: ReplicaEvent[] = []
  readonly stderr: string[] = []
  private constructor(readonly child: ChildProcess, readonly host: LabHost) {
    super()
  }

  get pid(): number {
    return this.child.pid!
  }

  /**
   * Starts a replica inside `host`'s namespace, or (`fromRoot`) in this
   * process's namespace with --netns, so it can reach services on loopback
   * (etcd, the fake API server) while it manages the VIP in `host`.
   */
  static async start(host: LabHost, args: string[], timeoutMs = 15000, options: { fromRoot?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<ReplicaProcess> {
    const node = [process.execPath, '--import', 'tsx', fixture, '--name', host.name, ...args]
    const child = options.fromRoot
      ? spawn(node[0], [...node.slice(1), '--netns', host.path], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
      : spawn('ip', ['netns', 'exec', host.name, ...node], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
    const replica = new ReplicaProcess(child, host)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as ReplicaEvent
        replica.events.push(event)
        replica.emit('event', event)
      } catch {
        replica.stderr.push(line)
      }
    })
    createInterface({ input: child.stderr! }).on('line', (line) => replica.stderr.push(line))
    await replica.waitFor('started', timeoutMs)
    return replica
  }

  /** Resolves with the first event named `name` (already seen or future). */
  waitFor(name: string, timeoutMs = 5000, filter: (e: ReplicaEvent) => boolean = () => true, after = 0): Promise<ReplicaEvent> {
    const seen = this.events.find((e, i) => i >= after && e.event === name && filter(e))
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', listener)
        reject(new Error(`${this.host.name}: no '${name}' within ${timeoutMs} ms; events: ${this.events.map((e) => e.event).join(',')}; stderr: ${this.stderr.slice(-5).join(' | ')}`))
      }, timeoutMs)
      const listener = (e: ReplicaEvent) => {
        if (e.event !== name || !filter(e)) return
        clearTimeout(timer)
        this.off('event', listener)
        resolve(e)
      }
      this.on('event', listener)
      this.child.once('exit', () => {
        // let the timeout report it with the collected output
      })
    })
  }

  send(command: string): void {
    this.child.stdin!.write(command + '\n')
  }

  /** The node process itself (ip netns exec execs into it, so the pid is the same). */
  kill(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal)
  }

  /** Pid of this replica's guard process. */
  guardPid(): number | undefined {
    try {
      const out = execFileSync('pgrep', ['-P', String(this.pid), 'vip_guard'], { encoding: 'utf8' })
      return Number(out.trim().split('\n')[0]) || undefined
    } catch {
      return undefined
    }
  }

  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => this.child.once('exit', () => resolve()))
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    try {
      process.kill(this.pid, 'SIGCONT')
      this.kill('SIGTERM')
    } catch {
      return
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await this.exited()
    clearTimeout(timer)
  }
}
