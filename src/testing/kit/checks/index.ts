// Every check of the kit, in the order the report lists them.
import { deadlines } from './deadlines'
import { eventOrder } from './event-order'
import { firstLeader } from './first-leader'
import { heal } from './heal'
import { noOverlap } from './no-overlap'
import { partition } from './partition'
import { restart } from './restart'
import { singleLeader } from './single-leader'
import { start } from './start'
import { stopAll } from './stop-all'
import { stopTakeover } from './stop-takeover'

export { runCheck, type CheckDefinition, type Verdict } from './check'

export const CHECKS = [
  start,
  firstLeader,
  singleLeader,
  noOverlap,
  eventOrder,
  deadlines,
  partition,
  heal,
  stopTakeover,
  restart,
  stopAll,
] as const
