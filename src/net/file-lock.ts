// An exclusive flock(2) on one file with an inotify watch; see native/flock.cc
// and docs/packets.md for why it is built this way.
import { addon } from './binding'

/** inotify events a watch reports (IN_* names in kebab case). */
export type LockFileEvent =
  | 'close-write'
  | 'close-nowrite'
  | 'modify'
  | 'attrib'
  | 'delete-self'
  | 'move-self'
  | 'ignored'
  | 'queue-overflow'

interface NativeFileLock {
  readonly fd: number
  readonly path: string
  tryLock(): boolean
  unlock(): void
  isCurrent(): boolean
  watch(callback: (error: Error | null, mask?: number) => void): void
  unwatch(): void
  close(): void
}
const native = addon as {
  FileLock: new (path: string) => NativeFileLock
  inotifyEvents: Record<string, number>
}

// Built on first watch: reading the addon's constants loads it (binding.ts),
// which importing this module must not do.
let eventNames: Array<[LockFileEvent, number]> | undefined
function inotifyEventNames(): Array<[LockFileEvent, number]> {
  const bits = native.inotifyEvents
  return (eventNames ??= [
    ['close-write', bits.closeWrite],
    ['close-nowrite', bits.closeNoWrite],
    ['modify', bits.modify],
    ['attrib', bits.attrib],
    ['delete-self', bits.deleteSelf],
    ['move-self', bits.moveSelf],
    ['ignored', bits.ignored],
    ['queue-overflow', bits.queueOverflow],
  ])
}

/**
 * One open file and an exclusive flock on it.
 *
 * The file is opened once (O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, created
 * mode 0600) and that one fd is kept until close(): a process that inherits it
 * (the announcer's guard) shares the open file description and so the lock,
 * which is then held until every copy is closed or one of them unlocks.
 *
 * flock(2) needs no write access, so anyone who can open the file at all can
 * hold the lock and stall every election; whoever can write it can forge the
 * record at its start; whoever can write a directory above it can replace it.
 * So the constructor refuses (an Error with `code: 'ERR_LOCK_FILE_UNSAFE'`,
 * `path`, and a message naming the path and the problem):
 * - a symbolic link (not followed), or anything but a regular file (a FIFO, a
 *   directory, a device: never opened, or not kept);
 * - a file owned by another user than the process's effective uid, or with
 *   more than one hard link;
 * - a file writable by group or others;
 * - a non-empty file that does not start with a lock record (a mistyped path:
 *   nothing is written over it);
 * - a directory holding it, or any directory above, that group or others can
 *   write without the sticky bit, or that belongs to a user other than this
 *   one or root. A sticky directory such as /tmp is accepted: others cannot
 *   remove or rename a file they do not own there, and a name they took first
 *   is refused as owned by another user.
 *
 * A lock file that group or others can only read (0644, as earlier versions
 * created it) is ours, and is tightened to 0600. See docs/security.md.
 */
export class FileLock {
  private readonly lock: NativeFileLock

  /**
   * Opens (creating it 0600 if needed) the file; an Error with code
   * 'ERR_LOCK_FILE_UNSAFE' if it or a directory above it is unsafe (see the
   * class), a SystemError (ENOENT, EACCES, ...) if it cannot be opened.
   * @param path - The lock file's path, kept as given.
   */
  constructor(readonly path: string) {
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      throw new TypeError(`path: expected a non-empty file path, got ${JSON.stringify(path)}`)
    }
    this.lock = new native.FileLock(path)
  }

  /** The lock file's descriptor; -1 after close(). */
  get fd(): number {
    return this.lock.fd
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.lock.fd < 0
  }

  /**
   * flock(LOCK_EX | LOCK_NB): true when our open file description holds the
   * lock now (also when it already did), false when another one holds it.
   * Other failures throw a SystemError; after close() `code: 'ERR_LOCK_CLOSED'`.
   */
  tryLock(): boolean {
    return this.lock.tryLock()
  }

  /**
   * Releases the lock (for every fd sharing our description) and then opens
   * and closes the file once, so waiters' watches fire at once.
   */
  unlock(): void {
    this.lock.unlock()
  }

  /**
   * Whether `path` still names the file we hold open. After someone deletes or
   * replaces it, new candidates lock another file and our lock excludes nobody.
   */
  isCurrent(): boolean {
    return this.lock.isCurrent()
  }

  /**
   * Watches the file with inotify (close, modify, attribute change, delete,
   * move) and calls `onEvents` once per batch. Replaces an earlier watch.
   * Keeps the event loop alive until unwatch() or close().
   */
  watch(onEvents: (error: Error | null, events: LockFileEvent[]) => void): void {
    if (typeof onEvents !== 'function') throw new TypeError('onEvents: expected a function')
    const names = inotifyEventNames()
    this.lock.watch((error, mask) => {
      if (error) onEvents(error, [])
      else onEvents(null, names.filter(([, bit]) => ((mask ?? 0) & bit) !== 0).map(([name]) => name))
    })
  }

  /** Stops the inotify watch, if any; the lock itself is unaffected. */
  unwatch(): void {
    this.lock.unwatch()
  }

  /**
   * Stops watching and closes the fd. Does not unlock first: if the guard
   * still holds a copy of the description, the lock stays held until it is done.
   * Idempotent.
   */
  close(): void {
    this.lock.close()
  }
}
