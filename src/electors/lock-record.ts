// The record at the start of the file-lock elector's lock file: until when
// the holder may have a VIP configured, or that it let go cleanly. flock(2)
// tells a successor only that the holder's file descriptions are closed; if
// every process of the holder died at once (the guard too), its VIP may still
// be on an interface until the kernel's lifetime deletes it, at the latest at
// the deadline recorded here. So a successor that finds a `held` record waits
// that instant out; one that finds `released` (written by the elector's
// stop() or by the guard after a complete fence) takes over at once.
import { readFileSync } from 'node:fs'

/** Fixed size, so each write replaces the whole record in place (pwrite at offset 0). */
export const RECORD_BYTES = 128
const MAGIC = 'vip-announcer-lock/1'

export type LockRecord =
  | { state: 'held'; until: number; boot: string; pid: number }
  | { state: 'released'; boot: string; pid: number }

/**
 * This boot's id: CLOCK_MONOTONIC instants are only comparable within one
 * boot, and after a reboot no VIP of the old holder can still be configured.
 */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return 'unknown'
  }
}

/** The instant is rounded up to the microsecond: a successor never waits less than it must. */
export function encodeRecord(record: LockRecord): Buffer {
  const fields = [MAGIC, record.state, record.state === 'held' ? (Math.ceil(record.until * 1000) / 1000).toFixed(3) : '-', record.boot, String(record.pid)]
  const text = fields.join(' ')
  if (text.length > RECORD_BYTES - 1) throw new RangeError('lock record too long')
  return Buffer.from(text.padEnd(RECORD_BYTES - 1, ' ') + '\n', 'ascii')
}

/**
 * The record in `bytes`, or undefined when there is none (a new, empty file)
 * or it is not ours: a file an older version locked without records, which
 * had no kernel lifetime to wait for either.
 */
export function decodeRecord(bytes: Buffer): LockRecord | undefined {
  const fields = bytes.toString('ascii').trim().split(/ +/)
  if (fields.length !== 5 || fields[0] !== MAGIC) return undefined
  const [, state, until, boot, pidText] = fields
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid < 0 || boot.length === 0) return undefined
  if (state === 'released') return { state, boot, pid }
  const instant = Number(until)
  if (state !== 'held' || !Number.isFinite(instant)) return undefined
  return { state, until: instant, boot, pid }
}

/**
 * How long a successor must wait before it may add the VIP, given the record
 * it found on taking the lock: 0 for none, a clean release, another boot or a
 * deadline already past.
 */
export function waitBeforeTakeover(record: LockRecord | undefined, boot: string, now: number): number {
  if (!record || record.state === 'released' || record.boot !== boot) return 0
  return Math.max(0, record.until - now)
}
