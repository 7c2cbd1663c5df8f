// Takeover latency: from the elector's `elected` to the first gratuitous ARP
// frame captured in a peer namespace. The capture runs in this process, so its
// timestamp is taken when this thread reads the frame: an upper bound that
// includes the rest of the takeover's tick.
import { VipAnnouncer } from '../src/announcer'
import { monotonicNow } from '../src/clock'
import { FrameCapture } from '../src/net/capture'
import { Lab } from '../test/lab/lab'
import { VIP, switchedReplicas } from '../test/lab/topologies'
import { ManualElector } from '../test/support/manual-elector'
import { nextEvent } from '../test/support/wait'
import { fmt, progress, summary } from './stats'

export async function takeoverBench(runs = 200) {
  const lab = new Lab()
  try {
    const { replicas: [cp1], worker } = switchedReplicas(lab, 1)
    const capture = FrameCapture.open({ link: 'eth0', netns: worker.path })
    const elector = new ManualElector()
    const announcer = new VipAnnouncer({ vip: VIP, interface: 'eth0', elector, netns: cp1.path, announce: { repeats: 0, refreshIntervalMs: 0 } })
    await announcer.start()
    const samples: number[] = []
    const reported: number[] = []
    for (let i = 0; i < runs; i++) {
      const frame = nextEvent<{ at: number; arrivedAt?: number }>(capture, 'frame', 2000, (f: any) => f.senderIp === VIP)
      const leader = nextEvent<{ takeoverMs: number }>(announcer, 'leader')
      const t0 = monotonicNow()
      elector.elect()
      const seen = await frame
      reported.push((await leader).takeoverMs)
      samples.push((seen.arrivedAt ?? seen.at) - t0) // the kernel's arrival stamp, not when this loop read it
      const follower = nextEvent(announcer, 'follower')
      elector.depose('bench')
      await follower
      progress('takeover', i + 1, runs)
    }
    await announcer.stop()
    capture.close()
    return { captured: summary(samples), internal: summary(reported) }
  } finally {
    lab.destroy()
  }
}

if (require.main === module) {
  takeoverBench(Number(process.argv[2] ?? 200)).then((r) => {
    console.log(`takeover, elected -> first GARP captured by a peer (n=${r.captured.n}): median ${fmt(r.captured.median)}, p99 ${fmt(r.captured.p99)}`)
    console.log(`takeover, elected -> first frame sent (announcer's own measure): median ${fmt(r.internal.median)}, p99 ${fmt(r.internal.p99)}`)
  })
}
