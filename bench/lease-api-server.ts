// The stand-in Kubernetes API server of the tests (test/support/fake-lease-api.ts),
// run as a process of its own for the benchmarks: a real API server is not
// served by the event loop that measures, so the benchmark's synchronous
// `ip` calls must not stall the replicas' renewals and watches.
//
// Prints one JSON line {event: 'listening', port, kubeconfig} on stdout. On
// the stdin line `requests` it prints {event: 'requests', requests: [...]}:
// every request received since the previous `requests` (with `at` on
// CLOCK_MONOTONIC in ms, the same clock as the benchmark's monotonicNow()).
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { FakeLeaseApi } from '../test/support/fake-lease-api'
import { tempDir } from '../test/support/temp'

async function main(): Promise<void> {
  const api = new FakeLeaseApi()
  const port = await api.listen()
  const kubeconfig = path.join(tempDir('vip-bench-kube-'), 'config')
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: fake',
    'clusters:', '- name: fake', '  cluster:', `    server: http://127.0.0.1:${port}`, '    insecure-skip-tls-verify: true',
    'users:', '- name: bench', '  user:', '    token: bench',
    'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: bench',
  ].join('\n') + '\n')
  const say = (data: object) => process.stdout.write(JSON.stringify(data) + '\n')
  say({ event: 'listening', port, kubeconfig })
  let sent = 0
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'requests') return
    say({ event: 'requests', requests: api.requests.slice(sent) })
    sent = api.requests.length
  })
  // The benchmark closing our stdin (or dying) ends the server.
  process.stdin.on('end', () => void api.close().then(() => process.exit(0)))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
