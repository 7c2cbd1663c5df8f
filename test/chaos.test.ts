// A short, fixed-seed chaos run (test/chaos/, docs/reliability.md): both
// electors, a handful of random faults on the leader of three replica
// processes, every invariant judged on kernel evidence: the VIP never on two
// namespaces in the kernel's order of changes, no ARP request answered by two
// MACs in the worker's capture, the VIP served again within each fault's
// bound, nothing left behind. The samplers' positive control (a deliberate
// 300 ms split brain) must be caught, so a pass is not for want of evidence.
import t from 'tap'
import { namespaceTestOptions } from './lab/lab'
import { cgroupTestOptions } from './support/cgroup'
import { etcdTestOptions } from './support/etcd-runner'
import { findOutages, findOverlaps, type Probe } from './chaos/invariants'
import { buildReport, formatReport } from './chaos/report'
import { runSuite } from './chaos/suite'

const SEED = 20240611

t.test('judgement: outages need failed probes, overlaps follow the kernel order', async (t) => {
  const served = (s: number): Probe => ({ s, e: s + 1, ok: true, n: 'a' })
  const failed = (s: number): Probe => ({ s, e: s + 500, ok: false, err: 'timeout' })
  // Served every 50 ms, then nothing for 1 s with failures, then served again.
  const probes = [0, 50, 100].map(served).concat([150, 200, 250].map(failed), [1100, 1150].map(served))
  const outages = findOutages(probes, 0, 2000)
  t.equal(outages.length, 1, 'one outage')
  t.equal(Math.round(outages[0].ms), 1000, 'from the last served reply to the next')
  // A gap with no failed attempt is the prober stalled, not evidence of an outage.
  t.same(findOutages([0, 50, 900, 950].map(served), 0, 2000), [], 'a stall is not an outage')
  t.equal(findOutages([0, 50].map(served).concat([100, 150].map(failed)), 0, 2000)[0]?.open, true, 'an outage still open at the end is reported')
  const change = (host: number, action: 'add' | 'delete') => ({ host, action, address: '192.0.2.100', prefixLength: 32 })
  t.same(findOverlaps([change(0, 'add'), change(0, 'add'), change(0, 'delete'), change(1, 'add')], 2), [], 'a refresh and a handover are no overlap')
  t.equal(findOverlaps([change(0, 'add'), change(1, 'add'), change(0, 'delete')], 2).length, 1, 'an add while another holds is')
})

t.test(`chaos: seed ${SEED}, file lock and etcd`, { ...namespaceTestOptions(), ...cgroupTestOptions(), ...etcdTestOptions(), timeout: 170_000 }, async (t) => {
  const lines: string[] = []
  const fileLock = await runSuite({ seed: SEED, electors: ['file-lock'], rounds: 5, log: (l) => lines.push(l) })
  const etcd = await runSuite({ seed: SEED, electors: ['etcd'], rounds: 4, log: (l) => lines.push(l) })
  t.comment(lines.join('\n'))
  for (const result of [fileLock, etcd]) {
    const report = buildReport(result)
    t.comment(formatReport(report, result))
    const control = result.control
    t.ok(control && control.overlaps.length === 1 && control.doubleArp > 0,
      `positive control caught: ${control?.overlaps.length} overlap, ${control?.doubleArp}/${control?.arpRequests} ARP requests answered by two MACs`)
    const run = result.runs[0]
    t.same(run.errors, [], `${run.elector}: the run completed`)
    t.equal(run.rounds.length, run.elector === 'etcd' ? 4 : 5, `${run.elector}: every round ran`)
    for (const r of run.rounds) {
      const what = `${r.elector} round ${r.round} (${r.fault}: ${r.detail})`
      t.same(r.overlaps, [], `${what}: never on two namespaces (kernel order)`)
      t.same(r.doubleArp, [], `${what}: one MAC per ARP request (${r.arpRequests} requests)`)
      t.ok(r.unavailableMs <= r.boundMs, `${what}: unavailable ${r.unavailableMs} ms ≤ ${r.boundMs} ms`)
      t.same(r.leaks, [], `${what}: no VIP, rule or table route on a non-leader`)
      t.same(r.failures, [], `${what}: no failure`)
    }
    t.same(run.finalLeaks, [], `${run.elector}: nothing left after teardown (namespaces, processes, cgroups, fds)`)
    t.same(run.samplerErrors, [], `${run.elector}: the samplers reported no error`)
  }
})
