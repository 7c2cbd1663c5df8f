// HostProbe answered by command-line tools: `ip -j` for links and addresses,
// /proc/sys for sysctls and arping for ARP probes, each run inside the network
// namespace with nsenter(1) when one is given (works for /run/netns/NAME and
// /proc/PID/ns/net alike). The only file that knows about these tools; swap it
// for the native facade when that lands.
import { spawn } from 'node:child_process'
import type { HostProbe, ProbedAddress, ProbedLink } from './probe'
import { NotChecked } from './probe'

interface Output {
  code: number | null
  stdout: string
  stderr: string
  /** Set when the program could not be started (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException
}

type ArpingFlavour = 'habets' | 'iputils'

export function createIpProbe(netns?: string): HostProbe {
  const run = (command: string, args: string[], timeoutMs = 10_000) =>
    execute(netns ? 'nsenter' : command, netns ? [`--net=${netns}`, '--', command, ...args] : args, timeoutMs)
  const ipJson = async <T>(args: string[]): Promise<{ code: number | null; rows: T[]; stderr: string }> => {
    const out = await run('ip', ['-j', ...args])
    if (out.spawnError) throw new Error(`cannot run ${netns ? 'nsenter' : 'ip'}: ${out.spawnError.message}`)
    return { code: out.code, rows: out.code === 0 && out.stdout.trim() ? (JSON.parse(out.stdout) as T[]) : [], stderr: out.stderr.trim() }
  }
  let flavour: Promise<ArpingFlavour | undefined> | undefined

  return {
    where: netns ? `network namespace ${netns}` : 'this network namespace',

    async getLink(name) {
      const { code, rows, stderr } = await ipJson<IpLink>(['link', 'show', 'dev', name])
      if (code !== 0) {
        if (/does not exist|Cannot find device/i.test(stderr)) return undefined
        throw new Error(stderr || `ip link show exited with ${code}`)
      }
      return rows[0] ? toLink(rows[0]) : undefined
    },

    async listLinks() {
      const { code, rows, stderr } = await ipJson<IpLink>(['link', 'show'])
      if (code !== 0) throw new Error(stderr || `ip link show exited with ${code}`)
      return rows.map((row) => row.ifname)
    },

    async listAddresses() {
      const { code, rows, stderr } = await ipJson<IpLink & { addr_info?: IpAddr[] }>(['addr', 'show'])
      if (code !== 0) throw new Error(stderr || `ip addr show exited with ${code}`)
      return rows.flatMap((row) => (row.addr_info ?? []).map((a) => toAddress(row, a)))
    },

    async readSysctls(keys) {
      // One process for all keys: grep prints "path:value" for each readable file.
      const paths = keys.map((key) => `/proc/sys/${key}`)
      const out = await run('grep', ['-sH', '', ...paths])
      if (out.spawnError) throw new Error(`cannot read sysctls: ${out.spawnError.message}`)
      if (out.code !== 0 && out.code !== 1 && out.code !== 2) throw new Error(out.stderr.trim() || `grep exited with ${out.code}`)
      if (netns && out.code !== 0 && /nsenter/.test(out.stderr)) throw new Error(out.stderr.trim())
      const values = new Map<string, string>()
      for (const line of out.stdout.split('\n')) {
        const colon = line.indexOf(':')
        if (colon > 0 && line.startsWith('/proc/sys/')) values.set(line.slice('/proc/sys/'.length, colon), line.slice(colon + 1).trim())
      }
      return values
    },

    async openPacketSocket() {
      throw new NotChecked('needs the native PacketSocket (src/net/packets.ts), not in this build')
    },

    async probeAddress({ link, ip, timeoutMs }) {
      if (ip.includes(':')) throw new NotChecked('IPv6 needs a neighbour-solicitation probe (the native probeAddress), not in this build')
      flavour ??= arpingFlavour()
      const kind = await flavour
      if (!kind) throw new NotChecked('arping is not installed (Debian: apt-get install arping)')
      const seconds = Math.max(1, Math.ceil(timeoutMs / 1000))
      // Sender 0.0.0.0: a probe, as in RFC 5227, so no peer learns anything from it.
      const args =
        kind === 'habets'
          ? ['-0', '-r', '-C', '1', '-c', String(seconds + 1), '-w', String(seconds), '-i', link, ip]
          : ['-D', '-c', String(seconds + 1), '-w', String(seconds), '-I', link, ip]
      const out = await run('arping', args, timeoutMs + 5_000)
      if (out.spawnError) throw new NotChecked(`cannot run arping: ${out.spawnError.message}`)
      const mac = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i.exec(out.stdout)?.[1]?.toLowerCase()
      if (mac) return { answeredBy: mac }
      // habets: 1 = no reply; iputils -D: 0 = no reply. Anything on stderr is a failure to probe.
      const quiet = kind === 'habets' ? out.code === 1 : out.code === 0
      if (quiet && !out.stderr.trim()) return {}
      throw new NotChecked(`arping failed: ${out.stderr.trim().split('\n')[0] || `exit code ${out.code}`}`)
    },

    async probeConflicts({ link, vip, timeoutMs }) {
      // arping reports the first answer only.
      const { answeredBy } = await this.probeAddress({ link, ip: vip, timeoutMs })
      return answeredBy ? [answeredBy] : []
    },

    async close() {},
  }
}

async function arpingFlavour(): Promise<ArpingFlavour | undefined> {
  const out = await execute('arping', ['--help'], 5_000)
  if (out.spawnError) return undefined
  const text = out.stdout + out.stderr
  if (/habets/i.test(text)) return 'habets'
  return 'iputils'
}

interface IpLink {
  ifindex: number
  ifname: string
  flags?: string[]
  mtu: number
  operstate?: string
  link_type?: string
  address?: string
}
interface IpAddr {
  family: 'inet' | 'inet6'
  local: string
  prefixlen: number
  scope?: string
  label?: string
  dynamic?: boolean
  nodad?: boolean
  tentative?: boolean
  deprecated?: boolean
  valid_life_time?: number
}

function toLink(row: IpLink): ProbedLink {
  const flags = row.flags ?? []
  return {
    index: row.ifindex,
    name: row.ifname,
    mac: row.link_type === 'ether' ? (row.address ?? '') : '',
    mtu: row.mtu,
    up: flags.includes('UP'),
    carrier: flags.includes('LOWER_UP'),
    operstate: (row.operstate ?? 'unknown').toLowerCase(),
    linkType: row.link_type ?? 'unknown',
  }
}

function toAddress(row: IpLink, a: IpAddr): ProbedAddress {
  return {
    index: row.ifindex,
    link: row.ifname,
    family: a.family === 'inet6' ? 6 : 4,
    address: a.local,
    prefixLength: a.prefixlen,
    ...(a.label ? { label: a.label } : {}),
    scope: a.scope ?? 'global',
    flags: {
      nodad: !!a.nodad,
      permanent: !a.dynamic,
      tentative: !!a.tentative,
      deprecated: !!a.deprecated,
    },
  }
}

function execute(command: string, args: string[], timeoutMs: number): Promise<Output> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr, spawnError: error }))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
