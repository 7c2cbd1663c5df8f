// Command-line parsing and dispatch: in-process through main() with injected
// run/lab commands, and through the real entry points as child processes.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { main, version } from '../src/cli/main'
import { createCheckCommand } from '../src/cli/check/command'
import type { CommandIo } from '../src/cli/command'
import { createLabCommand, type Demonstrate } from '../src/cli/lab'
import { createRunCommand, type Announce } from '../src/cli/run'
import { accepts } from './support/accepts'
import { EtcdElector } from '../src/electors/etcd'
import { KubernetesLeaseElector } from '../src/electors/kubernetes'
import { parseElector, type LabCommandOptions, type RunCommandOptions } from '../src/cli/options'
import { UsageError } from '../src/cli/flags'

const root = path.join(__dirname, '..')
const fixture = (name: string) => path.join(__dirname, 'fixtures', 'config', name)

// The commands in-process: outputs are strings, run and lab are fakes that
// record what they were handed.
function capture(fakes: { runCommand?: Announce; labCommand?: Demonstrate } = {}) {
  const out = { stdout: '', stderr: '' }
  const io: CommandIo = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    signal: new AbortController().signal,
  }
  const commands = [createRunCommand(fakes.runCommand), createCheckCommand(), createLabCommand(fakes.labCommand)]
  return { out, run: (...argv: string[]) => main(argv, io, commands) }
}

t.test('help and version', async (t) => {
  const { out, run } = capture()
  t.equal(await run('--help'), 0)
  t.match(out.stdout, /^Usage: vip-announcer <command> \[options\]/)
  out.stdout = ''
  t.equal(await run('run', '--help'), 0)
  t.match(out.stdout, /--conflict-policy yield\|defend\n[^]*RFC 5227[^]*--probe-interval-ms N\n[^]*default 500/)
  for (const command of ['run', 'check', 'lab']) {
    out.stdout = ''
    t.equal(await run(command, '--help'), 0)
    t.match(out.stdout, new RegExp(`^Usage: vip-announcer ${command}`))
    out.stdout = ''
    t.equal(await run('help', command), 0)
    t.match(out.stdout, new RegExp(`^Usage: vip-announcer ${command}`))
  }
  // --help wins over other (even invalid) flags.
  out.stdout = ''
  t.equal(await run('check', '--bogus', '-h'), 0)
  t.match(out.stdout, /^Usage: vip-announcer check/)
  out.stdout = ''
  t.equal(await run('--version'), 0)
  t.equal(out.stdout, `${version()}\n`)
  t.match(version(), /^\d+\.\d+\.\d+/)
})

t.test('usage errors exit 2 with a message and a pointer to help', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /missing command/],
    [['deploy'], /unknown command 'deploy'/],
    [['chek'], /unknown command 'chek' \(did you mean 'check'\?\)/],
    [['--verbose'], /unknown option '--verbose' \(options go after the command\)/],
    [['help', 'nope'], /no help for unknown command 'nope'/],
    [['check'], /'check' needs --config PATH/],
    [['check', '--confg', 'x.yaml'], /unknown option '--confg' for 'check' \(did you mean '--config'\?\)/],
    [['check', '--config'], /option '--config' needs a value/],
    [['check', '--config', '--json'], /option '--config' needs a value/],
    [['check', '--config', 'a', '--config', 'b'], /option '--config' given more than once/],
    [['check', '--config', 'a', '--json=yes'], /option '--json' takes no value/],
    [['check', '--config', 'a', 'extra'], /unexpected argument "extra" for 'check'/],
    [['lab', '--keep', '--kep'], /unknown option '--kep' for 'lab' \(did you mean '--keep'\?\)/],
    [['run', '--config', 'a', '--elector', 'zookeeper'], /--elector "zookeeper": unknown elector/],
    [['run', '--config', 'a', '--elector', 'file:'], /needs a lock file path/],
    [['run', '--config', 'a', '--elector', 'static:x'], /'static' takes no argument/],
    [['run', '--config', 'a', '--elector', 'kubernetes:onlyname'], /expected kubernetes:NAMESPACE\/NAME/],
    [['run', '--config', 'a', '--elector', 'kubernetes:Bad_NS/lease'], /namespace "Bad_NS" is not a valid Kubernetes name \(a DNS-1123 label/],
    [['run', '--config', 'a', '--elector', 'etcd:'], /needs endpoints/],
    [['run', '--config', 'a', '--elector', 'etcd:ftp://192.0.2.5:2379'], /only http:\/\/ and https:\/\//],
    [['run', '--config', 'a', '--elector', 'etcd:192.0.2.5'], /has no port/],
    [['run', '--config', 'a', '--elector', 'etcd:http://192.0.2.5:2379,https://192.0.2.6:2379'], /endpoints mix http:\/\/ and https:\/\//],
    [['run', '--config', 'a', '--identity', 'two words'], /--identity "two words"/],
    [['run', '--config', 'a', '--netns', '..'], /--netns "\.\."/],
    [['run', '--config', 'a', '--conflict-policy', 'fight'], /--conflict-policy "fight": expected 'yield' \(give the VIP up\) or 'defend'/],
    [['run', '--config', 'a', '--conflict-policy'], /option '--conflict-policy' needs a value/],
    [['run', '--config', 'a', '--probe-interval-ms', '60001'], /--probe-interval-ms "60001": expected an integer number of milliseconds from 0 to 60000/],
    [['run', '--config', 'a', '--probe-interval-ms', '1.5'], /--probe-interval-ms "1\.5"/],
    [['run', '--config', 'a', '--probe-interval-ms', '-1'], /option '--probe-interval-ms' needs a value/],
    [['run', '--config', 'a', '--probe-intervall-ms', '5'], /unknown option '--probe-intervall-ms' for 'run' \(did you mean '--probe-interval-ms'\?\)/],
  ]
  for (const [argv, message] of cases) {
    const { out, run } = capture()
    t.equal(await run(...argv), 2, `exit 2: ${argv.join(' ')}`)
    t.match(out.stderr, message, argv.join(' '))
    t.match(out.stderr, /Run 'vip-announcer (\w+ )?--help' for usage\.\n$/)
    t.equal(out.stdout, '')
  }
})

t.test('run: flags become typed options for the injected runCommand', async (t) => {
  const received: RunCommandOptions[] = []
  const { out, run } = capture({ runCommand: async (options) => (received.push(options), 0) })
  t.equal(await run('run', '--config', fixture('kube-vip-multus.yaml')), 0)
  t.same(received[0], {
    configPath: fixture('kube-vip-multus.yaml'),
    elector: { kind: 'kubernetes' },
    identity: hostname(),
    json: false,
    config: { enabled: true, vip: '10.100.0.100', port: 8443, family: 4, interface: 'net1', gateway: { address: '10.100.0.1', prefixLength: 24, network: '10.100.0.0/24' }, privateNodes: true },
  })
  t.equal(
    await run('run', '-c', path.relative(process.cwd(), fixture('kube-vip.yaml')), '--elector', 'etcd:192.0.2.5:2379,http://192.0.2.6:2379', '--netns', 'cp1', '--json', '--identity', 'replica-0'),
    0,
  )
  t.match(received[1], {
    configPath: fixture('kube-vip.yaml'),
    elector: { kind: 'etcd', endpoints: ['http://192.0.2.5:2379', 'http://192.0.2.6:2379'] },
    netns: '/run/netns/cp1',
    json: true,
    identity: 'replica-0',
  })
  t.notOk('conflictPolicy' in received[0] || 'probeIntervalMs' in received[0], 'no conflict flags: the library defaults apply')
  t.equal(await run('run', '-c', fixture('kube-vip.yaml'), '--conflict-policy', 'defend', '--probe-interval-ms', '0'), 0)
  t.match(received[2], { conflictPolicy: 'defend', probeIntervalMs: 0 })
  t.equal(await run('run', '-c', fixture('kube-vip.yaml'), '--conflict-policy=yield', '--probe-interval-ms=250'), 0)
  t.match(received[3], { conflictPolicy: 'yield', probeIntervalMs: 250 })
  t.equal(out.stderr, '')
})

t.test('run: the exit code of runCommand is returned; errors are printed and exit 1', async (t) => {
  const seven = capture({ runCommand: async () => 7 })
  t.equal(await seven.run('run', '--config', fixture('kube-vip.yaml')), 7)
  const failing = capture({
    runCommand: async () => {
      throw new Error('EPERM: CAP_NET_ADMIN missing')
    },
  })
  t.equal(await failing.run('run', '--config', fixture('kube-vip.yaml')), 1)
  t.equal(failing.out.stderr, 'vip-announcer run: EPERM: CAP_NET_ADMIN missing\n')
})

t.test('run: an invalid config is listed and exits 1; a disabled one exits 0 without running', async (t) => {
  let called = false
  const { out, run } = capture({ runCommand: async () => ((called = true), 0) })
  t.equal(await run('run', '--config', fixture('several-problems.yaml')), 1)
  t.match(out.stderr, /^Invalid .*several-problems\.yaml \(4 problems\):\n {2}- privateNodes\.enabled: /)
  t.equal(await run('run', '--config', fixture('disabled.yaml')), 0)
  t.match(out.stdout, /kube-vip is disabled in .*disabled\.yaml/)
  t.notOk(called)
})

t.test('lab: flags reach the injected labCommand', async (t) => {
  const received: LabCommandOptions[] = []
  const { run } = capture({ labCommand: async (options) => (received.push(options), 0) })
  t.equal(await run('lab'), 0)
  t.equal(await run('lab', '--keep', '--json'), 0)
  t.same(received, [
    { keep: false, json: false },
    { keep: true, json: true },
  ])
})

t.test('elector specs', async (t) => {
  t.same(parseElector('static'), { kind: 'static' })
  t.same(parseElector('file:/run/vip.lock'), { kind: 'file', path: '/run/vip.lock' })
  t.same(parseElector('file:vip.lock'), { kind: 'file', path: path.resolve('vip.lock') })
  t.same(parseElector('kubernetes'), { kind: 'kubernetes' })
  t.same(parseElector('kubernetes:vcluster-platform/my-vcluster.vip'), { kind: 'kubernetes', namespace: 'vcluster-platform', name: 'my-vcluster.vip' })
  t.same(parseElector('etcd:http://[2001:db8::5]:2379'), { kind: 'etcd', endpoints: ['http://[2001:db8::5]:2379'] })
  t.throws(() => parseElector('kubernetes:ns/Name'), UsageError)
})

// One rule (src/electors/names.ts): --elector accepts a backend name exactly
// when the elector it builds would, so `run` never fails later on what the
// command line let through.
t.test('--elector accepts exactly what the electors accept', async (t) => {
  const kube = ['ns/lease', 'vcluster-platform/my-vcluster.vip', 'ns/Name', 'Bad_NS/lease', '-ns/lease', `${'a'.repeat(63)}/x`, `${'a'.repeat(64)}/x`, `ns/${'a.'.repeat(126)}a`, `ns/${'a.'.repeat(127)}a`, 'ns/a..b', 'ns/lease-']
  for (const spec of kube) {
    const [namespace, name] = spec.split('/')
    const cli = accepts(() => parseElector(`kubernetes:${spec}`))
    t.equal(cli, accepts(() => new KubernetesLeaseElector({ namespace, name, identity: 'pod-a', client: {} as never })), `kubernetes:${spec}: both ${cli ? 'accept' : 'refuse'}`)
  }
  const etcd = ['http://192.0.2.5:2379', '192.0.2.5:2379', 'https://[2001:db8::5]:2379', '192.0.2.5', 'http://192.0.2.5', 'ftp://192.0.2.5:2379', 'http://192.0.2.5:2379/v3', 'http://user@192.0.2.5:2379', 'http://192.0.2.5:99999', 'etcd.example:2379', 'http://192.0.2.5:2379,https://192.0.2.6:2379', 'https://192.0.2.5:2379,https://192.0.2.6:2379']
  for (const spec of etcd) {
    const cli = accepts(() => parseElector(`etcd:${spec}`))
    t.equal(cli, accepts(() => new EtcdElector({ endpoints: spec.split(','), name: 'vip', identity: 'pod-a' })), `etcd:${spec}: both ${cli ? 'accept' : 'refuse'}`)
  }
  // The CLI hands the elector the URL form.
  t.same(parseElector('etcd:192.0.2.5:2379'), { kind: 'etcd', endpoints: ['http://192.0.2.5:2379'] })
})

t.test('check: invalid and disabled configs need no network access', async (t) => {
  const { out, run } = capture()
  t.equal(await run('check', '--config', fixture('several-problems.yaml')), 1)
  const lines = out.stdout.split('\n')
  t.match(lines[1], /^FAIL {2}config {10}.*several-problems\.yaml: 4 problems$/)
  t.match(lines[2], /^ +- privateNodes\.enabled: is boolean false, .*\[line 3, column 3\]$/)
  t.match(out.stdout, /^ +- controlPlane\.advanced\.kubeVip\.interfce: unknown key "interfce" .*\[line 9, column 7\]$/m)
  t.match(out.stdout, /^ +- controlPlane\.advanced\.kubeVip\.gateway: "10\.100\.0\.1" has no prefix length.*\[line 10, column 7\]$/m)
  t.match(out.stdout, /^(PASS|FAIL) {2}capabilities /m)
  t.match(out.stdout, /\n\d passed, 0 warnings, 1 failed\n$/)

  const disabled = capture()
  t.equal(await disabled.run('check', '--config', fixture('disabled.yaml'), '--json'), 0)
  const report = JSON.parse(disabled.out.stdout)
  t.match(report, { ok: true, config: { enabled: false }, counts: { PASS: 1, WARN: 0, FAIL: 0 }, checks: [{ id: 'config', status: 'PASS', summary: /kube-vip is disabled/ }] })

  const missing = capture()
  t.equal(await missing.run('check', '--config', path.join(tmpdir(), 'does-not-exist-vip.yaml')), 1)
  t.match(missing.out.stdout, /FAIL {2}config .*1 problem\n.*cannot read the file: ENOENT/)
})

// The real entry points, as a user runs them.
const tsxEntry = ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')]

t.test('src/cli/main.ts runs as a program', async (t) => {
  const help = spawnSync(process.execPath, [...tsxEntry, 'check', '--help'], { encoding: 'utf8', cwd: root })
  t.equal(help.status, 0)
  t.match(help.stdout, /^Usage: vip-announcer check --config FILE/)
  const usage = spawnSync(process.execPath, [...tsxEntry, 'launch'], { encoding: 'utf8', cwd: root })
  t.equal(usage.status, 2)
  t.match(usage.stderr, /unknown command 'launch'/)
  const invalid = spawnSync(process.execPath, [...tsxEntry, 'check', '--config', fixture('several-problems.yaml')], { encoding: 'utf8', cwd: root })
  t.equal(invalid.status, 1)
  t.match(invalid.stdout, /FAIL {2}config/)
})

t.test('bin/vip-announcer.js: explains the build when dist is missing, runs the compiled CLI when present', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-bin-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(path.join(root, 'bin'), path.join(dir, 'bin'), { recursive: true })
  cpSync(path.join(root, 'package.json'), path.join(dir, 'package.json'))
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'))
  const shim = path.join(dir, 'bin', 'vip-announcer.js')

  const before = spawnSync(process.execPath, [shim, '--version'], { encoding: 'utf8', cwd: dir })
  t.equal(before.status, 1)
  t.match(before.stderr, /dist\/cli\/main\.js is missing.*\nRun `npm run build`/)

  // Compile the library as build:ts does, into the copy.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], { stdio: 'pipe' })
  const version = spawnSync(process.execPath, [shim, '--version'], { encoding: 'utf8', cwd: dir })
  t.equal(version.status, 0, version.stderr)
  t.equal(version.stdout, `${require('../package.json').version}\n`)
  const disabled = spawnSync(process.execPath, [shim, 'check', '--config', fixture('disabled.yaml')], { encoding: 'utf8', cwd: dir })
  t.equal(disabled.status, 0)
  t.match(disabled.stdout, /PASS {2}config {10}kube-vip is disabled/)
  const usage = spawnSync(process.execPath, [shim, 'check', '--nope'], { encoding: 'utf8', cwd: dir })
  t.equal(usage.status, 2)
})
