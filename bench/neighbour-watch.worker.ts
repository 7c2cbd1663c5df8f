// The thread of bench/neighbour-watch.ts: reads one namespace's neighbour
// notifications and stamps the first entry for a watched address on its MAC,
// before anything else of that event; does nothing else meanwhile.
import { parentPort, workerData } from 'node:worker_threads'
import { monotonicNow } from '../src/clock'
import { LinkMonitor } from '../src/net/monitor'

type Command = { watch: number; address: string; mac: string } | { cancel: number } | { close: true }

const port = parentPort!
const watches = new Map<number, { address: string; mac: string }>()
const monitor = LinkMonitor.open({ netns: (workerData as { netns: string }).netns, neighbours: true })
monitor.on('neighbour', (e) => {
  const at = monotonicNow()
  for (const [id, watch] of watches) {
    if (e.neighbour.address !== watch.address || e.neighbour.mac !== watch.mac) continue
    watches.delete(id)
    port.postMessage({ id, at })
  }
})
port.on('message', (command: Command) => {
  if ('watch' in command) {
    watches.set(command.watch, { address: command.address, mac: command.mac })
    port.postMessage({ armed: command.watch })
  } else if ('cancel' in command) {
    watches.delete(command.cancel)
  } else {
    monitor.close()
    port.close()
  }
})
port.postMessage({ ready: true })
