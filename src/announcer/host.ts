// The announcer's host port: everything it opens or starts on the system,
// behind one interface, so the state machine, its tenure and its link binding
// can run against fakes without root (test/support/fake-host.ts) as well as
// against the kernel. `nativeHost` is the default: the real sockets and the
// real guard process (the way serialport's bindings take an injected poller).
import type TypedEmitter from 'typed-emitter'
import { ConflictDetector, type Conflict, type ConflictDetectorEvents, type ConflictDetectorOptions } from '../conflict'
import type { FootprintNetlink } from '../footprint'
import { GuardProcess, createLifeline, type GuardEvents, type GuardOptions, type Lifeline } from '../guard'
import { LinkMonitor, type LinkMonitorEvents } from '../net/monitor'
import { Netlink } from '../net/netlink'
import { PacketSocket, type PacketSocketOptions } from '../net/packets'
import type { LinkMonitorOptions } from '../net/types'

/** What the announcer and its footprint ask of rtnetlink (src/net/netlink.ts). */
export type NetlinkPort = FootprintNetlink & Pick<Netlink, 'findLink' | 'close'>

/** The notifications the announcer reconciles from (src/net/monitor.ts). */
export interface MonitorPort extends Pick<TypedEmitter<LinkMonitorEvents>, 'on'> {
  close(): void
}

/** The announcement socket bound to the VIP's interface (src/net/packets.ts). */
export type PacketPort = Pick<PacketSocket, 'mac' | 'readLink' | 'sendGratuitousArp' | 'sendNeighbourAdvertisement' | 'close'>

/** The guard process as the tenure drives it (src/guard.ts). */
export interface GuardPort
  extends Pick<TypedEmitter<GuardEvents>, 'on' | 'once' | 'off'>,
    Pick<GuardProcess, 'alive' | 'setTakePlan' | 'take' | 'setActions' | 'setReleaseRecord' | 'arm' | 'renew' | 'disarm' | 'ping' | 'close' | 'lockWait' | 'lockCancel' | 'fence'> {}

/** Conflict detection on the VIP's interface (src/conflict.ts). */
export interface ConflictDetectorPort extends Pick<TypedEmitter<ConflictDetectorEvents>, 'on'> {
  readonly started: boolean
  start(): unknown
  stop(): void
  park(): void
  conflicts(): Conflict[]
  probe(): Promise<Map<string, string[]>>
}

/** Every system resource a VipAnnouncer opens or starts. */
export interface AnnouncerHost {
  /** An rtnetlink request socket in `netns` (CAP_NET_ADMIN to change anything). */
  openNetlink(options: { netns?: string }): NetlinkPort
  /** Link and address notifications (with rules and routes when asked). */
  openMonitor(options: LinkMonitorOptions): MonitorPort
  /** An AF_PACKET socket on one interface (CAP_NET_RAW). */
  openPacketSocket(options: PacketSocketOptions): PacketPort
  /** The robust mutex the guard watches for this thread's death. */
  createLifeline(): Lifeline
  /** Spawns the guard; resolves once it is ready. */
  startGuard(options: GuardOptions): Promise<GuardPort>
  /** A conflict detector for one interface (opens its sockets on start or park). */
  createConflictDetector(options: ConflictDetectorOptions): ConflictDetectorPort
}

/** The kernel and the real guard process: what a VipAnnouncer uses unless told otherwise. */
export const nativeHost: AnnouncerHost = {
  openNetlink: (options) => Netlink.open(options),
  openMonitor: (options) => LinkMonitor.open(options),
  openPacketSocket: (options) => PacketSocket.open(options),
  createLifeline: () => createLifeline(),
  startGuard: (options) => GuardProcess.start(options),
  createConflictDetector: (options) => new ConflictDetector(options),
}
