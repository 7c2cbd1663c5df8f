// The etcd of a chaos run: one member inside its own namespace on the
// management network, on fixed ports and one data directory, so it can be
// frozen (SIGSTOP), or SIGKILLed and restarted as the same member with its
// data (leases and the leader key survive a restart, as in production).
// test/support/etcd-runner.ts starts a fresh member per call on loopback,
// which the replicas, inside their namespaces, cannot reach.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ETCD_BINARY } from '../support/etcd-runner'
import type { LabHost } from '../lab/lab'
import { waitFor } from '../support/wait'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export class ChaosEtcd {
  readonly clientUrl: string
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-chaos-etcd-'))
  /** Every pid this etcd ever had, for the leak check. */
  readonly pids: number[] = []
  private child?: ChildProcess
  private logTail: string[] = []

  constructor(readonly host: LabHost, readonly address: string) {
    this.clientUrl = `http://${address}:2379`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get log(): string {
    return this.logTail.join('\n')
  }

  /** Starts (or restarts, with the same data) and waits until a client can write. */
  async start(timeoutMs = 20_000): Promise<void> {
    const peer = `http://${this.address}:2380`
    const child = spawn('ip', ['netns', 'exec', this.host.name, ETCD_BINARY,
      '--name', 'chaos', '--data-dir', this.dataDir,
      '--listen-client-urls', this.clientUrl, '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `chaos=${peer}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.pids.push(child.pid!)
    const keep = (chunk: Buffer) => {
      this.logTail.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      this.logTail = this.logTail.slice(-30)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    await waitFor('etcd healthy', () => {
      if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${this.log}`)
      return this.healthy()
    }, timeoutMs, 100)
  }

  // Asynchronous: a synchronous curl would stall the runner's loop (and its samplers' reading).
  private async healthy(): Promise<boolean> {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', this.host.name, 'curl', '-s', '-m', '1', `${this.clientUrl}/health`]).catch(() => ({ stdout: '' }))
    return /"health":\s*"true"/.test(stdout)
  }

  freeze(): void {
    process.kill(this.child!.pid!, 'SIGSTOP')
  }

  thaw(): void {
    process.kill(this.child!.pid!, 'SIGCONT')
  }

  /** SIGKILL; resolves once the process is reaped. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      try {
        process.kill(child.pid!, 'SIGCONT')
      } catch {
        // gone already
      }
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }
}
