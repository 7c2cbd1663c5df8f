// Announcements in network namespaces, with a peer's neighbour table as the
// witness: B holds a stale entry for the VIP pointing at a wrong MAC; a frame
// this process sends from A (through a socket opened in A's namespace) must
// make B's kernel point the entry at A.
import t from 'tap'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { twoNeighbours } from './lab/topologies'
import { PacketSocket } from '../src/net/packets'
import { FrameCapture } from '../src/net/capture'
import { neighbourAdvertisement } from '../src/net/frames'

const VIP4 = '192.0.2.100'
const VIP6 = '2001:db8::100'
const WRONG_MAC = '02:00:00:00:00:99'

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined || Date.now() > end) return value
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

interface Topology {
  lab: Lab
  a: LabHost
  b: LabHost
}

function topology(t: tap.Test): Topology {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { a, b } = twoNeighbours(lab)
  a.ip('addr', 'add', `${VIP4}/32`, 'dev', 'eth0')
  a.ip('addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad')
  return { lab, a, b }
}

/** B's neighbour entry for `ip`, made stale and wrong; checks the precondition. */
function plantStaleEntry(t: tap.Test, b: LabHost, ip: string): void {
  b.ip(...(ip.includes(':') ? ['-6'] : []), 'neigh', 'replace', ip, 'lladdr', WRONG_MAC, 'dev', 'eth0', 'nud', 'stale')
  t.equal(b.neighbourMac(ip, 'eth0'), WRONG_MAC, `precondition: B has ${ip} at the wrong MAC`)
}

const neighbourIs = (b: LabHost, ip: string, mac: string) => () => (b.neighbourMac(ip, 'eth0') === mac ? mac : undefined)

t.test('gratuitous ARP and unsolicited NA update a peer\'s neighbour entries', namespaceTestOptions(), async (t) => {
  const { a, b } = topology(t)
  t.equal(b.run('sysctl', '-n', 'net.ipv4.conf.eth0.arp_accept').trim(), '0', 'B runs with arp_accept=0')
  const aMac = a.mac('eth0')

  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.teardown(() => socket.close())
  t.equal(socket.name, 'eth0')
  t.equal(socket.mac, aMac)
  t.equal(socket.ifindex, a.ipJson('link', 'show', 'dev', 'eth0')[0].ifindex)

  t.test('control: without an announcement the stale entry stays wrong', async (t) => {
    plantStaleEntry(t, b, VIP4)
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal(b.neighbourMac(VIP4, 'eth0'), WRONG_MAC)
  })

  t.test('gratuitous ARP request', async (t) => {
    plantStaleEntry(t, b, VIP4)
    t.equal(socket.sendGratuitousArp(VIP4, ['request']), 1)
    t.equal(await waitFor(neighbourIs(b, VIP4, aMac), 2000), aMac, 'B now has the VIP at A\'s MAC')
  })

  t.test('gratuitous ARP reply', async (t) => {
    plantStaleEntry(t, b, VIP4)
    t.equal(socket.sendGratuitousArp(VIP4, ['reply']), 1)
    t.equal(await waitFor(neighbourIs(b, VIP4, aMac), 2000), aMac)
  })

  t.test('default sends both kinds', async (t) => {
    plantStaleEntry(t, b, VIP4)
    t.equal(socket.sendGratuitousArp(VIP4), 2)
    t.equal(await waitFor(neighbourIs(b, VIP4, aMac), 2000), aMac)
  })

  t.test('unsolicited neighbour advertisement', async (t) => {
    plantStaleEntry(t, b, VIP6)
    t.equal(socket.sendNeighbourAdvertisement(VIP6), 1)
    t.equal(await waitFor(neighbourIs(b, VIP6, aMac), 2000), aMac)
  })

  t.test('control: B\'s kernel drops an advertisement whose checksum is off by one', async (t) => {
    plantStaleEntry(t, b, VIP6)
    const frame = neighbourAdvertisement(aMac, VIP6)
    frame.writeUInt16BE((frame.readUInt16BE(56) + 1) & 0xffff, 56)
    socket.send(frame)
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal(b.neighbourMac(VIP6, 'eth0'), WRONG_MAC)
    socket.send(neighbourAdvertisement(aMac, VIP6))
    t.equal(await waitFor(neighbourIs(b, VIP6, aMac), 2000), aMac, 'and accepts the same frame with the right one')
  })

  t.test('announcements use the MAC the interface has now', async (t) => {
    const newMac = '02:00:00:00:0a:02'
    a.ip('link', 'set', 'dev', 'eth0', 'address', newMac)
    t.teardown(() => a.ip('link', 'set', 'dev', 'eth0', 'address', aMac))
    plantStaleEntry(t, b, VIP4)
    socket.sendGratuitousArp(VIP4, ['request'])
    t.equal(await waitFor(neighbourIs(b, VIP4, newMac), 2000), newMac)
    t.equal(socket.mac, newMac)
  })
})

t.test('the link can be given by index', namespaceTestOptions(), async (t) => {
  const { a } = topology(t)
  const index = a.ipJson('link', 'show', 'dev', 'eth0')[0].ifindex as number
  const socket = PacketSocket.open({ link: index, netns: a.path })
  t.teardown(() => socket.close())
  t.equal(socket.name, 'eth0')
  t.equal(socket.mac, a.mac('eth0'))
})

t.test('errors', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')

  t.throws(() => PacketSocket.open({ link: 'nosuch0', netns: a.path }), {
    code: 'ENODEV',
    syscall: 'ioctl',
    message: /nosuch0/,
  })
  t.throws(() => PacketSocket.open({ link: 4242, netns: a.path }), { code: 'ENODEV', message: /4242/ })
  t.throws(() => PacketSocket.open({ link: 'lo', netns: a.path }), { name: 'RangeError', message: /^link:.*not an Ethernet/ })
  t.throws(() => PacketSocket.open({ link: 'eth0', netns: '/run/netns/does-not-exist-va' }), {
    code: 'ENOENT',
    syscall: 'open',
  })
  // The same validators (and error codes) as the Netlink facade.
  t.throws(() => PacketSocket.open({ link: '' }), { code: 'ERR_INVALID_ARG_VALUE', field: 'link', message: /^link:/ })
  t.throws(() => PacketSocket.open({ link: 'a-name-longer-than-15' }), { code: 'ERR_INVALID_ARG_VALUE', message: /^link: "a-name-longer-than-15" is 21 bytes long; Linux allows at most 15$/ })
  t.throws(() => PacketSocket.open({ link: 'eth0:1' }), { code: 'ERR_INVALID_ARG_VALUE', message: /^link:/ })
  t.throws(() => PacketSocket.open({ link: 1.5 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /^link:/ })
  t.throws(() => PacketSocket.open({ link: {} as any }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /^link:/ })
  t.throws(() => PacketSocket.open({ link: 'eth0', netns: 7 as any }), { code: 'ERR_INVALID_ARG_TYPE', field: 'netns', message: /^netns:/ })
  t.throws(() => FrameCapture.open({ link: 'eth0', netns: '' }), { code: 'ERR_INVALID_ARG_TYPE', field: 'netns' })

  const sw = lab.switch('sw')
  lab.plug(a, 'eth0', sw, { addresses: ['192.0.2.1/24'] })
  const socket = PacketSocket.open({ link: 'eth0', netns: a.path })
  t.throws(() => socket.sendGratuitousArp('192.0.2'), { name: 'TypeError', message: /^ip:/ })
  t.throws(() => socket.sendGratuitousArp(VIP4, []), { name: 'TypeError', message: /^kinds:/ })
  t.throws(() => socket.sendNeighbourAdvertisement(VIP4), { name: 'TypeError', message: /^ip:/ })
  t.throws(() => socket.send(Buffer.alloc(10)), { name: 'RangeError', message: /^frame:/ })
  t.notOk(socket.closed)
  socket.close()
  socket.close()
  t.ok(socket.closed)
  t.throws(() => socket.sendGratuitousArp(VIP4), { code: 'ERR_SOCKET_CLOSED' })
  t.throws(() => socket.sendNeighbourAdvertisement(VIP6), { code: 'ERR_SOCKET_CLOSED' })
  t.throws(() => socket.send(Buffer.alloc(60)), { code: 'ERR_SOCKET_CLOSED' })
})

t.test('EPERM names CAP_NET_RAW', namespaceTestOptions(), async (t) => {
  const { spawnSync } = await import('node:child_process')
  const buildDir = (require('../src/net/binding') as typeof import('../src/net/binding')).loadNative().dir
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const a = lab.host('a')
  const sw = lab.switch('sw')
  lab.plug(a, 'eth0', sw)
  // Plain node in the child: the compiled addon, no TypeScript loader.
  const child = (netns: string) => `
    const addon = require(${JSON.stringify(`${buildDir}/vip_announcer.node`)})
    try { new addon.PacketSocket('eth0', ${JSON.stringify(netns || undefined)}); console.log('{}') }
    catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, capability: e.capability, message: e.message })) }`
  const run = (prefix: string[], netns: string) => {
    const result = spawnSync('setpriv', [...prefix, process.execPath, '-e', child(netns)], { encoding: 'utf8' })
    t.equal(result.status, 0, result.stderr)
    return JSON.parse(result.stdout)
  }

  const nobody = run(['--reuid=65534', '--regid=65534', '--clear-groups'], '')
  t.match(nobody, { code: 'EPERM', syscall: 'socket', capability: 'CAP_NET_RAW', message: /CAP_NET_RAW/ }, 'non-root')

  const noNetRaw = run(['--bounding-set=-net_raw', '--inh-caps=-net_raw'], a.path)
  t.match(noNetRaw, { code: 'EPERM', syscall: 'socket', capability: 'CAP_NET_RAW' }, 'root without CAP_NET_RAW, in a netns')

  const nobodyNetns = run(['--reuid=65534', '--regid=65534', '--clear-groups'], a.path)
  t.match(nobodyNetns, { code: 'EPERM', syscall: 'setns', capability: 'CAP_SYS_ADMIN' }, 'non-root cannot enter the netns')
})
