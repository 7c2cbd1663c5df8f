// A loopback TCP forwarder that can cut one client off its backend: while
// partitioned, bytes in both directions are dropped and new connections are
// accepted but go nowhere, as a network partition looks to both ends. Healing
// resets the stalled connections (as their TCP timers eventually would) and
// forwards again. Used to partition one etcd client at a time.
import net from 'node:net'

export class TcpProxy {
  private readonly server: net.Server
  private readonly pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>()
  private partitioned = false

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client))
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target)
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port
  }

  /** Client connections open through the proxy now. */
  get connections(): number {
    return this.pairs.size
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Cuts the link; the returned function heals it. */
  partition(): () => void {
    this.partitioned = true
    return () => this.heal()
  }

  heal(): void {
    if (!this.partitioned) return
    this.partitioned = false
    for (const pair of this.pairs) {
      pair.client.destroy()
      pair.upstream?.destroy()
    }
    this.pairs.clear()
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy()
      pair.upstream?.destroy()
    }
    this.pairs.clear()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: net.Socket): void {
    const pair: { client: net.Socket; upstream?: net.Socket } = { client }
    this.pairs.add(pair)
    const drop = () => {
      this.pairs.delete(pair)
      client.destroy()
      pair.upstream?.destroy()
    }
    client.on('error', drop)
    client.on('close', drop)
    const pending: Buffer[] = []
    client.on('data', (chunk: Buffer) => {
      if (this.partitioned) return
      if (pair.upstream?.writable) pair.upstream.write(chunk)
      else pending.push(chunk)
    })
    if (this.partitioned) return // accepted, never connected: a black hole
    const upstream = net.connect(this.target.port, this.target.host, () => {
      for (const chunk of pending.splice(0)) upstream.write(chunk)
    })
    pair.upstream = upstream
    upstream.on('data', (chunk: Buffer) => {
      if (!this.partitioned) client.write(chunk)
    })
    upstream.on('error', drop)
    upstream.on('close', drop)
  }
}
