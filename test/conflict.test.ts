// ConflictDetector: another host claiming a VIP must be reported, our own
// frames and a follower's never. The kernel is the witness: the third host
// holds the VIP with `ip addr add`, so only its kernel's answers to our probes
// can give it away; MACs come from `ip link` of that host.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { ConflictDetector, DEFEND_INTERVAL_MS, VipSet, conflictEvidence, type ClearedEvent, type ConflictEvent } from '../src/conflict'
import { monotonicNow } from '../src/clock'
import { arpProbe, gratuitousArp, ipv6Bytes, neighbourAdvertisement, neighbourSolicitation, parseFrame, type NeighbourFrame, type ParsedFrame } from '../src/net/frames'
import { PacketSocket } from '../src/net/packets'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { switchedReplicas } from './lab/topologies'
import { arpFrame, fixChecksum, ip4, macBytes, vlanTagged, withIpv6Source } from './support/frames'
import { sleep, waitFor } from './support/wait'

const VIP4 = '192.0.2.100'
const VIP6 = '2001:db8::100'
const MAC = '02:00:00:00:0c:01' // "ours" in the pure tests
const OTHER = '02:00:00:00:0d:01'

// ---------------------------------------------------------------------------
// Frames crafted byte by byte, for the rules and the garbage.

/** A neighbour advertisement for `target` from `mac`, edited by `edit` and re-checksummed unless told not to. */
function advertisement(mac: string, target: string, edit: (frame: Buffer) => void = () => {}, checksum = true): Buffer {
  const frame = Buffer.from(neighbourAdvertisement(mac, target))
  edit(frame)
  return checksum ? fixChecksum(frame) : frame
}

const FLAGS = 14 + 40 + 4 // R S O byte of a neighbour advertisement

const acceptable = (frame: NeighbourFrame) => frame.checksumValid && frame.optionsValid && frame.hopLimit === 255

// ---------------------------------------------------------------------------
// Pure: options and the evidence rules.

t.test('DEFEND_INTERVAL_MS is RFC 5227 DEFEND_INTERVAL', async (t) => {
  t.equal(DEFEND_INTERVAL_MS, 10_000)
})

t.test('options are checked at construction, naming the field', async (t) => {
  const good = { link: 'eth0', vips: [VIP4] }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no vips', { vips: [] }, /^vips: /],
    ['vips not a list', { vips: VIP4 }, /^vips: /],
    ['bad address', { vips: [VIP4, 'vip.example'] }, /^vips\[1\]: "vip.example" is not an IPv4 or IPv6 address/],
    ['duplicate', { vips: ['2001:db8::100', '2001:DB8:0::100'] }, /^vips\[1\]: .*listed twice/],
    ['interval negative', { probeIntervalMs: -1 }, /^probeIntervalMs: -1 is out of range/],
    ['interval too long', { probeIntervalMs: 60_001 }, /^probeIntervalMs: /],
    ['interval not a number', { probeIntervalMs: '500' }, /^probeIntervalMs: expected an integer/],
    ['timeout zero', { probeTimeoutMs: 0 }, /^probeTimeoutMs: /],
    ['probe count', { probeCount: 11 }, /^probeCount: /],
    ['clear after', { clearAfterMs: 0 }, /^clearAfterMs: /],
    ['link', { link: 'a/b' }, /^link: /],
    ['netns', { netns: '' }, /^netns: /],
  ]
  for (const [name, patch, message] of cases) {
    const error = t.throws(() => new ConflictDetector({ ...good, ...patch } as never), name) as Error & { code?: string }
    t.match(error.message, message, name)
    t.match(error.code, /^ERR_/, name)
  }
  const detector = new ConflictDetector({ link: 2, vips: ['2001:DB8::100', VIP4] })
  t.same(detector.vips, [VIP6, VIP4], 'canonical text')
  t.equal(detector.probeIntervalMs, 500, 'default interval: a silent holder is found well within 1 s')
  t.equal(detector.clearAfterMs, 1200, 'default: 2 × 500 + 200')
  t.equal(new ConflictDetector({ ...good, probeIntervalMs: 0 }).clearAfterMs, 1000, 'at least 1000')
  t.equal(new ConflictDetector({ ...good, probeIntervalMs: 2000, probeTimeoutMs: 300 }).clearAfterMs, 4300)
  await t.rejects(detector.probe(), { code: 'ERR_DETECTOR_STOPPED' }, 'probe() before start()')
  t.same(detector.conflicts(), [])
})

t.test('evidence rules, frame by frame', async (t) => {
  const context = (probing: string[] = []) => ({ ownMacs: new Set([MAC]), vips: new VipSet([VIP4, VIP6]), probing: new Set(probing) })
  const verdict = (frame: Buffer, extra: Partial<ParsedFrame & { outgoing: boolean }> = {}, probing: string[] = []) =>
    conflictEvidence({ ...parseFrame(frame), ...extra } as ParsedFrame, context(probing))

  // Claims by another host.
  t.same(verdict(gratuitousArp('request', OTHER, VIP4)), { vip: VIP4, mac: OTHER, evidence: 'gratuitous-arp' })
  t.same(verdict(gratuitousArp('reply', OTHER, VIP4)), { vip: VIP4, mac: OTHER, evidence: 'gratuitous-arp' })
  const probeReply = arpFrame({ op: 2, destination: MAC, senderMac: OTHER, senderIp: VIP4, targetMac: MAC, targetIp: '0.0.0.0' })
  t.same(verdict(probeReply), { vip: VIP4, mac: OTHER, evidence: 'arp-probe-reply' }, "Linux's answer to our probe")
  const reply = arpFrame({ op: 2, destination: '02:00:00:00:0e:01', senderIp: VIP4, targetMac: '02:00:00:00:0e:01', targetIp: '192.0.2.50' })
  t.same(verdict(reply), { vip: VIP4, mac: OTHER, evidence: 'arp-reply' }, 'its answer to a worker')
  t.same(verdict(arpFrame({ op: 1, senderIp: VIP4, targetIp: '192.0.2.1' })), { vip: VIP4, mac: OTHER, evidence: 'arp-request' }, 'it uses the VIP as its own')
  t.same(verdict(neighbourAdvertisement(OTHER, VIP6)), { vip: VIP6, mac: OTHER, evidence: 'neighbour-advertisement' })
  t.same(verdict(neighbourAdvertisement(OTHER, VIP6), {}, [VIP6]), { vip: VIP6, mac: OTHER, evidence: 'neighbour-probe-reply' })
  const noOverride = advertisement(OTHER, VIP6, (f) => (f[FLAGS] = 0))
  t.equal(verdict(noOverride), undefined, 'an advertisement without Override claims nothing by itself...')
  t.same(verdict(noOverride, {}, [VIP6]), { vip: VIP6, mac: OTHER, evidence: 'neighbour-probe-reply' }, '...but answers our probe')
  const fromVip = withIpv6Source(neighbourSolicitation(OTHER, '2001:db8::1'), ipv6Bytes(VIP6))
  t.same(verdict(fromVip), { vip: VIP6, mac: OTHER, evidence: 'neighbour-solicitation' })
  t.same(verdict(neighbourAdvertisement(OTHER, '2001:db8:0::100')), { vip: VIP6, mac: OTHER, evidence: 'neighbour-advertisement' }, 'any spelling of the VIP')

  // Not evidence.
  t.equal(verdict(gratuitousArp('request', MAC, VIP4)), undefined, 'our own announcement')
  t.equal(verdict(gratuitousArp('request', OTHER, VIP4), { outgoing: true }), undefined, 'an outgoing frame')
  t.equal(verdict(arpFrame({ source: OTHER, senderMac: MAC })), undefined, 'our MAC as sender, relayed')
  t.equal(verdict(neighbourAdvertisement(MAC, VIP6)), undefined, 'our own advertisement')
  t.equal(verdict(advertisement(OTHER, VIP6, (f) => macBytes(MAC).copy(f, 80))), undefined, 'our MAC as target link-layer address')
  t.equal(verdict(arpFrame({ senderIp: '192.0.2.50', targetIp: VIP4 })), undefined, 'a worker asking for the VIP')
  t.equal(verdict(arpProbe(OTHER, VIP4)), undefined, "a follower's (or a check's) probe")
  t.equal(verdict(neighbourSolicitation(OTHER, VIP6)), undefined, 'a DAD probe for the VIP')
  t.equal(verdict(gratuitousArp('request', OTHER, '192.0.2.101')), undefined, 'another address')
  t.equal(verdict(arpFrame({ senderMac: '01:00:5e:00:00:01' })), undefined, 'a multicast sender MAC')
  t.equal(verdict(arpFrame({ senderMac: '00:00:00:00:00:00', source: OTHER })), undefined, 'a zero sender MAC')
  t.equal(verdict(advertisement(OTHER, VIP6, () => {}, false).fill(0, 56, 58)), undefined, 'bad checksum')
  t.equal(verdict(advertisement(OTHER, VIP6, (f) => (f[21] = 64))), undefined, 'hop limit 64: crossed a router')
  t.equal(verdict(advertisement(OTHER, VIP6, (f) => (f[79] = 0))), undefined, 'a zero-length option')
  t.equal(verdict(advertisement(OTHER, VIP6, (f) => (f[FLAGS] = 0x60))), undefined, 'solicited, to a multicast group')
  t.equal(verdict(vlanTagged(gratuitousArp('request', OTHER, VIP4), 42)), undefined, 'another VLAN')
})

t.test('random and mutated frames never throw and claim only through well-formed frames', async (t) => {
  const context = { ownMacs: new Set([MAC]), vips: new VipSet([VIP4, VIP6]), probing: new Set([VIP6]) }
  const seeds = [
    gratuitousArp('request', OTHER, VIP4),
    gratuitousArp('reply', OTHER, VIP4),
    arpProbe(OTHER, VIP4),
    neighbourAdvertisement(OTHER, VIP6),
    neighbourSolicitation(OTHER, VIP6),
  ]
  let claims = 0
  const bad: string[] = []
  for (let i = 0; i < 20_000; i++) {
    let frame: Buffer
    if (i % 2 === 0) {
      frame = randomBytes(Math.floor(Math.random() * 120))
      if (frame.length >= 14 && i % 4 === 0) frame.writeUInt16BE(i % 8 === 0 ? 0x0806 : 0x86dd, 12)
    } else {
      frame = Buffer.from(seeds[i % seeds.length])
      for (let flips = 1 + (i % 4); flips > 0; flips--) frame[Math.floor(Math.random() * frame.length)] ^= 1 << (i % 8)
      if (i % 3 === 0) frame = frame.subarray(0, Math.floor(Math.random() * frame.length))
    }
    const parsed = parseFrame(frame)
    const found = conflictEvidence(parsed, context) // must not throw
    if (!found) continue
    claims++
    // Whatever got through names a VIP, with a station MAC that is not ours,
    // and (neighbour discovery) is a message a Linux receiver would accept.
    const wellFormed =
      [VIP4, VIP6].includes(found.vip) &&
      found.mac !== MAC &&
      /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/.test(found.mac) &&
      (parsed.kind === 'arp-request' || parsed.kind === 'arp-reply' || ((parsed.kind === 'neighbour-advertisement' || parsed.kind === 'neighbour-solicitation') && acceptable(parsed)))
    if (!wellFormed) bad.push(`${frame.toString('hex')} -> ${JSON.stringify(found)}`)
  }
  t.same(bad, [], 'every claim came from a well-formed frame')
  t.ok(claims > 100, `${claims} of the mutated frames still claimed a VIP (the rules were reached)`)
})

// ---------------------------------------------------------------------------
// In network namespaces.

/** Records a detector's events with the instant each arrived. */
class Log {
  readonly conflicts: Array<ConflictEvent & { at: number }> = []
  readonly cleared: Array<ClearedEvent & { at: number }> = []
  readonly errors: Error[] = []
  constructor(readonly detector: ConflictDetector) {
    detector.on('conflict', (e) => this.conflicts.push({ ...e, at: monotonicNow() }))
    detector.on('cleared', (e) => this.cleared.push({ ...e, at: monotonicNow() }))
    detector.on('error', (e) => this.errors.push(e))
  }
  conflict(vip: string): (ConflictEvent & { at: number }) | undefined {
    return this.conflicts.find((c) => c.vip === vip)
  }
}

interface Segment {
  lab: Lab
  /** The leader: runs the detector under test (192.0.2.11, 2001:db8::11). */
  cp: LabHost
  /** A follower replica without the VIP (192.0.2.12). */
  follower: LabHost
  worker: LabHost
  /** The third host that will squat the VIP (192.0.2.20). */
  squatter: LabHost
}

function segment(t: Test): Segment {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { sw, replicas, worker } = switchedReplicas(lab, 2)
  const squatter = lab.host('sq')
  lab.plug(squatter, 'eth0', sw, { addresses: ['192.0.2.20/24', '2001:db8::20/64'] })
  return { lab, cp: replicas[0], follower: replicas[1], worker, squatter }
}

function detectorIn(t: Test, host: LabHost, options: Partial<ConstructorParameters<typeof ConflictDetector>[0]> = {}): { detector: ConflictDetector; log: Log } {
  const detector = new ConflictDetector({ link: 'eth0', netns: host.path, vips: [VIP4, VIP6], ...options })
  const log = new Log(detector)
  t.teardown(() => detector.stop())
  return { detector, log }
}

function squat(host: LabHost): void {
  host.ip('addr', 'add', `${VIP4}/24`, 'dev', 'eth0')
  host.ip('addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad')
}
function unsquat(host: LabHost): void {
  host.ip('addr', 'del', `${VIP4}/24`, 'dev', 'eth0')
  host.ip('addr', 'del', `${VIP6}/64`, 'dev', 'eth0')
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]
/** Measured latencies (ms) per family: from start() with the holder present, and from a holder appearing. */
const figures = { start: { v4: [] as number[], v6: [] as number[] }, appear: { v4: [] as number[], v6: [] as number[] }, falseAlarms: 0 }

t.test('in network namespaces', namespaceTestOptions(), async (t) => {
  t.test('a silent host holding the VIP is found by the first probes, for both families', async (t) => {
    const { cp, squatter } = segment(t)
    squat(squatter)
    const mac = squatter.mac('eth0')
    const latencies = { v4: [] as number[], v6: [] as number[] }
    for (let run = 0; run < 5; run++) {
      const { detector, log } = detectorIn(t, cp)
      const started = monotonicNow()
      detector.start()
      await waitFor('both conflicts', () => log.conflicts.length >= 2, 3000, 2)
      for (const [vip, family, evidence] of [[VIP4, 'v4', 'arp-probe-reply'], [VIP6, 'v6', 'neighbour-probe-reply']] as const) {
        const event = log.conflict(vip)!
        t.match(event, { vip, mac, evidence }, `run ${run}: ${vip} is held by the squatter (${mac})`)
        t.ok(event.since >= started && event.since <= event.at, 'since: the first evidence, on the monotonic clock')
        latencies[family].push(event.at - started)
      }
      t.same(detector.conflicts().map((c) => `${c.vip} ${c.mac}`).sort(), [`${VIP4} ${mac}`, `${VIP6} ${mac}`])
      if (run === 0) {
        const answers = await detector.probe()
        t.same([...answers], [[VIP4, [mac]], [VIP6, [mac]]], 'probe() names the same host')
        t.same(await detector.probe([VIP6]), new Map([[VIP6, [mac]]]), 'one VIP at a time')
      }
      t.equal(log.errors.length, 0)
      t.equal(log.conflicts.length, 2, 'one event per VIP and MAC, however often it answers')
      detector.stop()
    }
    for (const family of ['v4', 'v6'] as const) {
      figures.start[family].push(...latencies[family])
      t.ok(Math.max(...latencies[family]) < 1000, `${family}: start -> conflict ${latencies[family].map((x) => x.toFixed(1)).join(', ')} ms (< 1000)`)
    }
  })

  t.test('a host that starts answering is reported within 1 s, and cleared when it lets go', async (t) => {
    const { cp, squatter } = segment(t)
    const mac = squatter.mac('eth0')
    const { detector, log } = detectorIn(t, cp)
    detector.start()
    await waitFor('two quiet rounds', () => detector.stats.rounds >= 2, 3000, 5)
    t.equal(log.conflicts.length, 0, 'nobody holds the VIPs yet')

    // At any phase of the probe cycle: the worst case is just after a round.
    await sleep(Math.random() * detector.probeIntervalMs)
    const added = monotonicNow()
    squat(squatter)
    await waitFor('both conflicts', () => log.conflicts.length >= 2, 3000, 2)
    for (const [vip, family] of [[VIP4, 'v4'], [VIP6, 'v6']] as const) {
      const event = log.conflict(vip)!
      t.equal(event.mac, mac)
      const latency = event.at - added
      figures.appear[family].push(latency)
      t.ok(latency < 1000, `${vip}: address added -> conflict ${latency.toFixed(1)} ms (< 1000)`)
    }

    // While it keeps answering, the conflicts stay, past clearAfterMs.
    await sleep(detector.clearAfterMs + 300)
    t.equal(log.cleared.length, 0, `still held after ${detector.clearAfterMs + 300} ms of answers: not cleared`)
    t.equal(detector.conflicts().length, 2)

    const removed = monotonicNow()
    unsquat(squatter)
    await waitFor('both cleared', () => log.cleared.length >= 2, 6000, 5)
    const bound = detector.clearAfterMs + detector.probeIntervalMs + 200 + 1000
    for (const cleared of log.cleared) {
      t.equal(cleared.mac, mac)
      t.ok(cleared.quietMs >= detector.clearAfterMs, `${cleared.vip}: quiet ${cleared.quietMs.toFixed(0)} ms >= clearAfterMs`)
      const after = cleared.at - removed
      t.ok(after < bound, `${cleared.vip}: cleared ${after.toFixed(0)} ms after the address was removed (< ${bound})`)
    }
    t.same(detector.conflicts(), [])
    t.equal(log.conflicts.length, 2, 'no new conflict after it let go')
    t.equal(log.errors.length, 0)
  })

  t.test('passive: announcements from another host are conflicts without any probe', async (t) => {
    const { cp, squatter } = segment(t)
    const mac = squatter.mac('eth0')
    const { detector, log } = detectorIn(t, cp, { probeIntervalMs: 0 })
    detector.start()
    await sleep(50)
    // Real tooling: Habets arping, unsolicited (gratuitous) ARP with the VIP as source.
    const sent = monotonicNow()
    squatter.run('sh', '-c', `arping -U -S ${VIP4} -i eth0 -c 1 -w 0 ${VIP4} >/dev/null || true`) // nobody answers: exit 1
    const socket = PacketSocket.open({ link: 'eth0', netns: squatter.path })
    t.teardown(() => socket.close())
    socket.sendNeighbourAdvertisement(VIP6)
    await waitFor('both conflicts', () => log.conflicts.length >= 2, 3000, 2)
    t.match(log.conflict(VIP4), { mac, evidence: 'gratuitous-arp' })
    t.match(log.conflict(VIP6), { mac, evidence: 'neighbour-advertisement' })
    t.ok(log.conflicts.every((c) => c.at - sent < 1000), `reported ${log.conflicts.map((c) => (c.at - sent).toFixed(1)).join(', ')} ms after sending`)
    t.equal(detector.stats.probesSent, 0, 'passive: no probe was sent')

    // A second host's claim is a separate conflict; the first one's repeats are not.
    socket.send(gratuitousArp('reply', '02:00:00:00:0f:01', VIP4))
    socket.sendNeighbourAdvertisement(VIP6)
    await waitFor('the second host', () => log.conflicts.length >= 3, 2000, 2)
    t.same(log.conflicts.map((c) => c.mac).sort(), [mac, mac, '02:00:00:00:0f:01'].sort())

    // Without probes, silence alone clears them after clearAfterMs (1000).
    await waitFor('all cleared', () => log.cleared.length >= 3, 4000, 5)
    t.ok(log.cleared.every((c) => c.quietMs >= 1000 && c.quietMs < 2500), `quiet ${log.cleared.map((c) => c.quietMs.toFixed(0)).join(', ')} ms`)
  })

  t.test('no false alarm: our own announcements and answers, a probing follower, a worker', async (t) => {
    const { cp, follower, worker, squatter } = segment(t)
    cp.ip('addr', 'add', `${VIP4}/32`, 'dev', 'eth0')
    cp.ip('addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad')
    const cpMac = cp.mac('eth0')
    const { detector, log } = detectorIn(t, cp)
    // The follower probes too (as a detector there, or `check`, would): our
    // kernel answers it, which is what its detector must see.
    const { detector: other, log: otherLog } = detectorIn(t, follower)
    const announcer = PacketSocket.open({ link: 'eth0', netns: cp.path })
    t.teardown(() => announcer.close())
    detector.start()
    other.start()
    const announce = setInterval(() => {
      announcer.sendGratuitousArp(VIP4)
      announcer.sendNeighbourAdvertisement(VIP6)
    }, 250)
    t.teardown(() => clearInterval(announce))
    // A worker resolving the VIP over and over (ARP requests for it, and NS/NA through ping -6).
    const arping = spawn('ip', ['netns', 'exec', worker.name, 'arping', '-c', '8', '-W', '0.5', '-i', 'eth0', VIP4], { stdio: 'ignore' })
    const arpingDone = new Promise<number | null>((resolve) => arping.on('close', resolve))
    t.teardown(() => void arping.kill())
    worker.run('ping', '-c', '2', '-i', '0.2', '-W', '2', VIP4)
    worker.run('ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', VIP6)

    const windowMs = 5000
    const before = detector.stats
    await sleep(windowMs)
    clearInterval(announce)
    const arpingStatus = await arpingDone
    const stats = detector.stats
    figures.falseAlarms += log.conflicts.length
    t.equal(log.conflicts.length, 0, `no conflict in ${windowMs} ms (${log.conflicts.map((c) => `${c.vip} ${c.mac} ${c.evidence}`).join('; ')})`)
    t.equal(log.errors.length, 0)
    t.ok(stats.rounds - before.rounds >= 5, `${stats.rounds - before.rounds} probe rounds ran in the window`)
    // Positive controls: the traffic was there and the probes were answered.
    t.match(otherLog.conflict(VIP4), { mac: cpMac }, "the follower's detector sees our kernel answering for the VIP")
    t.match(otherLog.conflict(VIP6), { mac: cpMac })
    t.equal(arpingStatus, 0, "the worker's ARP requests for the VIP were answered")
    t.equal(worker.neighbourMac(VIP4), cpMac, 'the worker resolved the VIP to us')
    t.equal(worker.neighbourMac(VIP6), cpMac)

    // And the detector was not blind: a squatter's gratuitous ARP now is reported at once.
    const socket = PacketSocket.open({ link: 'eth0', netns: squatter.path })
    t.teardown(() => socket.close())
    const sent = monotonicNow()
    socket.sendGratuitousArp(VIP4)
    await waitFor('the squatter', () => log.conflicts.length >= 1, 2000, 2)
    t.match(log.conflicts[0], { vip: VIP4, mac: squatter.mac('eth0'), evidence: 'gratuitous-arp' })
    t.ok(log.conflicts[0].at - sent < 1000)
  })

  t.test('garbage from a peer neither crashes nor reports', async (t) => {
    // A direct cable: a bridge would drop some of it before it reaches us
    // (frames with a multicast source MAC; IPv6 with a bad length, in MLD
    // snooping and br_netfilter), and all of it must be able to arrive.
    const lab = new Lab()
    t.teardown(() => lab.destroy())
    const cp = lab.host('cp')
    const squatter = lab.host('sq')
    lab.cable(cp, 'eth0', squatter, 'eth0', { addresses: ['192.0.2.11/24', '2001:db8::11/64'] }, { addresses: ['192.0.2.20/24', '2001:db8::20/64'] })
    const mac = squatter.mac('eth0')
    const { detector, log } = detectorIn(t, cp)
    detector.start()
    const socket = PacketSocket.open({ link: 'eth0', netns: squatter.path })
    t.teardown(() => socket.close())
    const garbage: Buffer[] = []
    // Random bytes behind an ARP ethertype, with the VIP where the sender IP would be.
    for (let i = 0; i < 200; i++) {
      const frame = randomBytes(14 + (i % 80))
      macBytes('ff:ff:ff:ff:ff:ff').copy(frame, 0)
      frame.writeUInt16BE(0x0806, 12)
      if (frame.length >= 32) ip4(VIP4).copy(frame, 28)
      if (frame.length >= 22) frame.writeUInt16BE(0x0007, 14) // a hardware type nobody speaks, so it is garbage for sure
      garbage.push(frame)
    }
    // A gratuitous ARP for the VIP cut short at every length, and with wrong header fields.
    const garp = gratuitousArp('request', mac, VIP4)
    for (let length = 14; length < 42; length++) garbage.push(garp.subarray(0, length))
    garbage.push(arpFrame({ senderMac: mac, hlen: 8 }), arpFrame({ senderMac: mac, plen: 16 }), arpFrame({ senderMac: mac, op: 3 }))
    garbage.push(arpFrame({ senderMac: mac, htype: 6 }), arpFrame({ senderMac: mac, ptype: 0x86dd }))
    const arpCount = garbage.length
    // Neighbour advertisements for the VIP with bad lengths, checksum, hop limit, options.
    const na = neighbourAdvertisement(mac, VIP6)
    for (let length = 14; length < 86; length++) garbage.push(na.subarray(0, length))
    garbage.push(advertisement(mac, VIP6, (f) => f.writeUInt16BE(0xffff, 18)))
    garbage.push(advertisement(mac, VIP6, (f) => f.writeUInt16BE(16, 18)))
    garbage.push(advertisement(mac, VIP6, (f) => f.writeUInt16BE(28, 18)))
    garbage.push(advertisement(mac, VIP6, (f) => (f[56] ^= 0xff), false))
    garbage.push(advertisement(mac, VIP6, (f) => (f[21] = 1)))
    garbage.push(advertisement(mac, VIP6, (f) => (f[79] = 0)))
    garbage.push(advertisement(mac, VIP6, (f) => (f[55] = 1)))
    // From another VLAN (the kernel moves the tag to metadata; the filter drops it).
    garbage.push(vlanTagged(garp, 42))

    // Those long enough to hold the VIP where the kernel filter looks (ARP
    // sender IP at 28, the advertisement's target at 62) reach the parser.
    const expected = [garbage.slice(0, arpCount).filter((f) => f.length >= 32).length, garbage.slice(arpCount).filter((f) => f.length >= 78).length]
    const inspected: number[] = []
    for (const part of [garbage.slice(0, arpCount), garbage.slice(arpCount)]) {
      const before = detector.stats.framesInspected
      for (const frame of part) socket.send(frame)
      await sleep(100)
      inspected.push(detector.stats.framesInspected - before)
    }
    await sleep(detector.probeIntervalMs) // and a probe round on top
    t.ok(inspected[0] <= expected[0] && inspected[0] >= 0.9 * expected[0], `${inspected[0]} of ${arpCount} ARP-typed ones (${expected[0]} long enough) passed the kernel filter and were parsed`)
    t.equal(inspected[1], expected[1], `${inspected[1]} of ${garbage.length - arpCount} IPv6 ones too`)
    t.equal(log.conflicts.length, 0, `${garbage.length} malformed frames: no conflict`)
    t.equal(log.errors.length, 0, 'no error')
    t.ok(detector.started, 'still running')

    // Alive and well: a proper announcement from the same host is reported.
    socket.sendGratuitousArp(VIP4)
    socket.sendNeighbourAdvertisement(VIP6)
    await waitFor('the real claims', () => log.conflicts.length >= 2, 2000, 2)
    t.same(log.conflicts.map((c) => `${c.vip} ${c.evidence}`).sort(), [`${VIP6} neighbour-advertisement`, `${VIP4} gratuitous-arp`].sort())
  })

  t.test('probe(): rounds never overlap; stop() rejects what is pending; start() errors leave nothing open', async (t) => {
    const { cp, squatter } = segment(t)
    squat(squatter)
    const { detector } = detectorIn(t, cp, { probeIntervalMs: 0, probeTimeoutMs: 150 })
    detector.start()
    t.equal(detector.start(), detector, 'start() is idempotent')
    const started = monotonicNow()
    const rounds = await Promise.all([detector.probe(), detector.probe([VIP4]), detector.probe([VIP6])])
    const elapsed = monotonicNow() - started
    t.ok(elapsed >= 3 * 150 - 5, `three rounds one after the other: ${elapsed.toFixed(0)} ms`)
    t.same(rounds.map((r) => [...r.keys()]), [[VIP4, VIP6], [VIP4], [VIP6]])
    t.ok(rounds.every((r) => [...r.values()].every((macs) => macs.length === 1)), 'each round found the squatter')
    t.equal(detector.stats.rounds, 3)
    await t.rejects(detector.probe(['192.0.2.101']), { message: /^vips\[0\]: .*not one of the watched VIPs/ })

    const pending = [detector.probe(), detector.probe()]
    detector.stop()
    detector.stop()
    for (const p of pending) await t.rejects(p, { code: 'ERR_DETECTOR_STOPPED' })
    t.same(detector.conflicts(), [], 'stop() forgets')
    detector.start()
    t.same((await detector.probe()).get(VIP4), [squatter.mac('eth0')], 'start() again works')
    detector.stop()

    const missing = new ConflictDetector({ link: 'nosuch0', netns: cp.path, vips: [VIP4] })
    t.throws(() => missing.start(), { code: 'ENODEV' })
    t.notOk(missing.started)
  })
})

t.teardown(() => {
  const line = (values: number[]) => (values.length ? `median ${median(values).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms (${values.length})` : 'not measured')
  for (const [what, set] of [['start() -> conflict', figures.start], ['holder appears -> conflict', figures.appear]] as const) {
    t.comment(`${what}: IPv4 ${line(set.v4)}; IPv6 ${line(set.v6)}`)
  }
  t.comment(`false alarms: ${figures.falseAlarms}`)
})
