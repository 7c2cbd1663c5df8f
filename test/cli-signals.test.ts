// How the commands stop: main.ts's one SIGINT/SIGTERM adapter (in a child
// process, signalled for real) and the commands reacting to io.signal
// (in-process, with fake outputs and a fake host probe). Rootless.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { createCheckCommand } from '../src/cli/check/command'
import type { HostProbe, ProbedLink } from '../src/cli/check/probe'
import { Interrupted, type CommandIo } from '../src/cli/command'
import { createLabCommand } from '../src/cli/lab'
import { defaultCommands, main } from '../src/cli/main'
import { createRunCommand } from '../src/cli/run'

const fixture = (name: string) => path.join(__dirname, 'fixtures', 'config', name)

function fakeIo(controller = new AbortController()) {
  const out = { stdout: '', stderr: '' }
  const io: CommandIo = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    signal: controller.signal,
  }
  return { out, io, controller }
}

const eth0: ProbedLink = { index: 2, name: 'eth0', mac: '02:00:00:00:0a:01', hardwareType: 1, linkType: 'ether', mtu: 1500, up: true, carrier: true, operstate: 'up' }

/** A host where everything is fine; `onProbe` runs while the VIP probe is in flight. */
function fakeHost(onProbe: () => void = () => {}) {
  const calls: string[] = []
  const probe: HostProbe = {
    where: 'this network namespace',
    getLink: async (name) => (calls.push('getLink'), name === 'eth0' ? eth0 : undefined),
    listLinks: async () => ['lo', 'eth0'],
    listAddresses: async () => [],
    readSysctls: async (keys) => (calls.push('readSysctls'), new Map(keys.map((k) => [k, '0']))),
    openPacketSocket: async () => {},
    probeAddress: async () => ({ answeredBy: '02:00:00:00:0a:fe' }),
    probeConflicts: async () => {
      calls.push('probeConflicts')
      onProbe()
      return []
    },
    close: async () => void calls.push('close'),
  }
  return { calls, deps: { createProbe: () => probe, readCapabilities: async () => (1n << 12n) | (1n << 13n) } }
}

t.test('every command answers --help with its own text, and the main help lists them all', async (t) => {
  const commands = defaultCommands()
  t.same(commands.map((c) => c.name), ['run', 'check', 'lab'])
  const { out, io } = fakeIo()
  t.equal(await main(['--help'], io), 0)
  for (const command of commands) t.match(out.stdout, `\n  ${command.name.padEnd(7)}${command.summary}\n`)
  for (const command of commands) {
    for (const argv of [[command.name, '--help'], [command.name, '-h'], ['help', command.name]]) {
      const { out, io } = fakeIo()
      t.equal(await main(argv, io), 0, argv.join(' '))
      t.equal(out.stdout, command.help, argv.join(' '))
      t.match(out.stdout, new RegExp(`^Usage: vip-announcer ${command.name}`))
    }
  }
})

t.test('check on a fake host: the report as before, the probe closed', async (t) => {
  const { calls, deps } = fakeHost()
  const { out, io } = fakeIo()
  t.equal(await main(['check', '--config', fixture('kube-vip.yaml')], io, [createCheckCommand(deps)]), 0, out.stdout + out.stderr)
  t.match(out.stdout, /^PASS {2}interface {12}eth0 \(index 2, 02:00:00:00:0a:01, mtu 1500, up\) is up with carrier$/m)
  t.match(out.stdout, /^PASS {2}gateway {14}10\.100\.0\.1 answers on eth0 \(02:00:00:00:0a:fe\)$/m)
  t.match(out.stdout, /\n11 passed, 0 warnings, 0 failed\n$/)
  t.equal(calls.at(-1), 'close')
})

t.test('check stops between steps when io.signal aborts, closes the probe and exits 130', async (t) => {
  const controller = new AbortController()
  const { calls, deps } = fakeHost(() => controller.abort(new Interrupted('SIGINT')))
  const { out, io } = fakeIo(controller)
  t.equal(await main(['check', '--config', fixture('kube-vip.yaml')], io, [createCheckCommand(deps)]), 130)
  t.equal(out.stderr, 'vip-announcer check: interrupted by SIGINT\n')
  t.equal(out.stdout, '', 'no half report')
  t.notOk(calls.includes('readSysctls'), 'nothing after the probe in flight')
  t.equal(calls.at(-1), 'close')

  // Already aborted: the host is not touched at all.
  const early = fakeHost()
  const aborted = new AbortController()
  aborted.abort(new Interrupted('SIGTERM'))
  const second = fakeIo(aborted)
  t.equal(await main(['check', '--config', fixture('kube-vip.yaml')], second.io, [createCheckCommand(early.deps)]), 130)
  t.equal(second.out.stderr, 'vip-announcer check: interrupted by SIGTERM\n')
  t.same(early.calls, [])
})

t.test('run and lab receive the same io, signal included', async (t) => {
  const seen: CommandIo[] = []
  const { io } = fakeIo()
  const commands = [createRunCommand(async (_, io) => (seen.push(io), 0)), createLabCommand(async (_, io) => (seen.push(io), 0))]
  t.equal(await main(['run', '--config', fixture('kube-vip.yaml'), '--elector', 'static'], io, commands), 0)
  t.equal(await main(['lab'], io, commands), 0)
  t.equal(seen.length, 2)
  for (const received of seen) t.equal(received, io)
})

// A child that installs the adapter and reports what it sees on stdout.
const child = `
const { stopSignals } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'cli', 'main.ts'))})
const stop = stopSignals()
stop.signal.addEventListener('abort', () => console.log('aborted ' + stop.signal.reason.name + ' ' + stop.signal.reason.signal))
console.log('ready')
setInterval(() => {}, 1000)
`

for (const [first, second] of [['SIGINT', 'SIGINT'], ['SIGTERM', 'SIGINT'], ['SIGINT', 'SIGTERM']] as const) {
  t.test(`stopSignals: ${first} aborts the signal, a second ${second} ends the process by that signal`, async (t) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', '-e', child], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    proc.stderr!.on('data', (d) => (stderr += d))
    t.teardown(() => void proc.kill('SIGKILL'))
    const lines: string[] = []
    const next = () => new Promise<string>((resolve) => lines.length ? resolve(lines.shift()!) : rl.once('line', () => resolve(lines.shift()!)))
    const rl = createInterface({ input: proc.stdout! })
    rl.on('line', (line) => lines.push(line))
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.once('exit', (code, signal) => resolve([code, signal])))
    t.equal(await next(), 'ready')
    proc.kill(first)
    t.equal(await next(), `aborted Interrupted ${first}`, 'the first signal aborts, the process lives on')
    t.equal(proc.exitCode, null)
    proc.kill(second)
    t.same(await exited, [null, second], 'the second ends it with its default action')
    t.equal(stderr, `vip-announcer: second ${second}: exiting without waiting for the cleanup\n`)
  })
}
