// Kernel settings that decide whether a moved VIP is reachable. Where Linux
// combines conf/all and conf/IF, the effective value is given (ip-sysctl.rst:
// arp_ignore, arp_announce and rp_filter use the maximum of the two).
import type { Family } from '../../config'
import type { CheckResult } from './result'
import { shellCommand } from './shell'

export interface SysctlContext {
  family: Family
  iface: string
  /** Values by /proc/sys path, as HostProbe.readSysctls returns them. */
  values: Map<string, string>
  /** Policy routing (`from VIP lookup T`) is installed while leader. */
  hasGateway: boolean
  /** Prefix for fix commands run in the right namespace: '', 'ip netns exec cp ', 'nsenter --net=PATH '. */
  commandPrefix: string
}

/** /proc/sys paths the checks for a family need. */
export function sysctlKeys(family: Family, iface: string): string[] {
  if (family === 6) return ['disable_ipv6', 'accept_dad'].flatMap((name) => [`net/ipv6/conf/all/${name}`, `net/ipv6/conf/${iface}/${name}`])
  return ['arp_ignore', 'arp_announce', 'rp_filter', 'arp_accept'].flatMap((name) => [`net/ipv4/conf/all/${name}`, `net/ipv4/conf/${iface}/${name}`])
}

export function sysctlChecks(context: SysctlContext): CheckResult[] {
  return context.family === 4
    ? [arpIgnore(context), arpAnnounce(context), rpFilter(context), arpAccept(context)]
    : [disableIpv6(context), acceptDad(context)]
}

interface Pair {
  all?: number
  dev?: number
  /** max(all, dev): the value Linux applies for the settings that combine that way. */
  effective?: number
  text: string
}

function pair(context: SysctlContext, proto: 'ipv4' | 'ipv6', name: string): Pair {
  const read = (scope: string) => {
    const value = context.values.get(`net/${proto}/conf/${scope}/${name}`)
    return value === undefined || !/^-?\d+$/.test(value) ? undefined : Number(value)
  }
  const all = read('all')
  const dev = read(context.iface)
  const effective = all === undefined && dev === undefined ? undefined : Math.max(all ?? 0, dev ?? 0)
  return { all, dev, effective, text: `all=${all ?? '?'}, ${context.iface}=${dev ?? '?'}` }
}

/** `sysctl -w` for every scope whose value is not acceptable. Interface names with dots use '/' in sysctl keys. */
function fixCommands(context: SysctlContext, proto: 'ipv4' | 'ipv6', name: string, value: Pair, bad: (n: number) => boolean, good: number): string {
  const scopes: string[] = []
  if (value.all !== undefined && bad(value.all)) scopes.push('all')
  if (value.dev !== undefined && bad(value.dev)) scopes.push(context.iface.replace(/\./g, '/'))
  return scopes.map((scope) => sysctlFix(context, `net.${proto}.conf.${scope}.${name}`, good)).join(' && ')
}

/** One `sysctl -w key=value` run in the checked namespace, the key quoted (it holds the interface name). */
function sysctlFix(context: SysctlContext, key: string, value: number): string {
  return `${context.commandPrefix}${shellCommand('sysctl', '-w', `${key}=${value}`)}`
}

function unreadable(id: string, context: SysctlContext, value: Pair): CheckResult | undefined {
  if (value.effective !== undefined) return undefined
  return { id, status: 'WARN', summary: `could not read (${value.text}): is ${context.iface} present?`, fix: 'fix the interface check first' }
}

function arpIgnore(context: SysctlContext): CheckResult {
  const id = 'sysctl arp_ignore'
  const value = pair(context, 'ipv4', 'arp_ignore')
  const missing = unreadable(id, context, value)
  if (missing) return missing
  const effective = value.effective!
  if (effective === 8) {
    return {
      id,
      status: 'FAIL',
      summary: `${value.text}: 8 means this host never answers ARP, so peers cannot resolve the VIP once their entry expires`,
      fix: fixCommands(context, 'ipv4', 'arp_ignore', value, (n) => n === 8 || n === 2, 1),
    }
  }
  if (effective === 2) {
    return {
      id,
      status: 'WARN',
      summary: `${value.text}: 2 answers only senders inside the subnet of the target address, so a VIP added as /32 gets no ARP replies`,
      fix: fixCommands(context, 'ipv4', 'arp_ignore', value, (n) => n === 2, 1),
    }
  }
  return { id, status: 'PASS', summary: `${value.text}: the VIP is answered on ${context.iface}${effective === 0 ? ' (1 would also stop other interfaces answering for it)' : ''}` }
}

function arpAnnounce(context: SysctlContext): CheckResult {
  const id = 'sysctl arp_announce'
  const value = pair(context, 'ipv4', 'arp_announce')
  const missing = unreadable(id, context, value)
  if (missing) return missing
  // Announcements come from the packet socket with sender = target = VIP, so
  // arp_announce (the source of the kernel's own requests) cannot break them;
  // with any value the kernel still finds an address on the interface.
  return { id, status: 'PASS', summary: `${value.text}: any value works (it only picks the sender address of this host's own ARP requests; announcements are built by the announcer)` }
}

function rpFilter(context: SysctlContext): CheckResult {
  const id = 'sysctl rp_filter'
  const value = pair(context, 'ipv4', 'rp_filter')
  const missing = unreadable(id, context, value)
  if (missing) return missing
  if (value.effective !== 1) return { id, status: 'PASS', summary: `${value.text}: ${value.effective === 2 ? 'loose' : 'off'}, replies to the VIP are not filtered` }
  if (context.hasGateway) {
    return {
      id,
      status: 'PASS',
      summary: `${value.text}: strict, but the policy rule "from VIP lookup TABLE" makes the reverse-path lookup for traffic to the VIP return ${context.iface}`,
    }
  }
  return {
    id,
    status: 'WARN',
    summary: `${value.text}: strict, and without a gateway there is no policy routing, so packets to the VIP from sources the main table routes through another interface are dropped`,
    fix: `${fixCommands(context, 'ipv4', 'rp_filter', value, (n) => n === 1, 2)} (loose), or set controlPlane.advanced.kubeVip.gateway`,
  }
}

function arpAccept(context: SysctlContext): CheckResult {
  const id = 'sysctl arp_accept'
  const value = pair(context, 'ipv4', 'arp_accept')
  const missing = unreadable(id, context, value)
  if (missing) return missing
  return {
    id,
    status: 'PASS',
    summary: `${value.text}: not required here; it only lets this host create entries from gratuitous ARP it receives (peers update existing entries from announcements whatever their arp_accept)`,
  }
}

function disableIpv6(context: SysctlContext): CheckResult {
  const id = 'sysctl disable_ipv6'
  const dev = context.values.get(`net/ipv6/conf/${context.iface}/disable_ipv6`)
  const all = context.values.get('net/ipv6/conf/all/disable_ipv6')
  if (dev === undefined && all === undefined) {
    return { id, status: 'FAIL', summary: 'IPv6 is not available in this kernel or namespace (no /proc/sys/net/ipv6)', fix: 'boot without ipv6.disable=1, or use an IPv4 VIP' }
  }
  if (dev === undefined) return { id, status: 'WARN', summary: `could not read net.ipv6.conf.${context.iface}.disable_ipv6: is ${context.iface} present?`, fix: 'fix the interface check first' }
  if (dev !== '0') {
    return {
      id,
      status: 'FAIL',
      summary: `${context.iface}=${dev}: IPv6 is disabled on ${context.iface}, so the VIP cannot be added`,
      fix: sysctlFix(context, `net.ipv6.conf.${context.iface.replace(/\./g, '/')}.disable_ipv6`, 0),
    }
  }
  return { id, status: 'PASS', summary: `${context.iface}=0 (all=${all ?? '?'}): IPv6 is enabled on ${context.iface}` }
}

function acceptDad(context: SysctlContext): CheckResult {
  const id = 'sysctl accept_dad'
  const dev = context.values.get(`net/ipv6/conf/${context.iface}/accept_dad`)
  if (dev === undefined) return { id, status: 'WARN', summary: `could not read net.ipv6.conf.${context.iface}.accept_dad`, fix: 'fix the interface check first' }
  if (dev === '2') {
    return {
      id,
      status: 'WARN',
      summary: `${context.iface}=2: a duplicate MAC-based link-local address disables IPv6 on ${context.iface} altogether (the VIP itself is added with nodad)`,
      fix: sysctlFix(context, `net.ipv6.conf.${context.iface.replace(/\./g, '/')}.accept_dad`, 1),
    }
  }
  return { id, status: 'PASS', summary: `${context.iface}=${dev}: no effect on the VIP, which is added with nodad so a takeover is not delayed by duplicate address detection` }
}
