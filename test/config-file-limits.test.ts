// What a configuration file may cost (issue 11, defects 6 and 7): a FIFO (or
// any file that is not a regular file) is refused at once instead of blocking
// `check` and `run` forever; a file over the size cap is refused before it is
// read; duplicate keys are found in linear time, so tens of thousands of keys
// parse in well under a second instead of tens of seconds.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, MAX_CONFIG_BYTES, loadVclusterConfig, parseVclusterYaml } from '../src/config'
import { catchConfigError } from './support/config-error'
import { tempDir } from './support/temp'

const root = path.join(__dirname, '..')
/** The cap, 1 MiB (written out: the test also runs against code without MAX_CONFIG_BYTES). */
const CAP = 1024 * 1024
const cli = ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts')]

const VALID = [
  'privateNodes:', '  enabled: true',
  'controlPlane:', '  endpoint: 10.100.0.100:8443',
  '  advanced:', '    kubeVip:', '      enabled: true', '      interface: eth0', '      gateway: 10.100.0.1/24', '',
].join('\n')

function fifo(): string {
  const file = path.join(tempDir('vip-config-fifo-'), 'vcluster.yaml')
  if (spawnSync('mkfifo', [file]).status !== 0) throw new Error('mkfifo failed')
  return file
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (error instanceof ConfigError) return error
  throw error ?? new Error('expected a ConfigError')
}

/** The CLI as a user runs it, with a deadline: a hang fails the test instead of stalling it. */
function runCli(t: tap.Test, ...args: string[]) {
  const started = Date.now()
  const child = spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8', cwd: root, timeout: 8000, killSignal: 'SIGKILL' })
  t.equal(child.signal, null, `\`${args.slice(0, 3).join(' ')}\` ended by itself (${Date.now() - started} ms)`)
  return child
}

t.test('check and run --config FIFO fail at once, saying it is not a regular file', async (t) => {
  const file = fifo()
  const check = runCli(t, 'check', '--config', file)
  t.equal(check.status, 1)
  t.match(check.stdout, /FAIL {2}config .*1 problem\n.*is a FIFO, not a regular file/)
  const run = runCli(t, 'run', '--config', file)
  t.not(run.status, 0)
  t.match(run.stderr + run.stdout, /is a FIFO, not a regular file/)
})

t.test('loadVclusterConfig refuses what is not a regular file, without reading it', async (t) => {
  // In a child too: before the fix the read blocked a libuv thread forever.
  const file = fifo()
  const code = `
    const { loadVclusterConfig } = require(${JSON.stringify(path.join(root, 'src', 'config', 'index.ts'))})
    Promise.all([${JSON.stringify(file)}, '/dev/null', ${JSON.stringify(path.dirname(file))}].map((f) => loadVclusterConfig(f).then(() => 'loaded', (e) => e.issues)))
      .then((r) => process.stdout.write(JSON.stringify(r)))`
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8', timeout: 8000, killSignal: 'SIGKILL' })
  t.equal(child.signal, null, 'no hang')
  const [fifoIssues, devIssues, dirIssues] = child.status === 0 ? JSON.parse(child.stdout) : [[], [], []]
  t.match(fifoIssues, [{ path: '', message: 'is a FIFO, not a regular file', expected: /a vcluster\.yaml file/ }])
  t.match(devIssues, [{ path: '', message: 'is a character device, not a regular file' }])
  t.match(dirIssues, [{ path: '', message: 'is a directory, not a regular file' }])
})

t.test('a file over 1 MiB is refused before it is read', async (t) => {
  t.equal(MAX_CONFIG_BYTES, CAP, 'CAP is 1 MiB: a vcluster.yaml is kilobytes')
  const dir = tempDir('vip-config-size-')
  const big = path.join(dir, 'big.yaml')
  // Valid YAML (a comment line repeated) just over the cap.
  const line = '# ' + 'x'.repeat(61) + '\n'
  writeFileSync(big, VALID + line.repeat(Math.ceil((CAP + 1 - VALID.length) / line.length)))
  const error = await rejection(loadVclusterConfig(big))
  t.match(error.issues, [{ path: '', message: /^the file is 1048\d{3} bytes, over the limit of 1048576 bytes \(1 MiB\)/, expected: /a vcluster\.yaml of at most 1 MiB/ }])
  t.match(error.message, `Invalid ${big} (1 problem):`)

  // 512 MiB, sparse: refused from its size alone, in no time and no memory.
  const huge = path.join(dir, 'huge.yaml')
  const fd = openSync(huge, 'w')
  ftruncateSync(fd, 512 * 1024 * 1024)
  closeSync(fd)
  const rss = process.memoryUsage().rss
  const started = performance.now()
  const hugeError = await rejection(loadVclusterConfig(huge))
  t.ok(performance.now() - started < 200, `refused in ${(performance.now() - started).toFixed(1)} ms`)
  t.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, 'without reading it')
  t.match(hugeError.issues, [{ message: /^the file is 536870912 bytes, over the limit of 1048576 bytes/ }])

  // Exactly at the cap is fine.
  const edge = path.join(dir, 'edge.yaml')
  writeFileSync(edge, VALID + '#'.repeat(CAP - VALID.length))
  t.match(await loadVclusterConfig(edge), { enabled: true, vip: '10.100.0.100' })
})

t.test('parseVclusterYaml applies the same cap to text', async (t) => {
  const error = catchConfigError(() => parseVclusterYaml(VALID + '#'.repeat(CAP), 'values'))
  t.match(error.issues, [{ path: '', message: /^the text is 1048\d{3} bytes, over the limit of 1048576 bytes \(1 MiB\)/ }])
  t.match(error.message, 'Invalid values (1 problem):')
  // UTF-8 bytes count, not UTF-16 units.
  const wide = catchConfigError(() => parseVclusterYaml('# ' + 'é'.repeat(CAP / 2)))
  t.match(wide.issues, [{ message: /^the text is 1048578 bytes/ }])
})

t.test('tens of thousands of keys parse in linear time', async (t) => {
  const keys = 40_000
  let extra = 'extra:\n'
  for (let i = 0; i < keys; i++) extra += `  k${i}: ${i}\n`
  let started = performance.now()
  t.match(parseVclusterYaml(VALID + extra), { enabled: true })
  const unique = performance.now() - started
  t.ok(unique < 3000, `${keys} distinct keys: ${unique.toFixed(0)} ms (was about 13 s)`)

  // The same number of unknown keys under kubeVip: one located issue each.
  let unknown = VALID
  for (let i = 0; i < keys; i++) unknown += `      k${i}: ${i}\n`
  started = performance.now()
  const error = catchConfigError(() => parseVclusterYaml(unknown))
  const located = performance.now() - started
  t.equal(error.issues.length, keys)
  t.match(error.issues[keys - 1], { path: `controlPlane.advanced.kubeVip.k${keys - 1}`, line: 10 + keys - 1, column: 7 })
  t.ok(located < 5000, `${keys} unknown keys, each located: ${located.toFixed(0)} ms`)
})

t.test('duplicate keys are still errors with line and column, in every kind of mapping', async (t) => {
  for (const [name, text, line, column] of [
    ['block mapping', 'privateNodes:\n  enabled: true\n  enabled: false\n', 3, 3],
    ['flow mapping', 'privateNodes: { enabled: true, enabled: false }\n', 1, 32],
    ['top level', 'privateNodes: {}\nextra: 1\nprivateNodes: {}\n', 3, 1],
    ['deep, after many keys', `extra:\n${Array.from({ length: 1000 }, (_, i) => `  k${i}: 1\n`).join('')}  k7: 2\n`, 1002, 3],
    ['the same value written differently', 'extra:\n  1: a\n  0x1: b\n', 3, 3],
    ['a quoted key', 'extra:\n  a: 1\n  "a": 2\n', 3, 3],
  ] as const) {
    const error = catchConfigError(() => parseVclusterYaml(text))
    t.match(error.issues, [{ path: '', message: 'YAML syntax error: Map keys must be unique', line, column }], name)
  }
  // Not duplicates: a number and a string that look alike, merge keys.
  t.match(parseVclusterYaml('extra:\n  1: a\n  "1": b\n'), { enabled: false }, 'the number 1 and the string "1" are different keys')
  t.match(
    parseVclusterYaml(`base: &b\n  interface: eth0\n${VALID.replace('      interface: eth0\n', '      <<: *b\n')}`),
    { enabled: true, interface: 'eth0' },
    'a merge key still works',
  )
})
