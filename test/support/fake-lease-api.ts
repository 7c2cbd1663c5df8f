// A stand-in for the Kubernetes API server, limited to what KubernetesLeaseElector
// uses: coordination.k8s.io/v1 Leases (GET, POST, PUT, DELETE) with the API
// server's optimistic concurrency (metadata.resourceVersion: a stale one on PUT
// is 409 Conflict, POST of an existing name is 409 AlreadyExists, a missing
// Lease is 404 NotFound). It is driven through the real @kubernetes/client-node
// client over plain HTTP, so request paths, bodies and error handling are the
// ones a real cluster sees. It does not model admission, RBAC or the Lease
// controller; what it adds is fault injection per client (each candidate
// authenticates with its own bearer token): hold requests (a partition), reset
// connections, answer with an error status, or delay before or after applying
// a change.
//
// Watches are a stand-in for the API server's: GET on the collection with
// watch=true (fieldSelector metadata.name=NAME) streams one JSON line per
// change, {type: ADDED|MODIFIED|DELETED, object}. Without resourceVersion the
// stream begins with a synthetic ADDED of the current object; with one, it
// replays the changes after it, or, when that version is older than the
// history kept (compactHistory()), sends an ERROR event with a 410 Expired
// Status and ends, so the client must list again. timeoutSeconds ends a watch
// as the server does, and endWatches() ends them all (an API server restart).
// Not modelled: bookmarks, resourceVersionMatch, chunked lists.
import http from 'node:http'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Test } from 'tap'
import { tempDir } from './temp'
import type { AddressInfo, Socket } from 'node:net'

export interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1'
  kind: 'Lease'
  metadata: {
    name: string
    namespace: string
    resourceVersion: string
    uid: string
    creationTimestamp: string
    [key: string]: unknown
  }
  spec: {
    holderIdentity?: string
    leaseDurationSeconds?: number
    acquireTime?: string
    renewTime?: string
    leaseTransitions?: number
    [key: string]: unknown
  }
}

export interface RequestRecord {
  at: number
  method: string
  path: string
  token: string | undefined
  /** Status sent, or 'held' / 'reset' when no answer was given. */
  outcome: number | 'held' | 'reset'
  /** For writes: the spec that was sent. */
  spec?: LeaseObject['spec']
  /** resourceVersion the client sent (PUT). */
  resourceVersion?: string
}

/** What to do with a matching request. */
export type Fault =
  /** Never answer (a partition): the request is held until heal, then its connection is reset. */
  | { kind: 'hold' }
  /** Destroy the connection at once (ECONNRESET on the client). */
  | { kind: 'reset' }
  /** Answer with this status and a Kubernetes Status body, without applying anything. */
  | { kind: 'status'; status: number }
  /** Wait, then process normally. */
  | { kind: 'delay-before'; ms: number }
  /** Apply the change at once, but answer only after `ms` (a slow response to a committed write). */
  | { kind: 'delay-after'; ms: number }

export interface FaultRule {
  /** Bearer token of the client; any client when absent. */
  token?: string
  /** HTTP method; any when absent. */
  method?: string
  fault: Fault
  /** How many requests it applies to; unlimited when absent. */
  times?: number
}

const base = '/apis/coordination.k8s.io/v1/namespaces/'

/** How many changes the stand-in remembers for watches that resume from a resourceVersion. */
const HISTORY = 100

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

interface WatchStream {
  namespace: string
  /** From fieldSelector metadata.name=NAME; every Lease of the namespace when absent. */
  name?: string
  res: http.ServerResponse
  timer?: NodeJS.Timeout
}

export class FakeLeaseApi {
  readonly requests: RequestRecord[] = []
  private readonly leases = new Map<string, LeaseObject>()
  private rules: FaultRule[] = []
  private readonly held = new Set<{ token: string | undefined; socket: Socket }>()
  private readonly sockets = new Set<Socket>()
  private version = 100
  private server?: http.Server
  private readonly watches = new Set<WatchStream>()
  /** The last HISTORY changes, oldest first, for watches resuming from a resourceVersion. */
  private history: Array<{ type: WatchEventType; lease: LeaseObject }> = []
  /** Changes older than this resourceVersion are forgotten: resuming from before it is 410 Expired. */
  private oldestKept = 100

  /** Listens on 127.0.0.1 (port 0 = any free port); resolves to the port. */
  async listen(port = 0): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res))
    server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    return (server.address() as AddressInfo).port
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    this.endWatches()
    for (const socket of this.sockets) socket.destroy()
    this.held.clear()
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()))
  }

  /** A kubeconfig (as KubeConfig.loadFromOptions takes it) for one client. */
  kubeConfigOptions(token: string) {
    return {
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: token, token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: token }],
      currentContext: 'fake',
    }
  }

  addFault(rule: FaultRule): void {
    this.rules.push({ ...rule })
  }

  clearFaults(): void {
    this.rules = []
  }

  /**
   * Cuts a client off: its requests are held unanswered. The returned heal
   * function lifts that and resets the held connections (as a TCP connection
   * stuck in a partition eventually is).
   */
  partition(token: string): () => void {
    const rule: FaultRule = { token, fault: { kind: 'hold' } }
    this.rules.push(rule)
    return () => {
      this.rules = this.rules.filter((r) => r !== rule)
      for (const entry of [...this.held]) {
        if (entry.token !== token) continue
        this.held.delete(entry)
        entry.socket.destroy()
      }
    }
  }

  /** Watches open now. */
  get openWatches(): number {
    return this.watches.size
  }

  /** Ends every open watch cleanly (as an API server restart or its watch timeout does). */
  endWatches(): void {
    for (const watch of [...this.watches]) this.endWatch(watch)
  }

  /** Forgets the change history: a watch resuming from any earlier resourceVersion gets 410 Expired. */
  compactHistory(): void {
    this.history = []
    this.oldestKept = this.version
  }

  /** The stored Lease, or undefined. */
  lease(namespace: string, name: string): LeaseObject | undefined {
    const lease = this.leases.get(`${namespace}/${name}`)
    return lease && structuredClone(lease)
  }

  /** Writes a Lease directly (as another client would), bumping resourceVersion. */
  setLease(namespace: string, name: string, spec: LeaseObject['spec']): LeaseObject {
    const existing = this.leases.get(`${namespace}/${name}`)
    const lease: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace,
        uid: existing?.metadata.uid ?? `uid-${namespace}-${name}`,
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
        resourceVersion: String(++this.version),
      },
      spec: structuredClone(spec),
    }
    this.leases.set(`${namespace}/${name}`, lease)
    this.changed(existing ? 'MODIFIED' : 'ADDED', lease)
    return structuredClone(lease)
  }

  deleteLease(namespace: string, name: string): void {
    const existing = this.leases.get(`${namespace}/${name}`)
    if (!existing) return
    this.leases.delete(`${namespace}/${name}`)
    // The API server's DELETED event carries the object at deletion, with a new resourceVersion.
    this.changed('DELETED', { ...structuredClone(existing), metadata: { ...existing.metadata, resourceVersion: String(++this.version) } })
  }

  private changed(type: WatchEventType, lease: LeaseObject): void {
    this.history.push({ type, lease: structuredClone(lease) })
    if (this.history.length > HISTORY) {
      this.history.shift()
      this.oldestKept = Number(this.history[0].lease.metadata.resourceVersion) - 1
    }
    for (const watch of this.watches) {
      if (matches(watch, lease)) writeEvent(watch.res, type, lease)
    }
  }

  private startWatch(url: URL, namespace: string, res: http.ServerResponse): void {
    const selector = url.searchParams.get('fieldSelector') ?? ''
    const name = /^metadata\.name=(.+)$/.exec(selector)?.[1]
    const watch: WatchStream = { namespace, name, res }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    const from = url.searchParams.get('resourceVersion')
    if (from === null || from === '' || from === '0') {
      for (const lease of this.leases.values()) if (matches(watch, lease)) writeEvent(res, 'ADDED', lease)
    } else if (Number(from) < this.oldestKept) {
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.oldestKept})`) }) + '\n')
      return
    } else {
      for (const { type, lease } of this.history) {
        if (Number(lease.metadata.resourceVersion) > Number(from) && matches(watch, lease)) writeEvent(res, type, lease)
      }
    }
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0)
    if (timeout > 0) watch.timer = setTimeout(() => this.endWatch(watch), timeout * 1000)
    this.watches.add(watch)
    res.on('close', () => {
      clearTimeout(watch.timer)
      this.watches.delete(watch)
    })
  }

  private endWatch(watch: WatchStream): void {
    clearTimeout(watch.timer)
    this.watches.delete(watch)
    if (!watch.res.destroyed) watch.res.end()
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      const record: RequestRecord = {
        at: Number(process.hrtime.bigint()) / 1e6,
        method: req.method ?? '',
        path: req.url ?? '',
        token,
        outcome: 0,
      }
      const text = Buffer.concat(chunks).toString('utf8')
      let body: any
      if (text) {
        try {
          body = JSON.parse(text)
        } catch {
          this.requests.push({ ...record, outcome: 400 })
          return this.send(res, 400, status(400, 'BadRequest', 'body is not JSON'))
        }
        record.spec = body?.spec
        record.resourceVersion = body?.metadata?.resourceVersion
      }
      this.requests.push(record)
      const fault = this.takeFault(token, record.method)
      if (fault?.kind === 'hold') {
        record.outcome = 'held'
        this.held.add({ token, socket: req.socket })
        return
      }
      if (fault?.kind === 'reset') {
        record.outcome = 'reset'
        req.socket.destroy()
        return
      }
      if (fault?.kind === 'status') {
        record.outcome = fault.status
        return this.send(res, fault.status, status(fault.status, 'InternalError', 'injected fault'))
      }
      const apply = () => {
        const watch = this.watchTarget(record.method, record.path)
        if (watch) {
          record.outcome = 200
          return this.startWatch(watch.url, watch.namespace, res)
        }
        const [code, payload] = this.route(record.method, record.path, body)
        record.outcome = code
        if (fault?.kind === 'delay-after') setTimeout(() => this.send(res, code, payload), fault.ms)
        else this.send(res, code, payload)
      }
      if (fault?.kind === 'delay-before') setTimeout(apply, fault.ms)
      else apply()
    })
  }

  private takeFault(token: string | undefined, method: string): Fault | undefined {
    for (const rule of this.rules) {
      if (rule.token !== undefined && rule.token !== token) continue
      if (rule.method !== undefined && rule.method !== method) continue
      if (rule.times !== undefined) {
        if (rule.times <= 0) continue
        rule.times--
      }
      return rule.fault
    }
    return undefined
  }

  private send(res: http.ServerResponse, code: number, payload: unknown): void {
    if (res.destroyed) return
    res.writeHead(code, { 'content-type': 'application/json' })
    res.end(JSON.stringify(payload))
  }

  /** A GET of a namespace's Leases with watch=true. */
  private watchTarget(method: string, path: string): { url: URL; namespace: string } | undefined {
    const url = new URL(path, 'http://fake')
    if (method !== 'GET' || url.searchParams.get('watch') !== 'true' || !url.pathname.startsWith(base)) return undefined
    const [namespace, collection, name] = url.pathname.slice(base.length).split('/')
    return namespace && collection === 'leases' && name === undefined ? { url, namespace } : undefined
  }

  private route(method: string, path: string, body: any): [number, unknown] {
    const url = new URL(path, 'http://fake')
    if (!url.pathname.startsWith(base)) return [404, status(404, 'NotFound', `no route ${url.pathname}`)]
    const parts = url.pathname.slice(base.length).split('/')
    const namespace = parts[0]
    if (parts[1] !== 'leases' || !namespace) return [404, status(404, 'NotFound', `no route ${url.pathname}`)]
    const name = parts[2]
    if (name === undefined) {
      if (method === 'GET') {
        const items = [...this.leases.values()].filter((lease) => lease.metadata.namespace === namespace)
        return [200, { kind: 'LeaseList', apiVersion: 'coordination.k8s.io/v1', metadata: { resourceVersion: String(this.version) }, items }]
      }
      if (method !== 'POST') return [405, status(405, 'MethodNotAllowed', method)]
      return this.create(namespace, body)
    }
    const key = `${namespace}/${name}`
    const existing = this.leases.get(key)
    switch (method) {
      case 'GET':
        return existing ? [200, existing] : [404, notFound(name)]
      case 'PUT': {
        if (!existing) return [404, notFound(name)]
        if (body?.metadata?.name !== name) return [400, status(400, 'BadRequest', 'metadata.name does not match')]
        const sent = body.metadata.resourceVersion
        // As the API server: an update naming an old resourceVersion loses.
        if (sent && sent !== existing.metadata.resourceVersion) {
          return [409, conflict(name)]
        }
        const updated = this.setLease(namespace, name, body.spec ?? {})
        return [200, updated]
      }
      case 'DELETE':
        if (!existing) return [404, notFound(name)]
        this.deleteLease(namespace, name)
        return [200, status(200, 'Success', 'deleted')]
      default:
        return [405, status(405, 'MethodNotAllowed', method)]
    }
  }

  private create(namespace: string, body: any): [number, unknown] {
    const name = body?.metadata?.name
    if (typeof name !== 'string' || !name) return [422, status(422, 'Invalid', 'metadata.name is required')]
    if (body.metadata.namespace && body.metadata.namespace !== namespace) {
      return [400, status(400, 'BadRequest', 'namespace does not match')]
    }
    if (this.leases.has(`${namespace}/${name}`)) {
      return [409, status(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`)]
    }
    return [201, this.setLease(namespace, name, body.spec ?? {})]
  }
}

function matches(watch: WatchStream, lease: LeaseObject): boolean {
  return lease.metadata.namespace === watch.namespace && (watch.name === undefined || lease.metadata.name === watch.name)
}

function writeEvent(res: http.ServerResponse, type: WatchEventType, lease: LeaseObject): void {
  if (!res.destroyed) res.write(JSON.stringify({ type, object: lease }) + '\n')
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', reason, message, code }
}

function notFound(name: string) {
  return status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`)
}

function conflict(name: string) {
  return status(
    409,
    'Conflict',
    `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  )
}

/** A Lease API stand-in on loopback and a kubeconfig pointing at it. */
/** `t`: a tap test, or anything with a teardown (a bench's own list of cleanups). */
export async function fakeApiKubeconfig(t: Pick<Test, 'teardown'>): Promise<string> {
  const api = new FakeLeaseApi()
  const port = await api.listen()
  t.teardown(() => api.close())
  const kubeconfig = path.join(tempDir('vip-kube-'), 'config')
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: fake',
    'clusters:', '- name: fake', '  cluster:', `    server: http://127.0.0.1:${port}`, '    insecure-skip-tls-verify: true',
    'users:', '- name: e2e', '  user:', '    token: e2e',
    'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: e2e',
  ].join('\n') + '\n')
  return kubeconfig
}
