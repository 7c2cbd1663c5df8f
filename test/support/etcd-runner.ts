// Runs a real, single-member etcd (Debian's /usr/bin/etcd) on 127.0.0.1 with
// free ports and a temporary data directory, for the etcd elector's tests.
// Everything is removed on stop(), and also when the test process exits some
// other way (a failed assertion, an uncaught error).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const ETCD_BINARY = process.env.ETCD_BINARY ?? '/usr/bin/etcd'

export function etcdAvailable(): boolean {
  try {
    fs.accessSync(ETCD_BINARY, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** tap options: skip with a reason when there is no etcd binary (fail in CI). */
export function etcdTestOptions(): { skip?: string } {
  if (etcdAvailable()) return {}
  const reason = `no etcd binary at ${ETCD_BINARY} (apt-get install etcd-server)`
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`)
  return { skip: reason }
}

/** TLS for the client URL (PEM files); with clientCertAuth etcd requires client certificates signed by caFile. */
export interface EtcdTls {
  certFile: string
  keyFile: string
  caFile: string
  clientCertAuth?: boolean
}

const running = new Set<EtcdServer>()
process.on('exit', () => {
  for (const server of running) server.killNow()
})

export class EtcdServer {
  readonly clientUrl: string
  private exited: Promise<void>
  private logTail: string[] = []

  private constructor(
    private readonly child: ChildProcess,
    readonly clientPort: number,
    readonly dataDir: string,
    private readonly tls?: EtcdTls,
  ) {
    this.clientUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    const keep = (chunk: Buffer) => {
      this.logTail.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      this.logTail = this.logTail.slice(-40)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
  }

  get pid(): number {
    return this.child.pid!
  }

  /** Starts etcd and waits until /health says it is serving. */
  static async start(options: { clientPort?: number; tls?: EtcdTls } = {}): Promise<EtcdServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-etcd-'))
    const [clientPort, peerPort] = await Promise.all([options.clientPort ?? freePort(), freePort()])
    const peerUrl = `http://127.0.0.1:${peerPort}`
    const tls = options.tls
    const scheme = tls ? 'https' : 'http'
    const tlsFlags = tls
      ? [
          '--cert-file', tls.certFile,
          '--key-file', tls.keyFile,
          ...(tls.clientCertAuth ? ['--client-cert-auth', '--trusted-ca-file', tls.caFile] : []),
        ]
      : []
    const child = spawn(
      ETCD_BINARY,
      [
        '--name', 'test',
        '--data-dir', dataDir,
        '--listen-client-urls', `${scheme}://127.0.0.1:${clientPort}`,
        '--advertise-client-urls', `${scheme}://127.0.0.1:${clientPort}`,
        ...tlsFlags,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', `test=${peerUrl}`,
        '--initial-cluster-state', 'new',
        // Keep metrics and pprof quiet; nothing else listens.
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const server = new EtcdServer(child, clientPort, dataDir, tls)
    running.add(server)
    try {
      await server.waitHealthy(15_000)
    } catch (error) {
      await server.stop()
      throw error
    }
    return server
  }

  /** SIGSTOP: the process freezes, its sockets stay open (a partition as clients see it). */
  freeze(): void {
    process.kill(this.pid, 'SIGSTOP')
  }

  thaw(): void {
    process.kill(this.pid, 'SIGCONT')
  }

  async stop(): Promise<void> {
    if (!running.has(this)) return
    running.delete(this)
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(this.pid, 'SIGCONT')
        this.child.kill('SIGTERM')
      } catch {
        // already gone
      }
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
      await this.exited
      clearTimeout(timer)
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }

  /** Last lines etcd logged, for failure messages. */
  get log(): string {
    return this.logTail.join('\n')
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    try {
      this.child.kill('SIGKILL')
    } catch {
      // already gone
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      if (this.child.exitCode !== null) throw new Error(`etcd exited with ${this.child.exitCode}:\n${this.log}`)
      if (await this.healthy()) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`etcd not healthy after ${timeoutMs} ms:\n${this.log}`)
  }

  private healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      const tls = this.tls
      const get = (tls ? https.get : http.get) as typeof http.get
      const tlsOptions = tls
        ? {
            ca: fs.readFileSync(tls.caFile),
            ...(tls.clientCertAuth ? { cert: fs.readFileSync(tls.certFile), key: fs.readFileSync(tls.keyFile) } : {}),
          }
        : {}
      const req = get(`${this.clientUrl}/health`, { timeout: 1000, ...tlsOptions }, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)))
      })
      req.on('error', () => resolve(false))
      req.on('timeout', () => req.destroy())
    })
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
