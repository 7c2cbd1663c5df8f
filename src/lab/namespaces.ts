// Network-namespace topologies, for the tests and for `vip-announcer lab`:
// hosts are namespaces, a switch is a namespace holding a bridge, cables are
// veth pairs. Every name is unique per run, and `destroy()` deletes everything
// (callers run it on every exit path).
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface LabHost {
  /** Namespace name (as in `ip netns`). */
  name: string
  /** Path for the `netns` options: /run/netns/NAME. */
  path: string
  /** Runs a command inside the namespace, returns stdout; throws on non-zero exit. */
  run(command: string, ...args: string[]): string
  /** `ip ...` inside the namespace. */
  ip(...args: string[]): string
  /** `ip -j ...` parsed. */
  ipJson<T = any>(...args: string[]): T
  /** MAC of an interface in this namespace. */
  mac(ifname: string): string
  /** The neighbour entry's MAC for an address, or undefined. */
  neighbourMac(address: string, ifname?: string): string | undefined
  /** `ip -j route show table T` parsed; [] when the table does not exist (yet). */
  tableRoutes(table: number | string, family?: 4 | 6): Array<{ dst: string; gateway?: string; dev?: string; scope?: string; protocol?: string }>
  /** Global-scope addresses ('192.0.2.10/24') configured on an interface (link-local left out). */
  addresses(ifname: string): string[]
}

export interface LinkOptions {
  /** CIDRs to put on the host side. */
  addresses?: string[]
  /** Fixed MAC for the host side (deterministic tests). */
  mac?: string
  /** Leave the host side down. */
  down?: boolean
}

let counter = 0

export class Lab {
  readonly id: string
  private readonly namespaces: string[] = []

  constructor() {
    // Short: interface names are limited to 15 bytes and veth peers are named from the id.
    this.id = `va${process.pid.toString(36)}${randomBytes(2).toString('hex')}${(counter++).toString(36)}`
  }

  /** Creates a namespace with loopback up. */
  host(short: string): LabHost {
    const name = `${this.id}-${short}`
    execFileSync('ip', ['netns', 'add', name])
    this.namespaces.push(name)
    const host = makeHost(name)
    host.ip('link', 'set', 'lo', 'up')
    return host
  }

  /** Creates a namespace with a bridge `br0` up: a switch to plug hosts into. */
  switch(short: string, bridgeName = 'br0'): LabHost {
    const sw = this.host(short)
    sw.ip('link', 'add', 'name', bridgeName, 'type', 'bridge')
    // No STP/forward delay: ports forward immediately, as an access switch would.
    sw.ip('link', 'set', bridgeName, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0')
    sw.ip('link', 'set', bridgeName, 'up')
    return sw
  }

  /**
   * Plugs `host` into `sw`'s bridge with a veth pair: `ifname` on the host side,
   * an auto-named port enslaved to the bridge on the switch side. Returns the
   * port's name (to take the cable's far end down: carrier loss on the host).
   */
  plug(host: LabHost, ifname: string, sw: LabHost, options: LinkOptions = {}, bridgeName = 'br0'): string {
    const port = `p${randomBytes(3).toString('hex')}${(counter++).toString(36)}`
    const tmp = `t${randomBytes(3).toString('hex')}${(counter++).toString(36)}`
    execFileSync('ip', ['-n', sw.name, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', tmp, 'netns', host.name])
    host.ip('link', 'set', tmp, 'name', ifname)
    if (options.mac) host.ip('link', 'set', ifname, 'address', options.mac)
    for (const address of options.addresses ?? []) host.ip('addr', 'add', address, 'dev', ifname, ...(address.includes(':') ? ['nodad'] : []))
    sw.ip('link', 'set', port, 'master', bridgeName)
    sw.ip('link', 'set', port, 'up')
    if (!options.down) host.ip('link', 'set', ifname, 'up')
    return port
  }

  /** A direct cable between two hosts. */
  cable(a: LabHost, aIf: string, b: LabHost, bIf: string, aOpts: LinkOptions = {}, bOpts: LinkOptions = {}): void {
    const tmp = `t${randomBytes(3).toString('hex')}${(counter++).toString(36)}`
    execFileSync('ip', ['-n', a.name, 'link', 'add', 'name', aIf, 'type', 'veth', 'peer', 'name', tmp, 'netns', b.name])
    b.ip('link', 'set', tmp, 'name', bIf)
    for (const [h, ifn, o] of [[a, aIf, aOpts], [b, bIf, bOpts]] as const) {
      if (o.mac) h.ip('link', 'set', ifn, 'address', o.mac)
      for (const address of o.addresses ?? []) h.ip('addr', 'add', address, 'dev', ifn, ...(address.includes(':') ? ['nodad'] : []))
      if (!o.down) h.ip('link', 'set', ifn, 'up')
    }
  }

  /** Deletes every namespace this lab made (their interfaces go with them). */
  destroy(): void {
    for (const name of this.namespaces.splice(0).reverse()) {
      spawnSync('ip', ['netns', 'del', name])
    }
  }

  get namespaceNames(): readonly string[] {
    return this.namespaces
  }
}

function makeHost(name: string): LabHost {
  const run = (command: string, ...args: string[]) =>
    execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const ip = (...args: string[]) => execFileSync('ip', ['-n', name, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const ipJson = (...args: string[]) => JSON.parse(ip('-j', ...args) || '[]')
  return {
    name,
    path: `/run/netns/${name}`,
    run,
    ip,
    ipJson,
    mac: (ifname) => ipJson('link', 'show', 'dev', ifname)[0].address,
    neighbourMac: (address, ifname) => {
      const rows = ipJson('neigh', 'show', 'to', address, ...(ifname ? ['dev', ifname] : [])) as Array<{ dst: string; lladdr?: string }>
      return rows.find((r) => r.lladdr)?.lladdr
    },
    tableRoutes: (table, family) => {
      try {
        return ipJson(...(family ? [`-${family}`] : []), 'route', 'show', 'table', String(table))
      } catch (error) {
        if (/does not exist/.test(String((error as { stderr?: string }).stderr ?? error))) return []
        throw error
      }
    },
    addresses: (ifname) =>
      (ipJson('addr', 'show', 'dev', ifname)[0]?.addr_info ?? []).filter((a: any) => a.scope !== 'link').map((a: any) => `${a.local}/${a.prefixlen}`),
  }
}

/** True when this process can create namespaces (root or CAP_SYS_ADMIN+CAP_NET_ADMIN). */
export function canUseNamespaces(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0
}

