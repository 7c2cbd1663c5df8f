// One replica that always holds the VIP: the StaticElector says "leader" from
// start() to stop(). Use it when exactly one copy of your service runs (or
// something outside the process guarantees that); with several replicas use a
// real elector (see kubernetes-lease.ts and custom-elector.ts).
//
// In your project the import is `from 'vip-announcer'`; this file imports
// '../src' so it runs from a checkout.
//
// Run as root (or with CAP_NET_ADMIN and CAP_NET_RAW; CAP_SYS_ADMIN too for --netns):
//
//   node --import tsx examples/single-replica.ts --vip 192.0.2.100 --interface eth0 [--gateway 192.0.2.1/24]
//   VIP=192.0.2.100 VIP_INTERFACE=eth0 node --import tsx examples/single-replica.ts
//
// It prints one line per event and, on SIGTERM or SIGINT (Ctrl-C), removes the
// VIP (and the policy routing, if a gateway was given) before it exits. A
// second signal kills it at once; even then the VIP does not stay behind: the
// announcer's guard process removes it when this process dies.
import { parseArgs } from 'node:util'
import { StaticElector, VipAnnouncer } from '../src'

const USAGE = `usage: single-replica.ts --vip ADDRESS[,ADDRESS] --interface NAME [--gateway ADDRESS/PREFIX] [--netns PATH]
  (or the environment: VIP, VIP_INTERFACE, VIP_GATEWAY, VIP_NETNS)`

function readOptions() {
  const { values } = parseArgs({
    options: {
      vip: { type: 'string' },
      interface: { type: 'string' },
      gateway: { type: 'string' },
      netns: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const vip = values.vip ?? process.env.VIP
  const iface = values.interface ?? process.env.VIP_INTERFACE
  if (!vip || !iface) throw new UsageError('a VIP and an interface are required')
  const gateway = values.gateway ?? process.env.VIP_GATEWAY
  // A list only when there is one: errors then name 'vip' rather than 'vip[0]'.
  const list = (text: string) => (text.includes(',') ? text.split(',') : text)
  return {
    vip: list(vip),
    interface: iface,
    gateway: gateway ? list(gateway) : undefined,
    netns: values.netns ?? process.env.VIP_NETNS,
  }
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const options = readOptions()
  // Every option is validated here, before anything touches the host: a bad
  // address or interface name throws a TypeError/RangeError naming the field.
  const announcer = new VipAnnouncer({ ...options, elector: new StaticElector() })

  announcer.on('leader', (e) => console.log(`leader: ${e.vips.join(', ')} on ${e.interface} (first announcement ${e.takeoverMs.toFixed(2)} ms after election)`))
  announcer.on('follower', (e) => console.log(`follower: ${e.reason}`))
  announcer.on('announced', (e) => console.log(`announced ${e.vip}: ${e.count} frame(s) ${e.kinds.join('+')} (${e.reason})`))
  announcer.on('restored', (e) => console.log(`restored ${e.vip}: it was removed from outside (${e.delayMs.toFixed(1)} ms)`))
  announcer.on('link', (e) => console.log(`link ${e.interface}: ${e.state}`))
  announcer.on('cleaned', (e) => console.log(`cleaned leftovers of an earlier run: ${e.removed.join(', ')}`))
  announcer.on('fenced', (e) => console.log(`fenced: ${e.reason}`))
  // Without an 'error' listener the announcer only logs errors; it never throws them at you.
  announcer.on('error', (error) => console.error(`error: ${error.message}`))

  let stopping: Promise<void> | undefined
  const shutdown = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      console.log(`${signal}: stopping`)
      await announcer.stop()
      console.log('stopped: VIP removed')
    })()
  }
  // `once`: a second signal gets Node's default handling and ends the process at once.
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  await announcer.start()
  console.log(`started: ${announcer.vips.join(', ')} on ${announcer.interfaceName}`)
}

main().catch((error: Error) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`)
    process.exitCode = 2
  } else {
    // EPERM (capabilities), ENODEV... are SystemError-shaped: code, syscall, message.
    console.error(`cannot run: ${error.message}`)
    process.exitCode = 1
  }
})
