/**
 * vip-announcer: keep a virtual IP on exactly one replica and make the
 * network learn where it is. See README.md and docs/.
 * @module vip-announcer
 */
export { VipAnnouncer } from './announcer'
export type { AnnouncerEvents, AnnouncerHealth, AnnouncerState, AnnouncerStats, AnnouncedEvent, FollowerEvent, LeaderEvent, TakeoverPhases } from './announcer'
export type { VipAnnouncerOptions, RoutingOptions } from './options'
export type { AnnounceScheduleOptions, AnnounceReason } from './schedule'
export type { LeaderElector, Lease, ElectorEvents } from './elector'
export { ElectorEmitter, LeaseTracker, type LeaseTrackerOptions, type LeaseTrackerSink } from './elector'
export { EXPIRY_LATENESS_MS, MAX_LIFETIME_S, MIN_GRANT_MS, MIN_RENEWAL_HEADROOM_MS, lifetimeFor, type ElectorTiming } from './kernel-lifetime'
export { monotonicNow } from './clock'
export type { Logger, LogMethod } from './logger'
export { StaticElector, type StaticElectorOptions } from './electors/static'
export { FileLockElector, type FileLockElectorOptions } from './electors/file-lock'
export { KubernetesLeaseElector, type KubernetesLeaseElectorOptions, type KubeConfigLike, type LeaseApiLike, type LeaseLike } from './electors/kubernetes'
export { EtcdElector, type EtcdElectorOptions, type EtcdClientLike } from './electors/etcd'
export { registerMetrics } from './metrics'
export type { MetricsOptions, PromClientLike } from './metrics'
export {
  loadVclusterConfig,
  parseVclusterYaml,
  parseVclusterConfig,
  ConfigError,
  formatConfigIssue,
  formatConfigIssues,
  type ConfigIssue,
  type VclusterVipConfig,
  type EnabledVipConfig,
  type DisabledVipConfig,
  type VipGatewayConfig,
  type ParseOptions,
  type Family as ConfigFamily,
} from './config'
export {
  ConflictDetector,
  DEFEND_INTERVAL_MS,
  type ConflictDetectorOptions,
  type ConflictDetectorEvents,
  type ConflictDetectorStats,
  type ConflictEvent,
  type ClearedEvent,
  type Conflict,
  type ConflictEvidence,
  type ConflictPolicy,
} from './conflict'
export type { ConflictOptions } from './options'
