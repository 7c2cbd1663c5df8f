// Public types of the low-level network facade (`vip-announcer/net`).
// Addresses are strings as users write them ('192.0.2.10', '2001:db8::10');
// prefixes are separate numbers so nothing has to be re-parsed.

export type Family = 4 | 6

/** A link (interface) as rtnetlink reports it. */
export interface LinkInfo {
  index: number
  name: string
  /** 'aa:bb:cc:dd:ee:ff', or '' for links without a hardware address. */
  mac: string
  mtu: number
  /** Administratively up (IFF_UP). */
  up: boolean
  /** Lower layer up: the cable/peer is there (IFF_LOWER_UP). */
  carrier: boolean
  /** RFC 2863 operational state: 'up', 'down', 'lowerlayerdown', 'dormant', 'unknown', ... */
  operstate: string
}

/** A link given by name ('eth0') or index (2). */
export type LinkRef = string | number

export interface AddressSpec {
  link: LinkRef
  address: string
  /** 0-32 for IPv4, 0-128 for IPv6. */
  prefixLength: number
  /** IPv4 only: label such as 'eth0:vip' (must start with the interface name). */
  label?: string
  /** IPv6 only: skip duplicate address detection (IFA_F_NODAD). */
  nodad?: boolean
  /** Seconds; omit for forever. */
  preferredLifetime?: number
  /** Seconds; omit for forever. */
  validLifetime?: number
}

export interface AddressInfo {
  index: number
  family: Family
  address: string
  prefixLength: number
  label?: string
  /** 'global' | 'link' | 'host' | ... */
  scope: string
  flags: { nodad: boolean; permanent: boolean; tentative: boolean; deprecated: boolean }
  /** Seconds left before the address is deprecated; absent when forever. */
  preferredLifetime?: number
  /** Seconds left before the address is removed; absent when forever. */
  validLifetime?: number
}

export type RouteScope = 'universe' | 'site' | 'link' | 'host' | 'nowhere'

export interface RouteSpec {
  /** Routing table id, 1..2^32-1 except 0; default 254 (main). */
  table?: number
  /** CIDR ('198.51.100.0/24'), or 'default' for 0.0.0.0/0 or ::/0 (then `family` or `gateway` decides). */
  destination: string
  family?: Family
  gateway?: string
  /** Output interface. */
  link?: LinkRef
  scope?: RouteScope
  /** Preferred source address (RTA_PREFSRC); must already be configured on the host. */
  source?: string
  /** rtm_protocol: 'static' (4, the default), 'boot' (3), 'kernel' (2) or a number 0-255. */
  protocol?: 'static' | 'boot' | 'kernel' | number
  onlink?: boolean
  /** RTA_PRIORITY. */
  metric?: number
}

export interface RouteInfo {
  table: number
  family: Family
  /** Always a CIDR: '198.51.100.0/24', and '0.0.0.0/0' or '::/0' for a default route. */
  destination: string
  /** The prefix part of `destination`. */
  prefixLength: number
  gateway?: string
  /** Output interface index (RTA_OIF). */
  index?: number
  /** RouteScope name ('universe', 'link', ...), or the number as a string. */
  scope: string
  source?: string
  protocol: number
  metric?: number
  type: string
  /** Present (true) when the route carries RTNH_F_ONLINK. */
  onlink?: boolean
}

export interface RuleSpec {
  family?: Family
  /** CIDR the rule matches as source ('192.0.2.100/32'); omit for all. */
  source?: string
  table: number
  /** 0..32765 typically; the main table rule sits at 32766. */
  priority: number
}

export interface RuleInfo {
  family: Family
  /** CIDR ('192.0.2.100/32'), as in RuleSpec; absent for "from all". */
  source?: string
  sourceLength: number
  table: number
  priority: number
  action: string
}

/** Notifications from LinkMonitor. */
export interface AddressEvent {
  action: 'add' | 'delete'
  index: number
  family: Family
  address: string
  prefixLength: number
  /** IPv4 label, when the address has one. */
  label?: string
}
export interface LinkEvent {
  action: 'add' | 'change' | 'delete'
  link: LinkInfo
}

/** Route notifications (LinkMonitor with `routes: true`). */
export interface RouteEvent {
  action: 'add' | 'delete'
  route: RouteInfo
}

/** Rule notifications (LinkMonitor with `rules: true`). */
export interface RuleEvent {
  action: 'add' | 'delete'
  rule: RuleInfo
}

export interface NetnsOption {
  /** Path of a network namespace (e.g. /run/netns/cp1); omit for the process's own. */
  netns?: string
}

export interface LinkMonitorOptions extends NetnsOption {
  /** Also report route changes ('route' events). Off by default: every address change adds several. */
  routes?: boolean
  /** Also report rule changes ('rule' events). */
  rules?: boolean
  /**
   * Socket receive buffer in bytes (default 1 MiB). Notifications beyond it
   * while the event loop is busy are dropped by the kernel and reported as
   * 'overrun'.
   */
  receiveBufferSize?: number
}
