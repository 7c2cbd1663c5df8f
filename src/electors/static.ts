// The elector for a single replica: always leader while started.
import { ElectorEmitter, type LeaderElector } from '../elector'

/**
 * Leader from start() to stop(), with a deadline of `Infinity`: nothing else
 * can take leadership away without this process knowing. For a single replica,
 * or when something outside the process guarantees there is only one.
 *
 * @example
 * const announcer = new VipAnnouncer({ vip: '192.0.2.100', interface: 'eth0', elector: new StaticElector() })
 * await announcer.start() // elected at once: the VIP goes up
 */
export class StaticElector extends ElectorEmitter implements LeaderElector {
  private leader = false

  /** True from start() to stop(). */
  get isLeader(): boolean {
    return this.leader
  }

  /** Emits 'elected' ({ deadline: Infinity }) before it resolves. Idempotent. */
  async start(): Promise<void> {
    if (this.leader) return
    this.leader = true
    this.emit('elected', { deadline: Infinity })
  }

  /** Emits 'deposed' ('stopped') if started. Idempotent; start() may follow again. */
  async stop(): Promise<void> {
    if (!this.leader) return
    this.leader = false
    this.emit('deposed', 'stopped')
  }
}
