// Pure tests of the rtnetlink codec (native/netlink.cc) through the addon's
// pure exports: request bytes against vectors computed by hand from the kernel
// headers, decode round trips, and hostile input. No kernel, no root.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { addon } from '../src/net/binding'
import { Netlink } from '../src/net'

const codec = addon as {
  encodeAddressRequest(op: string, spec: object): Buffer
  encodeRouteRequest(op: string, spec: object): Buffer
  encodeRuleRequest(op: string, spec: object): Buffer
  decodeMessages(buffer: Uint8Array): any[]
}

// The binding reads every field of a request explicitly (null: not in the
// message) and decides none; these fill what a case leaves out with "absent",
// never with a meaning (src/net/request-fields.ts builds the real ones).
const addrFields = (fields: object) => ({ label: null, nodad: false, preferredLifetime: null, validLifetime: null, ...fields })
const routeFields = (fields: object) => ({ destination: null, gateway: null, index: null, source: null, onlink: false, metric: null, ...fields })
const ruleFields = (fields: object) => ({ source: null, ...fields })

// Builds a buffer from hex fragments; whitespace and comments-by-position only.
const hex = (...parts: string[]) => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex')

t.test('RTM_NEWADDR: 192.0.2.10/24 label eth0:vip on ifindex 2', async (t) => {
  const bytes = codec.encodeAddressRequest('add', addrFields({ index: 2, family: 4, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' }))
  const expected = hex(
    '38000000', // nlmsg_len 56 = 16 header + 8 ifaddrmsg + 8 + 8 + 16
    '1400', // RTM_NEWADDR (20)
    '0106', // NLM_F_REQUEST | NLM_F_EXCL (0x200) | NLM_F_CREATE (0x400)
    '00000000 00000000', // seq, port: filled in by the sender
    '02 18 00 00', // AF_INET, prefixlen 24, flags 0, scope universe
    '02000000', // ifa_index 2
    '0800 0200 c000020a', // IFA_LOCAL 192.0.2.10
    '0800 0100 c000020a', // IFA_ADDRESS 192.0.2.10 (no peer)
    '0d00 0300 657468303a76697000 000000', // IFA_LABEL "eth0:vip\0", padded to 4
  )
  t.equal(bytes.toString('hex'), expected.toString('hex'))
})

t.test('RTM_NEWADDR: 2001:db8::10/64 nodad, lifetimes 100/200 on ifindex 7; RTM_DELADDR', async (t) => {
  const spec = addrFields({ index: 7, family: 6, address: '2001:db8::10', prefixLength: 64, nodad: true, preferredLifetime: 100, validLifetime: 200 })
  const address = '20010db8000000000000000000000010'
  t.equal(
    codec.encodeAddressRequest('add', spec).toString('hex'),
    hex(
      '5c000000 1400 0106 00000000 00000000', // 92 = 16 + 8 + 20 + 20 + 8 + 20
      '0a 40 02 00 07000000', // AF_INET6 (10), /64, ifa_flags IFA_F_NODAD, ifindex 7
      `1400 0200 ${address}`, // IFA_LOCAL
      `1400 0100 ${address}`, // IFA_ADDRESS
      '0800 0800 02000000', // IFA_FLAGS = IFA_F_NODAD
      '1400 0600 64000000 c8000000 00000000 00000000', // IFA_CACHEINFO preferred 100, valid 200
    ).toString('hex'),
  )
  t.equal(
    codec.encodeAddressRequest('delete', addrFields({ index: 7, family: 6, address: '2001:db8::10', prefixLength: 64 })).toString('hex'),
    hex('40000000 1500 0100 00000000 00000000', '0a 40 00 00 07000000', `1400 0200 ${address}`, `1400 0100 ${address}`).toString('hex'),
    'RTM_DELADDR (21), NLM_F_REQUEST only, 64 = 16 + 8 + 20 + 20 bytes',
  )
})

t.test('RTM_NEWROUTE: 192.0.2.0/24 dev #3 table 100; default via 192.0.2.1 table 70000 onlink', async (t) => {
  t.equal(
    codec.encodeRouteRequest('add', routeFields({ family: 4, table: 100, destination: '192.0.2.0', destinationLength: 24, index: 3, scope: 253, protocol: 4, type: 1 })).toString('hex'),
    hex(
      '2c000000 1800 0106 00000000 00000000', // 44 bytes, RTM_NEWROUTE (24)
      '02 18 00 00', // AF_INET, dst_len 24, src_len 0, tos 0
      '64 04 fd 01', // table 100, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST
      '00000000', // rtm_flags
      '0800 0100 c0000200', // RTA_DST 192.0.2.0
      '0800 0400 03000000', // RTA_OIF 3
    ).toString('hex'),
  )
  t.equal(
    codec
      .encodeRouteRequest('add', routeFields({ family: 4, table: 70000, destinationLength: 0, gateway: '192.0.2.1', index: 3, scope: 0, source: '192.0.2.100', protocol: 4, type: 1, onlink: true, metric: 10 }))
      .toString('hex'),
    hex(
      '44000000 1800 0106 00000000 00000000', // 68 = 16 + 12 + 5 attributes of 8
      '02 00 00 00', // AF_INET, default
      '00 04 00 01', // rtm_table RT_TABLE_UNSPEC (id > 255 goes in RTA_TABLE), static, universe, unicast
      '04000000', // RTNH_F_ONLINK
      '0800 0500 c0000201', // RTA_GATEWAY 192.0.2.1
      '0800 0400 03000000', // RTA_OIF 3
      '0800 0700 c0000264', // RTA_PREFSRC 192.0.2.100
      '0800 0600 0a000000', // RTA_PRIORITY 10
      '0800 0f00 70110100', // RTA_TABLE 70000 (0x11170)
    ).toString('hex'),
  )
  t.equal(
    codec.encodeRouteRequest('delete', routeFields({ family: 4, table: 100, destination: '192.0.2.0', destinationLength: 24, scope: 255, protocol: 0, type: 0 })).toString('hex'),
    hex('24000000 1900 0100 00000000 00000000', '02 18 00 00', '64 00 ff 00', '00000000', '0800 0100 c0000200').toString('hex'),
    'RTM_DELROUTE (25): protocol 0, scope nowhere, type 0 are wildcards',
  )
})

t.test('RTM_NEWRULE: from 192.0.2.100/32 lookup 100 priority 100', async (t) => {
  t.equal(
    codec.encodeRuleRequest('add', ruleFields({ family: 4, source: '192.0.2.100', sourceLength: 32, table: 100, priority: 100 })).toString('hex'),
    hex(
      '2c000000 2000 0106 00000000 00000000', // 44 bytes, RTM_NEWRULE (32)
      '02 00 20 00', // AF_INET, dst_len 0, src_len 32, tos 0
      '64 00 00 01', // table 100, res1, res2, FR_ACT_TO_TBL
      '00000000', // flags
      '0800 0200 c0000264', // FRA_SRC 192.0.2.100
      '0800 0600 64000000', // FRA_PRIORITY 100
    ).toString('hex'),
  )
  t.equal(
    codec.encodeRuleRequest('delete', ruleFields({ family: 6, sourceLength: 0, table: 1000, priority: 5 })).toString('hex'),
    hex('2c000000 2100 0100 00000000 00000000', '0a 00 00 00', '00 00 00 01', '00000000', '0800 0600 05000000', '0800 0f00 e8030000').toString('hex'),
    'RTM_DELRULE (33), from all, table 1000 in FRA_TABLE',
  )
})

t.test('the binding reads fields by table: a missing, null or mistyped field is an internal error', async (t) => {
  const internal = (field: string) => ({ name: 'TypeError', code: 'ERR_INTERNAL_REQUEST_FIELD', field })
  const v4 = addrFields({ index: 1, family: 4, address: '192.0.2.1', prefixLength: 24 })
  // What a C field cannot hold.
  t.throws(() => codec.encodeAddressRequest('add', { ...v4, index: 0 }), internal('index'), 'ifindex 0')
  t.throws(() => codec.encodeAddressRequest('add', { ...v4, prefixLength: 33 }), internal('prefixLength'), 'an IPv4 prefix of 33 bits')
  t.throws(() => codec.encodeAddressRequest('add', { ...v4, address: '2001:db8::1' }), internal('address'), 'an IPv6 address in an IPv4 request')
  t.throws(() => codec.encodeAddressRequest('add', { ...v4, label: 'x'.repeat(16) }), internal('label'), 'a label longer than IFNAMSIZ')
  t.throws(() => codec.encodeRouteRequest('add', routeFields({ family: 4, table: 5, destinationLength: 0, gateway: '192.0.2.1', scope: 256, protocol: 4, type: 1 })), internal('scope'), 'scope above 255')
  t.throws(() => codec.encodeRuleRequest('replace', ruleFields({ family: 4, sourceLength: 0, table: 5, priority: 1 })), internal('op'), "a rule has no 'replace'")
  // A field TypeScript forgot, passed as null where the message needs it, or of the wrong type: never a default.
  const { nodad: _, ...withoutNodad } = v4
  t.throws(() => codec.encodeAddressRequest('add', withoutNodad), internal('nodad'), 'missing')
  t.throws(() => codec.encodeAddressRequest('add', { ...v4, prefixLength: null }), internal('prefixLength'), 'null but required')
  t.throws(() => codec.encodeAddressRequest('add', { ...v4, family: '4' }), internal('family'), 'a string family')
  t.throws(() => codec.encodeRouteRequest('add', routeFields({ family: 4, table: 5, destinationLength: 0, gateway: '192.0.2.1', protocol: 4, type: 1 })), internal('scope'), 'a route without scope')
  t.throws(() => codec.encodeRouteRequest('delete', routeFields({ family: 4, table: 5, destinationLength: 0, scope: 255, protocol: 0 })), internal('type'), 'a delete without type')
  t.throws(() => codec.encodeRuleRequest('add', ruleFields({ family: 4, sourceLength: 0, table: 5 })), internal('priority'), 'a rule without priority')
})

t.test('what a request may mean is refused by the facade, before the binding', async (t) => {
  // These were the binding's second line of defence; the binding now decides
  // nothing, so the facade is the one place that refuses them.
  const nl = Netlink.open()
  t.teardown(() => nl.close())
  t.throws(() => nl.encodeRuleRequest('add', { family: 4, table: 5, priority: 0 }), { code: 'ERR_OUT_OF_RANGE', field: 'priority' })
  t.throws(() => nl.encodeRouteRequest('add', { family: 4, table: 0, destination: 'default', gateway: '192.0.2.1' }), { code: 'ERR_OUT_OF_RANGE', field: 'table' })
  t.throws(() => nl.encodeRouteRequest('add', { table: 5, destination: '192.0.2.0/24' }), { code: 'ERR_INVALID_ARG_VALUE', field: 'link' })
  t.throws(() => nl.encodeAddressRequest('add', { link: 1, address: '192.0.2.1', prefixLength: 33 }), { code: 'ERR_OUT_OF_RANGE', field: 'prefixLength' })
  t.throws(() => nl.encodeAddressRequest('add', { link: 0, address: '192.0.2.1', prefixLength: 24 }), { code: 'ERR_OUT_OF_RANGE', field: 'link' })
  t.throws(() => nl.encodeAddressRequest('add', { link: 1, address: '192.0.2.1', prefixLength: 24, label: 'x'.repeat(16) }), { name: 'TypeError', field: 'label' })
})

t.test('the facade passes every field: what the binding used to fill in is decided in TypeScript', async (t) => {
  const nl = Netlink.open()
  t.teardown(() => nl.close())
  // A route add without scope or protocol: 'link' scope without a gateway, 'universe' with one, static, unicast.
  t.equal(
    nl.encodeRouteRequest('add', { table: 100, destination: '192.0.2.0/24', link: 1 }).toString('hex'),
    codec.encodeRouteRequest('add', routeFields({ family: 4, table: 100, destination: '192.0.2.0', destinationLength: 24, index: 1, scope: 253, protocol: 4, type: 1 })).toString('hex'),
  )
  t.equal(
    nl.encodeRouteRequest('add', { table: 100, destination: 'default', gateway: '192.0.2.1' }).toString('hex'),
    codec.encodeRouteRequest('add', routeFields({ family: 4, table: 100, destinationLength: 0, gateway: '192.0.2.1', scope: 0, protocol: 4, type: 1 })).toString('hex'),
  )
  // A delete leaves what it does not name to the kernel's wildcards; table main when not given.
  t.equal(
    nl.encodeRouteRequest('delete', { destination: '192.0.2.0/24' }).toString('hex'),
    codec.encodeRouteRequest('delete', routeFields({ family: 4, table: 254, destination: '192.0.2.0', destinationLength: 24, scope: 255, protocol: 0, type: 0 })).toString('hex'),
  )
  // A lone validLifetime sets the preferred one too.
  t.equal(
    nl.encodeAddressRequest('add', { link: 1, address: '2001:db8::10', prefixLength: 64, validLifetime: 9 }).toString('hex'),
    codec.encodeAddressRequest('add', addrFields({ index: 1, family: 6, address: '2001:db8::10', prefixLength: 64, preferredLifetime: 9, validLifetime: 9 })).toString('hex'),
  )
  // nodad is IPv6-only: asked for on IPv4, nothing is sent.
  t.equal(
    nl.encodeAddressRequest('add', { link: 1, address: '192.0.2.10', prefixLength: 24, nodad: true }).toString('hex'),
    codec.encodeAddressRequest('add', addrFields({ index: 1, family: 4, address: '192.0.2.10', prefixLength: 24 })).toString('hex'),
  )
})

t.test('decode round trips', async (t) => {
  const address = codec.encodeAddressRequest('add', addrFields({ index: 7, family: 6, address: '2001:db8::10', prefixLength: 64, nodad: true, preferredLifetime: 100, validLifetime: 200 }))
  const route = codec.encodeRouteRequest('add', routeFields({ family: 4, table: 70000, destinationLength: 0, gateway: '192.0.2.1', index: 3, scope: 0, source: '192.0.2.100', protocol: 4, type: 1, onlink: true, metric: 10 }))
  const rule = codec.encodeRuleRequest('delete', ruleFields({ family: 4, source: '198.51.100.0', sourceLength: 24, table: 100, priority: 100 }))
  const decoded = codec.decodeMessages(Buffer.concat([address, route, rule]))
  t.equal(decoded.length, 3)
  t.match(decoded[0], {
    type: 'address',
    action: 'add',
    messageType: 20,
    address: {
      index: 7, family: 6, address: '2001:db8::10', prefixLength: 64, scope: 'global',
      flags: { nodad: true, permanent: false }, preferredLifetime: 100, validLifetime: 200,
    },
  })
  t.same(decoded[1].route, {
    table: 70000, family: 4, destination: '0.0.0.0/0', prefixLength: 0, gateway: '192.0.2.1', index: 3,
    scope: 'universe', source: '192.0.2.100', protocol: 4, metric: 10, type: 'unicast', onlink: true,
  })
  t.same(decoded[2], {
    type: 'rule', action: 'delete', messageType: 33, flags: 1, seq: 0,
    rule: { family: 4, source: '198.51.100.0/24', sourceLength: 24, table: 100, priority: 100, action: 'lookup' },
  })
})

t.test('decodes neighbour notifications (RTM_NEWNEIGH / RTM_DELNEIGH); bridge FDB entries are "other"', async (t) => {
  const stale = hex(
    '30000000 1c00 0000 00000000 00000000', // RTM_NEWNEIGH; 48 = 16 + 12 + 8 + 12
    '02 00 0000 03000000 0400 00 01', // ndmsg: AF_INET, ifindex 3, NUD_STALE, RTN_UNICAST
    '0800 0100 c0000264', // NDA_DST 192.0.2.100
    '0a00 0200 02000000 0b01 0000', // NDA_LLADDR 02:00:00:00:0b:01, padded
  )
  t.same(codec.decodeMessages(stale), [{
    type: 'neighbour', action: 'add', messageType: 28, flags: 0, seq: 0,
    neighbour: { index: 3, family: 4, address: '192.0.2.100', mac: '02:00:00:00:0b:01', state: 4 },
  }])
  const gone = hex(
    '30000000 1d00 0000 00000000 00000000', // RTM_DELNEIGH; 48 = 16 + 12 + 20
    '0a 00 0000 03000000 2000 00 01', // AF_INET6, NUD_FAILED
    '1400 0100 20010db8000000000000000000000064', // NDA_DST 2001:db8::64, no lladdr
  )
  t.same(codec.decodeMessages(gone), [{
    type: 'neighbour', action: 'delete', messageType: 29, flags: 0, seq: 0,
    neighbour: { index: 3, family: 6, address: '2001:db8::64', state: 0x20 },
  }])
  const fdb = hex('28000000 1c00 0000 00000000 00000000', '07 00 0000 03000000 8000 02 00', '0a00 0200 02000000 0b01 0000')
  t.match(codec.decodeMessages(fdb), [{ type: 'other', messageType: 28 }])
  const wrongSize = hex('30000000 1c00 0000 00000000 00000000', '02 00 0000 03000000 0400 00 01', '1400 0100 20010db8000000000000000000000064')
  t.throws(() => codec.decodeMessages(wrongSize), { code: 'ERR_NETLINK_MALFORMED', message: /NDA_DST has a 16-byte payload/ }, 'an IPv6-sized NDA_DST in an IPv4 entry')
})

t.test('decodes a NACK with extended-ACK text', async (t) => {
  const nack = hex(
    '30000000 0200 0003 05000000 00000000', // NLMSG_ERROR, NLM_F_CAPPED|NLM_F_ACK_TLVS, seq 5; 48 = 16 + 4 + 16 + 12
    'efffffff', // error -17
    '2c000000 1400 0506 05000000 00000000', // the request's header (capped: header only)
    '0900 0100 626f6f6d00 000000', // NLMSGERR_ATTR_MSG "boom"
  )
  t.same(codec.decodeMessages(nack), [{ type: 'error', errno: -17, code: 'EEXIST', message: 'boom', messageType: 2, flags: 0x300, seq: 5 }])
  const ack = hex('24000000 0200 0001 06000000 00000000', '00000000', '10000000 1400 0506 06000000 00000000')
  t.same(codec.decodeMessages(ack), [{ type: 'ack', messageType: 2, flags: 0x100, seq: 6 }])
})

// Every strict prefix of a valid batch is malformed (a message's nlmsg_len
// promises more than is there), and must be reported, never read past.
t.test('truncated buffers are rejected without reading out of bounds', async (t) => {
  const message = codec.encodeAddressRequest('add', addrFields({ index: 2, family: 4, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' }))
  t.same(codec.decodeMessages(Buffer.alloc(0)), [])
  let rejected = 0
  for (let length = 1; length < message.length; length++) {
    // A fresh copy, so the bytes after `length` really are not there.
    const truncated = Uint8Array.prototype.slice.call(message, 0, length)
    t.throws(() => codec.decodeMessages(truncated), { code: 'ERR_NETLINK_MALFORMED' }, `length ${length}`)
    rejected++
  }
  t.equal(rejected, message.length - 1)
})

t.test('malformed fields are rejected with a reason', async (t) => {
  const base = () => codec.encodeAddressRequest('add', addrFields({ index: 2, family: 4, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' }))
  const cases: Array<[string, (b: Buffer) => void, RegExp]> = [
    ['nlmsg_len below the header', (b) => b.writeUInt32LE(8, 0), /nlmsg_len 8/],
    ['attribute longer than the message', (b) => b.writeUInt16LE(200, 40), /attribute at byte 40 has length 200 \(16 bytes left\)/],
    ['attribute shorter than its header', (b) => b.writeUInt16LE(2, 24), /has length 2/],
    ['IFA_LOCAL with 3 bytes', (b) => b.writeUInt16LE(7, 24), /IFA_LOCAL has a 3-byte payload/],
    ['IPv4 prefix length 33', (b) => (b[17] = 33), /ifa_prefixlen 33 exceeds/],
    ['payload shorter than ifaddrmsg', (b) => { b.writeUInt32LE(20, 0) }, /nlmsg_len 20 does not match|shorter/],
  ]
  for (const [name, corrupt, reason] of cases) {
    const bytes = base()
    corrupt(bytes)
    t.throws(() => codec.decodeMessages(bytes), { code: 'ERR_NETLINK_MALFORMED', message: reason }, name)
  }
  // A message that is short but honest about it: 20 bytes of an RTM_NEWADDR.
  const short = base().subarray(0, 20)
  short.writeUInt32LE(20, 0)
  t.throws(() => codec.decodeMessages(short), { code: 'ERR_NETLINK_MALFORMED', message: /shorter than ifaddrmsg/ })
  // Unaligned views are read byte by byte, not through misaligned pointers.
  const unaligned = Buffer.concat([Buffer.alloc(1), base()]).subarray(1)
  t.equal(codec.decodeMessages(unaligned)[0].address.label, 'eth0:vip')
  t.throws(() => codec.decodeMessages('not a buffer' as any), TypeError)
})

t.test('random and mutated input never crashes the decoder', async (t) => {
  const seeds = [
    codec.encodeAddressRequest('add', addrFields({ index: 2, family: 4, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip' })),
    codec.encodeAddressRequest('add', addrFields({ index: 7, family: 6, address: '2001:db8::10', prefixLength: 64, nodad: true, preferredLifetime: 9, validLifetime: 9 })),
    codec.encodeRouteRequest('add', routeFields({ family: 6, table: 70000, destination: '2001:db8::', destinationLength: 32, gateway: '2001:db8::1', index: 3, scope: 0, protocol: 4, type: 1, metric: 1 })),
    codec.encodeRuleRequest('add', ruleFields({ family: 4, source: '192.0.2.100', sourceLength: 32, table: 100, priority: 100 })),
  ]
  let decoded = 0
  let rejected = 0
  const iterations = 20000
  for (let i = 0; i < iterations; i++) {
    let input: Buffer
    if (i % 4 === 0) {
      input = randomBytes(i % 97)
    } else {
      input = Buffer.from(seeds[i % seeds.length])
      for (let flips = 1 + (i % 4); flips > 0; flips--) input[(input.length * Math.random()) | 0] = (Math.random() * 256) | 0
      if (i % 3 === 0) input = input.subarray(0, (input.length * Math.random()) | 0)
    }
    try {
      codec.decodeMessages(input)
      decoded++
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_NETLINK_MALFORMED') throw error
      rejected++
    }
  }
  t.equal(decoded + rejected, iterations)
  t.ok(decoded > 0 && rejected > 0, `both outcomes happen (decoded ${decoded}, rejected ${rejected})`)
})
