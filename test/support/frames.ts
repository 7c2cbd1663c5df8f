// Frames crafted byte by byte (beyond what the library's builders make), for
// tests of the parser, the capture filter and the conflict detector.

const DEFAULT_MAC = '02:00:00:00:0d:01'

/** 'aa:bb:cc:dd:ee:ff' as 6 bytes. */
export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)))
}
/** A dotted quad as 4 bytes. */
export function ip4(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number))
}

export interface ArpFields {
  op?: number
  source?: string
  destination?: string
  senderMac?: string
  senderIp?: string
  targetMac?: string
  targetIp?: string
  htype?: number
  ptype?: number
  hlen?: number
  plen?: number
}

/**
 * An Ethernet/IPv4 ARP frame with any field overridden (60 bytes): by
 * default a broadcast request from 02:00:00:00:0d:01 with sender and target
 * IP 192.0.2.100. The Ethernet source follows the sender MAC unless given.
 */
export function arpFrame(f: ArpFields): Buffer {
  const frame = Buffer.alloc(60)
  macBytes(f.destination ?? 'ff:ff:ff:ff:ff:ff').copy(frame, 0)
  macBytes(f.source ?? f.senderMac ?? DEFAULT_MAC).copy(frame, 6)
  frame.writeUInt16BE(0x0806, 12)
  frame.writeUInt16BE(f.htype ?? 1, 14)
  frame.writeUInt16BE(f.ptype ?? 0x0800, 16)
  frame[18] = f.hlen ?? 6
  frame[19] = f.plen ?? 4
  frame.writeUInt16BE(f.op ?? 1, 20)
  macBytes(f.senderMac ?? DEFAULT_MAC).copy(frame, 22)
  ip4(f.senderIp ?? '192.0.2.100').copy(frame, 28)
  macBytes(f.targetMac ?? '00:00:00:00:00:00').copy(frame, 32)
  ip4(f.targetIp ?? '192.0.2.100').copy(frame, 38)
  return frame
}

/** RFC 1071 sum over the IPv6 pseudo-header and the ICMPv6 message (the payload length the header states). */
export function fixChecksum(frame: Buffer): Buffer {
  const ip = frame.subarray(14)
  const length = Math.min(ip.readUInt16BE(4), ip.length - 40)
  ip.writeUInt16BE(0, 42)
  const icmp = ip.subarray(40, 40 + length)
  const pseudo = Buffer.alloc(40)
  ip.copy(pseudo, 0, 8, 40)
  pseudo.writeUInt32BE(ip.readUInt16BE(4), 32)
  pseudo[39] = 58
  const all = Buffer.concat([pseudo, icmp, Buffer.alloc(icmp.length % 2)])
  let sum = 0
  for (let i = 0; i < all.length; i += 2) sum += all.readUInt16BE(i)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  ip.writeUInt16BE(~sum & 0xffff, 42)
  return frame
}


/** `frame` with an 802.1Q tag (TPID 0x8100, `tci`) after the MAC addresses. */
export function vlanTagged(frame: Buffer, tci: number): Buffer {
  const tag = Buffer.alloc(4)
  tag.writeUInt16BE(0x8100, 0)
  tag.writeUInt16BE(tci, 2)
  return Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)])
}

/** A neighbour discovery frame with its IPv6 source replaced (checksum fixed). */
export function withIpv6Source(frame: Buffer, source: Buffer): Buffer {
  const out = Buffer.from(frame)
  source.copy(out, 14 + 8)
  return fixChecksum(out)
}
