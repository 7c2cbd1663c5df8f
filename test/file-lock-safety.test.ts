// The lock file's safety (issue 11, defect 4): flock(2) works on a read-only
// fd, so anyone who can open the lock file can hold the lock and stall every
// election, and anyone who can write it can forge the record a successor waits
// out. The file is created 0600 without following a symlink, and a lock file
// (or directory) that others could open, write, replace or point elsewhere is
// refused with an error naming the path and the problem.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { FileLock } from '../src/net/file-lock'
import { FileLockElector } from '../src/electors/file-lock'
import { decodeRecord } from '../src/electors/lock-record'
import { tempDir } from './support/temp'

const NOBODY = 65534
const isRoot = process.geteuid?.() === 0
const mode = (file: string) => statSync(file).mode & 0o7777
const octal = (n: number) => `0${n.toString(8)}`

/** A fresh directory (0755, so another user could reach a file in it) and a lock path in it. */
function lockPath(): string {
  const dir = tempDir('vip-lock-safety-')
  chmodSync(dir, 0o755)
  return path.join(dir, 'leader.lock')
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
const unsafe = (pattern: RegExp, file: string) => ({
  code: 'ERR_LOCK_FILE_UNSAFE',
  path: file,
  message: new RegExp(`^lock file ${escape(JSON.stringify(file))}: .*${pattern.source}`),
})

t.test('a new lock file is created 0600, whatever the umask', async (t) => {
  const file = lockPath()
  const previous = process.umask(0)
  let lock: FileLock
  try {
    lock = new FileLock(file)
  } finally {
    process.umask(previous)
  }
  t.teardown(() => lock.close())
  t.equal(octal(mode(file)), '0600')
  t.ok(lock.tryLock(), 'and it locks')
})

t.test('another local user cannot open the lock file to hold it', { skip: isRoot ? false : 'needs root (runs flock as nobody)' }, async (t) => {
  const file = lockPath()
  const lock = new FileLock(file)
  t.teardown(() => lock.close())
  // What the attack was: `flock` opens the file read-only and takes LOCK_EX.
  const attacker = spawnSync('flock', ['-n', '-x', file, 'true'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' })
  t.not(attacker.status, 0, `nobody cannot take the lock (status ${attacker.status}, ${attacker.stderr.trim()})`)
  t.match(attacker.stderr, /Permission denied/)
  t.ok(lock.tryLock(), 'the lock is free for the replicas')
})

t.test('a symlink is refused, not followed', async (t) => {
  const file = lockPath()
  const target = path.join(path.dirname(file), 'elsewhere')
  symlinkSync(target, file)
  t.throws(() => new FileLock(file), unsafe(/is a symbolic link/, file))
  t.notOk(existsSync(target), 'the link\'s target was not created')
  writeFileSync(target, 'precious', { mode: 0o600 })
  t.throws(() => new FileLock(file), unsafe(/is a symbolic link/, file))
  t.equal(readFileSync(target, 'utf8'), 'precious')
})

t.test('what is not a regular file is refused', async (t) => {
  const fifo = lockPath()
  t.equal(spawnSync('mkfifo', ['-m', '600', fifo]).status, 0, 'mkfifo')
  t.throws(() => new FileLock(fifo), unsafe(/is a FIFO, not a regular file/, fifo))
  const dir = lockPath()
  mkdirSync(dir, { mode: 0o700 })
  t.throws(() => new FileLock(dir), unsafe(/is a directory, not a regular file/, dir))
  t.throws(() => new FileLock('/dev/null'), unsafe(/is a character device, not a regular file/, '/dev/null'))
})

t.test('a lock file others can write is refused', async (t) => {
  for (const bits of [0o666, 0o620, 0o602, 0o622]) {
    const file = lockPath()
    writeFileSync(file, '')
    chmodSync(file, bits)
    t.throws(() => new FileLock(file), unsafe(new RegExp(`is writable by group or others \\(mode ${octal(bits)}\\)`), file), octal(bits))
    t.equal(mode(file), bits, 'left as it was')
  }
})

t.test('a lock file others can only read is ours to tighten: it becomes 0600', async (t) => {
  // An earlier version created it 0644: group and others could open it
  // read-only, which is all flock needs.
  for (const bits of [0o644, 0o640, 0o604, 0o700]) {
    const file = lockPath()
    writeFileSync(file, '')
    chmodSync(file, bits)
    const lock = new FileLock(file)
    t.equal(octal(mode(file)), '0600', `${octal(bits)} -> 0600`)
    t.ok(lock.tryLock())
    lock.close()
  }
})

t.test('a file that is not a lock file is left alone: no record over it, no mode change', async (t) => {
  for (const bits of [0o600, 0o644]) {
    const file = lockPath()
    writeFileSync(file, 'root:x:0:0:root:/root:/bin/bash\n')
    chmodSync(file, bits)
    t.throws(() => new FileLock(file), unsafe(/is not a lock file: it holds 32 bytes that do not start with a lock record/, file), octal(bits))
    t.equal(readFileSync(file, 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n', 'content untouched')
    t.equal(mode(file), bits, 'mode untouched')
  }
})

t.test('a lock file owned by another user is refused', { skip: isRoot ? false : 'needs root (chown)' }, async (t) => {
  const file = lockPath()
  writeFileSync(file, '', { mode: 0o600 })
  chownSync(file, NOBODY, NOBODY)
  t.throws(() => new FileLock(file), unsafe(new RegExp(`is owned by uid ${NOBODY}, not by this process's user \\(uid ${process.geteuid!()}\\)`), file))
})

t.test('a lock file with other hard links is refused', async (t) => {
  const file = lockPath()
  const other = path.join(path.dirname(file), 'other-name')
  writeFileSync(other, '', { mode: 0o600 })
  linkSync(other, file)
  t.throws(() => new FileLock(file), unsafe(/has 2 hard links/, file))
})

t.test('a directory others can write is refused unless it is sticky (like /tmp)', async (t) => {
  for (const [bits, ok] of [
    [0o777, false],
    [0o770, false],
    [0o1777, true],
    [0o1770, true],
    [0o755, true],
  ] as const) {
    const dir = tempDir('vip-lock-dir-')
    chmodSync(dir, bits)
    const file = path.join(dir, 'leader.lock')
    if (ok) {
      const lock = new FileLock(file)
      t.ok(lock.tryLock(), `directory ${octal(bits)}: accepted`)
      lock.close()
    } else {
      t.throws(
        () => new FileLock(file),
        unsafe(new RegExp(`its directory ${escape(JSON.stringify(dir))} is writable by group or others without the sticky bit \\(mode ${octal(bits)}\\)`), file),
        `directory ${octal(bits)}: refused`,
      )
      t.notOk(existsSync(file), 'and nothing was created in it')
    }
  }
})

t.test('a directory owned by another (non-root) user is refused', { skip: isRoot ? false : 'needs root (chown)' }, async (t) => {
  const dir = tempDir('vip-lock-dir-')
  chmodSync(dir, 0o755)
  chownSync(dir, NOBODY, NOBODY)
  const file = path.join(dir, 'leader.lock')
  t.throws(() => new FileLock(file), unsafe(new RegExp(`its directory .* is owned by uid ${NOBODY}`), file))
})

t.test('the elector refuses an unsafe lock file at start, naming it; a safe one keeps its record', async (t) => {
  const file = lockPath()
  writeFileSync(file, '')
  chmodSync(file, 0o666)
  const refused = new FileLockElector({ path: file })
  t.teardown(() => refused.close())
  await t.rejects(refused.start(), unsafe(/is writable by group or others/, file))

  const safe = lockPath()
  const elector = new FileLockElector({ path: safe })
  t.teardown(() => elector.close())
  await elector.start()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(elector.isLeader)
  t.equal(octal(mode(safe)), '0600')
  t.match(decodeRecord(readFileSync(safe)), { state: 'held', pid: process.pid }, 'the record is written through the O_RDWR fd')
  await elector.stop()
  t.match(decodeRecord(readFileSync(safe)), { state: 'released' })
})
