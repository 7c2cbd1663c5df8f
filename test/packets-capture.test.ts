// FrameCapture and probeAddress across a bridge: what B's capture reports must
// be exactly what A sent, and a probe must find the address's real owner.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { twoNeighbours } from './lab/topologies'
import { FrameCapture, probeAddress, type CapturedFrame } from '../src/net/capture'
import { PacketSocket } from '../src/net/packets'
import { arpProbe, gratuitousArp, ipv6Bytes, neighbourAdvertisement, neighbourSolicitation } from '../src/net/frames'
import { arpFrame, vlanTagged, withIpv6Source } from './support/frames'
import { monotonicNow } from '../src/clock'
import { loadNative } from '../src/net/binding'

const buildDir = loadNative().dir

const VIP4 = '192.0.2.100'
const VIP6 = '2001:db8::100'

function topology(t: tap.Test): { a: LabHost; b: LabHost } {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { a, b } = twoNeighbours(lab)
  a.ip('addr', 'add', `${VIP4}/32`, 'dev', 'eth0')
  a.ip('addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad')
  return { a, b }
}

/** Collects frames until `count` match or the timeout passes. */
function collect(capture: FrameCapture, match: (f: CapturedFrame) => boolean, count: number, timeoutMs = 2000) {
  return new Promise<CapturedFrame[]>((resolve) => {
    const frames: CapturedFrame[] = []
    const done = () => {
      clearTimeout(timer)
      capture.off('frame', onFrame)
      resolve(frames)
    }
    const onFrame = (frame: CapturedFrame) => {
      if (!match(frame)) return
      frames.push(frame)
      if (frames.length >= count) done()
    }
    const timer = setTimeout(done, timeoutMs)
    capture.on('frame', onFrame)
  })
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]

t.test('a capture in B sees what A sends, parsed', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const aMac = a.mac('eth0')
  const capture = FrameCapture.open({ link: 'eth0', netns: b.path })
  t.teardown(() => capture.close())
  t.equal(capture.name, 'eth0')
  t.equal(capture.mac, b.mac('eth0'))
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())

  const fromA = (f: CapturedFrame) => f.source === aMac
  const arrived = collect(capture, fromA, 3)
  const before = monotonicNow()
  socket.sendGratuitousArp(VIP4) // request, then reply
  socket.sendNeighbourAdvertisement(VIP6)
  const frames = await arrived
  const after = monotonicNow()
  t.equal(frames.length, 3, 'three frames from A')

  const [request, reply, advertisement] = frames
  t.match(request, {
    kind: 'arp-request',
    outgoing: false,
    destination: 'ff:ff:ff:ff:ff:ff',
    senderMac: aMac,
    senderIp: VIP4,
    targetMac: '00:00:00:00:00:00',
    targetIp: VIP4,
  })
  t.same(request.raw, gratuitousArp('request', aMac, VIP4), 'byte for byte what was sent')
  t.match(reply, { kind: 'arp-reply', senderMac: aMac, senderIp: VIP4, targetMac: aMac, targetIp: VIP4 })
  t.match(advertisement, {
    kind: 'neighbour-advertisement',
    outgoing: false,
    destination: '33:33:00:00:00:01',
    sourceIp: VIP6,
    destinationIp: 'ff02::1',
    hopLimit: 255,
    target: VIP6,
    override: true,
    solicited: false,
    router: false,
    linkLayerAddress: aMac,
    checksumValid: true,
  })
  t.same(advertisement.raw, neighbourAdvertisement(aMac, VIP6))
  for (const frame of frames) t.ok(frame.at >= before && frame.at <= after, `at ${frame.at} within [${before}, ${after}]`)
  t.ok(request.at <= reply.at && reply.at <= advertisement.at, 'timestamps in arrival order')
  for (const frame of frames) {
    t.ok(frame.arrivedAt !== undefined && frame.arrivedAt >= before - 0.05 && frame.arrivedAt <= frame.at,
      `arrivedAt ${frame.arrivedAt} within [${before}, at ${frame.at}]`)
  }
  t.ok(request.arrivedAt! <= reply.arrivedAt! && reply.arrivedAt! <= advertisement.arrivedAt!, 'kernel stamps in arrival order')
})

t.test('arrivedAt is when the frame arrived, not when a busy loop read it', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const capture = FrameCapture.open({ link: 'eth0', netns: b.path })
  t.teardown(() => capture.close())
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())
  const aMac = a.mac('eth0')
  const arrived = collect(capture, (f) => f.source === aMac && f.kind === 'arp-request', 1)
  const sentAt = monotonicNow()
  socket.sendGratuitousArp(VIP4, ['request'])
  const busyUntil = sentAt + 50
  while (monotonicNow() < busyUntil) {
    // the event loop is blocked: the frame waits in the socket
  }
  const [frame] = await arrived
  t.ok(frame, 'captured')
  t.ok(frame.at - sentAt >= 50, `read ${(frame.at - sentAt).toFixed(2)} ms after sending (the loop was blocked)`)
  t.ok(frame.arrivedAt! - sentAt < 5, `arrived ${(frame.arrivedAt! - sentAt).toFixed(3)} ms after sending`)
})

t.test('the kernel filter passes only ARP and neighbour discovery', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const capture = FrameCapture.open({ link: 'eth0', netns: b.path })
  t.teardown(() => capture.close())
  const kinds: string[] = []
  capture.on('frame', (frame) => kinds.push(frame.kind))
  a.run('ping', '-c3', '-i0.2', '-W2', '192.0.2.2')
  a.run('ping', '-6', '-c3', '-i0.2', '-W2', '2001:db8::2')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.ok(kinds.length > 0, `ARP/ND that the pings caused was captured (${kinds.join(', ')})`)
  t.notOk(kinds.includes('other'), 'no echo requests or replies got through')
})

t.test('an address filter passes only frames that claim those addresses, and none from another VLAN', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const aMac = a.mac('eth0')
  const filtered = FrameCapture.open({ link: 'eth0', netns: b.path, addresses: [VIP4, VIP6] })
  t.teardown(() => filtered.close())
  const all = FrameCapture.open({ link: 'eth0', netns: b.path }) // the control: every ARP / ND frame
  t.teardown(() => all.close())
  t.equal(filtered.addressFilter, true)
  t.equal(all.addressFilter, false)
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())

  const other6 = '2001:db8::101'
  const cases: Array<[string, Buffer, boolean]> = [
    ['gratuitous ARP for the VIP', gratuitousArp('request', aMac, VIP4), true],
    ['ARP reply from the VIP', arpFrame({ op: 2, senderMac: aMac, senderIp: VIP4, targetIp: '192.0.2.2' }), true],
    ['gratuitous ARP for another address', gratuitousArp('request', aMac, '192.0.2.101'), false],
    ['ARP request asking for the VIP', arpFrame({ senderMac: aMac, senderIp: '192.0.2.1', targetIp: VIP4 }), false],
    ['ARP probe for the VIP', arpProbe(aMac, VIP4), false],
    ['advertisement for the VIP', neighbourAdvertisement(aMac, VIP6), true],
    ['advertisement for another address', neighbourAdvertisement(aMac, other6), false],
    ['DAD solicitation for the VIP', neighbourSolicitation(aMac, VIP6), false],
    ['solicitation from the VIP', withIpv6Source(neighbourSolicitation(aMac, '2001:db8::2'), ipv6Bytes(VIP6)), true],
    ['solicitation from another address', withIpv6Source(neighbourSolicitation(aMac, '2001:db8::2'), ipv6Bytes(other6)), false],
    ['gratuitous ARP for the VIP on VLAN 42', vlanTagged(gratuitousArp('reply', aMac, VIP4), 42), false],
    ['gratuitous ARP for the VIP, priority-tagged (VLAN 0)', vlanTagged(gratuitousArp('reply', aMac, VIP4), 0x6000), true],
  ]
  // Each frame marked where no parser looks, to be told apart on arrival: ARP
  // in its padding, IPv6 in the flow label (outside the checksum; the bridge
  // trims IPv6 frames to their payload length, padding and all).
  const marked = cases.map(([, frame], i) => {
    const copy = Buffer.concat([frame, Buffer.alloc(Math.max(0, 90 - frame.length))])
    if (frame.readUInt16BE(12) === 0x86dd) copy[17] = 0xa0 + i
    else copy[copy.length - 1] = 0xa0 + i
    return copy
  })
  const mark = (f: CapturedFrame) => (f.ethertype === 0x86dd ? f.raw[17] : f.raw[f.raw.length - 1]) - 0xa0
  const everything = collect(all, (f) => f.source === aMac && !f.outgoing, cases.length)
  const passed: number[] = []
  filtered.on('frame', (f) => {
    if (f.source === aMac) passed.push(mark(f))
  })
  for (const frame of marked) socket.send(frame)
  const control = await everything
  t.equal(control.length, cases.length, 'the unfiltered capture saw every frame (the VLAN tag moved to metadata)')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(
    passed.map((i) => cases[i][0]),
    cases.filter(([, , pass]) => pass).map(([name]) => name),
    'the address filter passed exactly the claims, in order',
  )

  // More addresses than the kernel program holds: all ARP / ND again, in user space's hands.
  const many = Array.from({ length: 17 }, (_, i) => `198.51.100.${i + 1}`)
  const fallback = FrameCapture.open({ link: 'eth0', netns: b.path, addresses: many })
  t.equal(fallback.addressFilter, false)
  fallback.close()
  t.throws(() => FrameCapture.open({ link: 'eth0', netns: b.path, addresses: [] }), { name: 'TypeError', message: /^addresses: / })
  t.throws(() => FrameCapture.open({ link: 'eth0', netns: b.path, addresses: ['nope'] }), { name: 'TypeError', message: /^addresses\[0\]: / })
})

t.test('outgoing frames are flagged; close stops delivery', namespaceTestOptions(), async (t) => {
  const { a } = topology(t)
  const capture = FrameCapture.open({ link: 'eth0', netns: a.path })
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())
  const own = collect(capture, (f) => f.kind === 'arp-request' && f.senderIp === VIP4, 1)
  socket.sendGratuitousArp(VIP4, ['request'])
  const [frame] = await own
  t.equal(frame?.outgoing, true)

  let late = 0
  capture.on('frame', () => late++)
  capture.close()
  capture.close()
  t.ok(capture.closed)
  socket.sendGratuitousArp(VIP4)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(late, 0, 'nothing after close()')
})

t.test('receive latency (send from A to B\'s timestamp), reported', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const capture = FrameCapture.open({ link: 'eth0', netns: b.path })
  t.teardown(() => capture.close())
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())
  const delays: number[] = []
  for (let i = 0; i < 50; i++) {
    const arrived = collect(capture, (f) => f.kind === 'arp-request' && f.senderIp === VIP4, 1)
    const sent = monotonicNow()
    socket.sendGratuitousArp(VIP4, ['request'])
    const [frame] = await arrived
    if (frame) delays.push(frame.at - sent)
  }
  t.equal(delays.length, 50)
  t.comment(`send -> capture timestamp, 50 frames: median ${median(delays).toFixed(3)} ms, max ${Math.max(...delays).toFixed(3)} ms`)
  t.ok(median(delays) < 50, 'well under the announcement timescale')
})

t.test('probeAddress finds the owner and only the owner', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const aMac = a.mac('eth0')
  const from = { link: 'eth0', netns: b.path }

  t.same(await probeAddress({ ...from, ip: VIP4 }), { answeredBy: aMac }, 'IPv4 owner')
  t.same(await probeAddress({ ...from, ip: VIP6 }), { answeredBy: aMac }, 'IPv6 owner')

  let started = monotonicNow()
  t.same(await probeAddress({ ...from, ip: '192.0.2.200', timeoutMs: 400 }), {}, 'unused IPv4: no answer')
  let elapsed = monotonicNow() - started
  t.ok(elapsed >= 395 && elapsed < 1000, `waited the timeout (${elapsed.toFixed(0)} ms)`)
  started = monotonicNow()
  t.same(await probeAddress({ ...from, ip: '2001:db8::200', timeoutMs: 400 }), {}, 'unused IPv6: no answer')
  elapsed = monotonicNow() - started
  t.ok(elapsed >= 395 && elapsed < 1000, `waited the timeout (${elapsed.toFixed(0)} ms)`)

  // The probe must not teach B anything: sender IP 0.0.0.0 / source ::.
  t.equal(b.neighbourMac('192.0.2.200'), undefined)
  // Probing an address that this very host owns finds no one else.
  t.same(await probeAddress({ link: 'eth0', netns: a.path, ip: VIP4, timeoutMs: 300 }), {})

  // After A gives the address up, nobody answers.
  a.ip('addr', 'del', `${VIP4}/32`, 'dev', 'eth0')
  t.same(await probeAddress({ ...from, ip: VIP4, timeoutMs: 400 }), {})

  await t.rejects(probeAddress({ ...from, ip: 'nope' }), { name: 'TypeError', message: /^ip:/ })
  await t.rejects(probeAddress({ ...from, ip: VIP4, timeoutMs: 0 }), { name: 'RangeError', message: /^timeoutMs:/ })
  await t.rejects(probeAddress({ link: 'nosuch0', netns: b.path, ip: VIP4 }), { code: 'ENODEV' })
})

t.test('a capture works in a worker thread and a worker may exit with it open', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())
  // Plain JavaScript in the worker, straight on the addon.
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const addon = require(workerData.addon)
    const capture = new addon.PacketCapture('eth0', workerData.netns, (error, frames) => {
      if (error) throw error
      for (const f of frames) if (f.kind === 'arp-request' && f.senderIp === '${VIP4}') {
        parentPort.postMessage({ senderMac: f.senderMac })
        if (workerData.exit) process.exit(0)  // leaves the capture open: the env cleanup must close it
      }
    })
    parentPort.postMessage('ready')`
  for (const exit of [true, false]) {
    const worker = new Worker(source, { eval: true, workerData: { addon: `${buildDir}/vip_announcer.node`, netns: b.path, exit } })
    const messages: unknown[] = []
    const got = new Promise<void>((resolve, reject) => {
      worker.on('error', reject)
      worker.on('message', (m) => {
        messages.push(m)
        if (m === 'ready') socket.sendGratuitousArp(VIP4, ['request'])
        else resolve()
      })
    })
    await got
    t.same(messages[1], { senderMac: a.mac('eth0') }, `frame received in the worker (exit: ${exit})`)
    const code = exit
      ? await new Promise((resolve) => worker.on('exit', resolve))
      : await worker.terminate()
    t.equal(code, exit ? 0 : 1, exit ? 'worker exited on its own with the capture open' : 'terminated with the capture open')
  }
})
