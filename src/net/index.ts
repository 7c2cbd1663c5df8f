/**
 * `vip-announcer/net`: the low-level network facade (docs/net.md).
 * @module vip-announcer/net
 */
export * from './types'
export { Netlink, type NetlinkError } from './netlink'
export { LinkMonitor, type LinkMonitorEvents } from './monitor'
export * from './validate'
export * from './packets'
export * from './frames'
export * from './capture'
export * from './file-lock'
export { loadNative, NativeUnavailableError, type NativeBuild } from './binding'
