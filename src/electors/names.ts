// What names a backend: a Kubernetes Lease's namespace and name, etcd client
// URLs. One rule each, used by the electors (which throw) and by the CLI's
// --elector parser (which reports a usage error before anything starts), so
// the CLI accepts exactly what the electors accept.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * Why `value` cannot be a Lease's namespace (a DNS-1123 label, ≤ 63) or name
 * (a DNS-1123 subdomain, ≤ 253), as a sentence naming it; undefined if it can.
 */
export function kubernetesNameProblem(field: 'namespace' | 'name', value: string): string | undefined {
  const [pattern, max, shape] =
    field === 'namespace' ? [DNS_LABEL, 63, "a DNS-1123 label: lower-case letters, digits and '-'"] : [DNS_SUBDOMAIN, 253, "a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'"]
  if (value.length <= max && pattern.test(value)) return undefined
  return `${field} ${JSON.stringify(value)} is not a valid Kubernetes name (${shape}, at most ${max} characters)`
}

/**
 * An etcd client endpoint as a URL: `http://host:port`, `https://host:port`,
 * or `host:port` (http). The port is required: etcd's client port (usually
 * 2379) is not the scheme's default.
 */
export function parseEtcdEndpoint(text: string): { url: string } | { problem: string } {
  const shown = JSON.stringify(text)
  const notUrl = { problem: `endpoint ${shown} is not an http(s)://host:port URL` }
  if (/\s/.test(text)) return notUrl
  let parsed: URL
  try {
    parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`)
  } catch {
    return notUrl
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { problem: `${notUrl.problem}: only http:// and https:// are supported` }
  if (parsed.username || parsed.password || parsed.search || parsed.hash || (parsed.pathname !== '/' && parsed.pathname !== '')) return notUrl
  if (!parsed.port) return { problem: `endpoint ${shown} has no port (etcd's client port is usually 2379)` }
  return { url: `${parsed.protocol}//${parsed.host}` }
}

/** Why these endpoint URLs cannot be used together (the etcd client has one scheme), or undefined. */
export function etcdSchemeProblem(urls: string[]): string | undefined {
  const secure = urls.filter((url) => url.startsWith('https://')).length
  if (secure === 0 || secure === urls.length) return undefined
  return `endpoints mix http:// and https:// (${urls.join(', ')}); the etcd client uses one scheme for all`
}

/** Throws unless `options` is an object: the first thing an elector's constructor checks, named after it. */
export function requireOptionsObject(owner: string, options: unknown): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${owner}: options must be an object, got ${String(options)}`)
}
