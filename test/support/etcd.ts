// Candidates for EtcdElector tests, each optionally behind its own TcpProxy
// so one can be cut off etcd while the others keep talking to it.
import { randomBytes } from 'node:crypto'
import { Etcd3 } from 'etcd3'
import { EtcdElector, type EtcdClientLike, type EtcdElectorOptions } from '../../src/electors/etcd'
import type { EtcdServer } from './etcd-runner'
import { TcpProxy } from './tcp-proxy'

// Compile-time: a real Etcd3 satisfies the structural client type the
// published declarations use instead of etcd3's own.
export const realClientFits: Etcd3 extends EtcdClientLike ? true : never = true

export function uniqueName(tag: string): string {
  return `${tag}-${randomBytes(4).toString('hex')}`
}

export async function proxiedCandidate(
  server: EtcdServer,
  name: string,
  identity: string,
  options: Partial<EtcdElectorOptions> = {},
): Promise<{ elector: EtcdElector; proxy: TcpProxy }> {
  const proxy = await TcpProxy.start({ host: '127.0.0.1', port: server.clientPort })
  const elector = new EtcdElector({ endpoints: [proxy.url], name, identity, ttlSeconds: 2, ...options })
  return { elector, proxy }
}

/** A plain client for looking at etcd from the outside. */
export function inspector(server: EtcdServer): Etcd3 {
  return new Etcd3({ hosts: [server.clientUrl] })
}
