// What `check` needs to know about a host (or a network namespace), as an
// interface, so the checks are plain logic over its answers. host-probe.ts
// answers it with the library's native layer.
import type { AddressInfo, LinkInfo } from '../../net/types'

export interface ProbedLink extends LinkInfo {
  /** The hardware type as iproute2 names it: 'ether', 'loopback', 'none', 'ipip', ... */
  linkType: string
}

export interface ProbedAddress extends AddressInfo {
  /** Name of the link the address is on. */
  link: string
}

/** The probe cannot perform this check here (no permission, not an Ethernet link, native part missing). */
export class NotChecked extends Error {
  override readonly name = 'NotChecked'
}

export interface HostProbe {
  /** Where the probe looks, for messages: 'network namespace /run/netns/cp' or 'this network namespace'. */
  readonly where: string
  /**
   * The link by name, or undefined when there is none. Throws NotChecked when
   * links cannot be looked at here at all (the native part is missing), any
   * other error when the namespace cannot be inspected (EPERM joining it).
   */
  getLink(name: string): Promise<ProbedLink | undefined>
  /** Names of all links, for hints when the configured one is missing. */
  listLinks(): Promise<string[]>
  /** Every address on every link. */
  listAddresses(): Promise<ProbedAddress[]>
  /**
   * Reads sysctls by their /proc/sys path ('net/ipv4/conf/eth0/arp_ignore').
   * Keys that do not exist are absent from the result.
   */
  readSysctls(keys: string[]): Promise<Map<string, string>>
  /** Opens (and closes) an AF_PACKET socket bound to the link. Throws NotChecked when it cannot tell. */
  openPacketSocket(link: string): Promise<void>
  /**
   * Asks who has `ip` on `link` without claiming an address (an ARP probe
   * with sender 0.0.0.0 for IPv4) and returns the first MAC that answered.
   * Throws NotChecked when no probe can be sent.
   */
  probeAddress(options: { link: string; ip: string; timeoutMs: number }): Promise<{ answeredBy?: string }>
  /**
   * The conflict probe the announcer uses (ConflictDetector.probe): asks who
   * has `vip` on `link` for `timeoutMs` and returns every MAC other than
   * this host's that answered or announced it (empty: nobody). Throws
   * NotChecked when no probe can be sent.
   */
  probeConflicts(options: { link: string; vip: string; timeoutMs: number }): Promise<string[]>
  close(): Promise<void>
}
