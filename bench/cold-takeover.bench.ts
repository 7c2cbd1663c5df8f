// A cold follower's first takeover: each sample is a fresh Node process that
// starts an announcer in a namespace, waits as a follower, is elected once,
// and reports the first takeover (the one lazy compilation would slow down).
// Run against several source trees, interleaved sample by sample, to compare
// warm-ups (the trees share this one's test/lab and the build they find).
//
//   node --import tsx bench/cold-takeover.bench.ts [--runs 20] [--tree DIR]... [--path guard|host|both]
//
// --path host makes the guard refuse the takeover plan (setTakePlan resolves
// false, as an older guard's would), so this thread takes over: the path the
// announcer's own warm-up matters most for. Figures: elected -> first frame
// at a peer (the kernel's receive stamp in the worker's namespace) and the
// announcer's own takeoverMs. Needs root (namespaces).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fmt, summary } from './stats'

interface Sample {
  peerMs: number
  takeoverMs: number
  armMs: number
  takenBy: string
}

async function child(tree: string, mode: 'guard' | 'host'): Promise<void> {
  const { VipAnnouncer } = require(path.join(tree, 'src/announcer'))
  const { GuardProcess } = require(path.join(tree, 'src/guard'))
  const { monotonicNow } = require(path.join(tree, 'src/clock'))
  const { FrameCapture } = require('../src/net/capture')
  const { Lab } = require('../test/lab/lab')
  const { VIP, switchedReplicas } = require('../test/lab/topologies')
  const { ManualElector } = require('../test/support/manual-elector')
  const { nextEvent, sleep } = require('../test/support/wait')
  if (mode === 'host') GuardProcess.prototype.setTakePlan = async () => false
  const lab = new Lab()
  try {
    const { replicas: [cp1], worker } = switchedReplicas(lab, 1)
    const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
    const elector = new ManualElector()
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
    await announcer.start()
    await sleep(300) // a follower at rest: the warm-up has run, the loop is idle
    const frame = nextEvent(capture, 'frame', 2000, (f: any) => f.senderIp === VIP)
    const leader = nextEvent(announcer, 'leader')
    const t0 = monotonicNow()
    elector.elect(60_000)
    const seen: any = await frame
    const event: any = await leader
    const sample: Sample = { peerMs: (seen.arrivedAt ?? seen.at) - t0, takeoverMs: event.takeoverMs, armMs: event.phases.armMs, takenBy: event.takenBy }
    await announcer.stop()
    capture.close()
    process.stdout.write(JSON.stringify(sample) + '\n')
  } finally {
    lab.destroy()
  }
}

function main(): void {
  const args = process.argv.slice(2)
  const value = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : fallback
  }
  const trees = args.flatMap((a, i) => (a === '--tree' ? [path.resolve(args[i + 1])] : []))
  if (trees.length === 0) trees.push(path.resolve(__dirname, '..'))
  const runs = Number(value('runs', '20'))
  const which = value('path', 'both')
  const modes = (which === 'both' ? ['guard', 'host'] : [which]) as Array<'guard' | 'host'>
  const samples = new Map<string, Sample[]>()
  for (let run = 0; run < runs; run++) {
    // Rotate the order each run: slow drift of the machine hits every tree alike.
    const cells = trees.flatMap((tree) => modes.map((mode) => ({ tree, mode })))
    for (let k = 0; k < cells.length; k++) {
      const { tree, mode } = cells[(k + run) % cells.length]
      const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', tree, mode], { encoding: 'utf8', cwd: path.resolve(__dirname, '..') })
      const line = r.stdout.trim().split('\n').pop()
      if (r.status !== 0 || !line) {
        process.stderr.write(`sample failed (${tree} ${mode}): ${r.stderr}\n`)
        continue
      }
      const key = `${tree} ${mode}`
      samples.set(key, [...(samples.get(key) ?? []), JSON.parse(line)])
    }
    process.stderr.write(`run ${run + 1}/${runs}\n`)
  }
  for (const [key, list] of samples) {
    const peer = summary(list.map((s) => s.peerMs))
    const own = summary(list.map((s) => s.takeoverMs))
    const arm = summary(list.map((s) => s.armMs))
    const by = [...new Set(list.map((s) => s.takenBy))].join('/')
    console.log(`${key} (n=${peer.n}, taken by ${by}): peer median ${fmt(peer.median)} p90 ${fmt(peer.p90)}; takeoverMs median ${fmt(own.median)} p90 ${fmt(own.p90)}; armMs median ${fmt(arm.median)}`)
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4] as 'guard' | 'host').catch((error) => {
    console.error(error)
    process.exit(1)
  })
} else if (require.main === module) {
  main()
}
