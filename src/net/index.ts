// `vip-announcer/net`: the low-level network facade (docs/net.md).
export * from './types'
export { Netlink, type NetlinkError } from './netlink'
export { LinkMonitor, type LinkMonitorEvents } from './monitor'
export * from './validate'

// Raw packets and frame builders land in sibling files (another branch). Once
// they exist on main, uncomment these two lines:
// export * from './packets'
// export * from './frames'
