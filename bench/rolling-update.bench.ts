// Rolling update (issue 9, part B): SIGTERM of the leader, as the kubelet
// sends it when a rolling update replaces the pod, until the worker's
// neighbour entry for the VIP has the new leader's MAC. vip-announcer with
// FileLockElector, EtcdElector (a real etcd) and KubernetesLeaseElector (the
// stand-in API server, in a process of its own, with watch semantics) at
// their defaults, and a keepalived pair (VRRP defaults: its SIGTERM sends a
// priority-0 advertisement), side by side in one run, one round of each in
// turn, in four labs that live for the whole run.
//
// Per round, from the SIGTERM, on this process's CLOCK_MONOTONIC:
// - the worker's neighbour entry has the new MAC (its kernel's RTM_NEWNEIGH,
//   stamped when read: an upper bound);
// - the old leader's VIP gone and the new leader's VIP present (RTM_DELADDR /
//   RTM_NEWADDR in each namespace); the no-holder gap is the time between;
// - vip-announcer only, the product's own events: the old leader's
//   `follower.removalMs`, the successor's elector `elected` (its electedAt,
//   same clock) and its `leader.takeoverMs` and `leader.phases` (the values
//   registerMetrics exports as takeover_phase_seconds and removal_seconds).
// The terminated replica is started again as a follower for the next round.
//
//   node --import tsx bench/rolling-update.bench.ts [--rounds 10] [--only file,etcd,kube,keepalived]
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { monotonicNow } from '../src/clock'
import { mostHoldersAtOnce } from '../test/support/holders'
import { EtcdServer, etcdAvailable } from '../test/support/etcd-runner'
import { tempDir } from '../test/support/temp'
import { sleep, waitFor } from '../test/support/wait'
import { hasKeepalived, keepalivedConfigFile } from './failover.bench'
import { LeaseApiProcess, ReplicaPair, watchNeighbour } from './pair'
import { fmt, progress, summary } from './stats'

const HELP = `Usage: node --import tsx bench/rolling-update.bench.ts [options]   (as root)

SIGTERM of the leader -> the worker's neighbour entry on the new MAC, the
no-holder gap and the product's phases, for FileLockElector, EtcdElector,
KubernetesLeaseElector (stand-in API) and keepalived, rounds interleaved.

  --rounds N     rounds per contender (default 10)
  --only LIST    comma-separated subset of: file,etcd,kube,keepalived
  --help         this text
Progress on stderr, the table on stdout.`

interface Round {
  neighMs: number
  goneMs: number
  addedMs: number
  /** vip-announcer only: from the product's events */
  removalMs?: number
  /** the old leader's announcer.stop() resolved: VIP removed, elector stopped (leadership released), guard closed */
  stoppedMs?: number
  electedMs?: number
  takeoverMs?: number
  armMs?: number
  footprintMs?: number
  firstFrameMs?: number
  takenBy?: string
}

interface Contender {
  name: string
  key: string
  targetMs?: number
  setup(): Promise<void>
  round(): Promise<Round>
  mostHolders(): number
  close(): Promise<void>
}

const jitter = () => sleep(200 + Math.random() * 1000) // samples the phase of renewals and adverts

function announcer(key: string, name: string, targetMs: number, args: () => string[], env: () => NodeJS.ProcessEnv = () => ({})): Contender {
  let pair: ReplicaPair
  return {
    name,
    key,
    targetMs,
    async setup() {
      pair = new ReplicaPair(args(), env())
      for (const host of pair.replicas) await pair.start(host)
      await pair.leader()
    },
    async round() {
      const leader = await pair.leader()
      const next = pair.other(leader)
      const old = pair.procs.get(leader)!
      const successor = pair.procs.get(next)!
      const seenOld = old.events.length
      const seenNext = successor.events.length
      const neighbour = await watchNeighbour(pair, leader.mac('eth0'), next.mac('eth0'), 20_000)
      let killed = false
      try {
        await jitter()
        const t0 = monotonicNow()
        old.kill('SIGTERM')
        killed = true
        const neighAt = await neighbour.changed
        const gone = await pair.addressAfter(leader, 'delete', t0, 5000)
        const added = await pair.addressAfter(next, 'add', t0, 5000)
        const took = await successor.waitFor('leader', 5000, () => true, seenNext)
        const elected = await successor.waitFor('elected', 5000, () => true, seenNext)
        const stepped = await old.waitFor('follower', 5000, () => true, seenOld)
        const stopped = await old.waitFor('stopped', 5000, () => true, seenOld)
        await old.exited()
        const phases = took.phases as { armMs: number; footprintMs: number; firstFrameMs: number }
        return {
          neighMs: neighAt - t0,
          goneMs: gone.at - t0,
          addedMs: added.at - t0,
          removalMs: stepped.removalMs as number,
          stoppedMs: stopped.at - t0,
          electedMs: (elected.electedAt as number) - t0,
          takeoverMs: took.takeoverMs as number,
          ...phases,
          takenBy: took.takenBy as string,
        }
      } finally {
        await neighbour.close()
        if (killed) {
          await old.exited()
          await pair.start(leader) // the replacement pod: back as a follower
        }
      }
    },
    mostHolders: () => mostHoldersAtOnce(pair.addressEvents),
    close: async () => pair?.close(),
  }
}

function keepalived(): Contender {
  let pair: ReplicaPair
  const dir = tempDir('vip-keepalived-')
  const procs = new Map<string, ChildProcess>()
  const start = (index: number) => {
    const host = pair.replicas[index]
    const conf = keepalivedConfigFile(dir, host.name, 100 - index * 10)
    const child = spawn('ip', ['netns', 'exec', host.name, 'keepalived', '--dont-fork', '--log-console', '--vrrp', '-f', conf,
      '-p', path.join(dir, `${host.name}.pid`), '-r', path.join(dir, `${host.name}.vrrp.pid`)], { stdio: 'ignore' })
    procs.set(host.name, child)
  }
  const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)))
  return {
    name: 'keepalived, VRRP defaults (priority-0 advert)',
    key: 'keepalived',
    async setup() {
      pair = new ReplicaPair([])
      start(0)
      start(1)
      await pair.leader(15_000)
      await sleep(1500) // both exchanging adverts
    },
    async round() {
      const leader = await pair.leader(15_000)
      const next = pair.other(leader)
      const child = procs.get(leader.name)!
      const neighbour = await watchNeighbour(pair, leader.mac('eth0'), next.mac('eth0'), 20_000)
      let killed = false
      try {
        await jitter()
        const t0 = monotonicNow()
        child.kill('SIGTERM') // ip netns exec execs: this is keepalived's parent, which stops its VRRP child
        killed = true
        const neighAt = await neighbour.changed
        const gone = await pair.addressAfter(leader, 'delete', t0, 5000)
        const added = await pair.addressAfter(next, 'add', t0, 5000)
        return { neighMs: neighAt - t0, goneMs: gone.at - t0, addedMs: added.at - t0 }
      } finally {
        await neighbour.close()
        if (killed) {
          await exited(child)
          start(pair.replicas.indexOf(leader)) // back as BACKUP; nopreempt keeps it there
          await sleep(1500)
        }
      }
    },
    mostHolders: () => mostHoldersAtOnce(pair.addressEvents),
    async close() {
      for (const child of procs.values()) child.kill('SIGKILL')
      await Promise.all([...procs.values()].map(exited))
      await pair?.close()
    },
  }
}

export async function rollingUpdateBench(rounds: number, only?: Set<string>) {
  let etcd: EtcdServer | undefined
  let api: LeaseApiProcess | undefined
  const lock = path.join(tempDir('vip-bench-lock-'), 'vip.lock')
  const all: Contender[] = [
    announcer('file', 'vip-announcer, FileLockElector (lease 4 s)', 10, () => ['--lock', lock]),
    announcer('etcd', 'vip-announcer, EtcdElector (TTL 10 s, real etcd)', 50, () => ['--etcd', etcd!.clientUrl, '--ttl', '10']),
    announcer('kube', 'vip-announcer, KubernetesLeaseElector (stand-in, 15/10/2 s)', 100, () => ['--kube', 'vcluster-a/vcluster-a-vip', '--kube-timing', '15/10/2'], () => ({ KUBECONFIG: api!.kubeconfig })),
    keepalived(),
  ]
  const chosen = all.filter((c) => {
    if (only && !only.has(c.key)) return false
    if (c.key === 'etcd' && !etcdAvailable()) return console.error('no etcd binary: EtcdElector left out'), false
    if (c.key === 'keepalived' && !hasKeepalived()) return console.error('no keepalived: left out'), false
    return true
  })
  const results = new Map<Contender, Round[]>(chosen.map((c) => [c, []]))
  const holders = new Map<Contender, number>()
  try {
    if (chosen.some((c) => c.key === 'etcd')) etcd = await EtcdServer.start()
    if (chosen.some((c) => c.key === 'kube')) api = await LeaseApiProcess.start()
    for (const c of chosen) await c.setup()
    for (let i = 0; i < rounds; i++) {
      // Rotate the order so no contender always follows the same one.
      for (let j = 0; j < chosen.length; j++) {
        const c = chosen[(i + j) % chosen.length]
        const r = await c.round()
        results.get(c)!.push(r)
        process.stderr.write(`  ${c.key} #${i + 1}: neigh ${fmt(r.neighMs)}, gap ${fmt(r.addedMs - r.goneMs)}${r.electedMs !== undefined ? `, elected +${fmt(r.electedMs)}, takeover ${fmt(r.takeoverMs!)}, removal ${fmt(r.removalMs!)}` : ''}\n`)
      }
      progress('rolling update', i + 1, rounds)
    }
    for (const c of chosen) holders.set(c, c.mostHolders())
  } finally {
    for (const c of chosen) await c.close().catch((error) => console.error(error))
    await etcd?.stop()
    await api?.stop()
  }
  return chosen.map((c) => ({ name: c.name, key: c.key, targetMs: c.targetMs, rounds: results.get(c)!, mostHolders: holders.get(c) ?? NaN }))
}

export function formatRollingUpdate(rows: Awaited<ReturnType<typeof rollingUpdateBench>>): string {
  const s = (rounds: Round[], pick: (r: Round) => number | undefined) => summary(rounds.map(pick).filter((v): v is number => v !== undefined))
  const mp = (x: ReturnType<typeof summary>) => (x.n ? `${fmt(x.median)} / ${fmt(x.p90)}` : '—')
  const ka = rows.find((r) => r.key === 'keepalived')
  const kaNeigh = ka ? s(ka.rounds, (r) => r.neighMs).median : NaN
  const lines = [
    '| peer | N | SIGTERM → worker entry on new MAC, median / p90 | target | keepalived ÷ this | old VIP gone, median | new VIP present, median | no-holder gap, median / p90 | most holders at once |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of rows) {
    const neigh = s(row.rounds, (r) => r.neighMs)
    lines.push(`| ${row.name} | ${neigh.n} | ${mp(neigh)} | ${row.targetMs ? `< ${row.targetMs} ms` : ''} | ${ka && row !== ka ? `${(kaNeigh / neigh.median).toFixed(0)}x` : ''} | ${fmt(s(row.rounds, (r) => r.goneMs).median)} | ${fmt(s(row.rounds, (r) => r.addedMs).median)} | ${mp(s(row.rounds, (r) => r.addedMs - r.goneMs))} | ${row.mostHolders} |`)
  }
  lines.push('', "vip-announcer's own events (median / p90): old leader's follower.removalMs; the old leader's announcer.stop() resolving (the fixture's 'stopped'); successor's elector 'elected' after the SIGTERM; its leader.takeoverMs and leader.phases", '',
    '| peer | removalMs | SIGTERM → stop() resolved (elector stopped, guard closed) | SIGTERM → elected | takeoverMs | phases.armMs | phases.footprintMs | phases.firstFrameMs | takenBy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const row of rows.filter((r) => r !== ka)) {
    const by = [...new Set(row.rounds.map((r) => r.takenBy))].map((t) => `${t} ${row.rounds.filter((r) => r.takenBy === t).length}`).join(', ')
    lines.push(`| ${row.name} | ${mp(s(row.rounds, (r) => r.removalMs))} | ${mp(s(row.rounds, (r) => r.stoppedMs))} | ${mp(s(row.rounds, (r) => r.electedMs))} | ${mp(s(row.rounds, (r) => r.takeoverMs))} | ${mp(s(row.rounds, (r) => r.armMs))} | ${mp(s(row.rounds, (r) => r.footprintMs))} | ${mp(s(row.rounds, (r) => r.firstFrameMs))} | ${by} |`)
  }
  return lines.join('\n')
}

export function rollingUpdateArgs(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '10' }, only: { type: 'string' }, help: { type: 'boolean', default: false } } })
  const rounds = Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, got ${values.rounds}`)
  return { help: values.help, rounds, only: values.only ? new Set(values.only.split(',')) : undefined }
}

if (require.main === module) {
  const options = rollingUpdateArgs(process.argv.slice(2))
  if (options.help) {
    console.log(HELP)
  } else {
    rollingUpdateBench(options.rounds, options.only).then((rows) => {
      console.log(`# rolling update: SIGTERM of the leader, ${options.rounds} rounds each, interleaved; ${new Date().toISOString()}`)
      console.log(formatRollingUpdate(rows))
    }, (error) => {
      console.error(error)
      process.exit(1)
    })
  }
}
