// LinkMonitor: rtnetlink notifications as events. The native half
// (native/monitor.cc) watches the socket from this environment's event loop
// and hands over each readable batch; this side turns it into typed events.
import { EventEmitter } from 'node:events'
import type TypedEmitter from 'typed-emitter'
import { addon } from './binding'
import type { AddressEvent, AddressInfo, LinkEvent, LinkInfo, LinkMonitorOptions, NeighbourEvent, NeighbourInfo, NeighbourState, RouteEvent, RouteInfo, RuleEvent, RuleInfo } from './types'
import { invalidType, validateInteger, validateNetns } from './validate'

/** Events of a LinkMonitor, in the order the kernel sent them. */
export type LinkMonitorEvents = {
  /** An address appeared, changed flags (e.g. DAD finished) or disappeared. */
  address: (event: AddressEvent) => void
  /** A link appeared, changed (up/down, carrier, name, MTU...) or disappeared. */
  link: (event: LinkEvent) => void
  /** A route changed (only with `routes: true`). */
  route: (event: RouteEvent) => void
  /** A rule changed (only with `rules: true`). */
  rule: (event: RuleEvent) => void
  /** A neighbour entry changed (only with `neighbours: true`). */
  neighbour: (event: NeighbourEvent) => void
  /**
   * The kernel dropped notifications (the socket buffer overflowed while the
   * event loop was busy). Whatever the consumer believes is stale: resync with
   * a dump (Netlink#listAddresses, #listLinks).
   */
  overrun: () => void
  /** A read failed or a notification was malformed. The monitor keeps running. */
  error: (error: Error) => void
}

type NativeEvent =
  | { type: 'link'; action: 'add' | 'change' | 'delete'; link: LinkInfo }
  | { type: 'address'; action: 'add' | 'delete'; address: AddressInfo }
  | { type: 'route'; action: 'add' | 'delete'; route: RouteInfo }
  | { type: 'rule'; action: 'add' | 'delete'; rule: RuleInfo }
  | { type: 'neighbour'; action: 'add' | 'delete'; neighbour: Omit<NeighbourInfo, 'state'> & { state: number } }
  | { type: 'overrun' }
  | { type: 'failure'; error: Error }

interface NativeMonitor {
  readonly closed: boolean
  close(): void
  ref(): void
  unref(): void
}

interface MonitorAddon {
  Monitor: new (
    netns: string | undefined,
    options: { routes?: boolean; rules?: boolean; neighbours?: boolean; receiveBufferSize?: number },
    callback: (events: NativeEvent[]) => void,
  ) => NativeMonitor
}

const native = addon as unknown as MonitorAddon

/**
 * Watches links and addresses (and optionally routes and rules) in one network
 * namespace. It keeps the event loop alive until `close()` or `unref()`, and
 * works in worker threads (each on its own loop; closed at the worker's exit).
 *
 * @example
 * const monitor = LinkMonitor.open({ netns: '/run/netns/cp1' })
 * monitor.on('address', (e) => { if (e.action === 'delete' && e.address === vip) reconcile() })
 * monitor.on('overrun', () => resyncFromDump())
 * monitor.close()
 */
export class LinkMonitor extends (EventEmitter as new () => TypedEmitter<LinkMonitorEvents>) {
  /** The namespace path being watched; undefined for the process's own. */
  readonly netns: string | undefined
  readonly #monitor: NativeMonitor

  private constructor(options: LinkMonitorOptions) {
    super()
    this.netns = options.netns
    this.#monitor = new native.Monitor(
      options.netns,
      { routes: options.routes, rules: options.rules, neighbours: options.neighbours, receiveBufferSize: options.receiveBufferSize },
      (events) => this.#dispatch(events),
    )
  }

  /** Starts watching. Throws a SystemError like `Netlink.open` for a bad namespace. */
  static open(options: LinkMonitorOptions = {}): LinkMonitor {
    if (typeof options !== 'object' || options === null) invalidType('options', 'an object', options)
    validateNetns(options.netns)
    for (const flag of ['routes', 'rules', 'neighbours'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') invalidType(flag, 'a boolean', options[flag])
    }
    if (options.receiveBufferSize !== undefined) validateInteger(options.receiveBufferSize, 'receiveBufferSize', 1, 2 ** 30)
    return new LinkMonitor(options)
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#monitor.closed
  }

  /** Keeps the event loop alive while open (the default). */
  ref(): this {
    this.#monitor.ref()
    return this
  }

  /** Lets the process exit even though the monitor is open. */
  unref(): this {
    this.#monitor.unref()
    return this
  }

  /** Stops watching and closes the socket. Idempotent; no events follow. */
  close(): void {
    this.#monitor.close()
  }

  #dispatch(events: NativeEvent[]): void {
    for (const event of events) {
      if (this.#monitor.closed) return // a listener closed us mid-batch
      switch (event.type) {
        case 'address': {
          const { index, family, address, prefixLength, label } = event.address
          const out: AddressEvent = { action: event.action, index, family, address, prefixLength }
          if (label !== undefined) out.label = label
          this.emit('address', out)
          break
        }
        case 'link':
          this.emit('link', { action: event.action, link: event.link })
          break
        case 'route':
          this.emit('route', { action: event.action, route: event.route })
          break
        case 'rule':
          this.emit('rule', { action: event.action, rule: event.rule })
          break
        case 'neighbour':
          this.emit('neighbour', { action: event.action, neighbour: { ...event.neighbour, state: neighbourStates(event.neighbour.state) } })
          break
        case 'overrun':
          this.emit('overrun')
          break
        case 'failure':
          this.emit('error', event.error)
          break
      }
    }
  }
}

// NUD_* bits (linux/neighbour.h) in the order `ip neigh` prints them.
const NUD_STATES: ReadonlyArray<[number, NeighbourState]> = [
  [0x01, 'incomplete'], [0x02, 'reachable'], [0x04, 'stale'], [0x08, 'delay'],
  [0x10, 'probe'], [0x20, 'failed'], [0x40, 'noarp'], [0x80, 'permanent'],
]

function neighbourStates(bits: number): NeighbourState[] {
  return NUD_STATES.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name)
}
