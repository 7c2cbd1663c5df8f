// The worker's TCP prober, run inside the worker namespace: every
// `--interval` ms it opens a new connection to VIP:port (attempts overlap, so
// one stuck on an unanswered SYN does not stop the sampling) and waits up to
// `--timeout` ms for the replica's name. One JSON line per attempt, stamped on
// CLOCK_MONOTONIC when it starts and ends: the runner judges availability
// from these stamps, not from when it reads them. Exits when stdin closes.
import net from 'node:net'
import { parseArgs } from 'node:util'
import { monotonicNow } from '../../src/clock'

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    port: { type: 'string' },
    interval: { type: 'string', default: '50' },
    timeout: { type: 'string', default: '500' },
  },
})
const host = values.target!
const port = Number(values.port)
const timeoutMs = Number(values.timeout)

function attempt(): void {
  const start = monotonicNow()
  let reply = ''
  let done = false
  const socket = net.connect({ host, port })
  const finish = (ok: boolean, error?: string) => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.destroy()
    const line: Record<string, unknown> = { s: +start.toFixed(2), e: +monotonicNow().toFixed(2), ok }
    if (ok) line.n = reply.trim()
    else line.err = error
    process.stdout.write(JSON.stringify(line) + '\n')
  }
  // A served probe: the replica's process answered with its name (a frozen or
  // blocked one completes the handshake in the kernel, but says nothing).
  const timer = setTimeout(() => finish(false, reply ? 'partial' : 'timeout'), timeoutMs)
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => (reply += chunk))
  socket.on('end', () => finish(reply.trim().length > 0, 'empty'))
  socket.on('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? error.message))
}

const interval = setInterval(attempt, Number(values.interval))
process.stdin.on('end', () => {
  clearInterval(interval)
  setTimeout(() => process.exit(0), timeoutMs + 50)
})
process.stdin.resume()
