// cgroup v2 groups for tests that must kill EVERY process of a replica at once,
// as a container runtime does (kubelet deleting a pod, a liveness restart, a
// cgroup-wide OOM kill): the Node process and its guard die together, the
// network namespace survives. cgroup.kill (Linux >= 5.14) SIGKILLs every
// member of the group and of its descendants in one operation; nothing forked
// afterwards escapes it.
//
// Groups are created next to this process's own cgroup (or at the root of the
// cgroup2 mount) as `<prefix>-<pid>-<n>`. Every group is killed and removed
// when the test process exits, also after a failure; groups left by a test
// process that was itself SIGKILLed (a tap timeout) are swept by the next
// createCgroup() with the same prefix, since their <pid> is no longer alive.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface Cgroup {
  /** The group's directory, e.g. /sys/fs/cgroup/unified/vip-test-1234-0. */
  readonly path: string
  /** Its cgroup.procs: write a pid there to move that process (and what it forks later) in. */
  readonly procsFile: string
  /**
   * SIGKILLs every process in the group (cgroup.kill) and resolves once the
   * kernel reports the group empty (`populated 0` in cgroup.events). Rejects
   * if it is still populated after `timeoutMs` (default 5000), naming the pids.
   * `frozen`: freeze the group first (cgroup.freeze, waiting for `frozen 1`),
   * so no member runs another instruction before it dies: no process gets to
   * react to another's death in the microseconds between their SIGKILLs.
   */
  kill(timeoutMs?: number, options?: { frozen?: boolean }): Promise<void>
  /** Resolves true once the group is empty (its processes exited on their own), false after `timeoutMs`. */
  waitUntilEmpty(timeoutMs: number): Promise<boolean>
  /** True while any process is in the group (`populated 1`). */
  populated(): boolean
  /** Pids of the group's processes now (cgroup.procs); [] once removed. */
  pids(): number[]
  /** Kills the group if populated, then removes its directory. Idempotent. */
  remove(): Promise<void>
  /** True once the directory is gone. */
  readonly removed: boolean
}

export interface CgroupSupport {
  /** The cgroup2 mount point found (or mounted for this process). */
  mount: string
  /** The directory new groups are created in. */
  parent: string
}

let support: CgroupSupport | undefined
let unavailable: string | undefined
let counter = 0
const live = new Set<CgroupImpl>()
let exitHookInstalled = false

/** Where cgroup2 is mounted, from /proc/self/mounts (first read-write one); undefined if nowhere. */
export function findCgroup2Mount(mountsText = readFileSync('/proc/self/mounts', 'utf8')): string | undefined {
  for (const line of mountsText.split('\n')) {
    const [, mountPoint, type, options = ''] = line.split(' ')
    if (type !== 'cgroup2') continue
    if (options.split(',').includes('ro')) continue
    // /proc/self/mounts escapes spaces and the like as \040 (octal).
    return mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
  }
  return undefined
}

// Mounts a private cgroup2 hierarchy on a temp dir (none was mounted), lazily
// unmounted when this process exits.
function mountPrivate(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-cgroup2-'))
  const result = spawnSync('mount', ['-t', 'cgroup2', 'none', dir], { encoding: 'utf8' })
  if (result.status !== 0) {
    rmdirSync(dir)
    throw new Error(`no cgroup2 mounted and mounting one failed: ${(result.stderr || result.error?.message || '').trim()}`)
  }
  process.once('exit', () => {
    spawnSync('umount', ['-l', dir])
    try {
      rmdirSync(dir)
    } catch {
      // still busy: leave the empty directory
    }
  })
  return dir
}

// The directory of this process's own cgroup inside `mount`, when the mount's
// root is the hierarchy's root (/proc/self/mountinfo field 4) and it exists.
function ownCgroupDir(mount: string): string | undefined {
  try {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3)
    if (!own) return undefined
    const info = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '))
    const entry = info.find((f) => f[4] === mount && f[f.indexOf('-') + 1] === 'cgroup2')
    const root = entry?.[3] ?? '/'
    if (!own.startsWith(root)) return undefined
    const dir = path.join(mount, path.relative(root, own))
    return existsSync(path.join(dir, 'cgroup.procs')) ? dir : undefined
  } catch {
    return undefined
  }
}

/**
 * Finds (or mounts) cgroup v2 and checks that a child group can be made and
 * has cgroup.kill. Throws an Error saying what is missing; cached.
 */
export function cgroupSupport(): CgroupSupport {
  if (support) return support
  if (unavailable) throw new Error(unavailable)
  try {
    if (process.getuid?.() !== 0) throw new Error('cgroup tests need root (creating cgroups, moving processes)')
    const mount = findCgroup2Mount() ?? mountPrivate()
    // A child of our own group first (right under a container's delegated
    // subtree), else the mount's root.
    const candidates = [...new Set([ownCgroupDir(mount), mount].filter((d): d is string => d !== undefined))]
    let lastError: unknown
    for (const parent of candidates) {
      const probe = path.join(parent, `vip-probe-${process.pid}-${counter++}`)
      try {
        mkdirSync(probe)
      } catch (error) {
        lastError = error
        continue
      }
      const hasKill = existsSync(path.join(probe, 'cgroup.kill'))
      rmdirSync(probe)
      if (!hasKill) throw new Error(`cgroup v2 at ${mount} has no cgroup.kill (needs Linux >= 5.14; this is ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()})`)
      support = { mount, parent }
      return support
    }
    throw new Error(`cannot create a cgroup under ${candidates.join(' or ')}: ${String((lastError as Error)?.message ?? lastError)}`)
  } catch (error) {
    unavailable = `cgroup v2 with cgroup.kill is not available: ${(error as Error).message}`
    throw new Error(unavailable)
  }
}

/**
 * tap options for tests that need cgroups: skip with the reason when they are
 * not available, but fail in CI (CI=true), where a skip would hide a broken setup.
 */
export function cgroupTestOptions(): { skip?: string } {
  try {
    cgroupSupport()
    return {}
  } catch (error) {
    if (process.env.CI === 'true') throw error
    return { skip: (error as Error).message }
  }
}

function readEvents(dir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of readFileSync(path.join(dir, 'cgroup.events'), 'utf8').split('\n')) {
    const [key, value] = line.split(' ')
    if (key) out[key] = Number(value)
  }
  return out
}

function readPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

function isGone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

class CgroupImpl implements Cgroup {
  readonly procsFile: string
  #removed = false

  constructor(readonly path: string) {
    this.procsFile = `${path}/cgroup.procs`
  }

  get removed(): boolean {
    return this.#removed
  }

  populated(): boolean {
    try {
      return readEvents(this.path).populated === 1
    } catch (error) {
      if (isGone(error)) return false
      throw error
    }
  }

  pids(): number[] {
    return readPids(this.path)
  }

  // Resolves when `populated 0`: the kernel notifies cgroup.events changes to
  // inotify (fs.watch); a poll every 20 ms backs that up.
  waitUntilEmpty(timeoutMs: number): Promise<boolean> {
    if (!this.populated()) return Promise.resolve(true)
    return new Promise((resolve) => {
      let watcher: FSWatcher | undefined
      const finish = (empty: boolean) => {
        clearInterval(poll)
        clearTimeout(timer)
        watcher?.close()
        resolve(empty)
      }
      const check = () => {
        try {
          if (!this.populated()) finish(true)
        } catch {
          finish(!existsSync(this.path))
        }
      }
      const poll = setInterval(check, 20)
      const timer = setTimeout(() => finish(!this.populated()), timeoutMs)
      try {
        watcher = watch(path.join(this.path, 'cgroup.events'), check)
        watcher.on('error', () => {})
      } catch {
        // polling alone
      }
      check()
    })
  }

  async kill(timeoutMs = 5000, options: { frozen?: boolean } = {}): Promise<void> {
    if (this.#removed) return
    try {
      if (options.frozen) await this.freeze(timeoutMs)
      writeFileSync(path.join(this.path, 'cgroup.kill'), '1')
    } catch (error) {
      if (isGone(error)) return
      throw error
    }
    if (await this.waitUntilEmpty(timeoutMs)) return
    throw new Error(`cgroup ${this.path}: still populated ${timeoutMs} ms after cgroup.kill; pids left: ${this.pids().join(' ') || '(none listed)'}`)
  }

  private async freeze(timeoutMs: number): Promise<void> {
    writeFileSync(path.join(this.path, 'cgroup.freeze'), '1')
    const end = Date.now() + timeoutMs
    while (!/^frozen 1$/m.test(readFileSync(path.join(this.path, 'cgroup.events'), 'utf8'))) {
      if (Date.now() > end) throw new Error(`cgroup ${this.path}: not frozen ${timeoutMs} ms after cgroup.freeze`)
      await new Promise((r) => setTimeout(r, 1))
    }
  }

  async remove(): Promise<void> {
    if (this.#removed) return
    if (this.populated()) await this.kill()
    // rmdir can be refused (EBUSY) for a moment after the last task left.
    const end = Date.now() + 2000
    for (;;) {
      try {
        rmdirSync(this.path)
        break
      } catch (error) {
        if (isGone(error)) break
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > end) throw new Error(`cgroup ${this.path}: cannot remove: ${(error as Error).message}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    this.#removed = true
    live.delete(this)
  }

  /** The exit hook's version: synchronous, best effort. */
  removeSync(): void {
    if (this.#removed) return
    removeDirSync(this.path)
    this.#removed = true
    live.delete(this)
  }
}

function removeDirSync(dir: string): void {
  try {
    if (readEvents(dir).populated === 1) {
      writeFileSync(path.join(dir, 'cgroup.kill'), '1')
      const end = Date.now() + 5000
      while (readEvents(dir).populated === 1 && Date.now() < end) sleepSync(5)
    }
    const end = Date.now() + 2000
    for (;;) {
      try {
        return rmdirSync(dir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > end) throw error
        sleepSync(5)
      }
    }
  } catch (error) {
    if (!isGone(error)) process.stderr.write(`cgroup ${dir}: not removed: ${(error as Error).message}\n`)
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// Groups `<prefix>-<pid>-<n>` of test processes that no longer exist.
function sweepStale(parent: string, prefix: string): void {
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-\\d+$`)
  for (const name of readdirSync(parent)) {
    const match = pattern.exec(name)
    if (match && Number(match[1]) !== process.pid && !pidAlive(Number(match[1]))) removeDirSync(path.join(parent, name))
  }
}

/**
 * Makes a fresh, empty cgroup `<prefix>-<pid>-<n>` (prefix default 'vip-test').
 * Throws (see cgroupSupport) when cgroup v2 with cgroup.kill is not available.
 * Killed and removed at this process's exit if still there.
 */
export function createCgroup(prefix = 'vip-test'): Cgroup {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`cgroup prefix ${JSON.stringify(prefix)}: letters, digits, '_', '.', '-' only`)
  const { parent } = cgroupSupport()
  sweepStale(parent, prefix)
  const dir = path.join(parent, `${prefix}-${process.pid}-${counter++}`)
  mkdirSync(dir)
  const group = new CgroupImpl(dir)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => [...live].forEach((g) => g.removeSync()))
  }
  live.add(group)
  return group
}

/**
 * The argv that runs `command` inside `group` from its first instruction:
 * `sh` writes its own pid to cgroup.procs and then execs the command, so the
 * process keeps its pid and everything it forks later is a member too.
 */
export function inCgroup(group: Cgroup, command: string[]): string[] {
  return ['sh', '-c', 'echo $$ > "$0" && exec "$@"', group.procsFile, ...command]
}

/** The cgroup v2 path of a process (/proc/PID/cgroup, the '0::' line), or undefined if it is gone. */
export function cgroupOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3)
  } catch {
    return undefined
  }
}
