// Invalid configurations: each is reported at its exact YAML path, with what
// is wrong and what a valid value looks like; several problems come together.
import path from 'node:path'
import t from 'tap'
import { ConfigError, loadVclusterConfig, parseVclusterConfig, parseVclusterYaml } from '../src/config'
import { catchConfigError } from './support/config-error'

const fixture = (name: string) => path.join(__dirname, 'fixtures', 'config', name)

const KV = 'controlPlane.advanced.kubeVip'

interface Input {
  privateNodes?: unknown
  endpoint?: unknown
  kubeVip?: Record<string, unknown> | unknown
}
/** The short reference example with some fields replaced (undefined removes a key). */
function config(change: Input & { raw?: unknown } = {}): unknown {
  if ('raw' in change) return change.raw
  const kubeVip = 'kubeVip' in change && (typeof change.kubeVip !== 'object' || change.kubeVip === null || Array.isArray(change.kubeVip))
    ? change.kubeVip
    : drop({ enabled: true, interface: 'eth0', gateway: '10.100.0.1/24', ...(change.kubeVip as object | undefined) })
  return drop({
    privateNodes: 'privateNodes' in change ? change.privateNodes : { enabled: true },
    controlPlane: drop({
      endpoint: 'endpoint' in change ? change.endpoint : '10.100.0.100:8443',
      advanced: { kubeVip },
    }),
  })
}
function drop<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T
}

interface Case {
  name: string
  input: unknown
  path: string
  message: RegExp
  expected?: RegExp
}

const cases: Case[] = [
  { name: 'kube-vip without private nodes', input: config({ privateNodes: { enabled: false } }), path: 'privateNodes.enabled', message: /is boolean false, but kube-vip only works with private-node/, expected: /privateNodes\.enabled: true/ },
  { name: 'privateNodes missing', input: config({ privateNodes: undefined }), path: 'privateNodes.enabled', message: /is missing, but kube-vip only works/ },
  { name: 'privateNodes.enabled quoted', input: config({ privateNodes: { enabled: 'true' } }), path: 'privateNodes.enabled', message: /is the string "true", not a boolean \(write true or false without quotes\)/, expected: /true or false, unquoted/ },
  { name: 'endpoint missing', input: config({ endpoint: undefined }), path: 'controlPlane.endpoint', message: /is missing: kube-vip announces the IP address/, expected: /10\.100\.0\.100:8443/ },
  { name: 'endpoint without port', input: config({ endpoint: '10.100.0.100' }), path: 'controlPlane.endpoint', message: /"10\.100\.0\.100" has no port/, expected: /10\.100\.0\.100:8443/ },
  { name: 'port out of range', input: config({ endpoint: '10.100.0.100:65536' }), path: 'controlPlane.endpoint', message: /port 65536 .* is out of range/, expected: /1-65535/ },
  { name: 'port zero', input: config({ endpoint: '10.100.0.100:0' }), path: 'controlPlane.endpoint', message: /port 0 .* is out of range/ },
  { name: 'port not a number', input: config({ endpoint: '10.100.0.100:https' }), path: 'controlPlane.endpoint', message: /port "https" .* is not a number/ },
  { name: 'hostname endpoint', input: config({ endpoint: 'vcluster.example.com:8443' }), path: 'controlPlane.endpoint', message: /"vcluster\.example\.com" is a hostname, not an IP address/, expected: /IP literal/ },
  { name: 'IPv6 without brackets', input: config({ endpoint: '2001:db8::10' }), path: 'controlPlane.endpoint', message: /IPv6 address without brackets/, expected: /\[2001:db8::10\]:8443/ },
  { name: 'brackets around IPv4', input: config({ endpoint: '[10.100.0.100]:8443' }), path: 'controlPlane.endpoint', message: /brackets are only for IPv6/ },
  { name: 'URL endpoint', input: config({ endpoint: 'https://10.100.0.100:8443' }), path: 'controlPlane.endpoint', message: /is a URL/ },
  { name: 'bad dotted quad', input: config({ endpoint: '10.100.0.300:8443' }), path: 'controlPlane.endpoint', message: /not a valid dotted-quad/ },
  { name: 'multicast VIP', input: config({ endpoint: '224.0.0.18:8443' }), path: 'controlPlane.endpoint', message: /multicast address and cannot be a virtual IP/ },
  { name: 'endpoint not a string', input: config({ endpoint: 8443 }), path: 'controlPlane.endpoint', message: /is number 8443, not a string/ },
  { name: 'gateway missing', input: config({ kubeVip: { gateway: undefined } }), path: `${KV}.gateway`, message: /is missing: vCluster requires it for policy routing/, expected: /10\.100\.0\.1\/24/ },
  { name: 'gateway without prefix', input: config({ kubeVip: { gateway: '10.100.0.1' } }), path: `${KV}.gateway`, message: /"10\.100\.0\.1" has no prefix length/, expected: /CIDR notation, e\.g\. 10\.100\.0\.1\/24/ },
  { name: 'gateway unparsable', input: config({ kubeVip: { gateway: 'router.lan/24' } }), path: `${KV}.gateway`, message: /^"router\.lan" is a hostname, not an IP address/ },
  { name: 'gateway prefix too long', input: config({ kubeVip: { gateway: '10.100.0.1/33' } }), path: `${KV}.gateway`, message: /prefix length "33" .* is not 0-32/ },
  { name: 'gateway /32', input: config({ kubeVip: { gateway: '10.100.0.1/32' } }), path: `${KV}.gateway`, message: /leaves no room for the VIP/ },
  { name: 'gateway is the network address', input: config({ kubeVip: { gateway: '10.100.0.0/24' } }), path: `${KV}.gateway`, message: /is the network address of 10\.100\.0\.0\/24/, expected: /10\.100\.0\.1\/24/ },
  { name: 'VIP outside the subnet', input: config({ endpoint: '10.200.0.100:8443' }), path: 'controlPlane.endpoint', message: /VIP 10\.200\.0\.100 is outside the gateway's subnet 10\.100\.0\.0\/24/, expected: /an address in 10\.100\.0\.0\/24 .* e\.g\. 10\.100\.0\.100:8443/ },
  { name: 'VIP of the other family', input: config({ endpoint: '[2001:db8::10]:8443' }), path: 'controlPlane.endpoint', message: /VIP 2001:db8::10 is IPv6 but the gateway 10\.100\.0\.1\/24 is IPv4/ },
  { name: 'VIP equal to the gateway', input: config({ endpoint: '10.100.0.1:8443' }), path: 'controlPlane.endpoint', message: /is the gateway address itself/ },
  { name: 'VIP is the network address', input: config({ endpoint: '10.100.0.0:8443' }), path: 'controlPlane.endpoint', message: /is the network address of 10\.100\.0\.0\/24/ },
  { name: 'VIP is the broadcast address', input: config({ endpoint: '10.100.0.255:8443' }), path: 'controlPlane.endpoint', message: /is the broadcast address of 10\.100\.0\.0\/24/ },
  { name: 'IPv6 VIP is the subnet-router anycast address', input: config({ endpoint: '[2001:db8::]:8443', kubeVip: { gateway: '2001:db8::1/64' } }), path: 'controlPlane.endpoint', message: /subnet-router anycast/ },
  { name: 'interface missing', input: config({ kubeVip: { interface: undefined } }), path: `${KV}.interface`, message: /is missing: kube-vip needs the interface/, expected: /eth0 or net1/ },
  { name: 'interface empty', input: config({ kubeVip: { interface: '' } }), path: `${KV}.interface`, message: /^is empty$/ },
  { name: 'interface longer than 15 bytes', input: config({ kubeVip: { interface: 'averyverylongname' } }), path: `${KV}.interface`, message: /is 17 bytes long; Linux allows at most 15/ },
  { name: 'interface of 15 characters but 16 bytes', input: config({ kubeVip: { interface: 'ethé12345678901' } }), path: `${KV}.interface`, message: /is 16 bytes long/ },
  { name: 'interface with a slash', input: config({ kubeVip: { interface: 'eth/0' } }), path: `${KV}.interface`, message: /contains "\/", which Linux rejects/ },
  { name: 'interface with a colon (an address label)', input: config({ kubeVip: { interface: 'eth0:vip' } }), path: `${KV}.interface`, message: /contains ":"/ },
  { name: 'interface with a space', input: config({ kubeVip: { interface: 'eth 0' } }), path: `${KV}.interface`, message: /contains a space/ },
  { name: 'interface ..', input: config({ kubeVip: { interface: '..' } }), path: `${KV}.interface`, message: /not allowed/ },
  { name: 'interface not a string', input: config({ kubeVip: { interface: 0 } }), path: `${KV}.interface`, message: /is number 0, not a string/ },
  { name: 'typo in a kubeVip key', input: config({ kubeVip: { interface: undefined, interfce: 'eth0' } }), path: `${KV}.interfce`, message: /unknown key "interfce" \(did you mean "interface"\?\)/, expected: /only enabled, interface, gateway/ },
  { name: 'unsupported kubeVip key', input: config({ kubeVip: { mode: 'bgp' } }), path: `${KV}.mode`, message: /^unknown key "mode"$/ },
  { name: 'enabled quoted', input: config({ kubeVip: { enabled: 'yes' } }), path: `${KV}.enabled`, message: /is the string "yes", not a boolean/ },
  { name: 'kubeVip a list', input: config({ kubeVip: ['eth0'] }), path: KV, message: /is a list, not a mapping/ },
  { name: 'controlPlane a string', input: { controlPlane: 'yes' }, path: 'controlPlane', message: /is the string "yes", not a mapping/ },
  { name: 'document a list', input: [1, 2], path: '', message: /the document is a list, not a mapping/ },
]

// Most cases need a field of the otherwise-valid example to be missing:
// each must report that one field and nothing else.
for (const c of cases) {
  t.test(c.name, async (t) => {
    const error = catchConfigError(() => parseVclusterConfig(c.input, 'vcluster.yaml'))
    // A typo that names a required key stands for the "missing" issue too.
    t.same(error.issues.map((i) => i.path), [c.path], 'exactly one issue, at the right path')
    t.match(error.issues[0].message, c.message)
    if (c.expected) t.match(error.issues[0].expected, c.expected)
    if (c.path) t.ok(error.issues[0].expected, 'says what a valid value looks like')
    t.match(error.message, `vcluster.yaml (1 problem):\n  - ${c.path || '(document)'}: `)
  })
}

t.test('a file with several problems reports them all at once, with lines', async (t) => {
  const error = await loadVclusterConfig(fixture('several-problems.yaml')).catch((e: unknown) => e)
  if (!(error instanceof ConfigError)) throw error
  t.same(
    error.issues.map(({ path, line, column }) => ({ path, line, column })),
    [
      { path: 'privateNodes.enabled', line: 3, column: 3 },
      { path: 'controlPlane.endpoint', line: 5, column: 3 },
      { path: `${KV}.interfce`, line: 9, column: 7 },
      { path: `${KV}.gateway`, line: 10, column: 7 },
    ],
  )
  const lines = error.message.split('\n')
  t.equal(lines[0], `Invalid ${fixture('several-problems.yaml')} (4 problems):`)
  t.equal(lines.length, 5)
  t.match(lines[2], /^ {2}- controlPlane\.endpoint: "vcluster\.example\.com" is a hostname, not an IP address.* \(expected: an IP literal, e\.g\. 10\.100\.0\.100:8443 or \[2001:db8::10\]:8443\) \[line 5, column 3\]$/)
})

t.test('a missing key is located at its parent', async (t) => {
  const error = catchConfigError(() =>
    parseVclusterYaml('privateNodes:\n  enabled: true\ncontrolPlane:\n  endpoint: 10.100.0.100:8443\n  advanced:\n    kubeVip:\n      enabled: true\n      gateway: 10.100.0.1/24\n'),
  )
  t.match(error.issues, [{ path: `${KV}.interface`, line: 6, column: 5 }])
})

t.test('a YAML syntax error is reported with line and column', async (t) => {
  const error = await loadVclusterConfig(fixture('syntax-error.yaml')).catch((e: unknown) => e)
  if (!(error instanceof ConfigError)) throw error
  t.ok(error.issues.length >= 1)
  t.match(error.message, /^Invalid .*syntax-error\.yaml \(\d problems?\):\n {2}- \(document\): YAML syntax error: /)
  for (const issue of error.issues) {
    t.equal(issue.path, '')
    t.match(issue.message, /^YAML syntax error: /)
    t.ok(issue.line! >= 8 && issue.line! <= 10, `line ${issue.line} is near the unclosed [ on line 8`)
  }
  t.match(error.message, /\[line \d+, column \d+\]/)
})

t.test('duplicate keys are a syntax error, not a silent override', async (t) => {
  const error = catchConfigError(() => parseVclusterYaml('privateNodes:\n  enabled: true\n  enabled: false\n'))
  t.match(error.issues, [{ path: '', message: /Map keys must be unique/, line: 3, column: 3 }])
})

t.test('IPv6 problems carry IPv6 examples', async (t) => {
  const error = catchConfigError(() => parseVclusterConfig(config({ endpoint: '[2001:db9::10]:6443', kubeVip: { gateway: '2001:db8::1/64' } })))
  t.match(error.issues, [{ path: 'controlPlane.endpoint', message: /outside the gateway's subnet 2001:db8::\/64/, expected: /e\.g\. \[2001:db8::100\]:6443/ }])
  const lone = catchConfigError(() => parseVclusterConfig(config({ kubeVip: { gateway: '2001:db8::1' } })))
  t.match(lone.issues, [{ path: `${KV}.gateway`, expected: /2001:db8::1\/64/ }])
  const zone = catchConfigError(() => parseVclusterConfig(config({ endpoint: '[fe80::1%eth0]:6443' })))
  t.match(zone.issues, [{ path: 'controlPlane.endpoint', message: /zone index/ }])
  const mapped = catchConfigError(() => parseVclusterConfig(config({ endpoint: '[::ffff:10.100.0.100]:6443' })))
  t.match(mapped.issues, [{ path: 'controlPlane.endpoint', expected: /the IPv4 form, 10\.100\.0\.100/ }])
})

t.test('alias bombs and unresolved aliases are errors, not hangs', async (t) => {
  let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n'
  for (let i = 1; i <= 8; i++) {
    const name = String.fromCharCode(97 + i)
    bomb += `${name}: &${name} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]\n`
  }
  t.match(catchConfigError(() => parseVclusterYaml(bomb)).issues, [{ path: '', message: /Excessive alias count/ }])
  t.match(catchConfigError(() => parseVclusterYaml('a: *nope\n')).issues, [{ path: '', message: /Unresolved alias/ }])
})
