// The package without a usable native part (installed with --ignore-scripts on
// a platform without a prebuild, a broken or foreign prebuild, an empty
// VIP_ANNOUNCER_BUILD_DIR): importing it and config-only use still work; the
// first native use throws one NativeUnavailableError naming what is missing,
// why, and the fix. Each case runs in a child process, since the addon is
// loaded once per process.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadNative } from '../src/net/binding'
import { Lab, namespaceTestOptions } from './lab/lab'

const root = path.join(__dirname, '..')
const real = loadNative().dir
const fixture = path.join(root, 'test', 'fixtures', 'config', 'kube-vip.yaml')

function run(script: string, env: Record<string, string | undefined> = {}, args: string[] = []) {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k]
  const child = spawnSync(process.execPath, ['--import', 'tsx', ...(script.endsWith('.ts') ? [script] : ['-e', script]), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: childEnv as NodeJS.ProcessEnv,
    timeout: 60_000,
  })
  return { status: child.status, stdout: child.stdout, stderr: child.stderr }
}

/** A package root holding only binding.ts, so build/ and prebuilds/ are what the test puts there. */
function fakePackage(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-native-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(path.join(dir, 'src', 'net'), { recursive: true })
  copyFileSync(path.join(root, 'src', 'net', 'binding.ts'), path.join(dir, 'src', 'net', 'binding.ts'))
  return dir
}

function prebuild(pkg: string, files: { addon?: string; guard?: string; manifest?: object }): string {
  const dir = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`)
  mkdirSync(dir, { recursive: true })
  if (files.addon) copyFileSync(files.addon, path.join(dir, 'vip_announcer.node'))
  if (files.guard) copyFileSync(files.guard, path.join(dir, 'vip_guard'))
  if (files.manifest) writeFileSync(path.join(dir, 'prebuild.json'), JSON.stringify(files.manifest))
  return dir
}

// Loads the fake package's binding and prints either where the addon came
// from (with a pure call's result) or the error's fields, as JSON.
const probe = (pkg: string) => `
  const b = require(${JSON.stringify(path.join(pkg, 'src', 'net', 'binding.ts'))})
  try {
    const n = b.loadNative()
    const frame = n.addon.buildArpProbe(Buffer.from('02005e000001', 'hex'), Buffer.from([192, 0, 2, 1]))
    console.log(JSON.stringify({ source: n.source, dir: n.dir, guardPath: n.guardPath, frameLength: frame.length }))
  } catch (e) {
    console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, summary: e.summary, fix: e.fix, tried: e.tried, isError: e instanceof b.NativeUnavailableError }))
  }`

const parse = (result: { stdout: string; stderr: string }) => {
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(`no JSON from the child: ${result.stdout}${result.stderr}`)
  }
}

t.test('no source build and no prebuild for this platform', async (t) => {
  const pkg = fakePackage(t)
  const out = parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: undefined }))
  t.match(out, { name: 'NativeUnavailableError', code: 'ERR_VIP_NATIVE_UNAVAILABLE', isError: true })
  t.same(out.tried, [
    { dir: path.join(pkg, 'build', 'Release'), reason: 'not built from source' },
    { dir: path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`), reason: `no prebuild for ${process.platform}-${process.arch} in this package` },
  ])
  t.match(out.message, /^vip-announcer: the native part \(vip_announcer\.node and vip_guard\) is not available for linux-\w+, Node v\d+/)
  t.match(out.fix, /^run `npm rebuild vip-announcer` .*needs g\+\+, make and python3/)
  t.equal(out.message.split('\n').length, 1, 'one line')
})

t.test('a prebuild that fits loads, and VIP_ANNOUNCER_BUILD_DIR wins over it', async (t) => {
  const pkg = fakePackage(t)
  const dir = prebuild(pkg, { addon: path.join(real, 'vip_announcer.node'), guard: path.join(real, 'vip_guard') })
  t.same(parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: undefined })), { source: 'prebuild', dir, guardPath: path.join(dir, 'vip_guard'), frameLength: 60 })

  const empty = mkdtempSync(path.join(tmpdir(), 'vip-native-empty-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  const out = parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: empty }))
  t.same(out.tried, [{ dir: empty, reason: 'vip_announcer.node and vip_guard missing' }], 'only the named dir is looked in')
  t.equal(out.fix, 'build it there (cmake-js developer harness) or unset VIP_ANNOUNCER_BUILD_DIR')
  t.same(parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: real })).source, 'env')
})

t.test('a broken prebuild, a guard missing, a glibc too old', async (t) => {
  const pkg = fakePackage(t)
  const dir = prebuild(pkg, { addon: fixture, guard: path.join(real, 'vip_guard') })
  let out = parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: undefined }))
  t.match(out.tried[1], { dir, reason: /^vip_announcer\.node does not load: .*(invalid ELF header|too short)/ })

  rmSync(path.join(dir, 'vip_guard'))
  out = parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: undefined }))
  t.equal(out.tried[1].reason, 'vip_guard missing')

  prebuild(pkg, { addon: path.join(real, 'vip_announcer.node'), guard: path.join(real, 'vip_guard'), manifest: { libc: 'glibc', glibc: '99.1' } })
  out = parse(run(probe(pkg), { VIP_ANNOUNCER_BUILD_DIR: undefined }))
  t.match(out.tried[1].reason, /^it needs glibc >= 99\.1, this system has 2\.\d+$/, 'checked before dlopen')
})

t.test('config-only use works without the native part', async (t) => {
  const empty = mkdtempSync(path.join(tmpdir(), 'vip-native-empty-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  const env = { VIP_ANNOUNCER_BUILD_DIR: empty }
  const config = run(
    `const m = require('./src/index.ts')
     m.loadVclusterConfig(${JSON.stringify(fixture)}).then((c) => console.log(c.enabled, c.vip, typeof m.VipAnnouncer))`,
    env,
  )
  t.equal(config.stdout.trim(), 'true 10.100.0.100 function', config.stderr)
  const help = run(path.join(root, 'src', 'cli', 'main.ts'), env, ['--help'])
  t.equal(help.status, 0, help.stderr)
  t.match(help.stdout, /^Usage: vip-announcer <command>/)
  const native = run(`require('./src/net').Netlink.open()`, env)
  t.not(native.status, 0)
  t.match(native.stderr, /NativeUnavailableError: vip-announcer: the native part .*unset VIP_ANNOUNCER_BUILD_DIR/)
})

t.test('check reports the missing native part once, its config checks still run', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const cp = lab.host('cp')
  lab.plug(cp, 'eth0', sw, { addresses: ['192.0.2.10/24'] })
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-native-check-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'vcluster.yaml')
  writeFileSync(
    file,
    'privateNodes:\n  enabled: true\ncontrolPlane:\n  endpoint: "192.0.2.100:8443"\n  advanced:\n    kubeVip:\n      enabled: true\n      interface: eth0\n      gateway: 192.0.2.1/24\n',
  )
  const result = run(path.join(root, 'src', 'cli', 'main.ts'), { VIP_ANNOUNCER_BUILD_DIR: dir }, ['check', '--config', file, '--netns', cp.path])
  t.equal(result.status, 1, result.stdout + result.stderr)
  t.match(result.stdout, /^PASS {2}config +VIP 192\.0\.2\.100:8443/m)
  // Links and addresses are read over the native Netlink socket too: those
  // checks say they could not look, and point at the one that names the cause.
  t.match(result.stdout, /^WARN {2}interface +not checked: the native part is not available \(see packet-socket\)$/m)
  t.match(result.stdout, /^WARN {2}addresses +not checked: the native part is not available \(see packet-socket\)$/m)
  // Sysctls are files: still read without the native part.
  t.match(result.stdout, /^PASS {2}sysctl arp_ignore +all=0, eth0=0/m)
  t.match(result.stdout, /^FAIL {2}packet-socket +vip-announcer: the native part \(vip_announcer\.node and vip_guard\) is not available/m)
  t.match(result.stdout, /^ +fix: build it there .*or unset VIP_ANNOUNCER_BUILD_DIR$/m)
  t.match(result.stdout, /^WARN {2}vip-free +not checked: the native part is not available \(see packet-socket\)$/m)
  t.equal(result.stdout.match(/the native part \(/g)?.length, 1, 'the cause is printed once')
})
