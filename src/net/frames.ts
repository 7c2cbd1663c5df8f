// Announcement and probe frames, and the parser for received ones. Pure: the
// bytes are laid out by native/frames.cc (the same code the packet socket and
// the fuzzers use); this module validates the text inputs and types the result.
import { isIPv4, isIPv6 } from 'node:net'
import ipaddr from 'ipaddr.js'
import { addon } from './binding'

interface FramesAddon {
  buildGratuitousArp(kind: 'request' | 'reply', mac: Buffer, ip: Buffer): Buffer
  buildArpProbe(mac: Buffer, ip: Buffer): Buffer
  buildNeighbourAdvertisement(mac: Buffer, ip: Buffer): Buffer
  buildNeighbourSolicitation(mac: Buffer, ip: Buffer): Buffer
  parseFrame(frame: Buffer): ParsedFrame
}
const native = addon as unknown as FramesAddon

/** Ethernet header fields every classified frame carries. */
export interface EthernetFields {
  /** Bytes received (or given to the parser), padding included. */
  length: number
  /** Destination MAC, 'ff:ff:ff:ff:ff:ff' style. */
  destination: string
  /** Source MAC. */
  source: string
  /** The ethertype after an 802.1Q tag, if the frame had one. */
  ethertype: number
  /** 802.1Q VLAN id when the frame still carried a tag. */
  vlan?: number
}

/** An Ethernet/IPv4 ARP request or reply. */
export interface ArpFrame extends EthernetFields {
  /** ARP operation: 1 is 'arp-request', 2 'arp-reply'. */
  kind: 'arp-request' | 'arp-reply'
  /** Sender hardware address from the ARP payload (not the Ethernet source). */
  senderMac: string
  /** '0.0.0.0' for an RFC 5227 probe. */
  senderIp: string
  /** Target hardware address; usually all zeros in a request, where it is ignored. */
  targetMac: string
  /** Equal to `senderIp` in a gratuitous ARP. */
  targetIp: string
}

/** An ICMPv6 neighbour advertisement or solicitation (no extension headers). */
export interface NeighbourFrame extends EthernetFields {
  /** ICMPv6 type 136 is 'neighbour-advertisement', 135 'neighbour-solicitation'. */
  kind: 'neighbour-advertisement' | 'neighbour-solicitation'
  /** IPv6 source address; '::' in a duplicate-address-detection solicitation. */
  sourceIp: string
  /** IPv6 destination address (ff02::1 for an unsolicited advertisement). */
  destinationIp: string
  /** 255 unless the message crossed a router (receivers then drop it). */
  hopLimit: number
  /** The address the message is about. */
  target: string
  /** The advertisement's Router flag (R). The bits are reserved, so normally false, in a solicitation. */
  router: boolean
  /** The advertisement's Solicited flag (S): set when it answers a solicitation. */
  solicited: boolean
  /** The advertisement's Override flag (O): receivers replace a cached link-layer address with this one. */
  override: boolean
  /** Advertisement: the target link-layer address option; solicitation: the source one. */
  linkLayerAddress?: string
  /** Whether the ICMPv6 checksum over the pseudo-header is right. */
  checksumValid: boolean
  /**
   * Whether the options are well formed: each has a length above 0 and
   * together they fill the message exactly (Linux drops the message otherwise).
   */
  optionsValid: boolean
}

/** Anything else, or a frame too short or malformed to classify. */
export interface OtherFrame extends Partial<EthernetFields> {
  /** Always 'other'. */
  kind: 'other'
  length: number
}

/** A classified frame; switch on `kind`. */
export type ParsedFrame = ArpFrame | NeighbourFrame | OtherFrame

/**
 * The two forms of gratuitous ARP: an ARP request or an ARP reply for the
 * address itself. Some switches and hosts honour only one of them.
 */
export type ArpKind = 'request' | 'reply'

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

/** 'aa:bb:cc:dd:ee:ff' as 6 bytes; TypeError naming `field` otherwise. */
export function macBytes(mac: string, field = 'mac'): Buffer {
  if (typeof mac !== 'string' || !MAC_PATTERN.test(mac)) {
    throw new TypeError(`${field}: expected a MAC address like 02:00:00:00:00:01, got ${JSON.stringify(mac)}`)
  }
  return Buffer.from(mac.split(':').map((octet) => parseInt(octet, 16)))
}

/** A dotted-quad IPv4 address as 4 bytes; TypeError naming `field` otherwise. */
export function ipv4Bytes(ip: string, field = 'ip'): Buffer {
  if (typeof ip !== 'string' || !isIPv4(ip)) {
    throw new TypeError(`${field}: expected an IPv4 address, got ${JSON.stringify(ip)}`)
  }
  return Buffer.from(ip.split('.').map(Number))
}

/** An IPv6 address (no zone) as 16 bytes; TypeError naming `field` otherwise. */
export function ipv6Bytes(ip: string, field = 'ip'): Buffer {
  if (typeof ip !== 'string' || !isIPv6(ip) || ip.includes('%')) {
    throw new TypeError(`${field}: expected an IPv6 address without a zone, got ${JSON.stringify(ip)}`)
  }
  return Buffer.from(ipaddr.IPv6.parse(ip).toByteArray())
}

/** True when two textual addresses are the same address ('2001:DB8::1' and '2001:db8:0::1'). */
export function sameAddress(a: string, b: string): boolean {
  try {
    return ipaddr.process(a).toString() === ipaddr.process(b).toString()
  } catch {
    return false
  }
}

/**
 * A gratuitous ARP for `ip` at `mac`, broadcast, padded to 60 bytes.
 * 'request': target MAC zero, target IP = `ip`; 'reply': target MAC = `mac`.
 * Linux updates an existing neighbour entry from either at once.
 */
export function gratuitousArp(kind: ArpKind, mac: string, ip: string): Buffer {
  if (kind !== 'request' && kind !== 'reply') {
    throw new TypeError(`kind: expected 'request' or 'reply', got ${JSON.stringify(kind)}`)
  }
  return native.buildGratuitousArp(kind, macBytes(mac), ipv4Bytes(ip))
}

/**
 * An unsolicited neighbour advertisement for `ip` at `mac`: to ff02::1, hop
 * limit 255, Override set, Solicited and Router clear, target link-layer
 * address option, IPv6 source = `ip` itself (RFC 4861 7.2.6).
 */
export function neighbourAdvertisement(mac: string, ip: string): Buffer {
  return native.buildNeighbourAdvertisement(macBytes(mac), ipv6Bytes(ip))
}

/** An RFC 5227 ARP probe: who has `ip`? (sender IP 0.0.0.0, so nobody learns from it). */
export function arpProbe(mac: string, ip: string): Buffer {
  return native.buildArpProbe(macBytes(mac), ipv4Bytes(ip))
}

/**
 * The IPv6 counterpart of an ARP probe: a duplicate-address-detection
 * neighbour solicitation (source ::, to the solicited-node group of `ip`). An
 * owner of `ip` answers with a neighbour advertisement to ff02::1.
 */
export function neighbourSolicitation(mac: string, ip: string): Buffer {
  return native.buildNeighbourSolicitation(macBytes(mac), ipv6Bytes(ip))
}

/** Classifies an Ethernet frame; never throws for any Buffer content. */
export function parseFrame(frame: Buffer): ParsedFrame {
  if (!Buffer.isBuffer(frame)) throw new TypeError('frame: expected a Buffer')
  return native.parseFrame(frame)
}
