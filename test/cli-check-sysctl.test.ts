// The sysctl rules and the CapEff parser of `check` as pure functions; the
// namespace test (cli-check-lab) runs them against a real kernel.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { hasCapability, parseEffectiveCapabilities } from '../src/cli/check/capabilities'
import { commandPrefix } from '../src/cli/check/checks'
import { shellCommand } from '../src/cli/check/shell'
import { sysctlChecks, sysctlKeys } from '../src/cli/check/sysctl'
import { tempDir } from './support/temp'

function run(values: Record<string, string>, { iface = 'eth0', hasGateway = true, family = 4 as 4 | 6, prefix = '' } = {}) {
  const results = sysctlChecks({ family, iface, values: new Map(Object.entries(values)), hasGateway, commandPrefix: prefix })
  return Object.fromEntries(results.map((r) => [r.id.replace('sysctl ', ''), r]))
}
const v4 = (iface: string, all: Record<string, number>, dev: Record<string, number>) => {
  const values: Record<string, string> = {}
  for (const name of ['arp_ignore', 'arp_announce', 'rp_filter', 'arp_accept']) {
    values[`net/ipv4/conf/all/${name}`] = String(all[name] ?? 0)
    values[`net/ipv4/conf/${iface}/${name}`] = String(dev[name] ?? 0)
  }
  return values
}

t.test('the keys read for each family', async (t) => {
  t.same(sysctlKeys(4, 'net1').filter((k) => k.includes('net1')), ['net/ipv4/conf/net1/arp_ignore', 'net/ipv4/conf/net1/arp_announce', 'net/ipv4/conf/net1/rp_filter', 'net/ipv4/conf/net1/arp_accept'])
  t.same(sysctlKeys(6, 'net1'), ['net/ipv6/conf/all/disable_ipv6', 'net/ipv6/conf/net1/disable_ipv6', 'net/ipv6/conf/all/accept_dad', 'net/ipv6/conf/net1/accept_dad'])
})

t.test('rp_filter: strict warns only without policy routing; the fix names each strict scope', async (t) => {
  const strict = v4('eth0', { rp_filter: 1 }, { rp_filter: 1 })
  t.match(run(strict, { hasGateway: true }).rp_filter, { status: 'PASS', summary: /strict, but the policy rule/ })
  const warned = run(strict, { hasGateway: false, prefix: 'ip netns exec cp ' }).rp_filter
  t.equal(warned.status, 'WARN')
  t.equal(warned.fix, 'ip netns exec cp sysctl -w net.ipv4.conf.all.rp_filter=2 && ip netns exec cp sysctl -w net.ipv4.conf.eth0.rp_filter=2 (loose), or set controlPlane.advanced.kubeVip.gateway')
  // Linux applies max(all, dev): all=2 with dev=1 is loose.
  t.match(run(v4('eth0', { rp_filter: 2 }, { rp_filter: 1 }), { hasGateway: false }).rp_filter, { status: 'PASS', summary: /loose/ })
  t.match(run(v4('eth0', { rp_filter: 0 }, { rp_filter: 1 }), { hasGateway: false }).rp_filter, { status: 'WARN' })
})

t.test('arp_ignore: 2 warns, 8 fails, only the offending scope is in the fix; dotted names use /', async (t) => {
  const two = run(v4('eth0.100', { arp_ignore: 2 }, { arp_ignore: 0 }), { iface: 'eth0.100' }).arp_ignore
  t.equal(two.status, 'WARN')
  t.equal(two.fix, 'sysctl -w net.ipv4.conf.all.arp_ignore=1')
  const both = run(v4('eth0.100', { arp_ignore: 8 }, { arp_ignore: 2 }), { iface: 'eth0.100' }).arp_ignore
  t.equal(both.status, 'FAIL')
  t.equal(both.fix, 'sysctl -w net.ipv4.conf.all.arp_ignore=1 && sysctl -w net.ipv4.conf.eth0/100.arp_ignore=1')
  for (const ok of [0, 1, 3]) t.equal(run(v4('eth0', {}, { arp_ignore: ok })).arp_ignore.status, 'PASS', `arp_ignore=${ok}`)
})

t.test('arp_announce and arp_accept never fail; unreadable values warn', async (t) => {
  for (const value of [0, 1, 2]) {
    const result = run(v4('eth0', { arp_announce: value, arp_accept: value }, {}))
    t.equal(result.arp_announce.status, 'PASS')
    t.equal(result.arp_accept.status, 'PASS')
  }
  t.match(run({}).arp_ignore, { status: 'WARN', summary: /could not read \(all=\?, eth0=\?\)/ })
})

t.test('IPv6: disable_ipv6 fails, a kernel without IPv6 fails, accept_dad=2 warns', async (t) => {
  const values = { 'net/ipv6/conf/all/disable_ipv6': '0', 'net/ipv6/conf/net1/disable_ipv6': '1', 'net/ipv6/conf/net1/accept_dad': '2' }
  const result = run(values, { family: 6, iface: 'net1' })
  t.match(result.disable_ipv6, { status: 'FAIL', fix: 'sysctl -w net.ipv6.conf.net1.disable_ipv6=0' })
  t.match(result.accept_dad, { status: 'WARN', fix: 'sysctl -w net.ipv6.conf.net1.accept_dad=1' })
  t.match(run({}, { family: 6 }).disable_ipv6, { status: 'FAIL', summary: /not available in this kernel/ })
})

t.test('CapEff parsing', async (t) => {
  const status = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000003000\nCapBnd:\t000001ffffffffff\n'
  const effective = parseEffectiveCapabilities(status)
  t.equal(effective, 0x3000n)
  t.ok(hasCapability(effective, 'CAP_NET_ADMIN'))
  t.ok(hasCapability(effective, 'CAP_NET_RAW'))
  t.notOk(hasCapability(effective, 'CAP_SYS_ADMIN'))
  t.throws(() => parseEffectiveCapabilities('Name:\tx\n'), /no CapEff/)
})

t.test('fix commands run in the checked namespace', async (t) => {
  t.equal(commandPrefix(undefined), '')
  t.equal(commandPrefix('/run/netns/cp1'), 'ip netns exec cp1 ')
  t.equal(commandPrefix('/var/run/netns/cp1'), 'ip netns exec cp1 ')
  t.equal(commandPrefix('/proc/4242/ns/net'), 'nsenter --net=/proc/4242/ns/net ')
})

// Linux accepts "$(…)", ";", quotes and backticks in interface names, and a
// namespace path may hold spaces: a pasted fix must hand them to the command
// as data. Judged by running each fix in /bin/sh against stand-ins that
// record their argv, so the shell's own parsing is the witness.
t.test('fix commands quote interface names and namespace paths for the shell', async (t) => {
  const dir = tempDir('vip-shell-')
  const marker = path.join(dir, 'pwned')
  for (const tool of ['sysctl', 'ip', 'nsenter']) {
    writeFileSync(path.join(dir, tool), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >> "${dir}/argv"; printf '\\n' >> "${dir}/argv"\n`, { mode: 0o755 })
  }
  const argvOf = (command: string): string[][] => {
    rmSync(path.join(dir, 'argv'), { force: true })
    execFileSync('/bin/sh', ['-c', command], { env: { PATH: `${dir}:/usr/bin:/bin` } })
    return readFileSync(path.join(dir, 'argv'), 'utf8').split('\n').filter(Boolean).map((line) => line.split('\0').slice(0, -1))
  }
  const iface = `a$(touch ${marker})`
  const hostile = [`a;touch ${marker}`, `a$(touch ${marker})`, "a'b`touch " + marker + '`']
  for (const name of hostile) {
    const fix = run(v4(name, { arp_ignore: 8 }, { arp_ignore: 8 }), { iface: name, prefix: commandPrefix('/tmp/my ns/net') }).arp_ignore.fix!
    t.same(argvOf(fix), [
      ['--net=/tmp/my ns/net', 'sysctl', '-w', 'net.ipv4.conf.all.arp_ignore=1'],
      ['--net=/tmp/my ns/net', 'sysctl', '-w', `net.ipv4.conf.${name}.arp_ignore=1`],
    ], `sysctl fix for ${JSON.stringify(name)}: each word arrives whole`)
    t.notOk(existsSync(marker), `nothing in ${JSON.stringify(name)} ran`)
  }
  t.same(argvOf(`${commandPrefix("/run/netns/a'b")}${shellCommand('ip', 'link', 'set', iface, 'up')}`), [['netns', 'exec', "a'b", 'ip', 'link', 'set', iface, 'up']])
  t.notOk(existsSync(marker))
  const six = run({ 'net/ipv6/conf/all/disable_ipv6': '1', [`net/ipv6/conf/${hostile[1]}/disable_ipv6`]: '1', 'net/ipv6/conf/all/accept_dad': '1', [`net/ipv6/conf/${hostile[1]}/accept_dad`]: '1' }, { iface: hostile[1], family: 6 })
  t.same(argvOf(six.disable_ipv6.fix!), [['-w', `net.ipv6.conf.${hostile[1]}.disable_ipv6=0`]])
  t.notOk(existsSync(marker))
  // Plain names stay readable.
  t.equal(commandPrefix('/run/netns/cp1') + shellCommand('ip', 'link', 'set', 'eth0', 'up'), 'ip netns exec cp1 ip link set eth0 up')
})
