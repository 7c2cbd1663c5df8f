// What the facade makes of a dump's answer; the addon only reports it
// (native/netlink_binding.cc hands back null for an interrupted dump, and the
// kernel's errors as they are).
import { constants } from 'node:os'
import type { NetlinkError } from './netlink'

/** Dumps asked for before giving up on a consistent one. @internal */
export const DUMP_ATTEMPTS = 4

/**
 * Runs `list` until it returns a list. A null is a dump the kernel flagged
 * NLM_F_DUMP_INTR (its tables changed while it ran): not a consistent
 * snapshot, so it is asked for again, up to DUMP_ATTEMPTS times in all, then
 * refused with EAGAIN rather than handing out a list that may miss or repeat
 * entries.
 * @internal
 */
export function consistentDump<T>(request: string, list: () => T[] | null): T[] {
  for (let attempt = 1; ; attempt++) {
    const items = list()
    if (items !== null) return items
    if (attempt === DUMP_ATTEMPTS) throw dumpInterrupted(request, attempt)
  }
}

// Shaped and worded as the addon's SystemErrors (native/errors.cc).
function dumpInterrupted(syscall: string, attempts: number): NetlinkError {
  const reason = `dump interrupted by concurrent changes ${attempts} times`
  return Object.assign(new Error(`${syscall} EAGAIN (Resource temporarily unavailable): ${reason}`), {
    code: 'EAGAIN',
    errno: -constants.errno.EAGAIN,
    syscall,
    reason,
  })
}

/**
 * A filtered dump of a routing table that does not exist (yet) is ENOENT from
 * some kernels and families; to a caller that is simply "no routes".
 * @internal
 */
export function routesOfTable<T>(table: number | undefined, list: () => T[]): T[] {
  try {
    return list()
  } catch (error) {
    if (table !== undefined && (error as NetlinkError).code === 'ENOENT') return []
    throw error
  }
}
