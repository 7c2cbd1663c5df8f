// The kernel as the fence of last resort. While this replica leads, each VIP
// carries a finite valid (= preferred) lifetime that the announcer keeps
// moving forward; if every process of the replica dies at once (a container
// runtime's kill, a cgroup-wide OOM kill: the guard dies too), nobody renews
// it and the kernel deletes the address on its own, before the lease deadline
// a successor waits for. The arithmetic lives here, pure, so it can be tested
// without a kernel; docs/architecture.md explains the formula and
// docs/address-lifetime.md the measurements behind the constants.

/**
 * How late after its valid lifetime the kernel deletes an expired address, at
 * most. The lifetime check runs on rounded, deferred timers and re-runs at
 * most once a second after any address change in the same namespace.
 * Measured on Linux 6.18 (bench/address-lifetime.bench.ts, about 4,400
 * samples a run): at most 0.76 s late in a quiet namespace, 1.19 s with other
 * address changes in it about once a second, 1.52 s once on a busy machine;
 * never 2 s. docs/address-lifetime.md has the figures.
 */
export const EXPIRY_LATENESS_MS = 2000

/**
 * The longest lifetime given. Short on purpose: the kernel's lateness grows
 * with the lifetime (its timers get coarser), and a short one is simply
 * refreshed more often.
 */
export const MAX_LIFETIME_S = 3

/** How often a leader reconsiders its VIPs' lifetimes. */
export const REFRESH_TICK_MS = 250

/**
 * Slack for a renewal that arrives a little late (the elector's round trip,
 * a busy event loop) before the VIP's lifetime would run out under it.
 */
export const RENEWAL_SLACK_MS = 250

/**
 * The kernel deletes an address up to this much before its lifetime ends:
 * ADDRCONF_TIMER_FUZZ_MINUS (HZ/50, 20 ms) plus a jiffy; measured up to
 * 24 ms early, and only when other addresses of the namespace changed.
 */
export const EARLY_EXPIRY_MS = 25

/** The shortest grant the VIP can be added under: a whole second of lifetime plus the lateness. */
export const MIN_GRANT_MS = EXPIRY_LATENESS_MS + 1000

/** The shortest lease an elector may state: a grant that arrives RENEWAL_SLACK_MS late still allows a second of lifetime. */
export const MIN_LEASE_MS = MIN_GRANT_MS + RENEWAL_SLACK_MS

/**
 * The shortest time that must remain on a lease when its next renewal is due
 * (`leaseMs - renewIntervalMs`), so that in steady state a renewal always
 * lands before the VIP's lifetime runs out: the last lifetime set under a
 * deadline ends between EXPIRY_LATENESS_MS and EXPIRY_LATENESS_MS +
 * REFRESH_TICK_MS before it, and the kernel may act EARLY_EXPIRY_MS early;
 * the renewal may be RENEWAL_SLACK_MS late.
 */
export const MIN_RENEWAL_HEADROOM_MS = EXPIRY_LATENESS_MS + REFRESH_TICK_MS + RENEWAL_SLACK_MS + EARLY_EXPIRY_MS

/**
 * The lifetime, in whole seconds, an address may be given at `now` under a
 * lease ending at `deadline` (both CLOCK_MONOTONIC ms) such that the kernel
 * deletes it, however late, by the deadline:
 *
 *   L = min(MAX_LIFETIME_S, floor((deadline - now - EXPIRY_LATENESS_MS) / 1000))
 *
 * 0 when the deadline is too close for even one second; Infinity for an
 * unlimited lease (no lifetime: the caller warns).
 */
export function lifetimeFor(deadline: number, now: number): number {
  if (deadline === Infinity) return Infinity
  const seconds = Math.floor((deadline - now - EXPIRY_LATENESS_MS) / 1000)
  return Math.max(0, Math.min(MAX_LIFETIME_S, seconds))
}

/**
 * Whether a refresh at `now` is worth a netlink request per VIP: the new
 * expiry moves at least a second forward, or the current one is less than a
 * second away and any forward move helps.
 */
export function shouldRefresh(currentExpiry: number, newExpiry: number, now: number): boolean {
  if (newExpiry <= currentExpiry) return false
  return newExpiry - currentExpiry >= 1000 || currentExpiry - now <= 1000
}

/** What an elector says about its own timing (LeaderElector.timing). */
export interface ElectorTiming {
  /** The longest a grant reaches: its deadline minus the instant the grant or renewal began, ms. */
  leaseMs: number
  /** How often the leader renews, ms. */
  renewIntervalMs: number
}

/**
 * Undefined when the timing leaves room for the kernel lifetime, else the
 * reason it does not (for a construction error naming the elector's fields).
 */
export function timingProblem(timing: ElectorTiming): string | undefined {
  const { leaseMs, renewIntervalMs } = timing
  if (leaseMs === Infinity) return undefined
  const ms = (value: number) => `${Math.round(value)} ms`
  if (leaseMs < MIN_LEASE_MS) {
    return `its grants reach ${ms(leaseMs)}; the VIP's kernel lifetime needs at least ${MIN_LEASE_MS} ms (1 s of lifetime + ${EXPIRY_LATENESS_MS} ms for the kernel's late deletion + ${RENEWAL_SLACK_MS} ms for a late grant)`
  }
  const headroom = leaseMs - renewIntervalMs
  if (headroom < MIN_RENEWAL_HEADROOM_MS) {
    return `a lease of ${ms(leaseMs)} renewed every ${ms(renewIntervalMs)} has ${ms(headroom)} left when the renewal is due; the VIP's kernel lifetime needs at least ${MIN_RENEWAL_HEADROOM_MS} ms (renew more often or lengthen the lease)`
  }
  return undefined
}
