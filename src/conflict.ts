// Address-conflict detection for the VIPs (RFC 5227 style, see docs/conflicts.md):
// while a replica leads, another host answering for (or announcing) one of its
// VIPs must be noticed, not fought silently. Passive: every ARP / neighbour
// discovery frame on the link is inspected. Active: a probe round every
// `probeIntervalMs` (an RFC 5227 ARP probe, sender IP 0.0.0.0; for IPv6 a DAD
// neighbour solicitation from ::), which Linux answers for its own addresses,
// so even a silent host with the VIP configured is found.
import { EventEmitter } from 'node:events'
import { isIPv4 } from 'node:net'
import type TypedEmitter from 'typed-emitter'
import ipaddr from 'ipaddr.js'
import { monotonicNow } from './clock'
import { FrameCapture, type CapturedFrame } from './net/capture'
import { arpProbe, neighbourSolicitation, type NeighbourFrame, type ParsedFrame } from './net/frames'
import { PacketSocket } from './net/packets'
import type { LinkRef } from './net/types'
import { invalidType, invalidValue, parseAddress, validateInteger, validateLinkRef, validateNetns } from './net/validate'

/**
 * RFC 5227 §2.4 (b) DEFEND_INTERVAL: a host that defends an address sends at
 * most one defensive announcement per this many milliseconds; a second
 * conflict within it means giving the address up (or, with the 'defend'
 * policy, not announcing again until it has passed).
 */
export const DEFEND_INTERVAL_MS = 10_000

/** What the announcer does about a conflict (docs/conflicts.md). */
export type ConflictPolicy = 'yield' | 'defend'

/**
 * The kind of frame that showed another host claiming a VIP:
 * - 'arp-probe-reply': an ARP reply addressed to this link's MAC (the answer to our probe);
 * - 'arp-reply': any other ARP reply with the VIP as sender IP;
 * - 'gratuitous-arp': an ARP request or reply with sender IP = target IP = the VIP;
 * - 'arp-request': an ARP request with the VIP as sender IP (the host uses it as its own);
 * - 'neighbour-probe-reply': a neighbour advertisement for the VIP while our DAD probe for it was out
 *   (Linux defends with Override set, Solicited clear, to ff02::1);
 * - 'neighbour-advertisement': any other advertisement for the VIP with the Override flag;
 * - 'neighbour-solicitation': a neighbour solicitation with the VIP as IPv6 source.
 */
export type ConflictEvidence =
  | 'arp-probe-reply'
  | 'arp-reply'
  | 'gratuitous-arp'
  | 'arp-request'
  | 'neighbour-probe-reply'
  | 'neighbour-advertisement'
  | 'neighbour-solicitation'

/** Payload of the 'conflict' event. */
export interface ConflictEvent {
  /** The VIP, in canonical text form (as in `vips`). */
  vip: string
  /** The foreign MAC claiming it (ARP sender hardware address, or the advertisement's target link-layer address). */
  mac: string
  /** CLOCK_MONOTONIC ms (`monotonicNow()`) of the first evidence: the frame's kernel receive time when known. */
  since: number
  /** The frame that showed it. */
  evidence: ConflictEvidence
}

/** Payload of the 'cleared' event. */
export interface ClearedEvent {
  vip: string
  mac: string
  /** Milliseconds since the last evidence from `mac` for `vip`. */
  quietMs: number
}

/** A conflict currently held by the detector. */
export interface Conflict {
  vip: string
  mac: string
  /** CLOCK_MONOTONIC ms of the first evidence. */
  since: number
  /** CLOCK_MONOTONIC ms of the latest evidence. */
  lastSeen: number
  /** The latest evidence's kind. */
  evidence: ConflictEvidence
}

/** Events of a ConflictDetector. */
export type ConflictDetectorEvents = {
  /** Another host claims `vip` (once per VIP and MAC until it is 'cleared'). */
  conflict: (event: ConflictEvent) => void
  /** No claim from that MAC for that VIP for `clearAfterMs` (and, when probing, a probe round it did not answer). */
  cleared: (event: ClearedEvent) => void
  /**
   * A capture error (ENETDOWN when the link goes down) or a failed periodic
   * probe (the first of a run of identical failures). The detector carries on.
   * As with any EventEmitter, an 'error' without a listener throws.
   */
  error: (error: Error) => void
}

/** Options of `new ConflictDetector()`, checked there (TypeError/RangeError naming the field). */
export interface ConflictDetectorOptions {
  /** The interface (name or index) the VIPs live on. */
  link: LinkRef
  /** Network namespace path (/run/netns/NAME); default the process's own. */
  netns?: string
  /** The VIPs to watch, IPv4 and/or IPv6 (each in canonical text form in the events). */
  vips: string[]
  /**
   * A probe round every this many ms, the first at `start()`; 0 = passive
   * only. 0 to 60000, default 500 (a silent owner is found well within a
   * second of it appearing).
   */
  probeIntervalMs?: number
  /** How long a round waits for answers: 1 to 60000 ms, default 200. */
  probeTimeoutMs?: number
  /**
   * Probes per VIP per round, spread over the first part of `probeTimeoutMs`
   * so one lost frame does not hide an owner: 1 to 10, default 1 (periodic
   * rounds already repeat). `vip-announcer check` uses 3.
   */
  probeCount?: number
  /**
   * A conflict clears after this long without evidence (and, when probing, a
   * whole probe round without an answer from that MAC). Default
   * max(1000, 2 × probeIntervalMs + probeTimeoutMs). 1 to 3600000 ms.
   */
  clearAfterMs?: number
}

/** Counters, for tests and metrics. */
export interface ConflictDetectorStats {
  /** Probe rounds completed. */
  rounds: number
  /** Probe frames sent. */
  probesSent: number
  /** Received frames inspected (not counting this host's own). */
  framesInspected: number
  /** Frames that were evidence of a conflict. */
  evidenceFrames: number
}

/**
 * What `conflictEvidence` needs to know besides the frame.
 * @internal
 */
export interface EvidenceContext {
  /** This link's MAC(s); frames from them are never evidence. */
  ownMacs: ReadonlySet<string>
  /** The watched VIPs. */
  vips: VipSet
  /** VIPs a probe round is currently out for. */
  probing: ReadonlySet<string>
}

/**
 * The watched VIPs, looked up by the text a received frame carries.
 * @internal
 */
export class VipSet {
  private readonly v4 = new Set<string>()
  private readonly v6 = new Map<string, string>()

  constructor(vips: readonly string[]) {
    for (const vip of vips) {
      if (isIPv4(vip)) this.v4.add(vip)
      else this.v6.set(vip, vip)
    }
  }

  /** The VIP (canonical) an IPv4 text names, if it is one. */
  ipv4(text: unknown): string | undefined {
    return typeof text === 'string' && this.v4.has(text) ? text : undefined
  }

  /** The VIP (canonical) an IPv6 text names, if it is one. */
  ipv6(text: unknown): string | undefined {
    if (typeof text !== 'string' || this.v6.size === 0) return undefined
    const direct = this.v6.get(text) // inet_ntop output is normally RFC 5952 already
    if (direct !== undefined) return direct
    try {
      return this.v6.get(ipaddr.IPv6.parse(text).toRFC5952String())
    } catch {
      return undefined
    }
  }
}

const ZERO_MAC = '00:00:00:00:00:00'

/** A unicast station address: what a host can own (not zero, multicast bit clear). */
function stationMac(mac: unknown): mac is string {
  return typeof mac === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) && mac !== ZERO_MAC && (parseInt(mac.slice(0, 2), 16) & 1) === 0
}

/**
 * Whether a received frame shows another host claiming a watched VIP, and
 * which host. Pure; never throws for any parsed frame (malformed frames are
 * 'other' and are not evidence). Rules (docs/conflicts.md):
 * - frames sent by this host (`outgoing`), from one of its MACs (Ethernet
 *   source or claimed address), or still carrying an 802.1Q tag (another
 *   VLAN) are never evidence;
 * - ARP: the VIP as *sender* IP, from a station MAC. ARP requests asking for
 *   the VIP (target IP) and probes (sender 0.0.0.0) are not evidence;
 * - neighbour advertisement for the VIP that a Linux receiver would accept
 *   (valid checksum, hop limit 255, well-formed options, not solicited if
 *   sent to a multicast group), with Override set, or any while our DAD probe
 *   for it is out;
 * - neighbour solicitation with the VIP as source (DAD probes, source ::, are not).
 * @internal
 */
export function conflictEvidence(
  frame: ParsedFrame & { outgoing?: boolean },
  context: EvidenceContext,
): { vip: string; mac: string; evidence: ConflictEvidence } | undefined {
  if (frame.outgoing === true || frame.kind === 'other') return undefined
  if (frame.vlan !== undefined) return undefined
  const { ownMacs } = context
  if (ownMacs.has(frame.source)) return undefined
  switch (frame.kind) {
    case 'arp-request':
    case 'arp-reply': {
      const vip = context.vips.ipv4(frame.senderIp)
      if (vip === undefined) return undefined
      const mac = frame.senderMac
      if (!stationMac(mac) || ownMacs.has(mac)) return undefined
      let evidence: ConflictEvidence
      if (frame.targetIp === frame.senderIp) evidence = 'gratuitous-arp'
      else if (frame.kind === 'arp-reply') evidence = ownMacs.has(frame.targetMac) ? 'arp-probe-reply' : 'arp-reply'
      else evidence = 'arp-request'
      return { vip, mac, evidence }
    }
    case 'neighbour-advertisement': {
      if (!acceptableNeighbourMessage(frame)) return undefined
      // RFC 4861 7.1.2: an advertisement to a multicast group must not be solicited.
      if (frame.solicited && frame.destinationIp.startsWith('ff')) return undefined
      const vip = context.vips.ipv6(frame.target)
      if (vip === undefined) return undefined
      const mac = frame.linkLayerAddress ?? frame.source
      if (!stationMac(mac) || ownMacs.has(mac)) return undefined
      if (context.probing.has(vip)) return { vip, mac, evidence: 'neighbour-probe-reply' }
      if (frame.override) return { vip, mac, evidence: 'neighbour-advertisement' }
      return undefined
    }
    case 'neighbour-solicitation': {
      if (!acceptableNeighbourMessage(frame)) return undefined
      const vip = context.vips.ipv6(frame.sourceIp)
      if (vip === undefined) return undefined
      const mac = frame.linkLayerAddress ?? frame.source
      if (!stationMac(mac) || ownMacs.has(mac)) return undefined
      return { vip, mac, evidence: 'neighbour-solicitation' }
    }
    default:
      return undefined
  }
}

/** What a Linux receiver checks before it believes a neighbour discovery message. */
function acceptableNeighbourMessage(frame: NeighbourFrame): boolean {
  return frame.checksumValid && frame.hopLimit === 255 && frame.optionsValid
}

interface ResolvedDetectorOptions {
  link: LinkRef
  netns?: string
  vips: string[]
  probeIntervalMs: number
  probeTimeoutMs: number
  probeCount: number
  clearAfterMs: number
}

function resolveDetectorOptions(options: ConflictDetectorOptions): ResolvedDetectorOptions {
  if (options === null || typeof options !== 'object') invalidType('options', 'an object', options)
  const link = validateLinkRef(options.link)
  const netns = validateNetns(options.netns)
  if (!Array.isArray(options.vips)) invalidType('vips', 'an array of IP addresses', options.vips)
  if (options.vips.length === 0) invalidValue('vips', options.vips, 'must name at least one address')
  const vips: string[] = []
  options.vips.forEach((value, index) => {
    const { address } = parseAddress(value, `vips[${index}]`)
    if (vips.includes(address)) invalidValue(`vips[${index}]`, value, 'is listed twice')
    vips.push(address)
  })
  const probeIntervalMs = validateInteger(options.probeIntervalMs ?? 500, 'probeIntervalMs', 0, 60_000)
  const probeTimeoutMs = validateInteger(options.probeTimeoutMs ?? 200, 'probeTimeoutMs', 1, 60_000)
  const probeCount = validateInteger(options.probeCount ?? 1, 'probeCount', 1, 10)
  const clearAfterMs = validateInteger(
    options.clearAfterMs ?? Math.max(1000, 2 * probeIntervalMs + probeTimeoutMs),
    'clearAfterMs',
    1,
    3_600_000,
  )
  return { link, netns, vips, probeIntervalMs, probeTimeoutMs, probeCount, clearAfterMs }
}

/** One probe round: the VIPs asked about and the foreign MACs that answered. */
interface Round {
  vips: string[]
  startedAt: number
  answers: Map<string, Set<string>>
  timers: NodeJS.Timeout[]
  settle(error?: Error): void
}

/** The open capture and send socket of one `start()`..`stop()`. */
interface Session {
  capture: FrameCapture
  socket: PacketSocket
  /** Start of the latest completed probe round that included the VIP. */
  quietRoundAt: Map<string, number>
  periodic?: NodeJS.Timeout
  sweep?: NodeJS.Timeout
  sweepAt?: number
  round?: Round
  /** The tail of the probe queue (rounds never overlap). */
  queue: Promise<unknown>
  /** Code of the last periodic failure reported, so a run of them is reported once. */
  lastFailure?: string
}

function stoppedError(): Error {
  return Object.assign(new Error('ConflictDetector stopped before the probe completed'), { code: 'ERR_DETECTOR_STOPPED' })
}

/**
 * Watches one link for other hosts claiming the VIPs. Create one per
 * interface; `start()` opens a capture and a send socket (CAP_NET_RAW) and,
 * unless `probeIntervalMs` is 0, probes at once and then every interval.
 * Frames from this link's own MAC are never evidence, so the leader's own
 * announcements and its kernel's answers to probes are not conflicts.
 */
export class ConflictDetector extends (EventEmitter as new () => TypedEmitter<ConflictDetectorEvents>) {
  private readonly options: ResolvedDetectorOptions
  private readonly vipSet: VipSet
  private session?: Session
  /** Sockets kept open by park() for the next start(). */
  private parked?: { capture: FrameCapture; socket: PacketSocket }
  private readonly ownMacs = new Set<string>()
  private readonly probing = new Set<string>()
  private readonly current = new Map<string, Conflict>()
  private readonly counters: ConflictDetectorStats = { rounds: 0, probesSent: 0, framesInspected: 0, evidenceFrames: 0 }

  constructor(options: ConflictDetectorOptions) {
    super()
    this.options = resolveDetectorOptions(options)
    this.vipSet = new VipSet(this.options.vips)
  }

  /** The watched VIPs, canonical. */
  get vips(): readonly string[] {
    return this.options.vips
  }
  /** Milliseconds between probe rounds (0: passive only). */
  get probeIntervalMs(): number {
    return this.options.probeIntervalMs
  }
  /** Quiet time after which a conflict clears. */
  get clearAfterMs(): number {
    return this.options.clearAfterMs
  }
  /** True between `start()` and `stop()`. */
  get started(): boolean {
    return this.session !== undefined
  }
  /** Counters since construction. */
  get stats(): Readonly<ConflictDetectorStats> {
    return { ...this.counters }
  }

  /**
   * Opens the capture and the send socket on the link and begins watching;
   * the first probe round follows at once (on the next turn of the event
   * loop, so listeners attached right after `start()` see everything).
   * Idempotent. Throws like `FrameCapture.open` (EPERM without CAP_NET_RAW,
   * ENODEV for an unknown interface) with nothing left open.
   */
  start(): this {
    if (this.session) return this
    let sockets = this.parked
    this.parked = undefined
    if (!sockets) {
      const link = { link: this.options.link, netns: this.options.netns }
      // The kernel filter passes only ARP / neighbour discovery about the VIPs.
      const capture = FrameCapture.open({ ...link, addresses: this.options.vips })
      try {
        sockets = { capture, socket: PacketSocket.open(link) }
      } catch (error) {
        capture.close()
        throw error
      }
    }
    const { capture, socket } = sockets
    capture.removeAllListeners('frame')
    capture.removeAllListeners('error')
    const session: Session = { capture, socket, quietRoundAt: new Map(), queue: Promise.resolve() }
    this.session = session
    this.ownMacs.clear()
    this.ownMacs.add(capture.mac)
    this.ownMacs.add(socket.mac)
    capture.on('frame', (frame) => this.onFrame(session, frame))
    capture.on('error', (error) => {
      if (this.session === session) this.emit('error', error)
    })
    if (this.options.probeIntervalMs > 0) this.schedulePeriodic(session, 0)
    return this
  }

  /**
   * Closes the capture and the socket. Pending `probe()` calls reject with
   * `code: 'ERR_DETECTOR_STOPPED'`; current conflicts are forgotten without
   * 'cleared' events. Idempotent; `start()` may follow.
   */
  stop(): void {
    const session = this.end()
    const sockets = session ?? this.parked
    this.parked = undefined
    sockets?.capture.close()
    sockets?.socket.close()
  }

  /**
   * Like stop(), but keeps the capture and the send socket open (frames that
   * arrive meanwhile are dropped unread, probing stops), so the next
   * `start()` skips opening them: in another namespace that takes a thread
   * and a few hundred microseconds, and it would land right after each
   * takeover. Idempotent; stop() closes them.
   */
  park(): void {
    const session = this.end()
    if (session) this.parked = { capture: session.capture, socket: session.socket }
  }

  /** Ends the session: timers, the round in flight, conflicts. Returns it (sockets still open). */
  private end(): Session | undefined {
    const session = this.session
    if (!session) return undefined
    this.session = undefined
    clearTimeout(session.periodic)
    clearTimeout(session.sweep)
    session.round?.settle(stoppedError())
    this.probing.clear()
    this.current.clear()
    return session
  }

  /** The conflicts currently held (one per VIP and foreign MAC). */
  conflicts(): Conflict[] {
    return [...this.current.values()].map((c) => ({ ...c }))
  }

  /**
   * One probe round now (after the one in flight, if any): an ARP probe per
   * IPv4 VIP, a DAD neighbour solicitation per IPv6 VIP (`probeCount` each),
   * then `probeTimeoutMs` of listening. Resolves with the foreign MACs that
   * claimed each probed VIP during the round (answers and unsolicited
   * announcements alike; an empty list when nobody did). Answers also raise
   * 'conflict' as any evidence does. Rejects if the detector is not started
   * or is stopped meanwhile (`code: 'ERR_DETECTOR_STOPPED'`), or if a probe
   * cannot be sent (ENETDOWN, ENXIO).
   */
  probe(vips?: string[]): Promise<Map<string, string[]>> {
    const session = this.session
    if (!session) {
      return Promise.reject(Object.assign(new Error('ConflictDetector is not started'), { code: 'ERR_DETECTOR_STOPPED' }))
    }
    let selected: string[]
    try {
      selected = this.selectVips(vips)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.enqueue(session, selected)
  }

  private selectVips(vips: string[] | undefined): string[] {
    if (vips === undefined) return [...this.options.vips]
    if (!Array.isArray(vips)) invalidType('vips', 'an array of IP addresses', vips)
    const selected: string[] = []
    vips.forEach((value, index) => {
      const { address } = parseAddress(value, `vips[${index}]`)
      if (!this.options.vips.includes(address)) invalidValue(`vips[${index}]`, value, 'is not one of the watched VIPs')
      if (!selected.includes(address)) selected.push(address)
    })
    return selected
  }

  private enqueue(session: Session, vips: string[]): Promise<Map<string, string[]>> {
    const run = () => (this.session === session ? this.round(session, vips) : Promise.reject(stoppedError()))
    const result = session.queue.then(run, run)
    session.queue = result.catch(() => undefined)
    return result
  }

  private round(session: Session, vips: string[]): Promise<Map<string, string[]>> {
    return new Promise((resolve, reject) => {
      const round: Round = {
        vips,
        startedAt: monotonicNow(),
        answers: new Map(vips.map((vip) => [vip, new Set<string>()])),
        timers: [],
        settle: (error) => {
          if (session.round !== round) return
          session.round = undefined
          for (const timer of round.timers) clearTimeout(timer)
          for (const vip of vips) this.probing.delete(vip)
          if (error) {
            reject(error)
            return
          }
          this.counters.rounds++
          for (const vip of vips) session.quietRoundAt.set(vip, round.startedAt)
          resolve(new Map([...round.answers].map(([vip, macs]) => [vip, [...macs]])))
          this.sweep(session)
        },
      }
      session.round = round
      for (const vip of vips) this.probing.add(vip)
      const send = () => {
        try {
          this.sendProbes(session, vips)
        } catch (error) {
          round.settle(error as Error)
        }
      }
      send()
      if (session.round !== round) return // the first send failed
      const { probeCount, probeTimeoutMs } = this.options
      // Repeats spread over the first two thirds, so the last one still has time to be answered.
      for (let i = 1; i < probeCount; i++) round.timers.push(unref(setTimeout(send, (probeTimeoutMs * 2 * i) / (3 * probeCount))))
      round.timers.push(unref(setTimeout(() => round.settle(), probeTimeoutMs)))
    })
  }

  private sendProbes(session: Session, vips: string[]): void {
    // The MAC can change under a running socket (bond failover, `ip link set
    // address`): read it afresh, and count it as ours from now on.
    const mac = session.socket.readLink().mac
    this.ownMacs.add(mac)
    for (const vip of vips) {
      session.socket.send(isIPv4(vip) ? arpProbe(mac, vip) : neighbourSolicitation(mac, vip))
      this.counters.probesSent++
    }
  }

  private schedulePeriodic(session: Session, delayMs: number): void {
    session.periodic = unref(
      setTimeout(() => {
        if (this.session !== session) return
        const startedAt = monotonicNow()
        const next = () => {
          if (this.session !== session) return
          this.schedulePeriodic(session, Math.max(0, startedAt + this.options.probeIntervalMs - monotonicNow()))
        }
        this.enqueue(session, [...this.options.vips]).then(
          () => {
            session.lastFailure = undefined
            next()
          },
          (error: NodeJS.ErrnoException) => {
            if (this.session !== session) return
            const code = String(error?.code ?? error?.message)
            if (session.lastFailure !== code) {
              session.lastFailure = code
              this.emit('error', error)
            }
            next()
          },
        )
      }, delayMs),
    )
  }

  private onFrame(session: Session, frame: CapturedFrame): void {
    if (this.session !== session || frame.outgoing) return
    this.counters.framesInspected++
    const found = conflictEvidence(frame, { ownMacs: this.ownMacs, vips: this.vipSet, probing: this.probing })
    if (!found) return
    this.counters.evidenceFrames++
    const at = frame.arrivedAt ?? frame.at
    session.round?.answers.get(found.vip)?.add(found.mac)
    const key = `${found.vip} ${found.mac}`
    const known = this.current.get(key)
    if (known) {
      known.lastSeen = Math.max(known.lastSeen, at)
      known.evidence = found.evidence
    } else {
      const conflict: Conflict = { vip: found.vip, mac: found.mac, since: at, lastSeen: at, evidence: found.evidence }
      this.current.set(key, conflict)
      this.emit('conflict', { vip: conflict.vip, mac: conflict.mac, since: conflict.since, evidence: conflict.evidence })
    }
    this.scheduleSweep(session)
  }

  // Clears conflicts that have been quiet long enough; with active probing
  // only once a round that started after the last evidence has completed
  // (silence while probes fail, e.g. with the link down, proves nothing).
  private sweep(session: Session): void {
    if (this.session !== session) return
    const now = monotonicNow()
    const { clearAfterMs, probeIntervalMs } = this.options
    for (const [key, conflict] of this.current) {
      const quietMs = now - conflict.lastSeen
      if (quietMs < clearAfterMs) continue
      if (probeIntervalMs > 0 && !((session.quietRoundAt.get(conflict.vip) ?? -Infinity) > conflict.lastSeen)) continue
      this.current.delete(key)
      this.emit('cleared', { vip: conflict.vip, mac: conflict.mac, quietMs })
      if (this.session !== session) return // a listener stopped us
    }
    this.scheduleSweep(session)
  }

  private scheduleSweep(session: Session): void {
    if (this.session !== session) return
    // The next instant a conflict's quiet time is up. Conflicts already past
    // it are waiting for a quiet probe round, whose end calls sweep().
    const now = monotonicNow()
    let due = Infinity
    for (const conflict of this.current.values()) {
      const at = conflict.lastSeen + this.options.clearAfterMs
      if (at > now) due = Math.min(due, at)
    }
    if (due === Infinity) {
      clearTimeout(session.sweep)
      session.sweep = undefined
      session.sweepAt = undefined
      return
    }
    if (session.sweep !== undefined && session.sweepAt !== undefined && session.sweepAt <= due) return
    clearTimeout(session.sweep)
    session.sweepAt = due
    session.sweep = unref(
      setTimeout(() => {
        session.sweep = undefined
        session.sweepAt = undefined
        this.sweep(session)
      }, due - now + 1),
    )
  }
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref()
  return timer
}
