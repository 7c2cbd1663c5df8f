// The announcer's binding to its link: the rtnetlink socket and the
// notifications it reconciles from, the interface as last seen, the VIP's
// footprint on it and the packet socket that announces there. It opens and
// closes; what to do with a notification is the state machine's decision
// (announcer.ts), which it hands every event to.
import { Footprint } from '../footprint'
import type { AddressEvent, AddressInfo, LinkEvent, LinkInfo, RouteEvent, RuleEvent } from '../net/types'
import type { ResolvedOptions } from '../options'
import type { AnnouncerHost, MonitorPort, NetlinkPort, PacketPort } from './host'

/** Where the monitor's notifications go. */
export interface LinkBindingHandlers {
  address(event: AddressEvent): void
  link(event: LinkEvent): void
  rule(event: RuleEvent): void
  route(event: RouteEvent): void
  overrun(): void
  error(error: Error): void
}

export class LinkBinding {
  netlink: NetlinkPort | undefined
  private monitor: MonitorPort | undefined
  /** The interface as last seen (undefined: missing). */
  link: LinkInfo | undefined
  /** The VIP's footprint on `link` (undefined while the interface is missing). */
  footprint: Footprint | undefined
  /** The announcement socket bound to `link`. */
  packets: PacketPort | undefined

  constructor(
    private readonly host: AnnouncerHost,
    private readonly options: ResolvedOptions,
  ) {}

  /** Opens netlink and the monitor, and looks the interface up (it may be missing). */
  open(handlers: LinkBindingHandlers): void {
    const { netns } = this.options
    this.netlink = this.host.openNetlink({ netns })
    // Rules and table routes exist only with a gateway: only then pay for
    // their notifications (every address change brings several route ones).
    const routing = this.options.gateways.length > 0
    this.monitor = this.host.openMonitor({ netns, rules: routing, routes: routing })
    this.monitor.on('address', (event) => handlers.address(event))
    this.monitor.on('link', (event) => handlers.link(event))
    this.monitor.on('rule', (event) => handlers.rule(event))
    this.monitor.on('route', (event) => handlers.route(event))
    this.monitor.on('overrun', () => handlers.overrun())
    this.monitor.on('error', (error) => handlers.error(error))
    this.link = this.netlink.findLink(this.options.interface)
  }

  /** The interface exists (now): a footprint on it, and a packet socket bound to it. */
  attach(link: LinkInfo, foreign: readonly AddressInfo[]): void {
    this.link = link
    this.footprint = new Footprint(this.netlink!, this.options, link.index)
    this.footprint.avoid(foreign)
    this.packets?.close()
    this.packets = this.host.openPacketSocket({ link: link.index, netns: this.options.netns })
  }

  /** The same interface, changed (carrier, MAC, flags). */
  update(link: LinkInfo): void {
    this.link = link
  }

  /** The interface went: forget it and its footprint (the packet socket is closed later, see closePackets). */
  forget(): void {
    this.link = undefined
    this.footprint = undefined
  }

  /** Closing a packet socket waits for an RCU grace period (~5-15 ms): done off the takeover path. */
  closePackets(): void {
    this.packets?.close()
    this.packets = undefined
  }

  /** Closes everything; a retried start() opens new ones. */
  close(): void {
    this.monitor?.close()
    this.monitor = undefined
    this.closePackets()
    this.netlink?.close()
    this.netlink = undefined
    // These refer to the closed handles.
    this.forget()
  }
}
