// FileLock against real processes: contention, takeover when the holder is
// SIGKILLed (through the inotify watch), and the fencing hand-off: a lock fd
// inherited by a child keeps the lock held after the parent dies.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { FileLock, type LockFileEvent } from '../src/net/file-lock'
import { loadNative } from '../src/net/binding'
import { monotonicNow } from '../src/clock'

const buildDir = loadNative().dir

const ADDON = path.join(buildDir, 'vip_announcer.node')

function tempLockPath(t: tap.Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-flock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, 'leader.lock')
}

/** Waits for a line of the child's stdout (seen before or after the call) to match. */
function line(child: ChildProcess, pattern: RegExp): Promise<string> {
  const seen = ((child as any).seenLines ??= { text: '' }) as { text: string; listening?: boolean }
  if (!seen.listening) {
    seen.listening = true
    child.stdout!.on('data', (chunk: Buffer) => (seen.text += chunk.toString()))
  }
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = seen.text.split('\n').find((l) => pattern.test(l))
      if (found === undefined) return false
      child.stdout!.off('data', onData)
      child.off('exit', onExit)
      resolve(found)
      return true
    }
    const onData = () => setImmediate(check)
    const onExit = (code: number | null) => {
      if (!check()) reject(new Error(`child exited (${code}) before printing ${pattern}: ${seen.text}`))
    }
    if (check()) return
    child.stdout!.on('data', onData)
    child.once('exit', onExit)
  })
}

/** A plain-node child process that takes the lock and holds it until killed. */
async function holder(t: tap.Test, lockPath: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const lock = new (require(${JSON.stringify(ADDON)}).FileLock)(${JSON.stringify(lockPath)})
       console.log(lock.tryLock() ? 'locked' : 'busy')
       setInterval(() => {}, 1e6)`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  t.teardown(() => child.kill('SIGKILL'))
  t.equal(await line(child, /^(locked|busy)$/), 'locked', 'the child holds the lock')
  return child
}

/** Resolves with the time the lock was taken, retrying on every watch event. */
function takeOnRelease(
  lock: FileLock,
): Promise<{ at: number; firstEventAt: number; events: LockFileEvent[][]; failedTries: number }> {
  return new Promise((resolve) => {
    const events: LockFileEvent[][] = []
    let failedTries = 0
    let firstEventAt = 0
    lock.watch((error, batch) => {
      if (error) throw error
      firstEventAt ||= monotonicNow()
      events.push(batch)
      if (lock.tryLock()) {
        const at = monotonicNow()
        lock.unwatch()
        resolve({ at, firstEventAt, events, failedTries })
      } else {
        failedTries++
      }
    })
  })
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]

t.test('two locks in one process exclude each other; a held lock re-locks', async (t) => {
  const lockPath = tempLockPath(t)
  const first = new FileLock(lockPath)
  const second = new FileLock(lockPath)
  t.teardown(() => (first.close(), second.close()))
  t.not(first.fd, second.fd)
  t.equal(first.tryLock(), true)
  t.equal(second.tryLock(), false, 'separate open file descriptions conflict')
  t.equal(first.tryLock(), true, 'tryLock on the holder\'s own fd succeeds: "I hold it"')
  first.unlock()
  t.equal(second.tryLock(), true)
  t.equal(first.tryLock(), false)
})

t.test('unlock pokes the file: a watcher sees a close at once', async (t) => {
  const lockPath = tempLockPath(t)
  const holderLock = new FileLock(lockPath)
  const waiter = new FileLock(lockPath)
  t.teardown(() => (holderLock.close(), waiter.close()))
  t.ok(holderLock.tryLock())
  t.notOk(waiter.tryLock())
  const taken = takeOnRelease(waiter)
  const released = monotonicNow()
  holderLock.unlock()
  const { at, events, failedTries } = await taken
  t.ok(events[0].includes('close-nowrite'), `events: ${JSON.stringify(events)}`)
  t.equal(failedTries, 0)
  t.comment(`unlock -> waiter holds the lock: ${(at - released).toFixed(3)} ms`)
})

t.test('the holder process is SIGKILLed: the watcher takes over within milliseconds', async (t) => {
  const lockPath = tempLockPath(t)
  const waiter = new FileLock(lockPath)
  t.teardown(() => waiter.close())
  const delays: number[] = []
  const eventDelays: number[] = []
  let racesLost = 0
  for (let round = 0; round < 10; round++) {
    const child = await holder(t, lockPath)
    t.equal(waiter.tryLock(), false, `round ${round}: the child's lock excludes us`)
    const taken = takeOnRelease(waiter)
    const killed = monotonicNow()
    child.kill('SIGKILL')
    const { at, firstEventAt, events, failedTries } = await taken
    t.ok(events.flat().includes('close-write'), 'the kernel closing the dead holder\'s fd shows as close-write')
    racesLost += failedTries
    delays.push(at - killed)
    eventDelays.push(firstEventAt - killed)
    waiter.unlock()
    await new Promise((resolve) => child.once('exit', resolve))
  }
  t.comment(
    `SIGKILL of a node holder -> waiter holds the lock, 10 rounds: median ${median(delays).toFixed(2)} ms, ` +
      `max ${Math.max(...delays).toFixed(2)} ms. Of that, kill -> first inotify event: median ` +
      `${median(eventDelays).toFixed(2)} ms (the kernel tearing down the dying process before it closes its fds); ` +
      `event -> lock held: median ${median(delays.map((d, i) => d - eventDelays[i])).toFixed(3)} ms; ` +
      `tries that lost the close/unlock race: ${racesLost}`,
  )
  t.ok(median(delays) < 50, 'within a few milliseconds')
})

t.test('an inherited lock fd outlives its parent; LOCK_UN from the child releases it', async (t) => {
  const lockPath = tempLockPath(t)
  const waiter = new FileLock(lockPath)
  t.teardown(() => waiter.close())

  // The parent takes the lock and hands the fd to a child as its fd 3, as the
  // announcer does with its guard; the child can unlock (and poke) on SIGUSR1.
  // (Its `sleep` must not inherit fd 3: any process holding a copy holds the lock.)
  const startParent = async () => {
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process')
         const lock = new (require(${JSON.stringify(ADDON)}).FileLock)(${JSON.stringify(lockPath)})
         if (!lock.tryLock()) { console.log('busy'); process.exit(1) }
         const child = spawn('sh', ['-c', "trap 'flock -u 3; : < /dev/fd/3; echo unlocked' USR1; echo ready; while :; do sleep 0.02 3<&-; done"],
           { stdio: ['ignore', 'inherit', 'inherit', lock.fd] })
         console.log('child ' + child.pid)
         setInterval(() => {}, 1e6)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    t.teardown(() => parent.kill('SIGKILL'))
    const childPid = Number((await line(parent, /^child \d+$/)).split(' ')[1])
    t.teardown(() => {
      try {
        process.kill(childPid, 'SIGKILL')
      } catch {}
    })
    await line(parent, /^ready$/)
    return { parent, childPid }
  }

  t.test('the lock is held until the child exits', async (t) => {
    const { parent, childPid } = await startParent()
    t.equal(waiter.tryLock(), false)
    parent.kill('SIGKILL')
    await new Promise((resolve) => parent.once('exit', resolve))
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.equal(waiter.tryLock(), false, 'parent dead, child alive: still held')
    const taken = takeOnRelease(waiter)
    const killed = monotonicNow()
    process.kill(childPid, 'SIGKILL')
    const { at } = await taken
    t.comment(`child SIGKILL -> waiter holds the lock: ${(at - killed).toFixed(2)} ms`)
    waiter.unlock()
  })

  t.test('flock -u in the child releases it while the child lives', async (t) => {
    const { parent, childPid } = await startParent()
    parent.kill('SIGKILL')
    await new Promise((resolve) => parent.once('exit', resolve))
    t.equal(waiter.tryLock(), false)
    const taken = takeOnRelease(waiter)
    process.kill(childPid, 'SIGUSR1')
    const { events } = await taken
    t.ok(events.flat().includes('close-nowrite'), 'the poke through /dev/fd/3 woke the watcher')
    process.kill(childPid, 0) // still alive: throws if not
    t.pass('the child is still running')
    waiter.unlock()
  })
})

t.test('isCurrent notices a deleted or replaced lock file', async (t) => {
  const lockPath = tempLockPath(t)
  const lock = new FileLock(lockPath)
  t.teardown(() => lock.close())
  t.ok(lock.isCurrent())
  const events: LockFileEvent[] = []
  lock.watch((error, batch) => events.push(...batch))
  unlinkSync(lockPath)
  t.notOk(lock.isCurrent(), 'deleted')
  writeFileSync(lockPath, '')
  t.notOk(lock.isCurrent(), 'a new file under the same name is not ours')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(events.includes('attrib'), `the unlink showed up as attrib (link count): ${events}`)

  const other = new FileLock(lockPath)
  t.teardown(() => other.close())
  renameSync(lockPath, `${lockPath}.old`)
  t.notOk(other.isCurrent(), 'renamed away')
})

t.test('errors and closing', async (t) => {
  t.throws(() => new FileLock(''), { name: 'TypeError', message: /^path:/ })
  t.throws(() => new FileLock('/nonexistent-dir-vip/leader.lock'), { code: 'ENOENT', syscall: 'open' })
  const lock = new FileLock(tempLockPath(t))
  t.ok(lock.fd >= 0)
  lock.watch(() => {})
  lock.close()
  lock.close()
  t.equal(lock.fd, -1)
  t.ok(lock.closed)
  t.throws(() => lock.tryLock(), { code: 'ERR_LOCK_CLOSED' })
  t.throws(() => lock.unlock(), { code: 'ERR_LOCK_CLOSED' })
  t.throws(() => lock.watch(() => {}), { code: 'ERR_LOCK_CLOSED' })
})

t.test('a worker that exits holding and watching a lock releases it', async (t) => {
  const lockPath = tempLockPath(t)
  const waiter = new FileLock(lockPath)
  t.teardown(() => waiter.close())
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     const lock = new (require(workerData.addon).FileLock)(workerData.path)
     lock.tryLock()
     lock.watch(() => {})
     parentPort.postMessage('locked')`,
    { eval: true, workerData: { addon: ADDON, path: lockPath } },
  )
  await new Promise((resolve) => worker.once('message', resolve))
  t.equal(waiter.tryLock(), false, 'the worker holds it')
  t.equal(await worker.terminate(), 1)
  t.equal(waiter.tryLock(), true, 'its environment cleanup closed the fd')
})
