// An elector the test drives by hand, to put the announcer through exact
// leadership sequences (elected, renewals that stop, deposed).
import { ElectorEmitter, type LeaderElector } from '../../src/elector'
import { monotonicNow } from '../../src/clock'

export class ManualElector extends ElectorEmitter implements LeaderElector {
  isLeader = false
  started = false
  stopped = 0

  async start(): Promise<void> {
    this.started = true
  }

  async stop(): Promise<void> {
    this.stopped++
    if (this.isLeader) this.depose('stopped')
    this.started = false
  }

  /** Elected with a lease of `leaseMs` from now (Infinity for no deadline). */
  elect(leaseMs = Infinity): number {
    this.isLeader = true
    const deadline = monotonicNow() + leaseMs
    this.emit('elected', { deadline })
    return deadline
  }

  renew(leaseMs: number): number {
    const deadline = monotonicNow() + leaseMs
    this.emit('renewed', { deadline })
    return deadline
  }

  depose(reason = 'test'): void {
    if (!this.isLeader) return
    this.isLeader = false
    this.emit('deposed', reason)
  }
}
