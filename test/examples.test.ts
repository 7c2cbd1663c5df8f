// The examples in examples/ run and do what their comments say. Each runs as
// its own process, the way a user would start it (`node --import tsx
// examples/NAME.ts`), inside or against network namespaces made by the lab;
// the kernel (`ip addr`, `ip rule`, `ip route show table`, a worker's
// neighbour table, TCP through the VIP) and the fake Lease API are the witnesses.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import t, { type Test } from 'tap'
import { parse as parseYaml } from 'yaml'
import { StaticElector, VipAnnouncer } from '../src'
import { loadVclusterConfig } from '../src/config'
import { assertConformance } from '../src/testing'
import { checkTcpLockElector } from '../examples/custom-elector'
import { announcerOptions } from '../examples/vcluster-multus/from-config'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'
import { VIP, routedReplicas, switchedReplicas, tcpProbe } from './lab/topologies'
import { FakeLeaseApi } from './support/fake-lease-api'
import { collectUnhandledRejections } from './support/unhandled'
import { waitFor } from './support/wait'

const unhandled = collectUnhandledRejections()
const nsOptions = namespaceTestOptions()
const root = path.join(__dirname, '..')
const examples = path.join(root, 'examples')
const WRONG_MAC = '02:00:00:00:00:99'

/** An example running as a child process, its output collected line by line. */
class ExampleProcess {
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => this.lines.push(line))
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }

  /** The first line matching `pattern`, waiting up to `timeoutMs`. */
  async line(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    try {
      return await waitFor(`a line matching ${pattern}`, () => this.lines.find((l) => pattern.test(l)) ?? (this.child.exitCode !== null ? 'EXITED' : undefined), timeoutMs, 20)
        .then((line) => {
          if (line === 'EXITED') throw new Error(`the example exited (${this.child.exitCode}) before printing ${pattern}`)
          return line
        })
    } catch (error) {
      throw new Error(`${(error as Error).message}\noutput:\n${this.lines.join('\n')}`)
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
  }
}

/**
 * Starts `node --import tsx examples/FILE ...args`, inside namespace `host` if
 * given (`ip netns exec` execs node, so signals reach it directly). Killed in
 * teardown if still running.
 */
function runExample(t: Test, file: string, args: string[], options: { host?: LabHost; env?: NodeJS.ProcessEnv } = {}): ExampleProcess {
  const node = [process.execPath, '--import', 'tsx', path.join(examples, file), ...args]
  const [command, ...rest] = options.host ? ['ip', 'netns', 'exec', options.host.name, ...node] : node
  const child = spawn(command!, rest, { cwd: root, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  const example = new ExampleProcess(child)
  t.teardown(async () => {
    example.kill('SIGKILL')
    await example.exited
    // On a failure, what the example said is the first thing to read.
    if (!t.passing()) t.comment(`${file} output:\n${example.lines.join('\n')}`)
  })
  return example
}

function hasRule(host: LabHost, vip: string, table: number): boolean {
  return (host.ipJson('rule', 'show') as Array<{ src?: string; table?: string }>).some((r) => r.src === vip && r.table === String(table))
}

t.test('every example typechecks (strict, as in tsconfig.json)', async (t) => {
  // Only examples/ (and what they import), so a failure here names an example.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-examples-tsc-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const config = path.join(dir, 'tsconfig.json')
  fs.writeFileSync(config, JSON.stringify({ extends: path.join(root, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: root, typeRoots: [path.join(root, 'node_modules/@types')] }, include: [path.join(examples, '**/*.ts')] }))
  const files = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config, '--listFilesOnly'], { encoding: 'utf8' })
  const listed = files.stdout.split('\n').filter((f) => f.startsWith(examples)).map((f) => path.relative(examples, f)).sort()
  const onDisk = (fs.readdirSync(examples, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort()
  t.ok(onDisk.length >= 5, `${onDisk.length} examples: ${onDisk.join(', ')}`)
  t.same(listed, onDisk, 'every .ts file under examples/ is compiled')
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { encoding: 'utf8' })
  t.equal(result.status, 0, result.status === 0 ? 'tsc passes' : `tsc: ${result.stdout}${result.stderr}`)
})

t.test("typedoc.json documents exactly the package's entry points", async (t) => {
  type Condition = { types?: string }
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { require?: Condition }> }
  // dist/x/index.d.ts (the require condition's types; the import condition's
  // .d.mts re-exports it) is compiled from src/x/index.ts (tsconfig.build.json:
  // rootDir src, outDir dist).
  const fromExports = Object.values(pkg.exports)
    .map((entry) => (typeof entry === 'string' ? undefined : entry.require?.types))
    .filter((types): types is string => types !== undefined)
    .map((types) => types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts'))
    .sort()
  const typedoc = JSON.parse(fs.readFileSync(path.join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[]; out: string }
  t.same([...typedoc.entryPoints].sort(), fromExports, 'one module per entry point')
  for (const entry of typedoc.entryPoints) t.ok(fs.existsSync(path.join(root, entry)), `${entry} exists`)
  t.equal(typedoc.out, 'docs/api', 'written to docs/api')
})

t.test('vcluster-multus: the reference page example, with documentation addresses', async (t) => {
  const dir = path.join(examples, 'vcluster-multus')
  const config = await loadVclusterConfig(path.join(dir, 'vcluster.yaml'))
  t.same(config, {
    enabled: true,
    vip: '192.0.2.100',
    port: 8443,
    family: 4,
    interface: 'net1',
    gateway: { address: '192.0.2.1', prefixLength: 24, network: '192.0.2.0/24' },
    privateNodes: true,
  }, 'loadVclusterConfig: VIP, port, net1 and the gateway')
  // The same document as the reference page's (test/fixtures holds it verbatim) but for the addresses.
  const fixture = fs.readFileSync(path.join(root, 'test/fixtures/config/kube-vip-multus.yaml'), 'utf8')
  const translated = fixture.replace('10.100.0.100:8443', '192.0.2.100:8443').replace('10.100.0.1/24', '192.0.2.1/24')
  t.same(parseYaml(fs.readFileSync(path.join(dir, 'vcluster.yaml'), 'utf8')), parseYaml(translated), 'vcluster.yaml = the page example with 192.0.2.x')
  t.same(
    parseYaml(fs.readFileSync(path.join(dir, 'network-attachment-definition.yaml'), 'utf8')),
    parseYaml(fs.readFileSync(path.join(root, 'test/fixtures/config/network-attachment-definition.yaml'), 'utf8')),
    'the NetworkAttachmentDefinition is the page one',
  )
  const rbac = fs.readFileSync(path.join(dir, 'rbac.yaml'), 'utf8')
  t.match(rbac, /resources: \["leases"\]\s+verbs: \["get", "create", "update"\]/, 'rbac.yaml grants what the Lease elector calls')

  if (!config.enabled) throw new Error('unreachable')
  const options = announcerOptions(config, new StaticElector())
  t.same({ vip: options.vip, interface: options.interface, gateway: options.gateway }, { vip: '192.0.2.100', interface: 'net1', gateway: '192.0.2.1/24' }, 'announcerOptions()')
  // The constructor validates everything without touching the host.
  const announcer = new VipAnnouncer(options)
  t.same([announcer.vips, announcer.interfaceName, announcer.state], [['192.0.2.100'], 'net1', 'stopped'], 'VipAnnouncer accepts them')
})

t.test('single-replica.ts: usage and option errors exit non-zero, naming the problem', async (t) => {
  const env = { ...process.env, VIP: '', VIP_INTERFACE: '' }
  const missing = runExample(t, 'single-replica.ts', [], { env })
  t.equal((await missing.exited).code, 2, 'no VIP: usage error')
  t.match(missing.lines.join('\n'), /a VIP and an interface are required\nusage: single-replica\.ts/, 'says what is missing, then the usage')
  const bad = runExample(t, 'single-replica.ts', ['--vip', '10.1', '--interface', 'eth0'], { env })
  t.equal((await bad.exited).code, 1, 'a bad VIP: exit 1')
  t.match(bad.lines.join('\n'), /cannot run: vip: "10\.1" is not an IPv4 or IPv6 address/, 'the field and value are named')
})

t.test('single-replica.ts in a namespace: VIP up and announced, gone after SIGTERM', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1], worker } = switchedReplicas(lab, 1)
  // Only a gratuitous ARP can correct this entry.
  worker.ip('neigh', 'replace', VIP, 'lladdr', WRONG_MAC, 'dev', 'eth0', 'nud', 'stale')

  const example = runExample(t, 'single-replica.ts', ['--vip', VIP, '--interface', 'eth0', '--gateway', '192.0.2.1/24'], { host: cp1 })
  t.match(await example.line(/^leader:/), `leader: ${VIP} on eth0`, 'logs the takeover')
  await example.line(/^started:/)
  t.ok(cp1!.addresses('eth0').includes(`${VIP}/32`), 'ip addr: the VIP is on eth0')
  t.ok(hasRule(cp1!, VIP, 30100), `ip rule: from ${VIP} lookup 30100`)
  t.ok(cp1!.tableRoutes(30100).some((r) => r.dst === 'default' && r.gateway === '192.0.2.1'), 'table 30100: default via the gateway')
  await waitFor('the worker learns the VIP at cp1', () => worker.neighbourMac(VIP) === cp1!.mac('eth0'), 3000)
  t.pass('the worker neighbour entry moved to cp1 (gratuitous ARP)')

  example.kill('SIGTERM')
  const exit = await example.exited
  t.same(exit, { code: 0, signal: null }, 'exits 0 by itself after SIGTERM (no handle left open)')
  t.ok(example.lines.includes('stopped: VIP removed'), 'says so')
  t.notOk(cp1!.addresses('eth0').includes(`${VIP}/32`), 'ip addr: the VIP is gone')
  t.notOk(hasRule(cp1!, VIP, 30100), 'ip rule: gone')
  t.same(cp1!.tableRoutes(30100), [], 'table 30100: empty')
  t.same(cp1!.addresses('eth0'), ['192.0.2.11/24', '2001:db8::11/64'], "the host's own addresses are untouched")
})

t.test('custom-logger.ts: the announcer logs JSON lines through a custom logger', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas: [cp1] } = switchedReplicas(lab, 1)
  const example = runExample(t, 'custom-logger.ts', ['--vip', VIP, '--interface', 'eth0', '--netns', cp1!.path])
  await example.line(/"msg":"leader: VIP configured and announced"/)
  t.ok(cp1!.addresses('eth0').includes(`${VIP}/32`), 'the VIP is on eth0')
  example.kill('SIGTERM')
  t.same(await example.exited, { code: 0, signal: null }, 'clean exit after SIGTERM')
  const records = example.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  t.ok(records.every((r) => typeof r.time === 'string' && ['info', 'warn', 'error'].includes(r.level as string) && typeof r.pid === 'number'), 'every line is a record at info or above')
  t.match(records.find((r) => r.event === 'leader'), { level: 'info', vips: [VIP], interface: 'eth0', takeoverMs: Number }, "the library's fields are in the record")
  t.same(records.slice(-3).map((r) => r.msg), ['stopping', 'follower: VIP removed', 'stopped'], 'the stop is logged in order')
  t.notOk(cp1!.addresses('eth0').includes(`${VIP}/32`), 'the VIP is gone')
})

t.test('vcluster-multus/from-config.ts: the vcluster.yaml applied in the Multus topology; TCP through the VIP', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  // cp1: eth0 on a management network whose default route does not forward,
  // net1 on the private bridge; a router owns 192.0.2.1 and reaches the worker.
  const { replicas: [cp1], worker } = routedReplicas(lab, 1)
  const server = spawn('ip', ['netns', 'exec', cp1!.name, process.execPath, '-e', "require('net').createServer((s) => s.end('control plane\\n')).listen(8443, '0.0.0.0', () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => server.kill('SIGKILL'))
  await new Promise((resolve) => server.stdout!.once('data', resolve))
  t.equal(tcpProbe(worker, VIP, 8443, 1), undefined, 'before: no control plane at 192.0.2.100:8443')

  // From the root namespace, into cp1 by path (the `netns` option).
  const example = runExample(t, 'vcluster-multus/from-config.ts', ['--elector', 'static', '--netns', cp1!.path])
  t.match(await example.line(/^leader:/), `leader: ${VIP} on net1, clients reach ${VIP}:8443`, 'logs the takeover')
  t.ok(cp1!.addresses('net1').includes(`${VIP}/32`), 'ip addr: the VIP is on net1')
  t.ok(hasRule(cp1!, VIP, 30100), 'ip rule: from the VIP lookup 30100')
  t.ok(cp1!.tableRoutes(30100).some((r) => r.dst === 'default' && r.gateway === '192.0.2.1' && r.dev === 'net1'), 'table 30100: default via 192.0.2.1 dev net1')
  t.equal(tcpProbe(worker, VIP, 8443), 'control plane', 'a worker on another subnet reaches 192.0.2.100:8443 (replies leave through net1)')

  example.kill('SIGTERM')
  t.same(await example.exited, { code: 0, signal: null }, 'clean exit after SIGTERM')
  t.notOk(cp1!.addresses('net1').includes(`${VIP}/32`), 'ip addr: VIP gone')
  t.notOk(hasRule(cp1!, VIP, 30100), 'ip rule: gone')
  t.same(cp1!.tableRoutes(30100), [], 'table 30100: empty')
})

t.test('custom-elector.ts: TcpLockElector passes the conformance kit', async (t) => {
  const report = await checkTcpLockElector({ log: (line) => t.comment(line) })
  assertConformance(t, report)
  t.ok(
    report.checks.every((c) => c.status === 'pass'),
    'no check skipped: the partition checks ran too',
  )
})

t.test('custom-elector.ts runs as a program and reports success', async (t) => {
  const example = runExample(t, 'custom-elector.ts', [])
  const exit = await example.exited
  if (exit.code !== 0) t.comment(example.lines.join('\n'))
  t.equal(exit.code, 0, 'exits 0')
  t.equal(example.lines.filter((l) => /^PASS /.test(l)).length, 11, 'eleven checks passed (restart included)')
  t.equal(example.lines.at(-1), 'TcpLockElector keeps the LeaderElector contract', 'and says so')
})

t.test('kubernetes-lease.ts: two replicas on a Lease (fake API server), metrics, failover on SIGTERM', nsOptions, async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { replicas, worker } = switchedReplicas(lab, 2)
  // Gratuitous ARP updates an entry but creates none: give the worker a wrong one to be corrected.
  worker.ip('neigh', 'replace', VIP, 'lladdr', WRONG_MAC, 'dev', 'eth0', 'nud', 'stale')
  const api = new FakeLeaseApi()
  await api.listen()
  t.teardown(() => api.close())
  // Outside a cluster the elector loads $KUBECONFIG; each replica has its own token.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-examples-kube-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = (token: string) => {
    const file = path.join(dir, `${token}.kubeconfig`)
    fs.writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        // The client refuses plain http unless TLS verification is off (there is no TLS).
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${api.port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: token, user: { token } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: token } }],
        'current-context': 'fake',
      }),
    )
    return file
  }
  const start = (host: LabHost, identity: string) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      VIP,
      VIP_INTERFACE: 'eth0',
      VIP_NETNS: host.path, // the process stays in the root namespace, next to the API server
      LEASE_NAMESPACE: 'vcluster-a',
      LEASE_NAME: 'vcluster-a-vip',
      POD_NAME: identity,
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      KUBECONFIG: kubeconfig(identity),
    }
    delete env.KUBERNETES_SERVICE_HOST
    delete env.KUBERNETES_SERVICE_PORT
    return runExample(t, 'kubernetes-lease.ts', [], { env })
  }
  const metricsUrl = async (example: ExampleProcess) => /(http:\S+\/metrics)/.exec(await example.line(/^metrics on /))![1]!
  const metric = async (url: string, name: string, labels = 'interface="eth0"') => {
    const text = await (await fetch(url)).text()
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`))
    return line === undefined ? undefined : Number(line.split(' ').at(-1))
  }

  const first = start(replicas[0]!, 'cp-1')
  t.match(await first.line(/^leader:/), `leader: ${VIP} on eth0 (lease vcluster-a/vcluster-a-vip, identity cp-1)`, 'cp1 leads')
  const second = start(replicas[1]!, 'cp-2')
  await second.line(/^campaigning /)
  const [url1, url2] = [await metricsUrl(first), await metricsUrl(second)]

  t.equal(api.lease('vcluster-a', 'vcluster-a-vip')?.spec.holderIdentity, 'cp-1', 'the Lease names cp-1')
  t.ok(replicas[0]!.addresses('eth0').includes(`${VIP}/32`), 'the VIP is on cp1')
  t.notOk(replicas[1]!.addresses('eth0').includes(`${VIP}/32`), 'not on cp2')
  await waitFor('the worker learns the VIP at cp1', () => worker.neighbourMac(VIP) === replicas[0]!.mac('eth0'), 3000)
  t.pass("the worker's neighbour entry points at cp1 (gratuitous ARP)")
  t.equal(await metric(url1, 'vip_announcer_leader'), 1, 'cp1 /metrics: vip_announcer_leader 1')
  t.equal(await metric(url2, 'vip_announcer_leader'), 0, 'cp2 /metrics: vip_announcer_leader 0')
  t.ok((await metric(url1, 'vip_announcer_announcements_total', 'interface="eth0",kind="arp-request"'))! >= 1, 'cp1 counted its ARP requests')
  const health = await fetch(url1.replace('/metrics', '/healthz'))
  t.same([health.status, await health.text()], [200, 'leader\n'], 'cp1 /healthz')
  t.match(await (await fetch(url1)).text(), /process_cpu_user_seconds_total/, "the host's own metrics share the registry")

  // SIGTERM the leader: it removes the VIP, releases the Lease, and cp2 takes over at its next poll.
  const stoppedAt = performance.now()
  first.kill('SIGTERM')
  t.same(await first.exited, { code: 0, signal: null }, 'cp1 exits cleanly')
  t.notOk(replicas[0]!.addresses('eth0').includes(`${VIP}/32`), 'the VIP is gone from cp1')
  t.match(await second.line(/^leader:/, 10_000), 'identity cp-2', 'cp2 takes over')
  // A follower polls every retry period (2 s) plus up to 20 % jitter and sees the released Lease at once.
  const takeoverMs = performance.now() - stoppedAt
  t.ok(takeoverMs < 4000, `takeover ${Math.round(takeoverMs)} ms after SIGTERM (one poll: ≤ 2.4 s, plus start-up slack)`)
  t.ok(replicas[1]!.addresses('eth0').includes(`${VIP}/32`), 'the VIP is on cp2')
  t.equal(api.lease('vcluster-a', 'vcluster-a-vip')?.spec.holderIdentity, 'cp-2', 'the Lease names cp-2')
  await waitFor('the worker follows the VIP to cp2', () => worker.neighbourMac(VIP) === replicas[1]!.mac('eth0'), 3000)
  t.pass("the worker's neighbour entry moved to cp2")
  t.equal(await metric(url2, 'vip_announcer_leader'), 1, 'cp2 /metrics: vip_announcer_leader 1')

  second.kill('SIGTERM')
  t.same(await second.exited, { code: 0, signal: null }, 'cp2 exits cleanly')
  t.notOk(replicas[1]!.addresses('eth0').includes(`${VIP}/32`), 'the VIP is gone from cp2')
  t.notOk(api.lease('vcluster-a', 'vcluster-a-vip')?.spec.holderIdentity, 'the Lease was released')
})

t.test('no unhandled rejections', async (t) => {
  t.same(unhandled, [], 'none in this process')
})
