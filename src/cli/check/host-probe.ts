// The probe `check` uses: the library's own native layer, opened in the
// namespace being checked, so check sees the host the way the announcer will.
// Links and addresses come from a Netlink socket; the packet socket is the
// announcer's PacketSocket; the VIP is probed by the announcer's own
// ConflictDetector, the gateway by probeAddress. Sysctls are files, read by
// proc-sys.ts.
import { ConflictDetector } from '../../conflict'
import { NativeUnavailableError } from '../../net/binding'
import { probeAddress } from '../../net/capture'
import { Netlink } from '../../net/netlink'
import { PacketSocket } from '../../net/packets'
import type { LinkInfo } from '../../net/types'
import { readSysctls } from './proc-sys'
import { NotChecked, type HostProbe, type ProbedLink } from './probe'

/** ARPHRD_* values (linux/if_arp.h) by the names iproute2 prints for them. */
const HARDWARE_TYPES: Record<number, string> = {
  1: 'ether',
  32: 'infiniband',
  280: 'can',
  512: 'ppp',
  519: 'rawip',
  768: 'ipip',
  769: 'tunnel6',
  772: 'loopback',
  776: 'sit',
  778: 'gre',
  803: 'ieee802.11/radiotap',
  804: 'ieee802.15.4',
  823: 'ip6gre',
  65534: 'none',
}

function probed(link: LinkInfo): ProbedLink {
  return { ...link, linkType: HARDWARE_TYPES[link.hardwareType] ?? `type ${link.hardwareType}` }
}

// The packet-socket check reports a missing native part (what, why, the fix);
// the probes that need it just say they could not run.
function nativeMissing(error: unknown): NotChecked | undefined {
  if (error instanceof NativeUnavailableError) return new NotChecked('the native part is not available (see packet-socket)')
  return undefined
}

export function createHostProbe(netns?: string): HostProbe {
  // Opened on first use, so a namespace that cannot be joined (EPERM without
  // CAP_SYS_ADMIN) is reported by the interface check like any other failure
  // to inspect it.
  let socket: Netlink | undefined
  const netlink = () => {
    try {
      return (socket ??= Netlink.open({ netns }))
    } catch (error) {
      throw nativeMissing(error) ?? error
    }
  }
  const links = () => netlink().listLinks().sort((a, b) => a.index - b.index)
  return {
    where: netns ? `network namespace ${netns}` : 'this network namespace',
    async getLink(name) {
      const link = netlink().findLink(name)
      return link && probed(link)
    },
    async listLinks() {
      return links().map((link) => link.name)
    },
    async listAddresses() {
      const names = new Map(links().map((link) => [link.index, link.name]))
      return netlink()
        .listAddresses()
        .map((address) => ({ ...address, link: names.get(address.index) ?? `#${address.index}` }))
    },
    readSysctls: (keys) => readSysctls(keys, netns),
    async openPacketSocket(link) {
      PacketSocket.open({ link, netns }).close()
    },
    async probeAddress({ link, ip, timeoutMs }) {
      try {
        return await probeAddress({ link, netns, ip, timeoutMs })
      } catch (error) {
        const missing = nativeMissing(error)
        if (missing) throw missing
        // Not an Ethernet link, or no CAP_NET_RAW: the interface and
        // capabilities checks report the cause; this one just can't tell.
        throw new NotChecked(`probe not sent: ${(error as Error).message}`)
      }
    },
    async probeConflicts({ link, vip, timeoutMs }) {
      // The announcer's own detector, for one round: three probes spread
      // over the timeout so one lost frame does not hide a holder.
      const detector = new ConflictDetector({ link, netns, vips: [vip], probeIntervalMs: 0, probeTimeoutMs: timeoutMs, probeCount: 3 })
      detector.on('error', () => {}) // a capture error shows as a failed probe below
      try {
        detector.start()
      } catch (error) {
        throw nativeMissing(error) ?? new NotChecked(`probe not sent: ${(error as Error).message}`)
      }
      try {
        const answers = await detector.probe()
        return answers.get(detector.vips[0]) ?? []
      } catch (error) {
        throw new NotChecked(`probe not sent: ${(error as Error).message}`)
      } finally {
        detector.stop()
      }
    },
    async close() {
      socket?.close()
    },
  }
}
