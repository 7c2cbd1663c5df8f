// Issue 11, item 10: the API accepts exactly what the configuration accepts
// for the VIP and the gateway (one implementation of each rule, in
// src/config/addresses.ts), malformed `announce` and `cleanStaleOnStart`
// values are refused naming the field, and probeAddress refuses a timeout
// setTimeout cannot wait (above 2^31-1 ms it fires at once: "nobody answered").
import t from 'tap'
import { accepts } from './support/accepts'
import { ConfigError, parseVclusterConfig } from '../src/config'
import { resolveOptions, type VipAnnouncerOptions } from '../src/options'
import { resolveSchedule } from '../src/schedule'
import { StaticElector } from '../src/electors/static'
import { probeAddress } from '../src/net/capture'
import { validateLinkName } from '../src/net/validate'
import { Lab, namespaceTestOptions } from './lab/lab'
import { twoNeighbours } from './lab/topologies'

const elector = new StaticElector()
const api = (options: Partial<VipAnnouncerOptions>) => resolveOptions({ vip: '192.0.2.100', interface: 'eth0', elector, ...options } as VipAnnouncerOptions)

function apiProblem(vip: string, gateway: string | undefined): string | undefined {
  try {
    api({ vip, gateway })
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

function configProblem(vip: string, gateway: string | undefined): string | undefined {
  const endpoint = vip.includes(':') ? `[${vip}]:8443` : `${vip}:8443`
  const input = {
    privateNodes: { enabled: true },
    controlPlane: { endpoint, advanced: { kubeVip: { enabled: true, interface: 'eth0', ...(gateway ? { gateway } : {}) } } },
  }
  try {
    parseVclusterConfig(input, undefined, { requireGateway: false })
    return undefined
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')
  }
}

// [vip, gateway, the API's message, the config's message]; undefined: accepted.
const cases: Array<[string, string | undefined, RegExp | undefined, RegExp | undefined]> = [
  ['192.0.2.0', '192.0.2.1/24', /^vip: "192\.0\.2\.0" is the network address of 192\.0\.2\.0\/24$/, /^controlPlane\.endpoint: VIP 192\.0\.2\.0 is the network address of 192\.0\.2\.0\/24$/],
  ['192.0.2.255', '192.0.2.1/24', /^vip: "192\.0\.2\.255" is the broadcast address of 192\.0\.2\.0\/24$/, /VIP 192\.0\.2\.255 is the broadcast address of 192\.0\.2\.0\/24/],
  ['2001:db8::', '2001:db8::1/64', /^vip: "2001:db8::" is the subnet-router anycast \(network\) address of 2001:db8::\/64$/, /VIP 2001:db8:: is the subnet-router anycast/],
  ['fe80::10', undefined, /^vip: "fe80::10" is a link-local address \(it needs a zone\) and cannot be a VIP$/, /"fe80::10" is a link-local address \(it needs a zone\) and cannot be a virtual IP/],
  ['192.0.2.100', '192.0.2.1/0', /^gateway: "192\.0\.2\.1\/0" has prefix \/0, which would make every address on-link$/, /kubeVip\.gateway: "192\.0\.2\.1\/0" has prefix \/0, which would make every address on-link/],
  ['2001:db8::100', '2001:db8::1/0', /^gateway: "2001:db8::1\/0" has prefix \/0/, /has prefix \/0/],
  ['192.0.2.100', '192.0.2.1/32', /^gateway: "192\.0\.2\.1\/32" has prefix \/32, which leaves no room for the VIP/, /has prefix \/32, which leaves no room for the VIP/],
  ['192.0.2.100', '192.0.2.0/24', /^gateway: "192\.0\.2\.0\/24" is the network address of 192\.0\.2\.0\/24, not a host$/, /kubeVip\.gateway: "192\.0\.2\.0\/24" is the network address of 192\.0\.2\.0\/24, not a host/],
  ['192.0.2.100', '192.0.2.255/24', /^gateway: "192\.0\.2\.255\/24" is the broadcast address of 192\.0\.2\.0\/24, not a host$/, /"192\.0\.2\.255\/24" is the broadcast address/],
  ['192.0.2.100', '224.0.0.1/24', /^gateway: "224\.0\.0\.1\/24" is a multicast address and cannot be a gateway$/, /"224\.0\.0\.1\/24" is a multicast address and cannot be a gateway/],
  ['192.0.2.1', '192.0.2.1/24', /^vip: "192\.0\.2\.1" is the gateway address itself$/, /VIP 192\.0\.2\.1 is the gateway address itself/],
  ['198.51.100.100', '192.0.2.1/24', /^vip: "198\.51\.100\.100" is outside the gateway's subnet 192\.0\.2\.0\/24$/, /VIP 198\.51\.100\.100 is outside the gateway's subnet 192\.0\.2\.0\/24/],
  // Accepted by both.
  ['192.0.2.100', '192.0.2.1/24', undefined, undefined],
  ['192.0.2.1', '192.0.2.0/31', undefined, undefined],
  ['2001:db8::1', '2001:db8::/127', undefined, undefined],
  ['2001:db8::100', '2001:db8::1/64', undefined, undefined],
  ['192.0.2.100', undefined, undefined, undefined],
  ['169.254.10.10', undefined, undefined, undefined],
]

t.test('VipAnnouncer refuses exactly what the configuration refuses, for the same reason', async (t) => {
  for (const [vip, gateway, apiMessage, configMessage] of cases) {
    const name = `${vip}${gateway ? ` via ${gateway}` : ''}`
    const fromApi = apiProblem(vip, gateway)
    const fromConfig = configProblem(vip, gateway)
    if (apiMessage) t.match(fromApi, apiMessage, `API: ${name}`)
    else t.equal(fromApi, undefined, `API accepts ${name}`)
    if (configMessage) t.match(fromConfig, configMessage, `config: ${name}`)
    else t.equal(fromConfig, undefined, `config accepts ${name}`)
  }
})

t.test('VIP range checks are the config\'s too', async (t) => {
  for (const [vip, reason] of [
    ['0.0.0.0', 'the unspecified address'],
    ['::', 'the unspecified address'],
    ['127.0.0.1', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['224.0.0.18', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'the limited broadcast address'],
    ['fe80::1', 'a link-local address (it needs a zone)'],
  ]) {
    t.throws(() => api({ vip, gateway: undefined }), { code: 'ERR_INVALID_ARG_VALUE', field: 'vip', message: `vip: ${JSON.stringify(vip)} is ${reason} and cannot be a VIP` }, vip)
    t.match(configProblem(vip, undefined), `is ${reason} and cannot be a virtual IP`, `config: ${vip}`)
  }
  t.throws(() => api({ vip: ['192.0.2.100', 'fe80::1'], gateway: undefined }), { field: 'vip[1]', message: /^vip\[1\]: "fe80::1" is a link-local/ })
})

t.test('announce must be an object; cleanStaleOnStart a boolean', async (t) => {
  for (const announce of [null, 'x', 3, true, ['repeats']]) {
    t.throws(() => api({ announce: announce as any }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', field: 'announce', message: /^announce: expected an object such as \{ repeats: 3/ }, `announce: ${JSON.stringify(announce)}`)
    t.throws(() => resolveSchedule(announce as any), { name: 'TypeError', field: 'announce' }, `resolveSchedule(${JSON.stringify(announce)})`)
  }
  t.match(api({ announce: undefined }).schedule, { repeats: 3 }, 'absent: the defaults')
  t.match(api({ announce: {} }).schedule, { repeats: 3 })
  for (const clean of ['no', 'false', 0, 1, null]) {
    t.throws(() => api({ cleanStaleOnStart: clean as any }), { code: 'ERR_INVALID_ARG_TYPE', field: 'cleanStaleOnStart', message: /^cleanStaleOnStart: expected a boolean/ }, `cleanStaleOnStart: ${JSON.stringify(clean)}`)
  }
  t.equal(api({ cleanStaleOnStart: false }).cleanStaleOnStart, false)
  t.equal(api({}).cleanStaleOnStart, true)
})

t.test('probeAddress refuses a timeout setTimeout cannot wait', async (t) => {
  for (const timeoutMs of [2 ** 31, 2 ** 31 + 5, 1e12]) {
    await t.rejects(probeAddress({ link: 'eth0', ip: '192.0.2.1', timeoutMs }), {
      name: 'RangeError',
      message: /^timeoutMs: expected a positive number of milliseconds up to 2147483647/,
    }, String(timeoutMs))
  }
})

t.test('probeAddress with the largest timeout on a real link: refused, not "nobody" at once', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const { a } = twoNeighbours(lab)
  const started = Date.now()
  const outcome = await probeAddress({ link: 'eth0', netns: a.path, ip: '192.0.2.77', timeoutMs: 2 ** 31 }).then(
    (result) => ({ result }),
    (error: Error) => ({ error }),
  )
  t.match(outcome, { error: { name: 'RangeError', message: /^timeoutMs:/ } }, `after ${Date.now() - started} ms: ${JSON.stringify(outcome)}`)
})

// One interface-name rule (src/net/link-name.ts) for the network facade, the
// configuration and the options: '%' used to pass the API and the facade
// while the configuration refused it.
t.test('interface names: the API, the configuration and the facade agree', async (t) => {
  const configAccepts = (name: string) => {
    try {
      parseVclusterConfig({ privateNodes: { enabled: true }, controlPlane: { endpoint: '192.0.2.100:8443', advanced: { kubeVip: { enabled: true, interface: name } } } }, undefined, { requireGateway: false })
      return true
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return false
    }
  }
  for (const [name, ok] of [['eth0', true], ['br.10', true], ['ü0', true], ['veth-123456789a', true], ['eth%d', false], ['', false], ['.', false], ['a/b', false], ['a:b', false], ['a b', false], ['a\u2003b', false], ['a\0', false], ['averyverylongname', false], ['ethé12345678901', false]] as const) {
    t.equal(configAccepts(name), ok, `config ${ok ? 'accepts' : 'refuses'} ${JSON.stringify(name)}`)
    t.equal(accepts(() => api({ interface: name })), ok, `API ${ok ? 'accepts' : 'refuses'} ${JSON.stringify(name)}`)
    t.equal(accepts(() => validateLinkName(name)), ok, `facade ${ok ? 'accepts' : 'refuses'} ${JSON.stringify(name)}`)
  }
  t.throws(() => api({ interface: 'eth%d' }), { code: 'ERR_INVALID_ARG_VALUE', message: 'interface: "eth%d" contains "%", which Linux rejects in interface names' })
})
