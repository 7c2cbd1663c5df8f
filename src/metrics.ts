// Prometheus metrics through prom-client, an optional peer dependency: the
// host passes its own registry (and its prom-client), so metrics land next to
// the host's own and no second copy of prom-client is loaded.
import type { VipAnnouncer } from './announcer'

/** The part of prom-client this module uses (v14+). */
export interface PromClientLike {
  /** prom-client's Gauge class: the leader flag and the last takeover time. */
  Gauge:
    /** Creates a gauge and registers it in `config.registers`; `collect` runs before each scrape. */
    new (config: { name: string; help: string; labelNames?: readonly string[]; registers?: any[]; collect?: () => void }) => {
      /** Sets the gauge for one label set. */
      set(labels: Record<string, string>, value: number): void
    }
  /** prom-client's Histogram class: the phases of each takeover and each removal. */
  Histogram:
    /** Creates a histogram and registers it in `config.registers`. */
    new (config: { name: string; help: string; labelNames?: readonly string[]; buckets?: number[]; registers?: any[] }) => {
      /** Records one observation for one label set. */
      observe(labels: Record<string, string>, value: number): void
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
 * Seconds: takeovers take tens of microseconds to a few milliseconds here, a
 * slow host or a big footprint up to a second.
 */
const PHASE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2]

/**
 * Registers metrics for one announcer: leader state, health, transitions,
 * announcements sent, restores, fences, errors, the last takeover time and
 * histograms of each takeover's phases and each removal. Labels: `interface`
 * (and `kind` on announcements, `phase` on takeover phases, `condition` on
 * health).
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
  const phases = new client.Histogram({
    name: `${prefix}takeover_phase_seconds`,
    help: 'Each takeover step: arm (elected until the guard holds the deadline), footprint (VIPs, rules, routes added), first_frame (until the first announcement), total',
    labelNames: ['interface', 'phase'],
    buckets: PHASE_BUCKETS,
    registers,
  })
  const removal = new client.Histogram({ name: `${prefix}removal_seconds`, help: 'Removing the VIPs, rules and routes when stepping down', labelNames: ['interface'], buckets: PHASE_BUCKETS, registers })
  const conditions = ['announcing', 'not-leader', 'degraded'] as const
  const health: { set(labels: Record<string, string>, value: number): void } = new client.Gauge({
    name: `${prefix}health`,
    help: '1 for the current condition of announcer.health(): announcing, not-leader or degraded',
    labelNames: ['interface', 'condition'],
    registers,
    // Judged at scrape time, from the kernel's view of the interface.
    collect: () => {
      const now = announcer.health().condition
      for (const condition of conditions) health.set({ ...iface, condition }, condition === now ? 1 : 0)
    },
  })

  leader.set(iface, announcer.isLeader ? 1 : 0)
  announcer.on('leader', (event) => {
    leader.set(iface, 1)
    transitions.inc(iface)
    takeover.set(iface, event.takeoverMs / 1000)
    phases.observe({ ...iface, phase: 'arm' }, event.phases.armMs / 1000)
    phases.observe({ ...iface, phase: 'footprint' }, event.phases.footprintMs / 1000)
    phases.observe({ ...iface, phase: 'first_frame' }, event.phases.firstFrameMs / 1000)
    phases.observe({ ...iface, phase: 'total' }, event.takeoverMs / 1000)
  })
  announcer.on('follower', (event) => {
    leader.set(iface, 0)
    transitions.inc(iface)
    removal.observe(iface, event.removalMs / 1000)
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
