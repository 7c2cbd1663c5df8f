// Watching ARP and neighbour discovery traffic on a link, and the "is anyone
// answering for this address?" probe built on it.
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'
import { addon } from './binding'
import { arpProbe, ipv4Bytes, ipv6Bytes, neighbourSolicitation, sameAddress, type ParsedFrame } from './frames'
import { PacketSocket, validateLinkOptions, type PacketSocketOptions } from './packets'
import type { LinkRef } from './types'
import { isIPv4 } from 'node:net'

/** A received (or, with `outgoing`, sent) frame as the capture reports it. */
export type CapturedFrame = ParsedFrame & {
  /**
   * CLOCK_MONOTONIC milliseconds (as `monotonicNow()`), read right after the
   * frame was dequeued from the socket: it includes the time the frame waited
   * for the event loop to wake up (typically tens of microseconds, more when
   * the loop is busy), so it is a late bound of the arrival, not the arrival.
   */
  at: number
  /**
   * When the kernel received the frame (its SO_TIMESTAMPNS receive stamp),
   * on the same CLOCK_MONOTONIC millisecond scale as `at` and never after it.
   * Unlike `at` it does not include the wait for a busy event loop, so it is
   * the figure to time arrivals with. Absent if the kernel gave no stamp (or
   * the wall clock was stepped between the stamp and the read).
   */
  arrivedAt?: number
  /** True for frames this host sent on the link (PACKET_OUTGOING). */
  outgoing: boolean
  /** The frame bytes as received. */
  raw: Buffer
}

/** Events of a FrameCapture. */
export type FrameCaptureEvents = {
  /** An ARP or neighbour discovery frame, received or (with `outgoing` set) sent by this host; one event per frame. */
  frame: (frame: CapturedFrame) => void
  /** A socket error, e.g. ENETDOWN when the link goes down (capture resumes when it is up). */
  error: (error: Error) => void
}

interface NativeCapture {
  ifindex: number
  name: string
  mac: string
  addressFilter: boolean
  close(): void
  readonly closed: boolean
}
// Read on use: the addon loads on first property access (binding.ts).
const native = addon as {
  PacketCapture: new (
    link: LinkRef,
    netns: string | undefined,
    onFrames: (error: Error | null, frames?: CapturedFrame[]) => void,
    addresses?: Buffer[],
  ) => NativeCapture
}

/** Where to capture, and optionally which addresses only. */
export interface FrameCaptureOptions extends PacketSocketOptions {
  /**
   * Deliver only the frames that can show a host claiming one of these
   * addresses: ARP whose sender IP is one of them, neighbour advertisements
   * for one of them (target) and neighbour solicitations from one of them
   * (IPv6 source); frames whose 802.1Q tag carries a VLAN id other than 0
   * (another VLAN, seen on a trunk's untagged interface) are dropped too. The
   * kernel filter holds up to 16 addresses per family; with more, the capture
   * falls back to all ARP and neighbour discovery (`addressFilter` false).
   */
  addresses?: string[]
}

/**
 * Captures ARP and ICMPv6 neighbour solicitations/advertisements on one link
 * (a classic BPF filter drops everything else in the kernel; with `addresses`,
 * everything not about those addresses). Runs on the event loop of the thread
 * that opened it; keeps that loop alive until close(). Needs CAP_NET_RAW.
 */
export class FrameCapture extends (EventEmitter as new () => TypedEmitter<FrameCaptureEvents>) {
  private constructor() {
    super()
  }

  private socket!: NativeCapture

  /**
   * Starts capturing on `options.link` (in `options.netns` when given). Throws
   * like `PacketSocket.open`: EPERM without CAP_NET_RAW, ENODEV for an unknown
   * interface, TypeError/RangeError for invalid options.
   */
  static open(options: FrameCaptureOptions): FrameCapture {
    validateLinkOptions(options)
    let addresses: Buffer[] | undefined
    if (options.addresses !== undefined) {
      if (!Array.isArray(options.addresses) || options.addresses.length === 0) {
        throw new TypeError(`addresses: expected a non-empty array of IP addresses, got ${JSON.stringify(options.addresses)}`)
      }
      addresses = options.addresses.map((ip, i) => (typeof ip === 'string' && isIPv4(ip) ? ipv4Bytes(ip, `addresses[${i}]`) : ipv6Bytes(ip, `addresses[${i}]`)))
    }
    const capture = new FrameCapture()
    capture.socket = new native.PacketCapture(options.link, options.netns, (error, frames) => {
      if (error) {
        capture.emit('error', error)
        return
      }
      for (const frame of frames ?? []) {
        if (capture.socket.closed) break // a listener closed it mid-batch
        capture.emit('frame', frame)
      }
    }, addresses)
    return capture
  }

  /** Index of the captured interface. */
  get ifindex(): number {
    return this.socket.ifindex
  }
  /** Name of the captured interface, as read when the capture was opened. */
  get name(): string {
    return this.socket.name
  }
  /** MAC address of the captured interface, as read when the capture was opened. */
  get mac(): string {
    return this.socket.mac
  }
  /** True once `close()` ran. */
  get closed(): boolean {
    return this.socket.closed
  }
  /** True when the kernel filter passes only frames about `addresses` (see FrameCaptureOptions). */
  get addressFilter(): boolean {
    return this.socket.addressFilter
  }

  /** Stops capturing. Idempotent; no 'frame' event follows. */
  close(): void {
    this.socket.close()
  }
}

/** Options of `probeAddress`: the link to ask on, the address and the wait. */
export interface ProbeOptions extends PacketSocketOptions {
  /** The address asked about, IPv4 or IPv6. */
  ip: string
  /** How long to wait for an answer; default 1000 ms, at most 2^31-1 ms (setTimeout's limit). */
  timeoutMs?: number
}

/** What `probeAddress` found. */
export interface ProbeResult {
  /** MAC of the first host that answered for the address; absent when nobody did. */
  answeredBy?: string
}

/** The longest delay setTimeout can wait (2^31-1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 0x7fffffff

/** Probes sent per call, spread over the timeout, so one lost frame does not hide an owner. */
const PROBES = 3

/**
 * Asks the link whether anyone answers for `ip`, without claiming it.
 *
 * IPv4: RFC 5227 ARP probes (sender IP 0.0.0.0, so no neighbour cache learns
 * anything); an owner answers with an ARP reply whose sender IP is `ip`, and
 * any ARP from another host with sender IP `ip` counts too.
 *
 * IPv6: duplicate-address-detection neighbour solicitations (source ::); an
 * owner defends with a neighbour advertisement for `ip` to ff02::1. The
 * answer's target link-layer address (or else its source MAC) is reported.
 *
 * Frames from this host itself are ignored, so a replica can probe for the VIP
 * before it takes it. Needs CAP_NET_RAW.
 */
export async function probeAddress(options: ProbeOptions): Promise<ProbeResult> {
  validateLinkOptions(options)
  const { ip } = options
  const ipv4 = typeof ip === 'string' && isIPv4(ip)
  if (ipv4) ipv4Bytes(ip)
  else ipv6Bytes(ip)
  const timeoutMs = options.timeoutMs ?? 1000
  // setTimeout fires at once for a delay above 2^31-1 ms: the probe would
  // answer "nobody" without waiting.
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new RangeError(`timeoutMs: expected a positive number of milliseconds up to ${MAX_TIMEOUT_MS}, got ${timeoutMs}`)
  }

  const link = { link: options.link, netns: options.netns }
  const capture = FrameCapture.open(link)
  let socket: PacketSocket | undefined
  const timers: NodeJS.Timeout[] = []
  try {
    socket = PacketSocket.open(link)
    const sender = socket
    const ownMac = sender.mac
    const probe = ipv4 ? arpProbe(ownMac, ip) : neighbourSolicitation(ownMac, ip)
    return await new Promise<ProbeResult>((resolve, reject) => {
      capture.on('error', reject)
      capture.on('frame', (frame) => {
        if (frame.outgoing || frame.source === ownMac) return
        const owner = answerFor(frame, ip, ipv4)
        if (owner !== undefined && owner !== ownMac) resolve({ answeredBy: owner })
      })
      const sendProbe = () => {
        try {
          sender.send(probe)
        } catch (error) {
          reject(error)
        }
      }
      sendProbe()
      for (let i = 1; i < PROBES; i++) timers.push(setTimeout(sendProbe, (timeoutMs * i) / PROBES))
      timers.push(setTimeout(() => resolve({}), timeoutMs))
    })
  } finally {
    for (const timer of timers) clearTimeout(timer)
    capture.close()
    socket?.close()
  }
}

/** The MAC that `frame` shows owning `ip`, if it does. */
function answerFor(frame: CapturedFrame, ip: string, ipv4: boolean): string | undefined {
  if (ipv4) {
    if ((frame.kind === 'arp-reply' || frame.kind === 'arp-request') && frame.senderIp === ip) return frame.senderMac
    return undefined
  }
  if (frame.kind === 'neighbour-advertisement' && frame.checksumValid && sameAddress(frame.target, ip)) {
    return frame.linkLayerAddress ?? frame.source
  }
  return undefined
}
