#!/usr/bin/env node
// Loads the addon from one build directory and prints, one line each, what its
// pure code produces for fixed inputs: the frame builders (native/frames.cc),
// the frame parser, and the rtnetlink codec (native/netlink.cc). Run by two
// node binaries of different arches (the arm64 one under qemu-user), the two
// outputs must be byte-identical: `diff` is the check (scripts/check-arm64.sh).
// A last line reads the loopback addresses through a netlink socket, so the
// socket path is exercised too (read-only, the current namespace).
//
// Usage: node scripts/native-selftest.js <dir holding vip_announcer.node>
'use strict'
const path = require('node:path')

const dir = process.argv[2]
if (!dir) {
  process.stderr.write('usage: native-selftest.js <build dir>\n')
  process.exit(2)
}
const addon = require(path.resolve(dir, 'vip_announcer.node'))

const mac = Buffer.from('02005e0000fe', 'hex')
const ip4 = Buffer.from([192, 0, 2, 100])
const ip6 = Buffer.from('20010db8000000000000000000000100', 'hex')
const out = []
const line = (name, value) => out.push(`${name} ${Buffer.isBuffer(value) ? value.toString('hex') : JSON.stringify(value)}`)

const frames = {
  'garp-request': addon.buildGratuitousArp('request', mac, ip4),
  'garp-reply': addon.buildGratuitousArp('reply', mac, ip4),
  'arp-probe': addon.buildArpProbe(mac, ip4),
  'unsolicited-na': addon.buildNeighbourAdvertisement(mac, ip6),
  'dad-ns': addon.buildNeighbourSolicitation(mac, ip6),
}
for (const [name, frame] of Object.entries(frames)) {
  line(name, frame)
  line(`${name}.parsed`, addon.parseFrame(frame))
}
// An 802.1Q-tagged copy and a truncated one: the parser's other branches.
const garp = frames['garp-request']
line('vlan.parsed', addon.parseFrame(Buffer.concat([garp.subarray(0, 12), Buffer.from('8100002a', 'hex'), garp.subarray(12)])))
line('truncated.parsed', addon.parseFrame(garp.subarray(0, 20)))

// Full field objects, as src/net/request-fields.ts builds them: the addon
// decides no default (every key present, null for absent).
const requests = [
  addon.encodeAddressRequest('add', { index: 2, family: 4, address: '192.0.2.10', prefixLength: 24, label: 'eth0:vip', nodad: false, preferredLifetime: null, validLifetime: null }),
  addon.encodeAddressRequest('add', { index: 7, family: 6, address: '2001:db8::10', prefixLength: 64, label: null, nodad: true, preferredLifetime: 100, validLifetime: 200 }),
  addon.encodeRouteRequest('add', { family: 4, table: 70000, destination: null, destinationLength: 0, gateway: '192.0.2.1', index: 3, scope: 0, source: '192.0.2.100', protocol: 4, type: 1, onlink: true, metric: 10 }),
  addon.encodeRuleRequest('add', { family: 4, source: '192.0.2.100', sourceLength: 32, table: 100, priority: 100 }),
  addon.encodeRuleRequest('delete', { family: 6, source: null, sourceLength: 0, table: 1000, priority: 5 }),
]
requests.forEach((request, i) => line(`request.${i}`, request))
line('decoded', addon.decodeMessages(Buffer.concat(requests)))

const socket = new addon.NetlinkSocket()
try {
  const lo = socket.listAddresses({ family: 4, index: 1 }).map((a) => `${a.address}/${a.prefixLength}`)
  line('netlink.lo', lo)
} finally {
  socket.close()
}
process.stdout.write(out.join('\n') + '\n')
