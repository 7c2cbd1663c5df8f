// The probe `check` uses: iproute2 for what it reads (links with their
// hardware type, addresses, sysctls inside the namespace), the library's own
// native layer for what it must do the way the announcer will: open an
// AF_PACKET socket on the link and send an RFC 5227 probe for the VIP (IPv6:
// a DAD neighbour solicitation). The VIP is probed by the announcer's own
// ConflictDetector, the gateway by probeAddress.
import { ConflictDetector } from '../../conflict'
import { NativeUnavailableError } from '../../net/binding'
import { probeAddress } from '../../net/capture'
import { PacketSocket } from '../../net/packets'
import { createIpProbe } from './ip-probe'
import { NotChecked, type HostProbe } from './probe'

// The packet-socket check reports a missing native part (what, why, the fix);
// the probes that need it just say they could not run.
function nativeMissing(error: unknown): NotChecked | undefined {
  if (error instanceof NativeUnavailableError) return new NotChecked('the native part is not available (see packet-socket)')
  return undefined
}

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
  }
}
