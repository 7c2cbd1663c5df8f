// The probe `check` uses: iproute2 for what it reads (links with their
// hardware type, addresses, sysctls inside the namespace), the library's own
// native layer for what it must do the way the announcer will: open an
// AF_PACKET socket on the link and send an RFC 5227 probe for the VIP (IPv6:
// a DAD neighbour solicitation).
import { probeAddress } from '../../net/capture'
import { PacketSocket } from '../../net/packets'
import { createIpProbe } from './ip-probe'
import { NotChecked, type HostProbe } from './probe'

export function createNativeProbe(netns?: string): HostProbe {
  const tools = createIpProbe(netns)
  return {
    ...tools,
    async openPacketSocket(link) {
      PacketSocket.open({ link, netns }).close()
    },
    async probeAddress({ link, ip, timeoutMs }) {
      try {
        return await probeAddress({ link, netns, ip, timeoutMs })
      } catch (error) {
        // Not an Ethernet link, or no CAP_NET_RAW: the interface and
        // capabilities checks report the cause; this one just can't tell.
        throw new NotChecked(`probe not sent: ${(error as Error).message}`)
      }
    },
  }
}
