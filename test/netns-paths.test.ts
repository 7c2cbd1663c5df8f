// Namespace paths that are not network namespaces (issue 11, defect 7 and item
// 10): a FIFO used to block the calling thread in open(2) forever (Node's
// main thread, or the guard at start-up), and a path with a NUL byte was
// silently cut at the NUL. Each is refused at once, with an error naming the
// field and the problem. Everything that could hang runs in a child process
// with a deadline, so a regression fails instead of stalling the suite.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { loadNative } from '../src/net/binding'
import { resolveOptions } from '../src/options'
import { StaticElector } from '../src/electors/static'
import { tempDir } from './support/temp'

const { dir: buildDir, guardPath } = loadNative()

const isRoot = process.geteuid?.() === 0
const ADDON = path.join(buildDir, 'vip_announcer.node')
const NET = path.join(__dirname, '..', 'src', 'net', 'index.ts')

function paths() {
  const dir = tempDir('vip-netns-paths-')
  const fifo = path.join(dir, 'fifo')
  if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed')
  const file = path.join(dir, 'file')
  writeFileSync(file, 'not a namespace\n')
  const sub = path.join(dir, 'dir')
  mkdirSync(sub)
  return { fifo, file, dir: sub }
}

/** Runs `body` (CommonJS, with `net` = src/net and `addon` = the addon) in a child; its stdout as JSON. */
function inChild(t: tap.Test, body: string, timeoutMs = 5000): unknown {
  const code = `
    const net = require(${JSON.stringify(NET)})
    const addon = require(${JSON.stringify(ADDON)})
    const results = {}
    const attempt = (name, fn) => {
      try { fn(); results[name] = 'no error' }
      catch (e) { results[name] = { name: e.name, code: e.code, field: e.field, syscall: e.syscall, message: e.message } }
    }
    ${body}
    process.stdout.write(JSON.stringify(results))`
  const started = Date.now()
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' })
  const took = Date.now() - started
  t.equal(child.signal, null, `the child finished by itself (${took} ms${child.signal ? `, killed after ${timeoutMs} ms: it hung` : ''})`)
  t.equal(child.status, 0, child.stderr)
  return child.status === 0 ? JSON.parse(child.stdout) : {}
}

t.test('a FIFO as netns: the addon refuses it at once instead of blocking in open(2)', { skip: isRoot ? false : 'needs root (setns)' }, async (t) => {
  const { fifo, file, dir } = paths()
  const results = inChild(
    t,
    `attempt('netlink fifo', () => new addon.NetlinkSocket(${JSON.stringify(fifo)}))
     attempt('packet fifo', () => new addon.PacketSocket('lo', ${JSON.stringify(fifo)}))
     attempt('netlink file', () => new addon.NetlinkSocket(${JSON.stringify(file)}))
     attempt('netlink dir', () => new addon.NetlinkSocket(${JSON.stringify(dir)}))
     attempt('netlink mount namespace', () => new addon.NetlinkSocket('/proc/self/ns/mnt'))
     attempt('netlink NUL', () => new addon.NetlinkSocket('/proc/self/ns/net\\0/no/such'))
     attempt('netlink own namespace', () => new addon.NetlinkSocket('/proc/self/ns/net').close())`,
  )
  for (const name of ['netlink fifo', 'packet fifo', 'netlink file', 'netlink dir', 'netlink mount namespace']) {
    t.match(results, { [name]: { code: 'EINVAL', syscall: 'setns' } }, `${name}: EINVAL, as setns(2) answers for a file that is no network namespace`)
  }
  t.match(results, { 'netlink NUL': { code: 'EINVAL', syscall: 'open' } }, 'a NUL byte is refused, not cut off')
  t.match(results, { 'netlink own namespace': 'no error' }, 'a real namespace file still works')
})

t.test('the facade names the field and the problem', { skip: isRoot ? false : 'needs root (setns)' }, async (t) => {
  const { fifo, file, dir } = paths()
  const results = inChild(
    t,
    `attempt('netlink fifo', () => net.Netlink.open({ netns: ${JSON.stringify(fifo)} }))
     attempt('monitor fifo', () => net.LinkMonitor.open({ netns: ${JSON.stringify(fifo)} }))
     attempt('packet fifo', () => net.PacketSocket.open({ link: 'lo', netns: ${JSON.stringify(fifo)} }))
     attempt('capture fifo', () => net.FrameCapture.open({ link: 'lo', netns: ${JSON.stringify(fifo)} }))
     attempt('netlink file', () => net.Netlink.open({ netns: ${JSON.stringify(file)} }))
     attempt('netlink dir', () => net.Netlink.open({ netns: ${JSON.stringify(dir)} }))
     attempt('netlink NUL', () => net.Netlink.open({ netns: '/proc/self/ns/net\\0/no/such' }))
     attempt('validate NUL', () => net.validateNetns('/proc/self/ns/net\\0x'))
     attempt('netlink own namespace', () => net.Netlink.open({ netns: '/proc/self/ns/net' }).close())`,
  )
  const fifoProblem = { code: 'ERR_INVALID_ARG_VALUE', field: 'netns', message: /^netns: ".*fifo" is a FIFO, not a network namespace file \(such as \/run\/netns\/NAME or \/proc\/PID\/ns\/net\)/ }
  for (const name of ['netlink fifo', 'monitor fifo', 'packet fifo', 'capture fifo']) t.match(results, { [name]: fifoProblem }, name)
  t.match(results, { 'netlink file': { code: 'ERR_INVALID_ARG_VALUE', field: 'netns', message: /^netns: ".*file" is not a network namespace file: it is not on nsfs/ } })
  t.match(results, { 'netlink dir': { code: 'ERR_INVALID_ARG_VALUE', field: 'netns', message: /^netns: ".*dir" is a directory, not a network namespace file/ } })
  for (const name of ['netlink NUL', 'validate NUL']) {
    t.match(results, { [name]: { code: 'ERR_INVALID_ARG_VALUE', field: 'netns', message: /^netns: ".*" contains a NUL byte/ } }, name)
  }
  t.match(results, { 'netlink own namespace': 'no error' })
})

t.test('the guard refuses a FIFO namespace at start instead of hanging', { skip: isRoot ? false : 'needs root (setns)' }, async (t) => {
  const { fifo } = paths()
  const started = Date.now()
  const guard = spawnSync(guardPath, ['--netns', fifo], { encoding: 'utf8', input: '', timeout: 5000, killSignal: 'SIGKILL' })
  t.equal(guard.signal, null, `exited by itself after ${Date.now() - started} ms`)
  t.equal(guard.status, 1)
  t.match(guard.stderr, `vip_guard: cannot enter ${fifo}: Invalid argument`)
})

t.test('VipAnnouncer refuses a netns path with a NUL byte at construction', async (t) => {
  const elector = new StaticElector()
  t.throws(() => resolveOptions({ vip: '192.0.2.100', interface: 'eth0', elector, netns: '/run/netns/cp1\0/../cp2' }), {
    code: 'ERR_INVALID_ARG_VALUE',
    field: 'netns',
    message: /^netns: ".*" contains a NUL byte/,
  })
})
