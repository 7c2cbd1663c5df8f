// A minimal host for a guard, run as its own process so a test can freeze it
// (SIGSTOP) with the guard armed: adds ADDRESS/32 to LINK in NETNS, teaches
// the guard to delete it, and, for a lease ending LEASE_MS from now, arms it
// MARGIN_MS before that end (as the announcer does with fenceMarginMs), then
// prints {"guardPid", "deadline"} (the lease's end, CLOCK_MONOTONIC ms) on
// stdout and idles.
//   node --import tsx guard-host.ts NETNS LINK ADDRESS LEASE_MS MARGIN_MS
import { GuardProcess } from '../../src/guard'
import { monotonicNow } from '../../src/clock'
import { Netlink } from '../../src/net'

async function main(): Promise<void> {
  const [netns, link, address, leaseMs, marginMs] = process.argv.slice(2)
  const netlink = Netlink.open({ netns })
  const guard = await GuardProcess.start({ netns })
  const spec = { link, address, prefixLength: 32 }
  await guard.setActions([netlink.encodeAddressRequest('delete', spec)])
  const deadline = monotonicNow() + Number(leaseMs)
  await guard.arm(deadline - Number(marginMs)) // break before make, as the announcer does
  netlink.addAddress(spec)
  process.stdout.write(`${JSON.stringify({ guardPid: guard.pid, deadline })}\n`)
  setInterval(() => {}, 1000)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
