/**
 * vip-announcer/testing: tools for people writing or integrating electors.
 * @module vip-announcer/testing
 */
export {
  runElectorConformance,
  type ConformanceCheck,
  type ConformanceCheckId,
  type ConformanceMeasurements,
  type ConformanceReport,
  type ConformanceStatus,
  type ElectorConformanceOptions,
  type TimelineEntry,
} from './conformance'
export { assertConformance, formatMeasurements, formatTimeline, type TapLike } from './assert'
export { MemoryLeaseElector, MemoryLeaseStore, type MemoryLeaseElectorOptions } from './memory-elector'
