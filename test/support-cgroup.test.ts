// The cgroup support of the tests (test/support/cgroup.ts, ReplicaProcess's
// `cgroup` option): a whole process tree dies at once, nothing is left behind.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { Lab, namespaceTestOptions } from './lab/lab'
import { cgroupOf, cgroupSupport, cgroupTestOptions, createCgroup, findCgroup2Mount, inCgroup } from './support/cgroup'
import { ReplicaProcess } from './support/replica-process'
import { waitFor } from './support/wait'

function alive(pid: number): boolean {
  try {
    // A zombie still answers kill(0): count it as dead (it runs nothing).
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

t.test('findCgroup2Mount reads /proc/self/mounts', async (t) => {
  const mounts = [
    'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
    'cgroup2 /sys/fs/cgroup/ro\\040one cgroup2 ro,relatime 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  ].join('\n')
  t.equal(findCgroup2Mount(mounts), '/sys/fs/cgroup/unified', 'the first read-write cgroup2 mount')
  t.equal(findCgroup2Mount('cgroup2 /a\\040b cgroup2 rw 0 0\n'), '/a b', 'octal escapes decoded')
  t.equal(findCgroup2Mount('proc /proc proc rw 0 0\n'), undefined, 'none')
})

t.test('cgroup.kill takes a whole process tree at once', cgroupTestOptions(), async (t) => {
  const { mount, parent } = cgroupSupport()
  t.ok(existsSync(mount), `cgroup2 at ${mount}, groups under ${parent}`)

  const group = createCgroup('vip-selftest')
  t.teardown(() => group.remove())
  t.match(group.path, /\/vip-selftest-\d+-\d+$/, 'named <prefix>-<pid>-<n>')
  t.same(group.pids(), [], 'a fresh group has no process')
  t.equal(group.populated(), false, 'and is not populated')

  const [command, ...args] = inCgroup(group, ['sh', '-c', 'sleep 100 & sleep 100 & wait'])
  const child = spawn(command, args, { stdio: 'ignore' })
  const pids = await waitFor('the shell and its two sleeps in the group', () => (group.pids().length >= 3 ? group.pids() : undefined), 5000)
  t.ok(pids.includes(child.pid!), 'the spawned shell itself is a member, under its own pid')
  t.equal(cgroupOf(child.pid!) !== undefined && group.path.endsWith(cgroupOf(child.pid!)!), true, '/proc/PID/cgroup agrees')
  t.equal(group.populated(), true, 'populated')

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal)))
  await group.kill()
  t.equal(group.populated(), false, 'kill() resolves once the group is empty')
  t.equal(await exited, 'SIGKILL', 'the shell died of SIGKILL')
  await waitFor('every pid gone', () => pids.every((pid) => !alive(pid)), 2000)
  t.pass(`all of ${pids.join(', ')} are gone`)

  await group.remove()
  t.equal(existsSync(group.path), false, 'remove() deletes the directory')
  await group.remove()
  t.pass('remove() again is a no-op')
  t.same(group.pids(), [], 'pids() of a removed group is []')

  const fresh = createCgroup('vip-selftest')
  t.teardown(() => fresh.remove())
  t.not(fresh.path, group.path, 'a new group gets a new name')
  t.same(fresh.pids(), [], 'a fresh group has no leftover process')
})

t.test('nothing forked during the kill escapes it', cgroupTestOptions(), async (t) => {
  const group = createCgroup('vip-selftest')
  t.teardown(() => group.remove())
  // A shell that forks a new sleep every few milliseconds, for ever.
  const [command, ...args] = inCgroup(group, ['sh', '-c', 'while :; do sleep 30 & sleep 0.005; done'])
  const child = spawn(command, args, { stdio: 'ignore' })
  await waitFor('a few children', () => group.pids().length >= 5, 5000)
  const before = group.pids()
  await group.kill()
  t.same(group.pids(), [], 'empty after kill')
  await waitFor('the loop is reaped', () => child.exitCode !== null || child.signalCode !== null, 2000)
  await waitFor('every pid seen is gone', () => before.every((pid) => !alive(pid)), 2000)
  t.pass(`${before.length} processes seen, all gone`)
  await group.remove()
  t.equal(existsSync(group.path), false, 'removed')
})

t.test('ReplicaProcess with cgroup: killContainer() takes the node process and its guard together', { ...namespaceTestOptions(), ...cgroupTestOptions() }, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const host = lab.host('cp1')
  lab.plug(host, 'eth0', sw, { addresses: ['192.0.2.11/24'] })

  const replica = await ReplicaProcess.start(host, [], 15000, { cgroup: true })
  t.teardown(() => replica.stop())
  t.ok(replica.cgroup, 'replica.cgroup is set')
  const group = replica.cgroup!
  await replica.waitFor('leader', 5000)
  const guard = await waitFor('the guard', () => replica.guardPid(), 5000)
  const members = group.pids()
  t.ok(members.includes(replica.pid), 'the node process is a member')
  t.ok(members.includes(guard), 'the guard, forked later by node, is a member too')

  await replica.killContainer()
  t.equal(group.populated(), false, 'the group is empty')
  t.equal(replica.child.signalCode, 'SIGKILL', 'the node process died of SIGKILL')
  t.equal(alive(replica.pid), false, 'node is gone')
  await waitFor('the guard is gone', () => !alive(guard), 2000)
  t.pass('the guard is gone')
  t.ok(host.ip('link', 'show', 'dev', 'eth0').includes('eth0'), 'the network namespace and its interface survive')

  await replica.stop()
  t.equal(group.removed, true, 'stop() removes the group')
  t.equal(existsSync(group.path), false, 'its directory is gone')

  // Without the option nothing changes.
  const plain = await ReplicaProcess.start(host, [], 15000)
  t.teardown(() => plain.stop())
  t.equal(plain.cgroup, undefined, 'no cgroup unless asked')
  await t.rejects(plain.killContainer(), /needs ReplicaProcess.start/, 'killContainer() without a cgroup says why')
  await plain.stop()
})
