// Public types of the low-level network facade (`vip-announcer/net`).
// Addresses are strings as users write them ('192.0.2.10', '2001:db8::10');
// prefixes are separate numbers so nothing has to be re-parsed.

/** An IP address family: 4 for IPv4, 6 for IPv6. */
export type Family = 4 | 6

/** A link (interface) as rtnetlink reports it. */
export interface LinkInfo {
  /** Interface index (ifindex), unique within the namespace while the link exists. */
  index: number
  /** Interface name ('eth0'). */
  name: string
  /** 'aa:bb:cc:dd:ee:ff', or '' for links without a hardware address. */
  mac: string
  /**
   * Hardware type (ifi_type, ARPHRD_* of linux/if_arp.h): 1 Ethernet (veth,
   * bridge, macvlan and most NICs), 772 loopback, 65534 none (tun,
   * WireGuard), 768 ipip, ... ARP and neighbour discovery need Ethernet.
   */
  hardwareType: number
  /** MTU in bytes. */
  mtu: number
  /** Administratively up (IFF_UP). */
  up: boolean
  /** Lower layer up: the cable/peer is there (IFF_LOWER_UP). */
  carrier: boolean
  /**
   * RFC 2863 operational state: 'up', 'down', 'lowerlayerdown', 'dormant',
   * 'unknown', ..., or the kernel's number as a string when it has no name.
   */
  operstate: string
}

/** A link given by name ('eth0') or index (2). */
export type LinkRef = string | number

/**
 * An address to add to (or delete from) a link, for `Netlink.addAddress`,
 * `deleteAddress` and `encodeAddressRequest`. A delete reads only `link`,
 * `address` and `prefixLength`. Validation rules: see docs/net.md.
 */
export interface AddressSpec {
  /** The interface that gets the address. */
  link: LinkRef
  /** The address alone, without a prefix ('192.0.2.10', '2001:db8::10'); the family follows from it. */
  address: string
  /** 0-32 for IPv4, 0-128 for IPv6. */
  prefixLength: number
  /** IPv4 only: label such as 'eth0:vip' (must start with the interface name). */
  label?: string
  /**
   * IPv6 only (ignored for IPv4): skip duplicate address detection (IFA_F_NODAD).
   * Without it the address stays tentative (unusable) for about a second, and
   * is disabled if another host still answers for it, as a previous leader
   * may during a takeover.
   */
  nodad?: boolean
  /**
   * Seconds until the address is deprecated (0 to 2^32-2, or Infinity); omit
   * for forever, or for the same value as `validLifetime` when only that is given.
   */
  preferredLifetime?: number
  /** Seconds until the kernel removes the address (1 to 2^32-2, or Infinity); omit for forever. */
  validLifetime?: number
}

/** An address as rtnetlink reports it (`Netlink.listAddresses`). */
export interface AddressInfo {
  /** Index of the link that has the address. */
  index: number
  /** Address family. */
  family: Family
  /** The address in canonical text form (RFC 5952 for IPv6). */
  address: string
  /** Prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  prefixLength: number
  /** IPv4 label ('eth0:vip'); absent when the kernel reported none. */
  label?: string
  /** 'global' | 'link' | 'host' | ... */
  scope: string
  /** IFA_F_* flags of the address. */
  flags: {
    /** Added without duplicate address detection (IFA_F_NODAD). */
    nodad: boolean
    /** The address never expires: its valid lifetime is infinite (IFA_F_PERMANENT). */
    permanent: boolean
    /** IPv6 duplicate address detection has not finished yet; the address cannot be used as a source (IFA_F_TENTATIVE). */
    tentative: boolean
    /** The preferred lifetime has expired (IFA_F_DEPRECATED). */
    deprecated: boolean
  }
  /** Seconds left before the address is deprecated; absent when forever. */
  preferredLifetime?: number
  /** Seconds left before the address is removed; absent when forever. */
  validLifetime?: number
}

/** Route scope names (RT_SCOPE_*): 'universe' for routes via a gateway, 'link' for directly attached networks. */
export type RouteScope = 'universe' | 'site' | 'link' | 'host' | 'nowhere'

/**
 * A route to add or delete (`Netlink.addRoute`, `deleteRoute`). An add needs a
 * `link` or a `gateway`; a delete matches only the fields given (plus
 * `destination` and `table`). Defaults and matching: see docs/net.md.
 */
export interface RouteSpec {
  /** Routing table id, 1..2^32-1 except 0; default 254 (main). */
  table?: number
  /** CIDR ('198.51.100.0/24'), or 'default' for 0.0.0.0/0 or ::/0 (then `family` or `gateway` decides). */
  destination: string
  /**
   * Address family; must agree with the addresses given. Required only for a
   * 'default' route without `gateway` or `source`.
   */
  family?: Family
  /** Next-hop address (RTA_GATEWAY), of the same family as the destination. */
  gateway?: string
  /** Output interface. */
  link?: LinkRef
  /** Defaults (in an add) to 'link' without a gateway and 'universe' with one; in a delete, omitted matches any. */
  scope?: RouteScope
  /** Preferred source address (RTA_PREFSRC); must already be configured on the host. */
  source?: string
  /** rtm_protocol: 'static' (4, the default), 'boot' (3), 'kernel' (2) or a number 0-255. */
  protocol?: 'static' | 'boot' | 'kernel' | number
  /**
   * Treat the gateway as directly reachable on `link` even if no prefix of the
   * link covers it (RTNH_F_ONLINK). Needs `gateway`.
   */
  onlink?: boolean
  /** RTA_PRIORITY. */
  metric?: number
}

/** A route as rtnetlink reports it (`Netlink.listRoutes`, 'route' events). */
export interface RouteInfo {
  /** Routing table id (254 is main, 255 local). */
  table: number
  /** Address family. */
  family: Family
  /** Always a CIDR: '198.51.100.0/24', and '0.0.0.0/0' or '::/0' for a default route. */
  destination: string
  /** The prefix part of `destination`. */
  prefixLength: number
  /** Next-hop address (RTA_GATEWAY), when the route has one. */
  gateway?: string
  /** Output interface index (RTA_OIF). */
  index?: number
  /** RouteScope name ('universe', 'link', ...), or the number as a string. */
  scope: string
  /** Preferred source address (RTA_PREFSRC), when set. */
  source?: string
  /** rtm_protocol as a number: 2 kernel, 3 boot, 4 static, others from routing daemons. */
  protocol: number
  /** RTA_PRIORITY, when the route carries one. */
  metric?: number
  /**
   * Route type name ('unicast', 'local', 'broadcast', 'blackhole', 'unreachable',
   * ...), or the number as a string.
   */
  type: string
  /** Present (true) when the route carries RTNH_F_ONLINK. */
  onlink?: boolean
}

/**
 * A policy rule `from source lookup table` at `priority`, to add or delete
 * (`Netlink.addRule`, `deleteRule`).
 */
export interface RuleSpec {
  /** Address family; required when `source` is omitted, else it must agree with it. */
  family?: Family
  /** CIDR the rule matches as source ('192.0.2.100/32'); omit for all. */
  source?: string
  /** The table to look up (1 to 2^32-1; 0 is refused). */
  table: number
  /** 0..32765 typically; the main table rule sits at 32766. */
  priority: number
}

/** A policy rule as rtnetlink reports it (`Netlink.listRules`, 'rule' events). */
export interface RuleInfo {
  /** Address family. */
  family: Family
  /** CIDR ('192.0.2.100/32'), as in RuleSpec; absent for "from all". */
  source?: string
  /** Prefix length of `source`; 0 for "from all". */
  sourceLength: number
  /** The table the rule looks up. */
  table: number
  /** Rule priority; 0 for a rule without one (only the local-table rule). */
  priority: number
  /**
   * Rule action name ('lookup', 'goto', 'nop', 'blackhole', 'unreachable',
   * 'prohibit'), or the number as a string.
   */
  action: string
}

/** Address notifications from LinkMonitor ('address' events). */
export interface AddressEvent {
  /**
   * 'add' for RTM_NEWADDR (also repeated when flags change, e.g. IPv6 DAD
   * finishing), 'delete' for RTM_DELADDR.
   */
  action: 'add' | 'delete'
  /** Index of the link the address is on. */
  index: number
  /** Address family. */
  family: Family
  /** The address in canonical text form. */
  address: string
  /** Prefix length of the address. */
  prefixLength: number
  /** IPv4 label, when the address has one. */
  label?: string
}
/** Link notifications from LinkMonitor ('link' events). */
export interface LinkEvent {
  /**
   * 'add' for a new device, 'change' for any other RTM_NEWLINK (up/down,
   * carrier, MTU, name...), 'delete' for RTM_DELLINK.
   */
  action: 'add' | 'change' | 'delete'
  /** The link as the notification describes it. */
  link: LinkInfo
}

/** Route notifications (LinkMonitor with `routes: true`). */
export interface RouteEvent {
  /** 'add' for RTM_NEWROUTE, 'delete' for RTM_DELROUTE. */
  action: 'add' | 'delete'
  /** The route the notification describes. */
  route: RouteInfo
}

/** Rule notifications (LinkMonitor with `rules: true`). */
export interface RuleEvent {
  /** 'add' for RTM_NEWRULE, 'delete' for RTM_DELRULE. */
  action: 'add' | 'delete'
  /** The rule the notification describes. */
  rule: RuleInfo
}

/** NUD_* states of a neighbour entry, as `ip neigh` names them. */
export type NeighbourState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'noarp' | 'permanent'

/** A neighbour (ARP / NDP) cache entry as a notification describes it. */
export interface NeighbourInfo {
  /** Interface index. */
  index: number
  /** 4 or 6. */
  family: Family
  /** The neighbour's IP address. */
  address: string
  /** Its link-layer address ('aa:bb:cc:dd:ee:ff'); absent while unresolved. */
  mac?: string
  /** NUD_* states set on the entry (usually one). */
  state: NeighbourState[]
}

/** A neighbour entry changed (LinkMonitor with `neighbours: true`). */
export interface NeighbourEvent {
  /** 'add' for RTM_NEWNEIGH (new or changed entry), 'delete' for RTM_DELNEIGH. */
  action: 'add' | 'delete'
  /** The entry the notification describes. */
  neighbour: NeighbourInfo
}

/** Chooses the network namespace a Netlink handle or LinkMonitor works in, fixed when it is opened. */
export interface NetnsOption {
  /** Path of a network namespace (e.g. /run/netns/cp1); omit for the process's own. */
  netns?: string
}

/** Options of `LinkMonitor.open`. */
export interface LinkMonitorOptions extends NetnsOption {
  /** Also report route changes ('route' events). Off by default: every address change adds several. */
  routes?: boolean
  /** Also report rule changes ('rule' events). */
  rules?: boolean
  /**
   * Also report neighbour (ARP / NDP cache) changes ('neighbour' events): how
   * a host can watch when it learns a new MAC for an address.
   */
  neighbours?: boolean
  /**
   * Socket receive buffer in bytes (default 1 MiB). Notifications beyond it
   * while the event loop is busy are dropped by the kernel and reported as
   * 'overrun'.
   */
  receiveBufferSize?: number
}
