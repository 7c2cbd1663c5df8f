// The conformance kit on the single-host electors: StaticElector (one
// replica) and FileLockElector (three candidates on one lock file), including
// the restart check (start() again after stop()).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { FileLockElector } from '../src/electors/file-lock'
import { StaticElector } from '../src/electors/static'
import { assertConformance, runElectorConformance } from '../src/testing'
import { collectUnhandledRejections } from './support/unhandled'

const unhandled = collectUnhandledRejections()

t.test('StaticElector: a single replica', async (t) => {
  const report = await runElectorConformance({
    name: 'static',
    candidates: 1,
    create: () => new StaticElector(),
    timeoutMs: 5000,
    settleMs: 500,
    log: (line) => t.comment(line),
  })
  assertConformance(t, report)
  t.equal(report.checks.find((c) => c.id === 'restart')?.status, 'pass', 'elected again after stop() and start()')
})

t.test('FileLockElector: three candidates on one lock file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-lock-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const electors: FileLockElector[] = []
  t.teardown(() => Promise.all(electors.map((e) => e.close())))
  const fds: number[] = []
  const report = await runElectorConformance({
    name: 'file-lock',
    candidates: 3,
    create: (index) => {
      // Each candidate opens its own description of the file, so flock
      // excludes them from each other inside one process too.
      const elector = new FileLockElector({ path: path.join(dir, 'vip.lock'), leaseMs: 1000 })
      electors.push(elector)
      fds[index] = elector.fencingFd
      return elector
    },
    timeoutMs: 5000,
    settleMs: 1000,
    log: (line) => t.comment(line),
  })
  assertConformance(t, report)
  t.same(
    electors.map((e) => e.fencingFd),
    fds,
    'each candidate kept its one fd through stop() and start() (a guard may hold a copy)',
  )
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [])
})
