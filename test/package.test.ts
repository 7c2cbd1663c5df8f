// The package as hosts consume it: CommonJS require and ESM import of each
// entry point, from the built dist/ (npm ci builds it; CI runs this after).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

const root = path.join(__dirname, '..')
const built = existsSync(path.join(root, 'dist', 'index.js')) && existsSync(path.join(root, 'dist', 'esm', 'index.mjs'))
const skip = built ? false : process.env.CI === 'true' ? false : 'dist/ not built: run npm run build:ts'

const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim()

t.test('entry points load from CommonJS and ESM', { skip }, async (t) => {
  const names = ['VipAnnouncer', 'StaticElector', 'FileLockElector', 'KubernetesLeaseElector', 'EtcdElector', 'registerMetrics', 'monotonicNow']
  const cjs = run(['-e', `const m = require('vip-announcer'); console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(','))`])
  t.equal(cjs, names.map(() => 'function').join(','), 'require("vip-announcer")')
  const esm = run(['--input-type=module', '-e', `import { ${names.join(', ')} } from 'vip-announcer'; console.log([${names.join(', ')}].map((v) => typeof v).join(','))`])
  t.equal(esm, names.map(() => 'function').join(','), 'import from "vip-announcer"')
  t.equal(run(['--input-type=module', '-e', "import { Netlink, PacketSocket, LinkMonitor } from 'vip-announcer/net'; console.log(typeof Netlink, typeof PacketSocket, typeof LinkMonitor)"]), 'function function function', 'vip-announcer/net')
  t.equal(run(['-e', "console.log(typeof require('vip-announcer/testing').runElectorConformance)"]), 'function', 'vip-announcer/testing')
  t.equal(run(['bin/vip-announcer.js', '--version']), require('../package.json').version, 'the bin prints the version')
})
