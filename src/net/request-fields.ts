// The exact objects the addon reads for a request or a dump filter: the
// TypeScript half of native/request_fields.cc's field tables (same keys).
//
// Every key is always present; null says "not in the message". The binding
// reads them mechanically and decides nothing: the defaults (request-specs.ts)
// and a delete's wildcards (here) are chosen in TypeScript, and a field that is
// missing or of the wrong type is an internal error there (TypeError
// 'ERR_INTERNAL_REQUEST_FIELD'), not something it fills in.
import { PROTOCOL_ANY, ROUTE_SCOPES, ROUTE_TYPES } from './kernel-values'
import type { NormalizedAddress, NormalizedRoute, NormalizedRule } from './request-specs'
import type { Family } from './types'

/** RTM_NEWADDR / RTM_DELADDR (native kAddressFields). @internal */
export interface AddressFields {
  family: Family
  index: number
  address: string
  prefixLength: number
  label: string | null
  nodad: boolean
  /** Both or neither: IFA_CACHEINFO is sent when they are not null. */
  preferredLifetime: number | null
  validLifetime: number | null
}

/** RTM_NEWROUTE / RTM_DELROUTE (native kRouteFields). @internal */
export interface RouteFields {
  family: Family
  table: number
  destination: string | null
  destinationLength: number
  gateway: string | null
  /** RTA_OIF. */
  index: number | null
  /** rtm_scope (RT_SCOPE_*). */
  scope: number
  /** RTA_PREFSRC. */
  source: string | null
  /** rtm_protocol. */
  protocol: number
  /** rtm_type (RTN_*). */
  type: number
  onlink: boolean
  /** RTA_PRIORITY. */
  metric: number | null
}

/** RTM_NEWRULE / RTM_DELRULE (native kRuleFields). @internal */
export interface RuleFields {
  family: Family
  source: string | null
  sourceLength: number
  table: number
  priority: number
}

/** Dump filters (native k*FilterFields); null: no filter on that field. @internal */
export interface AddressFilterFields {
  family: Family | null
  index: number | null
}
/** @internal */
export interface RouteFilterFields {
  family: Family | null
  table: number | null
}
/** @internal */
export interface RuleFilterFields {
  family: Family | null
}

/** @internal */
export function addressFields(address: Omit<NormalizedAddress, 'link'>, index: number): AddressFields {
  return {
    family: address.family,
    index,
    address: address.address,
    prefixLength: address.prefixLength,
    label: address.label ?? null,
    nodad: address.nodad === true,
    preferredLifetime: address.preferredLifetime ?? null,
    validLifetime: address.validLifetime ?? null,
  }
}

/**
 * An add carries the scope and protocol validateRouteSpec decided, and type
 * unicast. A delete names only what it must match: what the caller left out is
 * the kernel's wildcard (scope 'nowhere', protocol 0, type 0).
 * @internal
 */
export function routeFields(op: 'add' | 'delete', route: Omit<NormalizedRoute, 'link'>, index: number | undefined): RouteFields {
  return {
    family: route.family,
    table: route.table,
    destination: route.destination ?? null,
    destinationLength: route.destinationLength,
    gateway: route.gateway ?? null,
    index: index ?? null,
    scope: route.scope ?? ROUTE_SCOPES.nowhere,
    source: route.source ?? null,
    protocol: route.protocol ?? PROTOCOL_ANY,
    type: op === 'add' ? ROUTE_TYPES.unicast : ROUTE_TYPES.any,
    onlink: route.onlink === true,
    metric: route.metric ?? null,
  }
}

/** @internal */
export function ruleFields(rule: NormalizedRule): RuleFields {
  return { family: rule.family, source: rule.source ?? null, sourceLength: rule.sourceLength, table: rule.table, priority: rule.priority }
}
