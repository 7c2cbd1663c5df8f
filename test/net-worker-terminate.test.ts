// Terminating a worker while it is inside an addon call must not abort the
// process (issue 11, defect 1): during the worker's teardown napi calls fail,
// and node-addon-api, built with C++ exceptions, used to throw from its own
// catch handler ("terminate called after throwing an instance of
// 'Napi::Error'", rc 134). binding.gyp defines
// NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS for this. Each case runs the
// reported reproduction (40 terminations) in a child process, several times:
// before the fix one run aborted 8 times in 10 with listLinks() and about 1 in
// 3 with a capture, so 3 and 5 runs miss it about 1 time in 100 and in 8.
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { Lab, namespaceTestOptions } from './lab/lab'
import { twoNeighbours } from './lab/topologies'
import { gratuitousArp } from '../src/net/frames'
import { loadNative } from '../src/net/binding'

const buildDir = loadNative().dir

const child = path.resolve(__dirname, 'support/terminate-workers.js')
const addon = `${buildDir}/vip_announcer.node`

function run(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, addon, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    proc.stdout.on('data', (d) => (output += d))
    proc.stderr.on('data', (d) => (output += d))
    proc.once('error', reject)
    proc.once('exit', (code, signal) => resolve({ code, signal, output: output.trim() }))
  })
}

t.test('40 workers terminated while calling listLinks() every millisecond: the process survives', async (t) => {
  for (let i = 0; i < 3; i++) {
    const { code, signal, output } = await run(['netlink'])
    t.equal(code, 0, `run ${i + 1}: exit ${code ?? signal}: ${output}`)
  }
})

t.test('40 workers terminated while their FrameCapture receives traffic: the process survives', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  const { a, b } = twoNeighbours(lab)
  // A steady stream of frames towards b's capture, from a process of its own.
  const frame = gratuitousArp('request', a.mac('eth0'), '192.0.2.100').toString('hex')
  const flood = spawn(process.execPath, [child, addon, 'flood', a.path, frame], { stdio: 'ignore' })
  t.teardown(async () => {
    flood.kill('SIGKILL')
    if (flood.exitCode === null && flood.signalCode === null) await new Promise((resolve) => flood.once('exit', resolve))
    lab.destroy()
  })
  for (let i = 0; i < 5; i++) {
    const { code, signal, output } = await run(['capture', b.path])
    t.equal(code, 0, `run ${i + 1}: exit ${code ?? signal}: ${output}`)
  }
})
