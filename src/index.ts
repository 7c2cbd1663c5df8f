// vip-announcer: keep a virtual IP on exactly one replica and make the
// network learn where it is. See README.md and docs/.
export { VipAnnouncer } from './announcer'
export type { AnnouncerEvents, AnnouncerState, AnnouncerStats, AnnouncedEvent, LeaderEvent } from './announcer'
export type { VipAnnouncerOptions, RoutingOptions } from './options'
export type { AnnounceScheduleOptions, AnnounceReason } from './schedule'
export type { LeaderElector, Lease, ElectorEvents } from './elector'
export { ElectorEmitter } from './elector'
export { monotonicNow } from './clock'
export type { Logger } from './logger'
export { StaticElector } from './electors/static'
export { FileLockElector } from './electors/file-lock'
export { KubernetesLeaseElector } from './electors/kubernetes'
export { EtcdElector } from './electors/etcd'
