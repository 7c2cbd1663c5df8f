// The announcer's public vocabulary: its states, the payloads of its events,
// its health and its counters.
import type { AnnounceReason } from '../schedule'

/**
 * Where a VipAnnouncer is in its life: 'stopped' (before `start()`, after
 * `stop()` or a failed start), 'starting', 'follower' (campaigning, VIP not
 * held), 'leader' (VIP on the interface) and 'stopping'.
 */
export type AnnouncerState = 'stopped' | 'starting' | 'follower' | 'leader' | 'stopping'

/** Payload of the 'leader' event. */
export interface LeaderEvent {
  /** The VIPs now on the interface, in canonical text form. */
  vips: string[]
  /** The interface name they are on. */
  interface: string
  /** CLOCK_MONOTONIC ms until which this replica may hold the VIP. */
  deadline: number
  /** From the elector's verdict to the first announcement frame sent, ms. */
  takeoverMs: number
  /** The same time, step by step (they add up to `takeoverMs`). */
  phases: TakeoverPhases
  /**
   * Who performed the takeover: 'guard' (the guard process armed, added the
   * footprint and sent the first burst on one command; the phases are its
   * timestamps) or 'host' (this thread did, step by step: a guard without the
   * plan, or one that declined).
   */
  takenBy: 'guard' | 'host'
  /**
   * True when the guard was waiting for the file lock and took over the
   * instant it got it, before this thread heard of the election
   * (FileLockElector's `guardLockWait`): `takeoverMs` then counts from the
   * guard's flock.
   */
  takenAtLock: boolean
}

/**
 * How long each step of a takeover took, ms: elected → armed → footprint on
 * the host → first frame sent. Exported to Prometheus as histograms by
 * `registerMetrics`.
 */
export interface TakeoverPhases {
  /** From the elector's verdict until the guard holds the removal and the deadline: the queue, a start-up probe, the pipe write. */
  armMs: number
  /** From then until the VIPs, their rules and routes are on the host (netlink). */
  footprintMs: number
  /** From then until the first announcement frame was sent. */
  firstFrameMs: number
}

/** Payload of the 'follower' event. */
export interface FollowerEvent {
  /** Why: 'deposed: …', 'stopping', 'lease deadline reached without renewal', 'fenced by guard (…)', ... */
  reason: string
  /** How long removing the VIPs, rules and routes took, ms (0 when the guard or the kernel had already removed them). */
  removalMs: number
}

/**
 * One answer to "is this replica doing its job right now?", for a readiness
 * probe or an alert: 'announcing' (leader, every VIP on a working link),
 * 'not-leader' (a follower able to take over, or not running), 'degraded'
 * (something is wrong; `reasons` say what).
 */
export interface AnnouncerHealth {
  condition: 'announcing' | 'not-leader' | 'degraded'
  /** Empty for 'announcing' and a healthy follower; the state for a replica not running. */
  reasons: string[]
  state: AnnouncerState
}

/** Payload of the 'announced' event: one announcement of one VIP. */
export interface AnnouncedEvent {
  /** The VIP announced. */
  vip: string
  /** Frame kinds sent: the configured ARP forms for IPv4, 'neighbour-advertisement' for IPv6. */
  kinds: Array<'arp-request' | 'arp-reply' | 'neighbour-advertisement'>
  /** Frames sent. */
  count: number
  /** Which step of the announcement schedule this was. */
  reason: AnnounceReason
}

/** Payload of the 'restored' event: one part of the footprint, removed from outside, put back. */
export interface RestoredEvent {
  /** What was put back: a VIP's address, its `from VIP` rule, or a route of the policy-routing table. */
  kind: 'address' | 'rule' | 'route'
  /**
   * It, as `ip` would name it: 'address 192.0.2.100/32', 'rule from
   * 192.0.2.100/32 lookup 30100 priority 1000', 'route default via 192.0.2.1 table 30100'.
   */
  item: string
  /** The VIP it belongs to (kind 'address' and 'rule'); a table route serves every VIP of its family. */
  vip?: string
  /** From the removal's notification to the item being back, ms. */
  delayMs: number
}

/** Events of a VipAnnouncer, each with its listener's arguments. */
export type AnnouncerEvents = {
  /**
   * This replica took the VIP: it is on the interface (with its rule and
   * routes) and the takeover announcement has been sent, or attempted if the
   * link is down.
   */
  leader: (event: LeaderEvent) => void
  /**
   * The VIP, its rule and routes were removed from this host (only after
   * 'leader'). `reason` says why: 'deposed: …' with the elector's reason,
   * 'stopping', 'lease deadline reached without renewal', 'fenced by guard (…)',
   * 'interface removed', 'guard process died', ...
   */
  follower: (event: FollowerEvent) => void
  /** Announcement frames for one VIP were sent (also for each repeat and refresh). */
  announced: (event: AnnouncedEvent) => void
  /**
   * A VIP, its rule or a table route, removed from outside while leader, was
   * put back (one event per item).
   */
  restored: (event: RestoredEvent) => void
  /**
   * Another host answers for a VIP (docs/conflicts.md): `mac` is its MAC,
   * `since` the CLOCK_MONOTONIC ms of the first evidence. With the 'yield'
   * policy the VIP is given up ('follower', reason 'conflict: …') until
   * nobody else answers; with 'defend' it is kept and announced again.
   */
  conflict: (event: { vip: string; mac: string; since: number; policy: 'yield' | 'defend' }) => void
  /** That host no longer answers for that VIP (after 'conflict'); `remaining` conflicts are still known. */
  'conflict-cleared': (event: { vip: string; mac: string; remaining: number }) => void
  /** Interface state: 'missing' (waiting for it), 'present', 'down' (no carrier), 'up', 'gone'. */
  link: (event: { interface: string; state: 'missing' | 'present' | 'down' | 'up' | 'gone' }) => void
  /** The guard removed the VIP because the lease deadline passed unrenewed. */
  fenced: (event: { reason: string }) => void
  /** Leftovers of an earlier run removed at start. */
  cleaned: (event: { removed: string[] }) => void
  /**
   * A failure the announcer carries on after: a netlink, guard or elector
   * error, or a failed transition. Unlike a plain EventEmitter, the announcer
   * emits 'error' only while someone listens; otherwise it only logs it.
   */
  error: (error: Error) => void
}

/** Counters since the announcer was constructed, as returned by `VipAnnouncer.metrics()`. */
export interface AnnouncerStats {
  /** The current state. */
  state: AnnouncerState
  /** True while the VIP is on this host. */
  isLeader: boolean
  /** Changes between follower and leader, counting both directions. */
  transitions: number
  /** Announcement frames sent (gratuitous ARP and neighbour advertisements). */
  framesSent: number
  /** Items of the footprint (VIPs, their rules, table routes) put back after something outside removed them: one per 'restored' event. */
  restores: number
  /** Times the guard process removed the VIP because the lease was not renewed in time. */
  fences: number
  /** Other hosts found answering for a VIP (one per VIP and MAC until it clears). */
  conflicts: number
  /** Defensive announcements sent under the 'defend' policy. */
  defenses: number
  /** Errors reported, whether or not an 'error' listener was attached. */
  errors: number
  /** From the elector's verdict to the first announcement frame of the last takeover, ms; undefined before the first. */
  lastTakeoverMs: number | undefined
}
