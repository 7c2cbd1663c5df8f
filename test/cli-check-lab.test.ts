// `vip-announcer check` against real network namespaces, run through its real
// entry (node --import tsx src/cli/main.ts) as a child process. The kernel and
// the peers are the witnesses: MACs come from `ip link` of the answering host,
// printed fixes are executed and the check re-run.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { Lab, namespaceTestOptions, type LabHost } from './lab/lab'

const root = path.join(__dirname, '..')
const entry = path.join(root, 'src', 'cli', 'main.ts')

interface Outcome {
  status: number | null
  stdout: string
  stderr: string
  /** The report line of a check: 'PASS  interface  ...'. */
  line(id: string): string
  /** The `fix:` line following a check's line. */
  fix(id: string): string | undefined
}

function runCli(args: string[], prefix: string[] = []): Outcome {
  const command = prefix.length ? prefix[0] : process.execPath
  const argv = [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), '--import', 'tsx', entry, ...args]
  const child = spawnSync(command, argv, { encoding: 'utf8', cwd: root, env: { ...process.env, HOME: tmpdir() }, timeout: 60_000 })
  const lines = child.stdout.split('\n')
  const index = (id: string) => lines.findIndex((l) => new RegExp(`^(PASS|WARN|FAIL) {2}${id.replace(/ /g, ' ')} +`).test(l))
  return {
    status: child.status,
    stdout: child.stdout,
    stderr: child.stderr,
    line: (id) => lines[index(id)] ?? `(no line for ${id} in:\n${child.stdout}${child.stderr})`,
    fix: (id) => {
      const i = index(id)
      if (i < 0) return undefined
      for (let j = i + 1; j < lines.length && /^ /.test(lines[j]); j++) {
        const fix = /^ +fix: (.*)$/.exec(lines[j])
        if (fix) return fix[1]
      }
      return undefined
    },
  }
}

interface Topology {
  lab: Lab
  sw: LabHost
  cp: LabHost
  gw: LabHost
  dir: string
  /** Writes a vcluster.yaml into the test's directory and returns its path. */
  config(name: string, endpoint: string, iface: string, gateway: string): string
}

function topology(t: Test, { v6 = false } = {}): Topology {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const dir = mkdtempSync(path.join(tmpdir(), 'vip-check-'))
  chmodSync(dir, 0o755) // readable by the unprivileged child
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sw = lab.switch('sw')
  const cp = lab.host('cp')
  const gw = lab.host('gw')
  lab.plug(cp, 'eth0', sw, { addresses: v6 ? ['2001:db8::10/64'] : ['192.0.2.10/24'] })
  lab.plug(gw, 'eth0', sw, { addresses: v6 ? ['2001:db8::1/64'] : ['192.0.2.1/24'] })
  return {
    lab,
    sw,
    cp,
    gw,
    dir,
    config(name, endpoint, iface, gateway) {
      const file = path.join(dir, name)
      writeFileSync(
        file,
        `privateNodes:\n  enabled: true\ncontrolPlane:\n  endpoint: "${endpoint}"\n  advanced:\n    kubeVip:\n      enabled: true\n      interface: ${iface}\n      gateway: ${gateway}\n`,
        { mode: 0o644 },
      )
      return file
    },
  }
}

t.test('check in namespaces', namespaceTestOptions(), async (t) => {
  t.test('a good namespace passes; the gateway is found at its real MAC', async (t) => {
    const { cp, gw, config } = topology(t)
    const file = config('good.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24')
    const result = runCli(['check', '--config', file, '--netns', cp.path])
    t.equal(result.status, 0, result.stdout + result.stderr)
    t.match(result.line('config'), /^PASS {2}config +VIP 192\.0\.2\.100:8443 \(IPv4\) on eth0, gateway 192\.0\.2\.1\/24$/)
    t.match(result.line('netns'), /^PASS/)
    t.match(result.line('capabilities'), /^PASS .*CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN effective/)
    t.match(result.line('interface'), new RegExp(`^PASS {2}interface +eth0 \\(index \\d+, ${cp.mac('eth0')}, mtu 1500, up\\) is up with carrier$`))
    t.match(result.line('addresses'), /^PASS .*not configured here.*eth0 has 192\.0\.2\.10\/24/)
    t.match(result.line('packet-socket'), /^PASS .*an AF_PACKET socket opens on eth0/)
    t.match(result.line('vip-free'), /^PASS .*nobody answered for 192\.0\.2\.100 on eth0/)
    for (const name of ['arp_ignore', 'arp_announce', 'rp_filter', 'arp_accept']) t.match(result.line(`sysctl ${name}`), /^PASS /)
    t.equal(result.line('gateway'), `PASS  gateway              192.0.2.1 answers on eth0 (${gw.mac('eth0')})`)
    t.match(result.stdout, /\n12 passed, 0 warnings, 0 failed\n$/)

    const json = runCli(['check', '--config', file, '--netns', cp.name, '--json'])
    t.equal(json.status, 0)
    const report = JSON.parse(json.stdout)
    t.match(report, { ok: true, netns: cp.path, config: { vip: '192.0.2.100', interface: 'eth0' }, counts: { FAIL: 0 } })
    t.equal(report.checks.find((c: { id: string }) => c.id === 'gateway').summary, `192.0.2.1 answers on eth0 (${gw.mac('eth0')})`)
  })

  t.test('a missing interface fails with the interfaces that do exist', async (t) => {
    const { cp, config } = topology(t)
    const result = runCli(['check', '--config', config('net1.yaml', '192.0.2.100:8443', 'net1', '192.0.2.1/24'), '--netns', cp.path])
    t.equal(result.status, 1)
    t.equal(result.line('interface'), `FAIL  interface            net1 does not exist in network namespace ${cp.path} (present: lo, eth0)`)
    t.match(result.fix('interface'), /set controlPlane\.advanced\.kubeVip\.interface to one of: eth0$/)
    t.match(result.line('vip-free'), /^WARN .*not checked: net1 is not up/)
    t.match(result.stdout, /, 1 failed\n$/)
  })

  t.test('an interface that is down, or has no carrier, or is not Ethernet fails with the fix', async (t) => {
    const { lab, cp, config } = topology(t)
    const file = config('eth0.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24')
    cp.ip('link', 'set', 'eth0', 'down')
    const down = runCli(['check', '--config', file, '--netns', cp.path])
    t.equal(down.status, 1)
    t.match(down.line('interface'), /^FAIL .*eth0 .* is administratively down$/)
    t.equal(down.fix('interface'), `ip netns exec ${cp.name} ip link set eth0 up`)
    // Apply the printed fix, and the kernel agrees: the interface check passes.
    execFileSync('sh', ['-c', down.fix('interface')!])
    t.match(runCli(['check', '--config', file, '--netns', cp.path]).line('interface'), /^PASS/)

    const peer = lab.host('peer')
    lab.cable(cp, 'eth1', peer, 'eth1', {}, { down: true })
    const noCarrier = runCli(['check', '--config', config('eth1.yaml', '192.0.2.100:8443', 'eth1', '192.0.2.1/24'), '--netns', cp.path])
    t.equal(noCarrier.status, 1)
    t.match(noCarrier.line('interface'), /^FAIL .*eth1 .* is up but has no carrier/)

    const loopback = runCli(['check', '--config', config('lo.yaml', '192.0.2.100:8443', 'lo', '192.0.2.1/24'), '--netns', cp.path])
    t.equal(loopback.status, 1)
    t.match(loopback.line('interface'), /^FAIL .*lo .* is a loopback link: ARP needs an Ethernet interface/)
  })

  t.test('without CAP_NET_ADMIN and CAP_NET_RAW the capabilities check fails', async (t) => {
    const { cp, config } = topology(t)
    const file = config('good.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24')
    // Inside the namespace (ip netns exec), then drop every capability and root.
    const dropped = ['ip', 'netns', 'exec', cp.name, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all']
    const result = runCli(['check', '--config', file], dropped)
    t.equal(result.status, 1, result.stdout + result.stderr)
    t.match(result.line('capabilities'), /^FAIL {2}capabilities +missing from the effective set: CAP_NET_ADMIN \(to add the VIP, routes and rules\); CAP_NET_RAW \(to send gratuitous ARP .*\) \(CapEff=0000000000000000\)$/)
    t.match(result.fix('capabilities'), /securityContext\.capabilities\.add: \[NET_ADMIN, NET_RAW\]/)
    // The namespace itself is still readable without privileges.
    t.match(result.line('interface'), /^PASS .*eth0/)
    t.match(result.line('packet-socket'), /^FAIL .*EPERM.*CAP_NET_RAW/)
    t.match(result.line('vip-free'), /^WARN .*not checked: probe not sent: .*CAP_NET_RAW/)
    t.match(result.stdout, /, 2 failed\n$/)
  })

  t.test('a VIP that another host already answers for fails, naming that host\'s MAC', async (t) => {
    const { lab, sw, cp, config } = topology(t)
    const squatter = lab.host('sq')
    lab.plug(squatter, 'eth0', sw, { addresses: ['192.0.2.100/24'] })
    const result = runCli(['check', '--config', config('good.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24'), '--netns', cp.path])
    t.equal(result.status, 1)
    t.equal(result.line('vip-free'), `FAIL  vip-free             192.0.2.100 is already answered on eth0 by ${squatter.mac('eth0')}: another host holds the VIP`)
    t.match(result.fix('vip-free'), new RegExp(`find the host with MAC ${squatter.mac('eth0')}`))
    // Only that check failed.
    t.equal((result.stdout.match(/^FAIL/gm) ?? []).length, 1)
  })

  t.test('the VIP already on this host is a warning', async (t) => {
    const { cp, config } = topology(t)
    cp.ip('addr', 'add', '192.0.2.100/32', 'dev', 'eth0')
    const result = runCli(['check', '--config', config('good.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24'), '--netns', cp.path])
    t.equal(result.status, 0)
    t.match(result.line('addresses'), /^WARN .*already configured here \(192\.0\.2\.100\/32 on eth0\)/)
    t.match(result.line('vip-free'), /^WARN {2}vip-free +not probed: the VIP is configured on this host \(see addresses\)/)
  })

  t.test('IPv6: every other host answering for the VIP is named', async (t) => {
    const { lab, sw, cp, config } = topology(t, { v6: true })
    const squatters = [lab.host('sq1'), lab.host('sq2')]
    for (const host of squatters) lab.plug(host, 'eth0', sw, { addresses: ['2001:db8::100/64'] })
    const result = runCli(['check', '--config', config('v6.yaml', '[2001:db8::100]:8443', 'eth0', '2001:db8::1/64'), '--netns', cp.path])
    t.equal(result.status, 1)
    const macs = squatters.map((h) => h.mac('eth0'))
    t.match(result.line('vip-free'), /^FAIL {2}vip-free +2001:db8::100 is already answered on eth0 by (\S+), (\S+): 2 other hosts hold the VIP$/)
    const named = /by (\S+), (\S+):/.exec(result.line('vip-free'))?.slice(1, 3) ?? []
    t.same(named.sort(), [...macs].sort(), 'both MACs, as ip link shows them')
    t.match(result.fix('vip-free'), /^find the hosts with MACs /)
  })

  t.test('sysctls that break ARP failover: the printed fix repairs them', async (t) => {
    const { cp, config } = topology(t)
    const file = config('good.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24')
    cp.run('sysctl', '-qw', 'net.ipv4.conf.eth0.arp_ignore=2', 'net.ipv4.conf.all.rp_filter=1')
    const warned = runCli(['check', '--config', file, '--netns', cp.path])
    t.equal(warned.status, 0)
    t.match(warned.line('sysctl arp_ignore'), /^WARN {2}sysctl arp_ignore +all=0, eth0=2: 2 answers only senders inside the subnet/)
    t.equal(warned.fix('sysctl arp_ignore'), `ip netns exec ${cp.name} sysctl -w net.ipv4.conf.eth0.arp_ignore=1`)
    // Strict rp_filter is fine with a gateway: the policy rule covers the reverse path.
    t.match(warned.line('sysctl rp_filter'), /^PASS .*all=1, eth0=0: strict, but the policy rule/)
    execFileSync('sh', ['-c', warned.fix('sysctl arp_ignore')!], { stdio: 'ignore' })
    t.equal(cp.run('cat', '/proc/sys/net/ipv4/conf/eth0/arp_ignore').trim(), '1')
    t.match(runCli(['check', '--config', file, '--netns', cp.path]).line('sysctl arp_ignore'), /^PASS .*all=0, eth0=1/)

    cp.run('sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=8')
    const never = runCli(['check', '--config', file, '--netns', cp.path])
    t.equal(never.status, 1)
    t.match(never.line('sysctl arp_ignore'), /^FAIL .*all=8, eth0=1: 8 means this host never answers ARP/)
    t.equal(never.fix('sysctl arp_ignore'), `ip netns exec ${cp.name} sysctl -w net.ipv4.conf.all.arp_ignore=1`)
  })

  t.test('IPv6: disable_ipv6 fails with the fix; the VIP is probed with a DAD solicitation', async (t) => {
    const { cp, gw, config } = topology(t, { v6: true })
    const file = config('v6.yaml', '[2001:db8::100]:8443', 'eth0', '2001:db8::1/64')
    cp.run('sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=1')
    const result = runCli(['check', '--config', file, '--netns', cp.path])
    t.equal(result.status, 1)
    t.match(result.line('config'), /VIP \[2001:db8::100\]:8443 \(IPv6\) on eth0, gateway 2001:db8::1\/64/)
    t.match(result.line('sysctl disable_ipv6'), /^FAIL .*eth0=1: IPv6 is disabled on eth0/)
    t.equal(result.fix('sysctl disable_ipv6'), `ip netns exec ${cp.name} sysctl -w net.ipv6.conf.eth0.disable_ipv6=0`)
    t.match(result.line('sysctl accept_dad'), /^PASS .*nodad/)
    t.match(result.line('vip-free'), /^PASS .*nobody answered for 2001:db8::100 on eth0/)
    t.notMatch(result.stdout, /arp_ignore/)
    execFileSync('sh', ['-c', result.fix('sysctl disable_ipv6')!], { stdio: 'ignore' })
    const fixed = runCli(['check', '--config', file, '--netns', cp.path])
    t.equal(fixed.status, 0, fixed.stdout)
    t.match(fixed.line('sysctl disable_ipv6'), /^PASS/)
    t.ok(gw.mac('eth0'))
  })

  t.test('a --netns that does not exist fails before probing', async (t) => {
    const { config } = topology(t)
    const result = runCli(['check', '--config', config('good.yaml', '192.0.2.100:8443', 'eth0', '192.0.2.1/24'), '--netns', 'vip-announcer-no-such-ns'])
    t.equal(result.status, 1)
    t.match(result.line('netns'), /^FAIL {2}netns +\/run\/netns\/vip-announcer-no-such-ns: does not exist$/)
    t.notMatch(result.stdout, /interface/)
  })
})
