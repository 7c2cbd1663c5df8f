// When to announce a VIP: a burst at takeover, a few repeats about a second
// apart (peers that missed the burst, switches that were still learning), then
// an optional periodic refresh while leader. One schedule per VIP, so a VIP
// restored after an outside removal restarts its own cycle without disturbing
// the others.
import { invalidType, outOfRange, validateInteger } from './net/validate'

/**
 * When a leader announces each VIP: a burst when a cycle starts (takeover,
 * restore, link up), `repeats` single announcements `repeatIntervalMs` apart,
 * then one every `refreshIntervalMs`. Integers; out-of-range values throw a
 * RangeError at construction.
 */
export interface AnnounceScheduleOptions {
  /** Frames of each kind sent at once when a cycle starts (takeover, restore, link up), 1 to 10. Default 1. */
  burst?: number
  /** Further announcements after the burst, 0 to 100. Default 3. */
  repeats?: number
  /** Spacing of those repeats, ms, 10 to 3600000. Default 1000. */
  repeatIntervalMs?: number
  /** Periodic refresh while leader, ms, 100 to 86400000; 0 turns it off. Default 30000. */
  refreshIntervalMs?: number
}

/**
 * Why an announcement was sent: 'takeover' (this replica became leader),
 * 'repeat' (the follow-ups after a burst), 'refresh' (periodic, while leader),
 * 'restore' (a VIP removed from outside was put back), 'link-up' (the
 * interface came back up).
 */
export type AnnounceReason = 'takeover' | 'repeat' | 'refresh' | 'restore' | 'link-up' | 'defend'

export interface ResolvedSchedule {
  burst: number
  repeats: number
  repeatIntervalMs: number
  refreshIntervalMs: number
}

export function resolveSchedule(options: AnnounceScheduleOptions = {}): ResolvedSchedule {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    invalidType('announce', 'an object such as { repeats: 3, repeatIntervalMs: 1000 }', options)
  }
  const resolved = {
    burst: options.burst ?? 1,
    repeats: options.repeats ?? 3,
    repeatIntervalMs: options.repeatIntervalMs ?? 1000,
    refreshIntervalMs: options.refreshIntervalMs ?? 30000,
  }
  const check = (name: keyof ResolvedSchedule, min: number, max: number) => validateInteger(resolved[name], `announce.${name}`, min, max)
  check('burst', 1, 10)
  check('repeats', 0, 100)
  check('repeatIntervalMs', 10, 3_600_000)
  check('refreshIntervalMs', 0, 86_400_000)
  if (resolved.refreshIntervalMs > 0 && resolved.refreshIntervalMs < 100) {
    outOfRange('announce.refreshIntervalMs', resolved.refreshIntervalMs, '0 (off) or at least 100')
  }
  return resolved
}

/**
 * Runs one VIP's announcement cycle: `announce(reason, count)` now, then the
 * repeats, then the refresh. `cancel()` stops it; `restart(reason)` begins a new
 * cycle (restores, carrier return).
 */
export class AnnounceSchedule {
  private timer: NodeJS.Timeout | undefined
  private cancelled = false

  constructor(
    private readonly schedule: ResolvedSchedule,
    private readonly announce: (reason: AnnounceReason, count: number) => void,
  ) {}

  start(reason: AnnounceReason): void {
    this.clear()
    this.cancelled = false
    this.announce(reason, this.schedule.burst)
    this.next(this.schedule.repeats)
  }

  /** start() for a cycle whose burst was sent elsewhere (the guard's takeover): the repeats and refresh only. */
  startAfterBurst(): void {
    this.clear()
    this.cancelled = false
    this.next(this.schedule.repeats)
  }

  cancel(): void {
    this.cancelled = true
    this.clear()
  }

  private next(repeatsLeft: number): void {
    if (this.cancelled) return
    if (repeatsLeft > 0) {
      this.timer = setTimeout(() => {
        this.announce('repeat', 1)
        this.next(repeatsLeft - 1)
      }, this.schedule.repeatIntervalMs)
    } else if (this.schedule.refreshIntervalMs > 0) {
      this.timer = setTimeout(() => {
        this.announce('refresh', 1)
        this.next(0)
      }, this.schedule.refreshIntervalMs)
    }
    // Timers never keep the host alive on their own: the host decides its lifetime.
    this.timer?.unref()
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}
