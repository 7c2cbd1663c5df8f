// The preflight checks of `vip-announcer check`, in report order. Each check
// says what it found and, when something is wrong, the exact fix.
import { statfs, stat } from 'node:fs/promises'
import path from 'node:path'
import { ConfigError, formatConfigIssue, loadVclusterConfig, type EnabledVipConfig, type VclusterVipConfig } from '../../config'
import { NativeUnavailableError } from '../../net/binding'
import { hasCapability, type CapabilityName } from './capabilities'
import { NotChecked, type HostProbe, type ProbedAddress, type ProbedLink } from './probe'
import type { CheckResult } from './result'
import { shellCommand } from './shell'
import { sysctlChecks, sysctlKeys } from './sysctl'

export interface CheckDependencies {
  /** Makes the probe for a namespace (undefined: the process's own). */
  createProbe(netns?: string): HostProbe
  /** The process's effective capability set (CapEff). */
  readCapabilities(): Promise<bigint>
}

export interface CheckReport {
  configPath: string
  netns?: string
  /** Undefined when the configuration is invalid. */
  config?: VclusterVipConfig
  results: CheckResult[]
}

/** How long to wait for ARP answers (the VIP probe and the gateway probe run together). */
export const PROBE_TIMEOUT_MS = 2000

/**
 * Runs the checks in report order. An aborted `signal` stops them between
 * steps (a probe in flight finishes first, at most PROBE_TIMEOUT_MS) and
 * throws its reason.
 */
export async function runChecks(configPath: string, netns: string | undefined, deps: CheckDependencies, signal?: AbortSignal): Promise<CheckReport> {
  const results: CheckResult[] = []
  const report: CheckReport = { configPath, ...(netns ? { netns } : {}), results }

  let config: VclusterVipConfig | undefined
  try {
    config = await loadVclusterConfig(configPath)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    results.push({
      id: 'config',
      status: 'FAIL',
      summary: `${configPath}: ${error.issues.length === 1 ? '1 problem' : `${error.issues.length} problems`}`,
      details: error.issues.map(formatConfigIssue),
      fix: `edit ${configPath} as listed; the other checks need a valid configuration`,
    })
    results.push(await capabilities(netns, deps))
    return report
  }
  report.config = config
  if (!config.enabled) {
    results.push({ id: 'config', status: 'PASS', summary: 'kube-vip is disabled (controlPlane.advanced.kubeVip.enabled is not true): nothing to announce, nothing else to check' })
    return report
  }
  results.push({ id: 'config', status: 'PASS', summary: describeConfig(config) })

  const namespace = netns ? await checkNetns(netns) : undefined
  if (namespace) results.push(namespace)
  results.push(await capabilities(netns, deps))
  if (namespace?.status === 'FAIL') return report

  signal?.throwIfAborted()
  const probe = deps.createProbe(netns)
  try {
    await hostChecks(config, netns, probe, results, signal)
  } finally {
    await probe.close()
  }
  return report
}

function describeConfig(config: EnabledVipConfig): string {
  const endpoint = config.family === 6 ? `[${config.vip}]:${config.port}` : `${config.vip}:${config.port}`
  const gateway = config.gateway ? `gateway ${config.gateway.address}/${config.gateway.prefixLength}` : 'no gateway (no policy routing)'
  return `VIP ${endpoint} (IPv${config.family}) on ${config.interface}, ${gateway}`
}

/** NSFS_MAGIC from linux/magic.h: /run/netns/NAME bind mounts and /proc/PID/ns/net both report it. */
const NSFS_MAGIC = 0x6e736673

async function checkNetns(netns: string): Promise<CheckResult> {
  const id = 'netns'
  try {
    await stat(netns)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return {
      id,
      status: 'FAIL',
      summary: `${netns}: ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
      fix: code === 'ENOENT' ? `create it (${shellCommand('ip', 'netns', 'add', path.basename(netns))}) or pass an existing namespace (ip netns list)` : 'run check as root',
    }
  }
  const info = await statfs(netns).catch(() => undefined)
  if (info && info.type !== NSFS_MAGIC) {
    return { id, status: 'FAIL', summary: `${netns} is not a network namespace file`, fix: 'pass /run/netns/NAME (see ip netns list) or /proc/PID/ns/net' }
  }
  return { id, status: 'PASS', summary: `${netns} is a namespace` }
}

async function capabilities(netns: string | undefined, deps: CheckDependencies): Promise<CheckResult> {
  const id = 'capabilities'
  let effective: bigint
  try {
    effective = await deps.readCapabilities()
  } catch (error) {
    return { id, status: 'WARN', summary: `could not read the effective capabilities: ${(error as Error).message}` }
  }
  const needed: Array<[CapabilityName, string]> = [
    ['CAP_NET_ADMIN', 'to add the VIP, routes and rules'],
    ['CAP_NET_RAW', 'to send gratuitous ARP / neighbour advertisements'],
  ]
  if (netns) needed.push(['CAP_SYS_ADMIN', 'to open sockets inside --netns'])
  const missing = needed.filter(([name]) => !hasCapability(effective, name))
  const mask = `CapEff=${effective.toString(16).padStart(16, '0')}`
  if (missing.length === 0) return { id, status: 'PASS', summary: `${needed.map(([n]) => n).join(', ')} effective (${mask})` }
  const names = missing.map(([n]) => n)
  return {
    id,
    status: 'FAIL',
    summary: `missing from the effective set: ${missing.map(([n, why]) => `${n} (${why})`).join('; ')} (${mask})`,
    fix:
      `run as root, or grant ${names.join(' and ')}: in Kubernetes securityContext.capabilities.add: [${names.map((n) => n.replace('CAP_', '')).join(', ')}] ` +
      `(vCluster adds NET_ADMIN and NET_RAW itself when kubeVip.enabled is true); under systemd AmbientCapabilities=${names.join(' ')}`,
  }
}

async function hostChecks(config: EnabledVipConfig, netns: string | undefined, probe: HostProbe, results: CheckResult[], signal?: AbortSignal): Promise<void> {
  const iface = config.interface
  let link: ProbedLink | undefined
  // Set when the probe cannot look at links at all (the native part is
  // missing): the checks that need the link say so, the others still run.
  let unseen: NotChecked | undefined
  try {
    link = await probe.getLink(iface)
    results.push(await interfaceCheck(iface, link, probe, netns))
  } catch (error) {
    if (!(error instanceof NotChecked)) {
      results.push({
        id: 'interface',
        status: 'FAIL',
        summary: `cannot inspect ${probe.where}: ${(error as Error).message}`,
        fix: netns ? 'run check as root: joining a network namespace needs CAP_SYS_ADMIN' : 'run check as root',
      })
      return
    }
    unseen = error
    results.push({ id: 'interface', status: 'WARN', summary: `not checked: ${error.message}` })
  }
  const addresses = unseen ? [] : await probe.listAddresses()
  results.push(unseen ? { id: 'addresses', status: 'WARN', summary: `not checked: ${unseen.message}` } : addressesCheck(config, addresses))
  results.push(await packetSocketCheck(iface, link, unseen !== undefined, probe))

  const unusable = unseen ? `not checked: ${unseen.message}` : link?.up && link.carrier ? undefined : `not checked: ${iface} is not up with carrier`
  const heldHere = addresses.some((a) => a.address === config.vip)
  const [vipFree, gateway] = await Promise.all([vipFreeCheck(config, unusable, heldHere, probe), gatewayCheck(config, unusable, probe)])
  results.push(vipFree)
  signal?.throwIfAborted()

  const values = await probe.readSysctls(sysctlKeys(config.family, iface))
  results.push(...sysctlChecks({ family: config.family, iface, values, hasGateway: config.gateway !== undefined, commandPrefix: commandPrefix(netns) }))
  if (gateway) results.push(gateway)
}

async function interfaceCheck(iface: string, link: ProbedLink | undefined, probe: HostProbe, netns: string | undefined): Promise<CheckResult> {
  const id = 'interface'
  if (!link) {
    const present = await probe.listLinks().catch(() => [] as string[])
    return {
      id,
      status: 'FAIL',
      summary: `${iface} does not exist in ${probe.where} (present: ${present.join(', ') || 'none'})`,
      fix: `attach ${iface} to the control-plane pod (with Multus: the k8s.v1.cni.cncf.io/networks annotation), or set controlPlane.advanced.kubeVip.interface to one of: ${present.filter((n) => n !== 'lo').join(', ') || 'none'}`,
    }
  }
  const described = `${iface} (index ${link.index}, ${link.mac || 'no MAC'}, mtu ${link.mtu}, ${link.operstate})`
  if (link.linkType !== 'ether') {
    return { id, status: 'FAIL', summary: `${described} is a ${link.linkType} link: ARP needs an Ethernet interface`, fix: 'use an Ethernet interface (veth, bridge, macvlan, a NIC) in controlPlane.advanced.kubeVip.interface' }
  }
  if (!link.up) return { id, status: 'FAIL', summary: `${described} is administratively down`, fix: `${commandPrefix(netns)}${shellCommand('ip', 'link', 'set', iface, 'up')}` }
  if (!link.carrier) {
    return { id, status: 'FAIL', summary: `${described} is up but has no carrier (nothing attached at the other end)`, fix: `connect ${iface}: check the cable, the veth peer or the bridge port it belongs to` }
  }
  return { id, status: 'PASS', summary: `${described} is up with carrier` }
}

function addressesCheck(config: EnabledVipConfig, addresses: ProbedAddress[]): CheckResult {
  const id = 'addresses'
  const holding = addresses.filter((a) => a.address === config.vip)
  const onInterface = addresses.filter((a) => a.link === config.interface && a.family === config.family && a.scope !== 'link')
  const own = onInterface.filter((a) => a.address !== config.vip).map((a) => `${a.address}/${a.prefixLength}`)
  const ownText = own.length ? `${config.interface} has ${own.join(', ')}` : `${config.interface} has no other IPv${config.family} address (fine: replies leave with the VIP as source)`
  if (holding.length) {
    const where = holding.map((a) => `${a.address}/${a.prefixLength} on ${a.link}`).join(', ')
    const elsewhere = holding.some((a) => a.link !== config.interface)
    return {
      id,
      status: 'WARN',
      summary: `the VIP is already configured here (${where}): another announcer in this namespace holds it, or a crash left it behind${elsewhere ? `; it is not on ${config.interface}` : ''}`,
      fix: 'if no announcer should hold it here, remove it (ip addr del ...); `run` also removes a stale VIP at start while not leader',
    }
  }
  return { id, status: 'PASS', summary: `the VIP is not configured here (added only while leader); ${ownText}` }
}

/** `unseen`: whether the link exists is not known; opening the socket says why. */
async function packetSocketCheck(iface: string, link: ProbedLink | undefined, unseen: boolean, probe: HostProbe): Promise<CheckResult> {
  const id = 'packet-socket'
  if (!link && !unseen) return { id, status: 'WARN', summary: `not checked: ${iface} is missing` }
  try {
    await probe.openPacketSocket(iface)
    return { id, status: 'PASS', summary: `an AF_PACKET socket opens on ${iface}` }
  } catch (error) {
    if (error instanceof NotChecked) return { id, status: 'WARN', summary: `not checked: ${error.message}` }
    if (error instanceof NativeUnavailableError) return { id, status: 'FAIL', summary: error.summary, fix: error.fix }
    const err = error as NodeJS.ErrnoException
    return {
      id,
      status: 'FAIL',
      summary: `cannot open an AF_PACKET socket on ${iface}: ${err.code ?? ''} ${err.message}`.trim(),
      fix: err.code === 'EPERM' || err.code === 'EACCES' ? 'grant CAP_NET_RAW (see capabilities)' : undefined,
    }
  }
}

// The announcer's conflict probe (ConflictDetector), once: an RFC 5227 ARP
// probe / DAD solicitation for the VIP, three times over PROBE_TIMEOUT_MS.
/** `unusable`: why the interface cannot be probed, or undefined when it can. */
async function vipFreeCheck(config: EnabledVipConfig, unusable: string | undefined, heldHere: boolean, probe: HostProbe): Promise<CheckResult> {
  const id = 'vip-free'
  if (unusable) return { id, status: 'WARN', summary: unusable }
  if (heldHere) {
    return { id, status: 'WARN', summary: `not probed: the VIP is configured on this host (see addresses); a running leader watches for other holders itself` }
  }
  try {
    const macs = await probe.probeConflicts({ link: config.interface, vip: config.vip, timeoutMs: PROBE_TIMEOUT_MS })
    if (macs.length === 0) {
      return { id, status: 'PASS', summary: `nobody answered for ${config.vip} on ${config.interface} within ${PROBE_TIMEOUT_MS / 1000} s` }
    }
    const list = macs.join(', ')
    return {
      id,
      status: 'FAIL',
      summary: `${config.vip} is already answered on ${config.interface} by ${list}: ${macs.length === 1 ? 'another host holds' : `${macs.length} other hosts hold`} the VIP`,
      fix: `find the host${macs.length === 1 ? '' : 's'} with MAC${macs.length === 1 ? '' : 's'} ${list}; if ${macs.length === 1 ? 'it is' : 'one is'} not the current leader of this vCluster (a static address, kube-vip or keepalived), remove the VIP there or choose a free address in controlPlane.endpoint`,
    }
  } catch (error) {
    if (error instanceof NotChecked) return { id, status: 'WARN', summary: `not checked: ${error.message}` }
    throw error
  }
}

async function gatewayCheck(config: EnabledVipConfig, unusable: string | undefined, probe: HostProbe): Promise<CheckResult | undefined> {
  const id = 'gateway'
  const gateway = config.gateway
  if (!gateway) return undefined
  if (unusable) return { id, status: 'WARN', summary: unusable }
  try {
    const { answeredBy } = await probe.probeAddress({ link: config.interface, ip: gateway.address, timeoutMs: PROBE_TIMEOUT_MS })
    if (answeredBy) return { id, status: 'PASS', summary: `${gateway.address} answers on ${config.interface} (${answeredBy})` }
    return {
      id,
      status: 'WARN',
      summary: `${gateway.address} did not answer on ${config.interface} within ${PROBE_TIMEOUT_MS / 1000} s: nodes outside ${gateway.network} will not reach the VIP`,
      fix: `check controlPlane.advanced.kubeVip.gateway and that ${config.interface} is attached to the gateway's network (with Multus: the bridge of the NetworkAttachmentDefinition)`,
    }
  } catch (error) {
    if (error instanceof NotChecked) return { id, status: 'WARN', summary: `not checked: ${error.message}` }
    throw error
  }
}

/** Prefix that runs a fix command in the namespace being checked. */
export function commandPrefix(netns: string | undefined): string {
  if (!netns) return ''
  const named = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(netns)
  return `${named ? shellCommand('ip', 'netns', 'exec', named[1]) : shellCommand('nsenter', `--net=${netns}`)} `
}
