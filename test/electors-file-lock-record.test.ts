// The file-lock elector's record (src/electors/lock-record.ts): a successor
// that takes the lock from a holder that died without a release waits until
// the deadline that holder recorded; after a clean release (stop(), or the
// guard's fence) it takes over at once. The real flock and file, no fakes.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { monotonicNow } from '../src/clock'
import { FileLockElector } from '../src/electors/file-lock'
import { RECORD_BYTES, bootId, decodeRecord, encodeRecord, waitBeforeTakeover } from '../src/electors/lock-record'
import { tempDir } from './support/temp'
import { nextEvent } from './support/wait'

const lockPath = () => path.join(tempDir('vip-record-'), 'vip.lock')

t.test('the record encodes and decodes; anything else is no record', async (t) => {
  const held = { state: 'held' as const, until: 12345.678, boot: bootId(), pid: 42 }
  const bytes = encodeRecord(held)
  t.equal(bytes.length, RECORD_BYTES, 'fixed size: each write replaces the whole record')
  t.same(decodeRecord(bytes), held)
  t.same(decodeRecord(encodeRecord({ state: 'released', boot: 'b', pid: 1 })), { state: 'released', boot: 'b', pid: 1 })
  for (const garbage of ['', 'hello', 'vip-announcer-lock/1 held NaN b 1', 'vip-announcer-lock/1 gone 1 b 1', 'vip-announcer-lock/1 held 1 b', '\0'.repeat(128)]) {
    t.equal(decodeRecord(Buffer.from(garbage)), undefined, `no record: ${JSON.stringify(garbage.slice(0, 30))}`)
  }
  t.ok(Math.abs(waitBeforeTakeover(held, held.boot, 12000) - 345.678) < 1e-6, 'held in this boot: wait until the recorded instant')
  t.equal(waitBeforeTakeover(held, held.boot, 20000), 0, 'a deadline already past: none')
  t.equal(waitBeforeTakeover(held, 'another-boot', 12000), 0, 'another boot: its VIPs are gone')
  t.equal(waitBeforeTakeover(undefined, held.boot, 12000), 0, 'no record: none')
})

t.test('the leader records its deadline before elected and each renewal, and released on stop', async (t) => {
  const file = lockPath()
  const elector = new FileLockElector({ path: file, leaseMs: 400, renewIntervalMs: 100 })
  t.teardown(() => elector.close())
  const records: Array<{ deadline: number; recorded: unknown }> = []
  const read = () => decodeRecord(readFileSync(file))
  elector.on('elected', (l) => records.push({ deadline: l.deadline, recorded: read() }))
  elector.on('renewed', (l) => records.push({ deadline: l.deadline, recorded: read() }))
  await elector.start()
  await new Promise((resolve) => setTimeout(resolve, 250))
  t.ok(records.length >= 2, `elected and renewed (${records.length})`)
  for (const r of records) {
    const recorded = r.recorded as { state: string; until: number; pid: number; boot: string }
    t.match(recorded, { state: 'held', pid: process.pid, boot: bootId() }, 'recorded before the event')
    t.ok(recorded.until >= r.deadline && recorded.until - r.deadline < 0.001, 'the deadline itself, rounded up')
  }
  await elector.stop()
  t.match(read(), { state: 'released', pid: process.pid })
})

t.test('a successor waits out the deadline of a holder that died without a release', async (t) => {
  const file = lockPath()
  // A holder in another process: records "held until now + 1500 ms", holds the
  // lock, and is SIGKILLed (as a cgroup kill would: nobody writes released).
  const until = monotonicNow() + 1500
  writeFileSync(file, encodeRecord({ state: 'held', until, boot: bootId(), pid: 1 }))
  // -o: only flock itself holds the lock (its child sleep does not).
  const holder = spawn('flock', ['-x', '-o', file, 'sleep', '30'], { stdio: 'ignore', detached: true })
  t.teardown(() => {
    try {
      process.kill(-holder.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  const elector = new FileLockElector({ path: file, pollIntervalMs: 100 })
  t.teardown(() => elector.close())
  const elected = nextEvent<{ deadline: number }>(elector, 'elected', 5000)
  await elector.start()
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.notOk(elector.isLeader, 'not elected while the holder lives')
  holder.kill('SIGKILL')
  await elected
  const at = monotonicNow()
  t.ok(at >= until, `elected ${(at - until).toFixed(1)} ms after the recorded deadline, not before`)
  t.ok(at - until < 200, 'and promptly after it')
  t.match(decodeRecord(readFileSync(file)), { state: 'held', pid: process.pid }, 'its own record now')
})

t.test('after a clean release (or an older version\'s file) the successor is elected at once', async (t) => {
  for (const [name, content] of [
    ['released', encodeRecord({ state: 'released', boot: bootId(), pid: 1 })],
    ['no record', Buffer.alloc(0)],
    ['another boot', encodeRecord({ state: 'held', until: monotonicNow() + 60_000, boot: 'another-boot', pid: 1 })],
  ] as const) {
    const file = lockPath()
    writeFileSync(file, content)
    const elector = new FileLockElector({ path: file })
    const started = monotonicNow()
    const elected = nextEvent(elector, 'elected', 2000)
    await elector.start()
    await elected
    t.ok(monotonicNow() - started < 100, `${name}: elected in ${(monotonicNow() - started).toFixed(1)} ms`)
    await elector.close()
  }
})

t.test('stop() while waiting out a dead holder keeps its record for the next one', async (t) => {
  const file = lockPath()
  const until = monotonicNow() + 5000
  const record = encodeRecord({ state: 'held', until, boot: bootId(), pid: 1 })
  writeFileSync(file, record)
  const elector = new FileLockElector({ path: file })
  await elector.start()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(elector.isLeader, 'claiming, not leader')
  await elector.stop()
  t.same(readFileSync(file), record, 'record untouched')
  const other = new FileLockElector({ path: file })
  t.teardown(() => other.close())
  await other.start()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(other.isLeader, 'the next candidate waits too')
  await other.stop()
  await elector.close()
})

t.test('a record reaching beyond what a timer can wait still makes the successor wait', async (t) => {
  const file = lockPath()
  writeFileSync(file, encodeRecord({ state: 'held', until: monotonicNow() + 40 * 24 * 3600 * 1000, boot: bootId(), pid: 1 }))
  const elector = new FileLockElector({ path: file })
  t.teardown(() => elector.close())
  await elector.start()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk(elector.isLeader, 'still waiting (a 40-day setTimeout would have fired at once)')
})
