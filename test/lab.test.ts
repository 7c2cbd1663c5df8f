import t from 'tap'
import { Lab, namespaceTestOptions } from './lab/lab'

t.test('lab builds a switched topology and tears it down', namespaceTestOptions(), async (t) => {
  const lab = new Lab()
  t.teardown(() => lab.destroy())
  const sw = lab.switch('sw')
  const a = lab.host('a')
  const b = lab.host('b')
  lab.plug(a, 'eth0', sw, { addresses: ['192.0.2.1/24'] })
  lab.plug(b, 'eth0', sw, { addresses: ['192.0.2.2/24'] })
  t.same(a.addresses('eth0'), ['192.0.2.1/24'])
  // The kernel as witness: a real ping across the bridge.
  a.run('ping', '-c1', '-W2', '192.0.2.2')
  t.equal(a.neighbourMac('192.0.2.2'), b.mac('eth0'))
  const names = [...lab.namespaceNames]
  lab.destroy()
  const left = require('node:child_process').execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  for (const n of names) t.notOk(left.includes(n), `${n} deleted`)
})
