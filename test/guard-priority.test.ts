// The guard asks for a higher priority than its host (guardNice): the fence
// after the host's death and the takeover at the lock run while the dying
// host's exit competes for the CPUs. The kernel is the witness: the nice
// value in /proc/<pid>/stat of the guard and of each of its threads.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { once } from 'node:events'
import { GuardProcess } from '../src/guard'
import { loadNative } from '../src/net/binding'
import { resolveOptions, DEFAULT_GUARD_NICE } from '../src/options'
import { ManualElector } from './support/manual-elector'

const isRoot = process.getuid?.() === 0

/** The nice value of every thread of `pid` (field 19 of /proc/PID/task/TID/stat). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    // The command may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[16])
  })
}

const ownNice = threadNices(process.pid)[0]!

t.test('guardNice defaults to -10 and takes -20 to 19 only', async (t) => {
  const base = { vip: '192.0.2.100', interface: 'eth0', elector: new ManualElector() }
  t.equal(resolveOptions(base).guardNice, DEFAULT_GUARD_NICE)
  t.equal(DEFAULT_GUARD_NICE, -10)
  t.equal(resolveOptions({ ...base, guardNice: 0 }).guardNice, 0)
  for (const bad of [-21, 20, 1.5, Number.NaN, '5' as unknown as number]) {
    t.throws(() => resolveOptions({ ...base, guardNice: bad }), /guardNice/, `refuses ${String(bad)}`)
  }
})

t.test('the guard and all its threads run at the nice value asked for', { skip: !isRoot && 'needs CAP_SYS_NICE (root)' }, async (t) => {
  const guard = await GuardProcess.start({ nice: -10 })
  try {
    const nices = threadNices(guard.pid)
    t.ok(nices.length >= 1, `${nices.length} thread(s)`)
    t.same(new Set(nices), new Set([-10]), `every thread at -10: ${nices.join(',')}`)
    t.not(ownNice, -10, 'the host keeps its own priority')
  } finally {
    await guard.close()
  }
})

t.test('without a nice value the guard keeps the inherited priority', async (t) => {
  const guard = await GuardProcess.start({})
  try {
    t.same(new Set(threadNices(guard.pid)), new Set([ownNice]))
  } finally {
    await guard.close()
  }
})

t.test('refused (no CAP_SYS_NICE): one warning, the inherited priority, and the guard still works', { skip: !isRoot && 'needs root to drop to nobody' }, async (t) => {
  // As an unprivileged user: setpriority(-10) is EPERM.
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', loadNative().guardPath, '--nice', '-10'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  child.stdout.on('data', (chunk) => (stdout += chunk))
  const deadline = Date.now() + 5000
  while (!/\* READY/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  t.match(stdout, /\* READY \d+/, 'the guard started')
  t.same(new Set(threadNices(child.pid!)), new Set([ownNice]), 'inherited priority')
  child.stdin.write('1 PING\n')
  while (!/^1 OK/m.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  t.match(stdout, /^1 OK/m, 'answers commands')
  child.stdin.end()
  await once(child, 'exit')
  t.equal(stderr.match(/cannot set nice -10/g)?.length, 1, 'one warning naming the cause')
  t.match(stderr, /CAP_SYS_NICE/)
})

t.test('a bad --nice is a usage error', async (t) => {
  for (const bad of ['-21', '20', 'x', '']) {
    const child = spawn(loadNative().guardPath, ['--nice', bad], { stdio: ['pipe', 'ignore', 'pipe'] })
    child.stdin.end() // a guard that accepted the argument exits on EOF (code 0), not hangs
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const [code] = await once(child, 'exit')
    t.equal(code, 2, `--nice '${bad}' exits 2`)
    t.match(stderr, /--nice takes -20 to 19/)
  }
})
