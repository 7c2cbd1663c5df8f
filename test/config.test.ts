// Valid configurations: the two examples of the vCluster kube-vip page, and the
// YAML features (anchors, merge keys, document markers) Helm users rely on.
import path from 'node:path'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { ConfigError, loadVclusterConfig, parseVclusterConfig, parseVclusterYaml } from '../src/config'
import { catchConfigError } from './support/config-error'

const fixture = (name: string) => path.join(__dirname, 'fixtures', 'config', name)

const referenceResult = (iface: string) => ({
  enabled: true,
  vip: '10.100.0.100',
  port: 8443,
  family: 4,
  interface: iface,
  gateway: { address: '10.100.0.1', prefixLength: 24, network: '10.100.0.0/24' },
  privateNodes: true,
})

t.test('the short example of the reference page loads', async (t) => {
  t.same(await loadVclusterConfig(fixture('kube-vip.yaml')), referenceResult('eth0'))
})

t.test('the Multus example loads; its other keys are ignored', async (t) => {
  t.same(await loadVclusterConfig(fixture('kube-vip-multus.yaml')), referenceResult('net1'))
})

t.test('the NetworkAttachmentDefinition of the Multus example is not a vcluster.yaml with kube-vip', async (t) => {
  // It parses (unknown keys outside kubeVip are ignored) and has kube-vip off.
  t.same(await loadVclusterConfig(fixture('network-attachment-definition.yaml')), { enabled: false, privateNodes: false })
})

t.test('an object from another YAML parser validates the same way', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const object = parseYaml(await readFile(fixture('kube-vip-multus.yaml'), 'utf8'))
  t.same(parseVclusterConfig(object), referenceResult('net1'))
})

t.test('IPv6: bracketed endpoint, canonical addresses', async (t) => {
  t.same(await loadVclusterConfig(fixture('ipv6.yaml')), {
    enabled: true,
    vip: '2001:db8::10',
    port: 6443,
    family: 6,
    interface: 'net1',
    gateway: { address: '2001:db8::1', prefixLength: 64, network: '2001:db8::/64' },
    privateNodes: true,
  })
})

t.test('disabled kube-vip is valid and ignores the endpoint (a hostname is fine then)', async (t) => {
  t.same(await loadVclusterConfig(fixture('disabled.yaml')), { enabled: false, privateNodes: false })
  t.same(parseVclusterConfig({}), { enabled: false, privateNodes: false })
  t.same(parseVclusterConfig({ privateNodes: { enabled: true }, controlPlane: { advanced: { kubeVip: null } } }), { enabled: false, privateNodes: true })
})

t.test('disabled kube-vip still catches typos under kubeVip', async (t) => {
  const error = catchConfigError(() => parseVclusterConfig({ controlPlane: { advanced: { kubeVip: { enabled: false, gatway: '10.0.0.1/24' } } } }))
  t.same(error.issues.map((i) => i.path), ['controlPlane.advanced.kubeVip.gatway'])
  t.match(error.issues[0].message, /did you mean "gateway"/)
})

t.test('anchors, aliases and merge keys resolve', async (t) => {
  t.same(await loadVclusterConfig(fixture('anchors.yaml')), referenceResult('net1'))
})

t.test('document markers: empty documents are skipped, two real documents are an error', async (t) => {
  const body = 'privateNodes: {enabled: true}\ncontrolPlane:\n  endpoint: 10.100.0.100:8443\n  advanced: {kubeVip: {enabled: true, interface: eth0, gateway: 10.100.0.1/24}}\n'
  t.same(parseVclusterYaml(`---\n${body}...\n`), referenceResult('eth0'))
  t.same(parseVclusterYaml(`---\n---\n${body}---\n`), referenceResult('eth0'))
  const error = await loadVclusterConfig(fixture('two-documents.yaml')).then(
    () => t.fail('two documents accepted'),
    (e: unknown) => e,
  )
  t.type(error, ConfigError)
  const issue = (error as ConfigError).issues[0]
  // Line 6 is the '---' that starts the second document.
  t.match(issue, { path: '', line: 6, column: 1 })
  t.match(issue.message, /2 YAML documents/)
  t.match(issue.expected, /NetworkAttachmentDefinition in their own file/)
})

t.test('an empty file means kube-vip is disabled', async (t) => {
  t.same(parseVclusterYaml(''), { enabled: false, privateNodes: false })
  t.same(parseVclusterYaml('# only a comment\n'), { enabled: false, privateNodes: false })
})

t.test('edge subnets: /31 has no network or broadcast address; a /30 does', async (t) => {
  const config = (endpoint: string, gateway: string) => ({
    privateNodes: { enabled: true },
    controlPlane: { endpoint, advanced: { kubeVip: { enabled: true, interface: 'eth0', gateway } } },
  })
  t.match(parseVclusterConfig(config('192.0.2.0:443', '192.0.2.1/31')), { vip: '192.0.2.0', gateway: { network: '192.0.2.0/31' } })
  t.match(parseVclusterConfig(config('192.0.2.2:443', '192.0.2.1/30')), { vip: '192.0.2.2' })
  t.match(parseVclusterConfig(config('[2001:db8::]:443', '2001:db8::1/127')), { vip: '2001:db8::' })
})

t.test('requireGateway: false lets the library run without policy routing', async (t) => {
  const input = { privateNodes: { enabled: true }, controlPlane: { endpoint: '192.0.2.10:443', advanced: { kubeVip: { enabled: true, interface: 'eth0' } } } }
  const config = parseVclusterConfig(input, 'x', { requireGateway: false })
  t.same(config, { enabled: true, vip: '192.0.2.10', port: 443, family: 4, interface: 'eth0', privateNodes: true })
  // vCluster's own schema requires it, and so does the default.
  t.same(catchConfigError(() => parseVclusterConfig(input)).issues.map((i) => i.path), ['controlPlane.advanced.kubeVip.gateway'])
})

t.test('interface names Linux accepts are accepted', async (t) => {
  for (const name of ['eth0', 'net1', 'ens192', 'br-private', 'eth0.100', 'a', 'fifteen-bytes-x', 'vlan@x']) {
    const config = parseVclusterConfig({
      privateNodes: { enabled: true },
      controlPlane: { endpoint: '10.100.0.100:8443', advanced: { kubeVip: { enabled: true, interface: name, gateway: '10.100.0.1/24' } } },
    })
    t.equal(config.enabled && config.interface, name)
  }
})

t.test('a file that cannot be read is a ConfigError naming the file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vip-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const missing = path.join(dir, 'nope.yaml')
  const error = await loadVclusterConfig(missing).catch((e: unknown) => e)
  t.type(error, ConfigError)
  t.match((error as ConfigError).message, new RegExp(`Invalid ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(1 problem\\)`))
  t.match((error as ConfigError).issues[0].message, /ENOENT/)
  const file = path.join(dir, 'ok.yaml')
  await writeFile(file, 'privateNodes: {enabled: true}\n')
  t.same(await loadVclusterConfig(file), { enabled: false, privateNodes: true })
})

