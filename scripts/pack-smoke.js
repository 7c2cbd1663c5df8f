// Copied into the consumer project by scripts/pack-check.sh and run there, so
// `require('vip-announcer')` is the installed tarball. One replica with the
// StaticElector in the given namespace: prints `leader <pid>` once it holds the
// VIP, stops cleanly on SIGTERM (`stopped`), and is SIGKILLed by the check in
// the fencing case, where the guard must remove the VIP.
//
// Usage: node pack-smoke.js <netns path> <interface> <vip>
'use strict'
const { StaticElector, VipAnnouncer } = require('vip-announcer')

const [netns, iface, vip] = process.argv.slice(2)
const announcer = new VipAnnouncer({ vip, interface: iface, netns, elector: new StaticElector() })
announcer.on('error', (error) => console.error(`error: ${error.message}`))
announcer.on('leader', () => console.log(`leader ${process.pid}`))
announcer.on('announced', (e) => console.log(`announced ${e.vip} ${e.count}`))
process.once('SIGTERM', () => {
  announcer.stop().then(
    () => console.log('stopped'),
    (error) => {
      console.error(`stop failed: ${error.message}`)
      process.exitCode = 1
    },
  )
})
announcer.start().catch((error) => {
  console.error(`start failed: ${error.message}`)
  process.exit(1)
})
