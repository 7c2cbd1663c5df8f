// vcluster.yaml (as a parsed object) -> the options this library needs.
// Every problem is collected before anything is thrown.
import type { z } from 'zod'
import {
  checkVipInGatewaySubnet,
  ENDPOINT_EXPECTED,
  GATEWAY_EXPECTED,
  INTERFACE_EXPECTED,
  type Endpoint,
  type Family,
  type Gateway,
} from './addresses'
import { ConfigError, type ConfigIssue } from './errors'
import { closest } from './suggest'
import { documentSchema, endpointSchema, gatewaySchema, interfaceSchema, KUBE_VIP_KEYS } from './schema'

/** The gateway of the VIP's subnet, used for policy routing of replies sourced from the VIP. */
export interface VipGatewayConfig {
  /** Gateway address, canonical ('10.100.0.1', '2001:db8::1'). */
  address: string
  /** Prefix length of the subnet (24 in '10.100.0.1/24'). */
  prefixLength: number
  /** CIDR of the subnet ('10.100.0.0/24'). */
  network: string
}

/** kube-vip is enabled: everything needed to announce the VIP. */
export interface EnabledVipConfig {
  /** `controlPlane.advanced.kubeVip.enabled` */
  enabled: true
  /** Host part of `controlPlane.endpoint`, canonical ('10.100.0.100', '2001:db8::10'). */
  vip: string
  /** Port part of `controlPlane.endpoint`. */
  port: number
  /** Address family of `vip`. */
  family: Family
  /** `controlPlane.advanced.kubeVip.interface` */
  interface: string
  /**
   * From `controlPlane.advanced.kubeVip.gateway`. Always present unless the
   * config was parsed with `requireGateway: false` and has none.
   */
  gateway?: VipGatewayConfig
  /** `privateNodes.enabled`; kube-vip requires it, so always true here. */
  privateNodes: true
}

/** kube-vip is disabled (the default): nothing to announce. */
export interface DisabledVipConfig {
  /** `controlPlane.advanced.kubeVip.enabled` is false or absent. */
  enabled: false
  /** `privateNodes.enabled` */
  privateNodes: boolean
}

/**
 * The kube-vip part of a vcluster.yaml. Narrow on `enabled` before reading
 * the VIP: a disabled configuration carries no endpoint requirements (vCluster
 * allows a hostname endpoint then).
 */
export type VclusterVipConfig = EnabledVipConfig | DisabledVipConfig

/** Options of `parseVclusterConfig`, `parseVclusterYaml` and `loadVclusterConfig`. */
export interface ParseOptions {
  /**
   * Require `controlPlane.advanced.kubeVip.gateway` as vCluster's schema does
   * (default true). With false a missing gateway is accepted and the announcer
   * then installs no policy routing; a gateway that is present is still
   * validated in full.
   */
  requireGateway?: boolean
}

/** An issue with its path as segments, so a YAML loader can find the node. */
export interface IssueAt extends ConfigIssue {
  segments: string[]
}

const KUBE_VIP = ['controlPlane', 'advanced', 'kubeVip']

const EXPECTED_AT: Record<string, string> = {
  privateNodes: 'a mapping, e.g. "privateNodes:" followed by "  enabled: true"',
  'privateNodes.enabled': 'true or false, unquoted',
  controlPlane: 'a mapping with endpoint: and advanced:',
  'controlPlane.endpoint': ENDPOINT_EXPECTED,
  'controlPlane.advanced': 'a mapping with kubeVip:',
  'controlPlane.advanced.kubeVip': 'a mapping with enabled:, interface: and gateway:',
  'controlPlane.advanced.kubeVip.enabled': 'true or false, unquoted',
  'controlPlane.advanced.kubeVip.interface': INTERFACE_EXPECTED,
  'controlPlane.advanced.kubeVip.gateway': GATEWAY_EXPECTED,
}

/**
 * Validates a parsed vcluster.yaml (for example the output of a YAML parser or
 * a Helm values object) and returns the kube-vip options.
 *
 * @param input the whole vcluster.yaml as a plain object
 * @param source where it came from, for the error message (a file name)
 * @throws ConfigError listing every problem found, each with its YAML path
 */
export function parseVclusterConfig(input: unknown, source?: string, options: ParseOptions = {}): VclusterVipConfig {
  const { config, issues } = validateVclusterConfig(input, options)
  if (!config) throw new ConfigError(issues.map(stripSegments), source)
  return config
}

/** Like `parseVclusterConfig`, but returns the issues instead of throwing. */
export function validateVclusterConfig(input: unknown, options: ParseOptions = {}): { config?: VclusterVipConfig; issues: IssueAt[] } {
  const issues: IssueAt[] = []
  const add = (segments: string[], message: string, expected?: string) =>
    issues.push({ path: segments.join('.'), segments, message, ...(expected ? { expected } : {}) })

  if (!isMapping(input)) {
    add([], `the document is ${describe(input)}, not a mapping`, 'a YAML mapping with keys such as privateNodes: and controlPlane:')
    return { issues }
  }
  // Keys that a typo probably meant: "missing" would only repeat the typo's issue.
  const suggested = new Set<string>()
  const shape = documentSchema.safeParse(input)
  if (!shape.success) for (const issue of shape.error.issues) addZodIssue(issue, [], input, add, suggested)

  const kubeVip = valueAt(input, KUBE_VIP)
  const enabled = isMapping(kubeVip) && kubeVip.enabled === true
  const privateNodesValue = valueAt(input, ['privateNodes', 'enabled'])
  const privateNodes = privateNodesValue === true

  if (!enabled) {
    // The shape (unknown keys, types) is checked even when disabled; values are
    // not, because vCluster ignores them then.
    return issues.length ? { issues } : { config: { enabled: false, privateNodes }, issues }
  }

  // A non-boolean value has been reported by the shape already.
  if (!privateNodes && (privateNodesValue === false || privateNodesValue === undefined || privateNodesValue === null)) {
    add(['privateNodes', 'enabled'], `is ${describe(privateNodesValue)}, but kube-vip only works with private-node virtual clusters`, 'privateNodes.enabled: true')
  }
  const leaf = <T>(segments: string[], schema: z.ZodType<T, z.ZodTypeDef, unknown>, missing?: string) =>
    validateLeaf(input, segments, schema, suggested.has(segments.join('.')) ? undefined : missing, add, suggested)
  const endpoint = leaf<Endpoint>(['controlPlane', 'endpoint'], endpointSchema, 'is missing: kube-vip announces the IP address of the endpoint')
  const iface = leaf<string>([...KUBE_VIP, 'interface'], interfaceSchema, 'is missing: kube-vip needs the interface on which to announce the VIP')
  const required = options.requireGateway ?? true
  const gateway = leaf<Gateway>([...KUBE_VIP, 'gateway'], gatewaySchema, required ? 'is missing: vCluster requires it for policy routing of replies from the VIP' : undefined)
  if (endpoint && gateway) {
    const problem = checkVipInGatewaySubnet(endpoint, gateway)
    if (problem) add(['controlPlane', 'endpoint'], problem.problem, problem.expected)
  }
  if (issues.length || !endpoint || !iface) return { issues }
  return {
    config: {
      enabled: true,
      vip: endpoint.vip,
      port: endpoint.port,
      family: endpoint.family,
      interface: iface,
      ...(gateway ? { gateway: { address: gateway.address, prefixLength: gateway.prefixLength, network: gateway.network } } : {}),
      privateNodes: true,
    },
    issues,
  }
}

type Add = (segments: string[], message: string, expected?: string) => void

/**
 * Validates one value. Returns undefined when absent or invalid; a container
 * on the way that is not a mapping has already been reported by the shape.
 */
function validateLeaf<T>(
  input: Record<string, unknown>,
  segments: string[],
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  missing: string | undefined,
  add: Add,
  suggested: Set<string>,
): T | undefined {
  const parent = valueAt(input, segments.slice(0, -1))
  if (parent !== undefined && parent !== null && !isMapping(parent)) return undefined
  const value = isMapping(parent) ? parent[segments[segments.length - 1]] : undefined
  if (value === undefined || value === null) {
    if (missing) add(segments, missing, EXPECTED_AT[segments.join('.')])
    return undefined
  }
  const result = schema.safeParse(value)
  if (result.success) return result.data
  for (const issue of result.error.issues) addZodIssue(issue, segments, input, add, suggested)
  return undefined
}

function addZodIssue(issue: z.ZodIssue, prefix: string[], input: Record<string, unknown>, add: Add, suggested: Set<string>): void {
  const segments = [...prefix, ...issue.path.map(String)]
  const path = segments.join('.')
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        const suggestion = closest(key, KUBE_VIP_KEYS)
        if (suggestion) suggested.add([...segments, suggestion].join('.'))
        add(
          [...segments, key],
          `unknown key ${JSON.stringify(key)}${suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : ''}`,
          `only ${KUBE_VIP_KEYS.join(', ')} under ${path}`,
        )
      }
      return
    case 'invalid_type': {
      const value = valueAt(input, segments)
      const wanted = issue.expected === 'object' ? 'a mapping' : issue.expected === 'boolean' ? 'a boolean' : `a ${issue.expected}`
      const hint = typeof value === 'string' && issue.expected === 'boolean' && /^(true|false|yes|no|on|off)$/i.test(value) ? ' (write true or false without quotes)' : ''
      add(segments, `is ${describe(value)}, not ${wanted}${hint}`, EXPECTED_AT[path])
      return
    }
    case 'custom':
      add(segments, issue.message, (issue.params as { expected?: string } | undefined)?.expected ?? EXPECTED_AT[path])
      return
    default:
      add(segments, issue.message, EXPECTED_AT[path])
  }
}

function stripSegments({ segments: _segments, ...issue }: IssueAt): ConfigIssue {
  return issue
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function valueAt(input: unknown, segments: readonly string[]): unknown {
  let node = input
  for (const segment of segments) {
    if (!isMapping(node)) return undefined
    node = node[segment]
  }
  return node
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'empty (null)'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  return `${typeof value} ${String(value)}`
}
