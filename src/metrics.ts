// Prometheus metrics through prom-client, an optional peer dependency: the
// host passes its own registry (and its prom-client), so metrics land next to
// the host's own and no second copy of prom-client is loaded.
import type { VipAnnouncer } from './announcer'

/** The part of prom-client this module uses (v14+). */
export interface PromClientLike {
  /** prom-client's Gauge class: the leader flag and the last takeover time. */
  Gauge:
    /** Creates a gauge and registers it in `config.registers`. */
    new (config: { name: string; help: string; labelNames?: readonly string[]; registers?: any[] }) => {
      /** Sets the gauge for one label set. */
      set(labels: Record<string, string>, value: number): void
    }
  /** prom-client's Counter class: transitions, frames, restores, fences, errors. */
  Counter:
    /** Creates a counter and registers it in `config.registers`. */
    new (config: { name: string; help: string; labelNames?: readonly string[]; registers?: any[] }) => {
      /** Adds `value` (default 1) for one label set. */
      inc(labels: Record<string, string>, value?: number): void
    }
}

/** Options of {@link registerMetrics}. */
export interface MetricsOptions {
  /** A prom-client Registry. */
  registry: unknown
  /** The prom-client module; loaded with require('prom-client') when omitted. */
  client?: PromClientLike
  /** Metric name prefix. Default 'vip_announcer_'. */
  prefix?: string
}

/**
 * Registers metrics for one announcer: leader state, transitions,
 * announcements sent, restores, fences, errors and the last takeover time.
 * Labels: `interface` (and `kind` on announcements).
 */
export function registerMetrics(announcer: VipAnnouncer, options: MetricsOptions): void {
  let client = options.client
  if (!client) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      client = require('prom-client') as PromClientLike
    } catch {
      throw Object.assign(new Error("registerMetrics needs prom-client: npm install prom-client (or pass `client`)"), { code: 'ERR_MISSING_PEER' })
    }
  }
  const prefix = options.prefix ?? 'vip_announcer_'
  const registers = [options.registry]
  const iface = { interface: announcer.interfaceName }
  const leader = new client.Gauge({ name: `${prefix}leader`, help: '1 while this replica holds the VIP', labelNames: ['interface'], registers })
  const transitions = new client.Counter({ name: `${prefix}transitions_total`, help: 'Leader/follower transitions', labelNames: ['interface'], registers })
  const frames = new client.Counter({ name: `${prefix}announcements_total`, help: 'Announcement frames sent', labelNames: ['interface', 'kind'], registers })
  const restores = new client.Counter({ name: `${prefix}restores_total`, help: 'Footprint items (VIPs, their rules, table routes) re-added after an outside removal', labelNames: ['interface'], registers })
  const fences = new client.Counter({ name: `${prefix}fences_total`, help: 'VIP removals by the guard (lease deadline passed)', labelNames: ['interface'], registers })
  const conflicts = new client.Counter({ name: `${prefix}conflicts_total`, help: 'Other hosts found answering for a VIP (docs/conflicts.md)', labelNames: ['interface', 'policy'], registers })
  const conflicting = new client.Gauge({ name: `${prefix}conflict`, help: '1 while another host is known to answer for a VIP', labelNames: ['interface'], registers })
  const errors = new client.Counter({ name: `${prefix}errors_total`, help: 'Errors reported by the announcer', labelNames: ['interface'], registers })
  const takeover = new client.Gauge({ name: `${prefix}last_takeover_seconds`, help: 'From elected to the first announcement, last takeover', labelNames: ['interface'], registers })

  leader.set(iface, announcer.isLeader ? 1 : 0)
  announcer.on('leader', (event) => {
    leader.set(iface, 1)
    transitions.inc(iface)
    takeover.set(iface, event.takeoverMs / 1000)
  })
  announcer.on('follower', () => {
    leader.set(iface, 0)
    transitions.inc(iface)
  })
  announcer.on('announced', (event) => {
    // Frames are split evenly over the kinds sent in one announcement.
    const each = event.count / event.kinds.length
    for (const kind of event.kinds) frames.inc({ ...iface, kind }, each)
  })
  announcer.on('restored', () => restores.inc(iface))
  announcer.on('fenced', () => fences.inc(iface))
  conflicting.set(iface, 0)
  announcer.on('conflict', (event) => {
    conflicts.inc({ ...iface, policy: event.policy })
    conflicting.set(iface, 1)
  })
  announcer.on('conflict-cleared', (event) => conflicting.set(iface, event.remaining > 0 ? 1 : 0))
  announcer.on('error', () => errors.inc(iface))
}
