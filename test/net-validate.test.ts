// Pure tests of the input validators (no kernel involved, no root needed).
import t from 'tap'
import {
  parseAddress,
  parseCidr,
  validateAddressSpec,
  validateLinkName,
  validateLinkRef,
  validateRouteSpec,
  validateRuleSpec,
  validateTable,
  validateRulePriority,
  networkAddress,
} from '../src/net/validate'

t.test('parseAddress canonicalises and rejects what the kernel would misread', async (t) => {
  t.same(parseAddress('192.0.2.10'), { family: 4, address: '192.0.2.10' })
  t.same(parseAddress('2001:DB8:0:0::10'), { family: 6, address: '2001:db8::10' })
  t.same(parseAddress('2001:db8:0:0:1:0:0:1'), { family: 6, address: '2001:db8::1:0:0:1' })
  const cases: Array<[unknown, string, RegExp]> = [
    ['192.0.2.300', 'ERR_INVALID_ARG_VALUE', /^address: "192\.0\.2\.300" is not an IPv4 or IPv6 address$/],
    ['192.0.2', 'ERR_INVALID_ARG_VALUE', /is not an IPv4 or IPv6 address/],
    ['0xc0.0.2.1', 'ERR_INVALID_ARG_VALUE', /is not an IPv4 or IPv6 address/],
    ['192.000.2.1', 'ERR_INVALID_ARG_VALUE', /is not an IPv4 or IPv6 address/],
    ['3221225985', 'ERR_INVALID_ARG_VALUE', /is not an IPv4 or IPv6 address/],
    [' 192.0.2.1', 'ERR_INVALID_ARG_VALUE', /is not an IPv4 or IPv6 address/],
    ['::ffff:192.0.2.1', 'ERR_INVALID_ARG_VALUE', /IPv4-mapped.*"192\.0\.2\.1"/],
    ['fe80::1%eth0', 'ERR_INVALID_ARG_VALUE', /zone id/],
    ['192.0.2.1/24', 'ERR_INVALID_ARG_VALUE', /is a prefix/],
    [3221225985, 'ERR_INVALID_ARG_TYPE', /^address: expected an IP address string, received 3221225985$/],
    [undefined, 'ERR_INVALID_ARG_TYPE', /received undefined/],
  ]
  for (const [value, code, message] of cases) {
    t.throws(() => parseAddress(value), { code, field: 'address', message }, `${String(value)} -> ${code}`)
  }
  t.throws(() => parseAddress('2001:db8::1', 'gateway', 4), { code: 'ERR_INVALID_ARG_VALUE', field: 'gateway', message: /is IPv6 but IPv4 is required/ })
})

t.test('parseCidr: networks, bare addresses, host bits, ranges', async (t) => {
  t.same(parseCidr('198.51.100.0/24'), { family: 4, address: '198.51.100.0', prefixLength: 24 })
  t.same(parseCidr('2001:db8::/32'), { family: 6, address: '2001:db8::', prefixLength: 32 })
  t.same(parseCidr('192.0.2.100', 'source', { allowBareAddress: true }), { family: 4, address: '192.0.2.100', prefixLength: 32 })
  t.same(parseCidr('192.0.2.10/24', 'gw', { allowHostBits: true }), { family: 4, address: '192.0.2.10', prefixLength: 24 })
  t.throws(() => parseCidr('198.51.100.1/24', 'destination'), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: 'destination: "198.51.100.1/24" has host bits set (the network is "198.51.100.0/24")',
  })
  t.throws(() => parseCidr('192.0.2.0/33', 'destination'), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError', message: /0 to 32 for IPv4/ })
  t.throws(() => parseCidr('2001:db8::/129', 'destination'), { code: 'ERR_OUT_OF_RANGE', message: /0 to 128 for IPv6/ })
  t.throws(() => parseCidr('192.0.2.0/', 'destination'), { code: 'ERR_INVALID_ARG_VALUE', message: /no valid prefix length/ })
  t.throws(() => parseCidr('192.0.2.0/-1', 'destination'), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => parseCidr('192.0.2.0', 'destination'), { code: 'ERR_INVALID_ARG_VALUE', message: /not in CIDR notation/ })
  t.throws(() => parseCidr('192.0.2.999/24', 'destination'), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: 'destination: "192.0.2.999/24" is not an IPv4 or IPv6 address',
  })
  t.equal(networkAddress({ family: 6, address: '2001:db8::ffff', prefixLength: 120 }), '2001:db8::ff00')
})

t.test('interface names follow the kernel dev_valid_name()', async (t) => {
  for (const name of ['eth0', 'a', 'veth-123456789a', 'br.10', 'ü0']) t.equal(validateLinkName(name), name)
  for (const name of ['', '.', '..', 'abcdefghijklmnop', 'eth0:vip', 'a/b', 'a b', 'a\tb', 'a\0b', 'üüüüüüüü']) {
    t.throws(() => validateLinkName(name), { code: 'ERR_INVALID_ARG_VALUE', field: 'link' }, JSON.stringify(name))
  }
  t.equal(validateLinkRef(3), 3)
  t.throws(() => validateLinkRef(0), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' })
  t.throws(() => validateLinkRef(2 ** 31), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => validateLinkRef(1.5), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => validateLinkRef(true), { code: 'ERR_INVALID_ARG_TYPE', message: 'link: expected an interface name or index, received true' })
})

t.test('tables and priorities', async (t) => {
  for (const table of [1, 100, 253, 254, 255, 256, 0xffffffff]) t.equal(validateTable(table), table)
  for (const table of [0, -1, 0x100000000, 1.5, NaN, Infinity]) t.throws(() => validateTable(table), { code: 'ERR_OUT_OF_RANGE' }, String(table))
  t.throws(() => validateTable('100'), { code: 'ERR_INVALID_ARG_TYPE' })
  t.equal(validateRulePriority(1), 1)
  t.throws(() => validateRulePriority(0), { code: 'ERR_OUT_OF_RANGE', message: /priority: 0 is out of range/ })
})

t.test('address specs', async (t) => {
  t.same(validateAddressSpec({ link: 'eth0', address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip', nodad: true }), {
    link: 'eth0',
    family: 4,
    address: '192.0.2.10',
    prefixLength: 24,
    label: 'eth0:vip',
  }, 'nodad is dropped for IPv4')
  t.same(validateAddressSpec({ link: 2, address: '2001:db8::10', prefixLength: 64, nodad: true, validLifetime: 60 }), {
    link: 2,
    family: 6,
    address: '2001:db8::10',
    prefixLength: 64,
    nodad: true,
    preferredLifetime: 60,
    validLifetime: 60,
  }, 'a lone validLifetime sets preferred too')
  t.same(validateAddressSpec({ link: 2, address: '2001:db8::10', prefixLength: 64, preferredLifetime: 0 }).validLifetime, 0xffffffff)
  t.throws(() => validateAddressSpec({ link: 'eth0', address: '192.0.2.10', prefixLength: 64 }), {
    code: 'ERR_OUT_OF_RANGE',
    message: 'prefixLength: 64 is out of range (0 to 32 for IPv4)',
  })
  t.throws(() => validateAddressSpec({ link: 'eth0', address: '2001:db8::1', prefixLength: 64, label: 'eth0:x' }), { code: 'ERR_INVALID_ARG_VALUE', field: 'label' })
  t.throws(() => validateAddressSpec({ link: 'eth0', address: '192.0.2.1', prefixLength: 24, label: 'eth0:0123456789a' }), { field: 'label', message: /1 to 15 bytes/ })
  t.throws(() => validateAddressSpec({ link: 'eth0', address: '2001:db8::1', prefixLength: 64, preferredLifetime: 100, validLifetime: 50 }), {
    code: 'ERR_OUT_OF_RANGE',
    field: 'preferredLifetime',
  })
  t.throws(() => validateAddressSpec({ link: 'eth0', address: '2001:db8::1', prefixLength: 64, validLifetime: 0 }), { code: 'ERR_OUT_OF_RANGE', field: 'validLifetime' })
  t.throws(() => validateAddressSpec({ link: 'eth0', address: '2001:db8::1', prefixLength: 64, nodad: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE', field: 'nodad' })
  t.throws(() => validateAddressSpec(null), { code: 'ERR_INVALID_ARG_TYPE', field: 'spec' })
})

t.test('route specs', async (t) => {
  t.same(validateRouteSpec({ table: 100, destination: '192.0.2.0/24', link: 'eth0' }), {
    family: 4, table: 100, destination: '192.0.2.0', destinationLength: 24, link: 'eth0', scope: 253, protocol: 4,
  })
  t.same(validateRouteSpec({ table: 100, destination: 'default', gateway: '192.0.2.1', link: 'eth0', source: '192.0.2.100' }), {
    family: 4, table: 100, destinationLength: 0, gateway: '192.0.2.1', source: '192.0.2.100', link: 'eth0', scope: 0, protocol: 4,
  })
  t.same(validateRouteSpec({ destination: 'default', family: 6 }, 'delete'), { family: 6, table: 254, destinationLength: 0 },
    'a delete names only what it matches')
  t.same(validateRouteSpec({ destination: '2001:db8::1', link: 1 }).destinationLength, 128, 'bare address: host route')
  t.throws(() => validateRouteSpec({ destination: 'default', link: 'eth0' }), { field: 'family', message: /required for a 'default' route/ })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24' }), { field: 'link', message: /required for a route without a gateway/ })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24', gateway: '2001:db8::1' }), { field: 'gateway', code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => validateRouteSpec({ destination: 'default', gateway: '192.0.2.1', source: '2001:db8::1' }), { field: 'source', code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24', link: 'eth0', onlink: true }), { field: 'onlink', message: /needs a gateway/ })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24', link: 'eth0', scope: 'global' }), { field: 'scope', code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24', link: 'eth0', protocol: 256 }), { field: 'protocol', code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24', link: 'eth0', metric: -1 }), { field: 'metric', code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => validateRouteSpec({ destination: '192.0.2.0/24', link: 'eth0', family: 6 }), { field: 'destination', message: /is IPv4 but IPv6/ })
})

t.test('rule specs', async (t) => {
  t.same(validateRuleSpec({ source: '192.0.2.100', table: 100, priority: 100 }), { family: 4, source: '192.0.2.100', sourceLength: 32, table: 100, priority: 100 })
  t.same(validateRuleSpec({ family: 6, table: 100, priority: 100 }), { family: 6, sourceLength: 0, table: 100, priority: 100 })
  t.throws(() => validateRuleSpec({ table: 100, priority: 100 }), { field: 'family', code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => validateRuleSpec({ source: '192.0.2.100/32', table: 0, priority: 100 }), { field: 'table', code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => validateRuleSpec({ source: '192.0.2.100/32', table: 100 }), { field: 'priority', code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => validateRuleSpec({ source: '192.0.2.100/32', family: 6, table: 100, priority: 1 }), { field: 'source', code: 'ERR_INVALID_ARG_VALUE' })
})
