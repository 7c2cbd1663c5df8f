// Byte-level checks of the frame builders against vectors written out by hand
// from RFC 826 / RFC 4861 / RFC 5227, and of the parser against them and
// against truncated and random input.
import t from 'tap'
import {
  arpProbe,
  gratuitousArp,
  neighbourAdvertisement,
  neighbourSolicitation,
  parseFrame,
  sameAddress,
} from '../src/net/frames'

const MAC = '02:00:00:00:00:01'
const VIP4 = '192.0.2.100'
const VIP6 = '2001:db8::100'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const zeros = (n: number) => '00'.repeat(n)

// Ethernet: dst, src, type | ARP: htype 1, ptype 0x0800, hlen 6, plen 4, op,
// sender MAC, sender IP, target MAC, target IP | padding to 60 bytes.
const ARP_REQUEST = hex(`
  ffffffffffff 020000000001 0806
  0001 0800 06 04 0001
  020000000001 c0000264
  000000000000 c0000264
  ${zeros(18)}`)
const ARP_REPLY = hex(`
  ffffffffffff 020000000001 0806
  0001 0800 06 04 0002
  020000000001 c0000264
  020000000001 c0000264
  ${zeros(18)}`)
const ARP_PROBE = hex(`
  ffffffffffff 020000000001 0806
  0001 0800 06 04 0001
  020000000001 00000000
  000000000000 c0000264
  ${zeros(18)}`)
// Ethernet to 33:33:00:00:00:01 | IPv6: version 6, payload 32, next header 58,
// hop limit 255, src 2001:db8::100, dst ff02::1 | ICMPv6 136 code 0, checksum,
// flags 0x20 (Override), target, option 2 length 1 with the MAC.
const NA_WITHOUT_CHECKSUM = hex(`
  333300000001 020000000001 86dd
  60000000 0020 3a ff
  20010db8000000000000000000000100
  ff020000000000000000000000000001
  88 00 0000 20000000
  20010db8000000000000000000000100
  02 01 020000000001`)
// DAD solicitation: to the solicited-node group ff02::1:ff00:100 (Ethernet
// 33:33:ff:00:01:00), source ::, payload 24, no options.
const NS_WITHOUT_CHECKSUM = hex(`
  3333ff000100 020000000001 86dd
  60000000 0018 3a ff
  00000000000000000000000000000000
  ff0200000000000000000001ff000100
  87 00 0000 00000000
  20010db8000000000000000000000100`)

/** RFC 1071 sum over the IPv6 pseudo-header and the ICMPv6 message, written independently of the addon. */
function icmpv6Checksum(frame: Buffer): number {
  const ip = frame.subarray(14)
  const payloadLength = ip.readUInt16BE(4)
  const icmp = Buffer.from(ip.subarray(40, 40 + payloadLength))
  icmp.writeUInt16BE(0, 2)
  const pseudo = Buffer.alloc(40)
  ip.copy(pseudo, 0, 8, 40) // source and destination addresses
  pseudo.writeUInt32BE(payloadLength, 32)
  pseudo[39] = 58
  const all = Buffer.concat([pseudo, icmp, Buffer.alloc(icmp.length % 2)])
  let sum = 0
  for (let i = 0; i < all.length; i += 2) sum += all.readUInt16BE(i)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

function withChecksum(frame: Buffer, checksum: number, padTo = 60): Buffer {
  const out = Buffer.concat([frame, Buffer.alloc(Math.max(0, padTo - frame.length))])
  out.writeUInt16BE(checksum, 14 + 40 + 2)
  return out
}

t.test('gratuitous ARP request matches the hand-written vector', async (t) => {
  t.same(gratuitousArp('request', MAC, VIP4).toString('hex'), ARP_REQUEST.toString('hex'))
})

t.test('gratuitous ARP reply: op 2, target MAC = sender MAC', async (t) => {
  t.same(gratuitousArp('reply', MAC, VIP4).toString('hex'), ARP_REPLY.toString('hex'))
})

t.test('ARP probe: sender IP 0.0.0.0, target MAC zero', async (t) => {
  t.same(arpProbe(MAC, VIP4).toString('hex'), ARP_PROBE.toString('hex'))
})

t.test('neighbour advertisement matches the vector, checksum computed independently', async (t) => {
  const frame = neighbourAdvertisement(MAC, VIP6)
  const checksum = icmpv6Checksum(frame)
  t.equal(checksum, 0xf72c, 'the independent sum agrees with the value worked out offline')
  t.equal(frame.readUInt16BE(56), checksum, 'checksum field')
  t.same(frame.toString('hex'), withChecksum(NA_WITHOUT_CHECKSUM, 0xf72c, 86).toString('hex'))
  t.equal(frame.length, 86, 'longer than the 60-byte minimum: no padding')
  t.equal(frame[21], 255, 'hop limit 255')
  t.equal(frame[58], 0x20, 'Override set; Solicited and Router clear')
})

t.test('DAD neighbour solicitation: source ::, solicited-node group, padded', async (t) => {
  const frame = neighbourSolicitation(MAC, VIP6)
  const checksum = icmpv6Checksum(frame)
  t.equal(frame.readUInt16BE(56), checksum)
  t.same(frame.toString('hex'), withChecksum(NS_WITHOUT_CHECKSUM, checksum, 78).toString('hex'))
})

t.test('checksums differ with the address (not a constant)', async (t) => {
  const a = neighbourAdvertisement(MAC, '2001:db8::1')
  const b = neighbourAdvertisement('02:00:00:00:00:02', '2001:db8::1')
  t.equal(a.readUInt16BE(56), icmpv6Checksum(a))
  t.equal(b.readUInt16BE(56), icmpv6Checksum(b))
  t.not(a.readUInt16BE(56), b.readUInt16BE(56))
})

t.test('every frame is at least 60 bytes', async (t) => {
  for (const frame of [gratuitousArp('request', MAC, VIP4), gratuitousArp('reply', MAC, VIP4), arpProbe(MAC, VIP4)]) {
    t.equal(frame.length, 60)
  }
})

t.test('parser round trips', async (t) => {
  t.match(parseFrame(ARP_REQUEST), {
    kind: 'arp-request',
    length: 60,
    destination: 'ff:ff:ff:ff:ff:ff',
    source: MAC,
    ethertype: 0x0806,
    senderMac: MAC,
    senderIp: VIP4,
    targetMac: '00:00:00:00:00:00',
    targetIp: VIP4,
  })
  t.match(parseFrame(ARP_REPLY), { kind: 'arp-reply', senderIp: VIP4, targetIp: VIP4, targetMac: MAC })
  t.match(parseFrame(ARP_PROBE), { kind: 'arp-request', senderIp: '0.0.0.0', targetIp: VIP4 })
  t.same(parseFrame(neighbourAdvertisement('0a:1b:2c:3d:4e:5f', '2001:db8:0:0::abcd')), {
    kind: 'neighbour-advertisement',
    length: 86,
    destination: '33:33:00:00:00:01',
    source: '0a:1b:2c:3d:4e:5f',
    ethertype: 0x86dd,
    sourceIp: '2001:db8::abcd',
    destinationIp: 'ff02::1',
    hopLimit: 255,
    target: '2001:db8::abcd',
    router: false,
    solicited: false,
    override: true,
    linkLayerAddress: '0a:1b:2c:3d:4e:5f',
    checksumValid: true,
    optionsValid: true,
  })
  t.match(parseFrame(neighbourSolicitation(MAC, VIP6)), {
    kind: 'neighbour-solicitation',
    sourceIp: '::',
    destinationIp: 'ff02::1:ff00:100',
    target: VIP6,
    checksumValid: true,
    linkLayerAddress: undefined,
  })
})

t.test('parser: 802.1Q tag, bad checksum, odd options, other traffic', async (t) => {
  const tagged = Buffer.concat([ARP_REQUEST.subarray(0, 12), hex('8100 0064'), ARP_REQUEST.subarray(12)])
  t.match(parseFrame(tagged), { kind: 'arp-request', vlan: 100, ethertype: 0x0806, senderIp: VIP4 })

  const corrupted = Buffer.from(neighbourAdvertisement(MAC, VIP6))
  corrupted[70] ^= 0x01 // a bit of the target address
  t.match(parseFrame(corrupted), { kind: 'neighbour-advertisement', checksumValid: false })

  const zeroLengthOption = Buffer.from(neighbourAdvertisement(MAC, VIP6))
  zeroLengthOption[79] = 0 // option length 0 is malformed: stop reading options
  t.match(parseFrame(zeroLengthOption), { kind: 'neighbour-advertisement', linkLayerAddress: undefined, optionsValid: false })
  t.match(parseFrame(neighbourSolicitation(MAC, VIP6)), { optionsValid: true }, 'no options at all is well formed')
  // Options must fill the message exactly: a payload 4 bytes longer leaves a stub (checksum fixed up).
  const stub = Buffer.concat([neighbourAdvertisement(MAC, VIP6).subarray(0, 86), Buffer.alloc(4)])
  stub.writeUInt16BE(36, 18)
  stub.writeUInt16BE(icmpv6Checksum(stub), 56)
  t.match(parseFrame(stub), { kind: 'neighbour-advertisement', checksumValid: true, linkLayerAddress: MAC, optionsValid: false })

  const ipv4 = Buffer.concat([hex('ffffffffffff 020000000001 0800'), Buffer.alloc(46)])
  t.same(parseFrame(ipv4), {
    kind: 'other',
    length: 60,
    destination: 'ff:ff:ff:ff:ff:ff',
    source: MAC,
    ethertype: 0x0800,
  })

  const arpForIpv6 = Buffer.from(ARP_REQUEST)
  arpForIpv6.writeUInt16BE(0x86dd, 16) // protocol type other than IPv4
  t.equal(parseFrame(arpForIpv6).kind, 'other')

  const echoRequest = Buffer.from(neighbourAdvertisement(MAC, VIP6))
  echoRequest[54] = 128
  t.equal(parseFrame(echoRequest).kind, 'other')
})

t.test('parser: every truncation is classified without reading past the end', async (t) => {
  const cases: Array<[Buffer, number]> = [
    [ARP_REQUEST, 42], // 14 + 28: the shortest complete ARP frame
    [neighbourAdvertisement(MAC, VIP6), 86],
    [neighbourSolicitation(MAC, VIP6), 78],
  ]
  for (const [frame, complete] of cases) {
    const full = parseFrame(frame).kind
    for (let length = 0; length <= frame.length; length++) {
      // A copy exactly as long as the slice, so a read past the end would be outside the allocation.
      const parsed = parseFrame(Buffer.from(frame.subarray(0, length)))
      t.equal(parsed.kind, length >= complete ? full : 'other', `${full} cut to ${length} bytes`)
      t.equal(parsed.length, length)
      if (length < 14) t.equal(parsed.source, undefined)
    }
  }
})

t.test('parser: random and mutated input never throws', async (t) => {
  let state = 0x12345678
  const random = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return state >>> 0
  }
  const seeds = [ARP_REQUEST, neighbourAdvertisement(MAC, VIP6), neighbourSolicitation(MAC, VIP6)]
  const kinds = new Set<string>()
  for (let i = 0; i < 20000; i++) {
    let frame: Buffer
    if (i % 2 === 0) {
      frame = Buffer.alloc(random() % 120)
      for (let j = 0; j < frame.length; j++) frame[j] = random() & 0xff
    } else {
      frame = Buffer.from(seeds[i % seeds.length].subarray(0, random() % 100))
      for (let k = random() % 4; k >= 0 && frame.length > 0; k--) frame[random() % frame.length] = random() & 0xff
    }
    kinds.add(parseFrame(frame).kind)
  }
  t.ok(kinds.has('other'))
  t.ok(kinds.has('arp-request') || kinds.has('neighbour-advertisement'), 'mutations keep some frames valid')
})

t.test('bad input names the field', async (t) => {
  t.throws(() => gratuitousArp('request', '02:00:00:00:00', VIP4), { name: 'TypeError', message: /^mac:/ })
  t.throws(() => gratuitousArp('request', MAC, '192.0.2'), { name: 'TypeError', message: /^ip:/ })
  t.throws(() => gratuitousArp('request', MAC, VIP6), { name: 'TypeError', message: /^ip:/ })
  t.throws(() => gratuitousArp('announce' as any, MAC, VIP4), { name: 'TypeError', message: /^kind:/ })
  t.throws(() => neighbourAdvertisement(MAC, VIP4), { name: 'TypeError', message: /^ip:/ })
  t.throws(() => neighbourAdvertisement(MAC, 'fe80::1%eth0'), { name: 'TypeError', message: /^ip:.*zone/ })
  t.throws(() => arpProbe('zz:00:00:00:00:01', VIP4), { name: 'TypeError', message: /^mac:/ })
  t.throws(() => parseFrame('ffff' as any), { name: 'TypeError', message: /^frame:/ })
})

t.test('sameAddress compares addresses, not spellings', async (t) => {
  t.ok(sameAddress('2001:DB8:0::100', '2001:db8::100'))
  t.notOk(sameAddress('2001:db8::100', '2001:db8::101'))
  t.notOk(sameAddress('not an address', '2001:db8::100'))
})
