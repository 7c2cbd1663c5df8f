// Runs test/fixtures/replica.ts as a separate process inside a namespace (as a
// pod would run), so tests can SIGKILL, SIGSTOP or block it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { LabHost } from '../lab/lab'
import { cgroupOf, createCgroup, inCgroup, type Cgroup } from './cgroup'

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
  private constructor(readonly child: ChildProcess, readonly host: LabHost, readonly cgroup?: Cgroup) {
    super()
  }

  get pid(): number {
    return this.child.pid!
  }

  /**
   * Starts a replica inside `host`'s namespace, or (`fromRoot`) in this
   * process's namespace with --netns, so it can reach services on loopback
   * (etcd, the fake API server) while it manages the VIP in `host`.
   *
   * `cgroup`: the replica runs in a fresh cgroup v2 group of its own
   * (`replica.cgroup`) from its first instruction, so everything it forks,
   * its guard included, is a member: `killContainer()` kills them all at once,
   * as a container runtime does. The group is removed by `stop()` and, at the
   * latest, when the test process exits.
   */
  static async start(host: LabHost, args: string[], timeoutMs = 15000, options: { fromRoot?: boolean; env?: NodeJS.ProcessEnv; cgroup?: boolean } = {}): Promise<ReplicaProcess> {
    const node = [process.execPath, '--import', 'tsx', fixture, '--name', host.name, ...args]
    const argv = options.fromRoot ? [...node, '--netns', host.path] : ['ip', 'netns', 'exec', host.name, ...node]
    const group = options.cgroup ? createCgroup('vip-replica') : undefined
    // sh moves itself into the group, then execs: same pid, and every process forked later is a member.
    const [command, ...rest] = group ? inCgroup(group, argv) : argv
    const child = spawn(command, rest, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
    const replica = new ReplicaProcess(child, host, group)
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
    if (group) {
      const member = cgroupOf(replica.pid)
      if (member === undefined || !group.path.endsWith(member)) throw new Error(`${host.name}: replica ${replica.pid} is in cgroup ${member}, not ${group.path}`)
    }
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

  /**
   * Kills every process of the replica's cgroup at once (cgroup.kill: the node
   * process and its guard together, nothing gets to clean up), as a container
   * runtime does, and resolves when the group is empty and the node process
   * has been reaped. Needs `start(..., { cgroup: true })`. `frozen`: freeze
   * the group first, so the guard cannot act in the moment it outlives node.
   */
  async killContainer(timeoutMs = 5000, options: { frozen?: boolean } = {}): Promise<void> {
    if (!this.cgroup) throw new Error(`${this.host.name}: killContainer() needs ReplicaProcess.start(..., { cgroup: true })`)
    await this.cgroup.kill(timeoutMs, options)
    await this.exited()
  }

  async stop(): Promise<void> {
    try {
      await this.stopProcess()
    } finally {
      if (this.cgroup && !this.cgroup.removed) {
        // The guard outlives its host for a moment (it fences, then exits on
        // the pipe's EOF): let it finish before whatever is left is killed.
        await this.cgroup.waitUntilEmpty(2000)
        await this.cgroup.remove()
      }
    }
  }

  private async stopProcess(): Promise<void> {
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
