// The `run` and `lab` commands through their real entry point, as a user
// runs them. The kernel is the witness for `run`; for `lab`, its printed table
// and the namespaces it must leave behind: none.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { Lab, namespaceTestOptions } from './lab/lab'
import { VIP, routedReplicas } from './lab/topologies'
import { waitFor } from './support/wait'
import { tempDir } from './support/temp'

const main = path.join(__dirname, '..', 'src', 'cli', 'main.ts')
const nsOptions = namespaceTestOptions()

function writeConfig(iface: string, gateway: string): string {
  const file = path.join(tempDir('vip-run-'), 'vcluster.yaml')
  writeFileSync(file, `privateNodes:\n  enabled: true\ncontrolPlane:\n  endpoint: ${VIP}:8443\n  advanced:\n    kubeVip:\n      enabled: true\n      interface: ${iface}\n      gateway: ${gateway}\n`)
  return file
}

function namespacesWithPrefix(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith(prefix))
}

for (const mode of ['inside the namespace', 'with --netns'] as const) {
  t.test(`run ${mode}: the VIP comes up; SIGTERM leaves the namespace clean`, nsOptions, async (t) => {
    const lab = new Lab()
    t.teardown(() => lab.destroy())
    const { replicas: [cp1] } = routedReplicas(lab, 1)
    const config = writeConfig('net1', '192.0.2.1/24')
    const args = ['--import', 'tsx', main, 'run', '--config', config, '--elector', 'static', '--json']
    const child = mode === 'with --netns'
      ? spawn(process.execPath, [...args, '--netns', cp1.path], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('ip', ['netns', 'exec', cp1.name, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => child.kill('SIGKILL'))
    const records: Array<{ event?: string; msg: string }> = []
    createInterface({ input: child.stdout! }).on('line', (line) => records.push(JSON.parse(line)))
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    await waitFor('leader line', () => records.some((r) => r.event === 'leader'), 15000)
    t.ok(cp1.addresses('net1').includes(`${VIP}/32`), 'VIP on net1')
    t.ok((cp1.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP), 'policy rule installed')
    t.equal(cp1.tableRoutes(30100).length, 2, 'two routes in the VIP table')
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    t.equal(await exited, 0, `exit 0 ${stderr}`)
    t.ok(records.some((r) => r.event === 'follower'), 'logged the step down')
    t.notOk(cp1.addresses('net1').includes(`${VIP}/32`), 'VIP removed')
    t.notOk((cp1.ipJson('rule', 'show') as Array<{ src?: string }>).some((r) => r.src === VIP), 'rule removed')
    t.same(cp1.tableRoutes(30100), [], 'table empty')
    t.ok(records.every((r) => typeof r.msg === 'string'), 'one JSON object per line')
  })
}

t.test('lab completes, prints the table and leaves no namespace behind', nsOptions, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'lab'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  const prefix = `va${child.pid!.toString(36)}`
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  t.equal(code, 0, out)
  t.match(out, /\[1\/6\] building the topology/, 'progress lines')
  t.match(out, /Timeline \(ms from SIGKILL/)
  const leaders = /leader +\| (cp\d) +\| (cp\d)/.exec(out)
  t.ok(leaders && leaders[1] !== leaders[2], 'a different replica leads after the failover')
  t.match(out, new RegExp(`TCP wk1 -> VIP:8443 \\(same L2\\) +\\| ${leaders?.[1]} +\\| ${leaders?.[2]}`), 'TCP through the VIP reaches the leader, before and after')
  t.match(out, new RegExp(`TCP wk2 -> VIP:8443 \\(via gateway\\) +\\| ${leaders?.[1]} +\\| ${leaders?.[2]}`), 'and through the gateway')
  t.match(out, /takeover \(SIGKILL -> first gratuitous ARP at wk1\): [\d.]+ ms/)
  t.match(out, /VIP left on the killed replica: no/)
  t.same(namespacesWithPrefix(prefix), [], 'no namespace left')
})

t.test('lab interrupted with SIGINT half-way cleans up', nsOptions, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'lab'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  const prefix = `va${child.pid!.toString(36)}`
  let out = ''
  child.stderr!.on('data', (d) => (out += d))
  child.stdout!.on('data', (d) => (out += d))
  await waitFor('the replicas starting', () => out.includes('[2/6]'), 20000)
  await waitFor('namespaces created', () => namespacesWithPrefix(prefix).length > 0, 5000)
  child.kill('SIGINT')
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  t.equal(code, 130, `exit 130 after SIGINT: ${out}`)
  t.match(out, /SIGINT: cleaning up/)
  t.same(namespacesWithPrefix(prefix), [], 'no namespace left')
  const leftovers = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((a) => a.includes('/vip-lab-') && a.includes(' run '))
  t.same(leftovers, [], 'no replica process left')
})
