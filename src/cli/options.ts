// The flags of the subcommands and the typed options made from them. What a
// Lease name, an etcd endpoint or a namespace path may be is the electors'
// and the net layer's rule (src/electors/names.ts); this file only turns
// command-line text into the values they take, and says which flag was wrong.
import { hostname } from 'node:os'
import path from 'node:path'
import type { EnabledVipConfig } from '../config'
import { UsageError, type FlagValues } from './flags'
import { etcdSchemeProblem, kubernetesNameProblem, parseEtcdEndpoint } from '../electors/names'

/** Which leader elector `run` uses (`--elector`). */
export type ElectorSpec =
  /** This replica is always leader: only for a single replica. */
  | { kind: 'static' }
  /** An flock(2) on a file shared by the replicas (same host or a shared filesystem). */
  | { kind: 'file'; path: string }
  /**
   * A coordination.k8s.io Lease. Namespace and name are undefined when not
   * given; the elector then picks its defaults (the pod's namespace).
   */
  | { kind: 'kubernetes'; namespace?: string; name?: string }
  /** An etcd lease; endpoints are URLs ('http://192.0.2.5:2379'). */
  | { kind: 'etcd'; endpoints: string[] }

/** `vip-announcer run` flags. */
export interface RunArgs {
  /** Absolute path of vcluster.yaml (`--config`). */
  configPath: string
  elector: ElectorSpec
  /** Network namespace path (`--netns`, a bare NAME means /run/netns/NAME). */
  netns?: string
  /** Candidate identity for the elector (`--identity`, default: the host name). */
  identity: string
  /** Log one JSON object per line instead of text (`--json`). */
  json: boolean
  /** `--conflict-policy`: what the leader does when another host claims the VIP; absent = the library default ('yield'). */
  conflictPolicy?: 'yield' | 'defend'
  /** `--probe-interval-ms`: conflict probes every N ms while leader (0: passive only); absent = the library default (500). */
  probeIntervalMs?: number
}

/** What `runCommand` receives: the flags and the validated kube-vip options. */
export interface RunCommandOptions extends RunArgs {
  /** Only called when kube-vip is enabled; `run` exits 0 with a message otherwise. */
  config: EnabledVipConfig
}

/** `vip-announcer lab` flags. */
export interface LabCommandOptions {
  /** Leave the namespaces in place for inspection (`--keep`). */
  keep: boolean
  /** Machine-readable output (`--json`). */
  json: boolean
}

/** `vip-announcer check` flags. */
export interface CheckCommandOptions {
  configPath: string
  netns?: string
  json: boolean
}

export const DEFAULT_ELECTOR: ElectorSpec = { kind: 'kubernetes' }

export const RUN_FLAGS = {
  config: { type: 'string', short: 'c' },
  elector: { type: 'string' },
  netns: { type: 'string' },
  identity: { type: 'string' },
  json: { type: 'boolean' },
  'conflict-policy': { type: 'string' },
  'probe-interval-ms': { type: 'string' },
} as const

export const CHECK_FLAGS = {
  config: { type: 'string', short: 'c' },
  netns: { type: 'string' },
  json: { type: 'boolean' },
} as const

export const LAB_FLAGS = { keep: { type: 'boolean' }, json: { type: 'boolean' } } as const

export function runArgs(flags: FlagValues<typeof RUN_FLAGS>): RunArgs {
  return {
    configPath: requireConfig('run', flags.config),
    json: flags.json ?? false,
    elector: flags.elector === undefined ? DEFAULT_ELECTOR : parseElector(flags.elector),
    ...(flags.netns !== undefined ? { netns: parseNetns('run', flags.netns) } : {}),
    identity: parseIdentity(flags.identity ?? hostname()),
    ...(flags['conflict-policy'] !== undefined ? { conflictPolicy: parseConflictPolicy(flags['conflict-policy']) } : {}),
    ...(flags['probe-interval-ms'] !== undefined ? { probeIntervalMs: parseProbeInterval(flags['probe-interval-ms']) } : {}),
  }
}

function parseConflictPolicy(text: string): 'yield' | 'defend' {
  if (text === 'yield' || text === 'defend') return text
  throw new UsageError(`--conflict-policy ${JSON.stringify(text)}: expected 'yield' (give the VIP up) or 'defend' (keep announcing, at most every 10 s)`, 'run')
}

function parseProbeInterval(text: string): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN
  if (!(value >= 0 && value <= 60_000)) {
    throw new UsageError(`--probe-interval-ms ${JSON.stringify(text)}: expected an integer number of milliseconds from 0 to 60000 (0: passive watching only)`, 'run')
  }
  return value
}

export function labArgs(flags: FlagValues<typeof LAB_FLAGS>): LabCommandOptions {
  return { keep: flags.keep ?? false, json: flags.json ?? false }
}

export function checkArgs(flags: FlagValues<typeof CHECK_FLAGS>): CheckCommandOptions {
  return {
    configPath: requireConfig('check', flags.config),
    ...(flags.netns !== undefined ? { netns: parseNetns('check', flags.netns) } : {}),
    json: flags.json ?? false,
  }
}

const ELECTOR_FORMS = "static, file:PATH, kubernetes, kubernetes:NAMESPACE/NAME or etcd:URL[,URL...]"

/** Parses `--elector`: static | file:PATH | kubernetes[:NAMESPACE/NAME] | etcd:ENDPOINTS. */
export function parseElector(text: string): ElectorSpec {
  const colon = text.indexOf(':')
  const kind = colon < 0 ? text : text.slice(0, colon)
  const rest = colon < 0 ? undefined : text.slice(colon + 1)
  const fail = (why: string): never => {
    throw new UsageError(`--elector ${JSON.stringify(text)}: ${why}`, 'run')
  }
  switch (kind) {
    case 'static':
      if (rest !== undefined) fail("'static' takes no argument")
      return { kind: 'static' }
    case 'file':
      if (!rest) fail('needs a lock file path, e.g. file:/run/vip-announcer/vip.lock')
      return { kind: 'file', path: path.resolve(rest!) }
    case 'kubernetes': {
      if (rest === undefined) return { kind: 'kubernetes' }
      const [namespace, name, extra] = rest.split('/')
      if (extra !== undefined || !name) fail('expected kubernetes:NAMESPACE/NAME, e.g. kubernetes:vcluster-platform/my-vcluster-vip')
      const problem = kubernetesNameProblem('namespace', namespace) ?? kubernetesNameProblem('name', name)
      if (problem) fail(problem)
      return { kind: 'kubernetes', namespace, name }
    }
    case 'etcd': {
      if (!rest) fail('needs endpoints, e.g. etcd:http://192.0.2.5:2379,http://192.0.2.6:2379')
      const endpoints = rest!.split(',').map((endpoint) => {
        const parsed = parseEtcdEndpoint(endpoint)
        return 'url' in parsed ? parsed.url : fail(parsed.problem)
      })
      const mixed = etcdSchemeProblem(endpoints)
      if (mixed) fail(mixed)
      return { kind: 'etcd', endpoints }
    }
    default:
      return fail(`unknown elector; expected ${ELECTOR_FORMS}`)
  }
}

/** `--netns NAME` means /run/netns/NAME (as `ip netns` names them); anything with a '/' is a path. */
export function parseNetns(command: string, text: string): string {
  if (text.includes('/')) return path.resolve(text)
  if (text === '.' || text === '..') throw new UsageError(`--netns ${JSON.stringify(text)} is neither a namespace name nor a path`, command)
  return `/run/netns/${text}`
}

function parseIdentity(text: string): string {
  if (text === '' || text.length > 253 || /[\s\p{Cc}]/u.test(text)) {
    throw new UsageError(`--identity ${JSON.stringify(text)}: expected 1-253 printable characters without spaces (default: the host name)`, 'run')
  }
  return text
}

function requireConfig(command: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`'${command}' needs --config PATH (the vcluster.yaml to read)`, command)
  return path.resolve(value)
}
