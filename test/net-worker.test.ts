// Sockets and monitors in worker_threads, and file-descriptor hygiene: the
// addon keeps no process-wide state, uses each environment's own loop, and
// gives every descriptor back (on close, on garbage collection, and when a
// worker is torn down with a monitor still open).
import t from 'tap'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import { Lab, namespaceTestOptions } from './lab/lab'
import { LinkMonitor, Netlink } from '../src/net'
import { loadNative } from '../src/net/binding'

const buildDir = loadNative().dir

const facade = path.resolve(__dirname, '../src/net/index.ts')
const openFds = () => readdirSync('/proc/self/fd').length
const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms))

function startWorker(code: string, workerData: unknown): Worker {
  // An eval'd worker has no TypeScript loader of its own: load the facade through tsx.
  const prelude = `const facade = require('tsx/cjs/api').require(${JSON.stringify(facade)}, __filename);`
  return new Worker(`${prelude}\n${code}`, { eval: true, workerData })
}

function exitOf(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('exit', resolve)
  })
}

t.test('a Netlink socket and a LinkMonitor inside a worker', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  lab.cable(a, 'eth0', lab.host('b'), 'eth0')
  const worker = startWorker(
    `
    const { parentPort, workerData } = require('node:worker_threads')
    const nl = facade.Netlink.open({ netns: workerData.netns })
    const monitor = facade.LinkMonitor.open({ netns: workerData.netns })
    monitor.on('address', (event) => {
      parentPort.postMessage({ event })
      monitor.close()
      nl.close()
    })
    parentPort.postMessage({ links: nl.listLinks().map((l) => l.name).sort() })
    `,
    { netns: a.path },
  )
  const exited = exitOf(worker)
  const messages: any[] = []
  worker.on('message', (m) => messages.push(m))
  while (messages.length === 0) await tick(5)
  t.same(messages[0], { links: a.ipJson('link').map((l: any) => l.ifname).sort() }, 'listed from the worker')
  a.ip('addr', 'add', '192.0.2.77/24', 'dev', 'eth0')
  t.equal(await exited, 0, 'the worker exits by itself once its monitor and socket are closed')
  t.match(messages[1], { event: { action: 'add', address: '192.0.2.77', prefixLength: 24 } }, 'event delivered on the worker loop')
})

// The addon is loaded directly here: tsx, if a worker is terminated while it
// writes its compile cache, leaves its own cache files open, which would hide
// the addon's descriptors in the count.
t.test('terminating a worker with open monitors and sockets releases everything', async (t) => {
  const addonPath = path.join(buildDir, 'vip_announcer.node')
  const before = openFds()
  for (let round = 0; round < 5; round++) {
    const worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads')
      const addon = require(${JSON.stringify(addonPath)})
      globalThis.kept = [
        ...Array.from({ length: 4 }, () => new addon.Monitor(undefined, {}, () => {})),
        ...Array.from({ length: 4 }, () => new addon.NetlinkSocket()),
      ]
      parentPort.postMessage(readdirCount())
      function readdirCount() { return require('node:fs').readdirSync('/proc/self/fd').length }
      `,
      { eval: true },
    )
    const during = await new Promise<number>((resolve) => worker.once('message', resolve))
    t.ok(during >= before + 8, `round ${round}: 8 sockets open in the worker (${during} fds)`)
    const exited = exitOf(worker)
    await worker.terminate()
    t.equal(await exited, 1, `round ${round}: terminated with its monitors still polling`)
  }
  await tick()
  t.equal(openFds(), before, 'no descriptor left behind by torn-down workers')
})

t.test('no descriptor leaks: open and close many sockets and monitors', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  const before = openFds()
  for (let i = 0; i < 200; i++) {
    const nl = Netlink.open(i % 2 ? { netns: a.path } : {})
    nl.listLinks()
    nl.close()
    nl.close()
    const monitor = LinkMonitor.open(i % 2 ? { netns: a.path } : {})
    monitor.close()
  }
  await tick() // uv_close callbacks run on the next loop iteration
  t.equal(openFds(), before, `${before} descriptors before and after 400 open/close cycles`)

  // Failed opens leak nothing either.
  for (let i = 0; i < 50; i++) {
    t.throws(() => Netlink.open({ netns: '/run/netns/does-not-exist' }), { code: 'ENOENT', syscall: 'open' }, `open ${i}`)
    t.throws(() => LinkMonitor.open({ netns: '/run/netns/does-not-exist' }), { code: 'ENOENT' }, `monitor ${i}`)
  }
  t.equal(openFds(), before, 'no descriptors from failed opens')
})

t.test('sockets dropped without close() are released by garbage collection', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const before = openFds()
  ;(() => {
    for (let i = 0; i < 100; i++) Netlink.open().listLinks()
  })()
  t.equal(openFds(), before + 100, 'held until collected')
  for (let i = 0; i < 10 && openFds() > before; i++) {
    gc()
    await tick()
  }
  t.equal(openFds(), before, 'finalizers closed them')
})
