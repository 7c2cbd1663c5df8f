// Sending announcement frames from a raw AF_PACKET socket (needs CAP_NET_RAW).
import { addon } from './binding'
import { gratuitousArp, ipv4Bytes, ipv6Bytes, neighbourAdvertisement, type ArpKind } from './frames'
import type { LinkRef } from './types'
import { invalidType, validateLinkRef, validateNetns } from './validate'

/** The identity of the link a packet socket is bound to. */
export interface BoundLink {
  /** Interface index in the socket's namespace. */
  ifindex: number
  /** Interface name. */
  name: string
  /** Interface MAC address, 'aa:bb:cc:dd:ee:ff'. */
  mac: string
}

interface NativePacketSocket extends BoundLink {
  send(frame: Buffer): void
  readLink(): BoundLink
  close(): void
  readonly closed: boolean
}
// Read on use: the addon loads on first property access (binding.ts).
const native = addon as { PacketSocket: new (link: LinkRef, netns?: string) => NativePacketSocket }

/** Where a PacketSocket or FrameCapture is opened: one link, in one network namespace. */
export interface PacketSocketOptions {
  /** Interface name ('eth0') or index. */
  link: LinkRef
  /** Network namespace path (e.g. /run/netns/NAME); omit for the process's own. */
  netns?: string
}

/**
 * Checks the link/netns options shared by the packet socket and the capture.
 * @internal
 */
export function validateLinkOptions(options: PacketSocketOptions): void {
  if (options === null || typeof options !== 'object') invalidType('options', 'an object', options)
  validateLinkRef(options.link)
  validateNetns(options.netns)
}

/**
 * A send-only raw packet socket bound to one Ethernet link, for gratuitous ARP
 * and unsolicited neighbour advertisements. The interface is resolved (and its
 * MAC read) with ioctls on the socket itself, so with `netns` everything
 * happens inside that namespace while the process stays where it is.
 *
 * Errors: SystemError-shaped (`code`, `errno`, `syscall`): EPERM naming
 * CAP_NET_RAW without the capability, ENODEV for an unknown interface;
 * RangeError for a non-Ethernet link; `code: 'ERR_SOCKET_CLOSED'` after close().
 */
export class PacketSocket {
  private constructor(private readonly socket: NativePacketSocket) {
    this.link = { ifindex: socket.ifindex, name: socket.name, mac: socket.mac }
  }

  private link: BoundLink

  /** Opens the socket; throws rather than returning a half-open one. */
  static open(options: PacketSocketOptions): PacketSocket {
    validateLinkOptions(options)
    return new PacketSocket(new native.PacketSocket(options.link, options.netns))
  }

  /** Interface index (stable for the life of the interface). */
  get ifindex(): number {
    return this.link.ifindex
  }
  /** Interface name as last read. */
  get name(): string {
    return this.link.name
  }
  /** Interface MAC as last read; every announcement reads it afresh. */
  get mac(): string {
    return this.link.mac
  }
  /** True once `close()` ran. */
  get closed(): boolean {
    return this.socket.closed
  }

  /**
   * Broadcasts gratuitous ARP for `ip` from the interface's current MAC, one
   * frame per kind (default both: some switches and hosts honour only one of
   * the two). Returns the number of frames sent.
   */
  sendGratuitousArp(ip: string, kinds: ArpKind[] = ['request', 'reply']): number {
    ipv4Bytes(ip)
    if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => k !== 'request' && k !== 'reply')) {
      throw new TypeError(`kinds: expected a non-empty array of 'request' | 'reply', got ${JSON.stringify(kinds)}`)
    }
    const mac = this.refresh().mac
    const frames = kinds.map((kind) => gratuitousArp(kind, mac, ip))
    for (const frame of frames) this.socket.send(frame)
    return frames.length
  }

  /** Sends one unsolicited neighbour advertisement for the IPv6 `ip`. Returns 1. */
  sendNeighbourAdvertisement(ip: string): number {
    ipv6Bytes(ip)
    this.socket.send(neighbourAdvertisement(this.refresh().mac, ip))
    return 1
  }

  /** Sends a complete Ethernet frame as is (pad it to 60 bytes yourself). */
  send(frame: Buffer): void {
    if (!Buffer.isBuffer(frame)) throw new TypeError('frame: expected a Buffer')
    this.socket.send(frame)
  }

  /**
   * Reads the interface's name and MAC again (two ioctls) and returns them;
   * `mac` and `name` show the new values afterwards.
   */
  readLink(): BoundLink {
    return { ...this.refresh() }
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    this.socket.close()
  }

  // The MAC can change under a running socket (bond failover, `ip link set
  // address`); one ioctl pair per announcement keeps frames truthful.
  private refresh(): BoundLink {
    this.link = this.socket.readLink()
    return this.link
  }
}
