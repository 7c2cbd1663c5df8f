// The facade's policies on a dump's answer (src/net/dump-policy.ts): an
// interrupted dump is asked for again, then refused with a SystemError-shaped
// EAGAIN; ENOENT of a filtered route dump is "no routes". Pure logic over a
// fake list call; the namespace tests (net-netlink.test.ts) use the real one.
import t from 'tap'
import { DUMP_ATTEMPTS, consistentDump, routesOfTable } from '../src/net/dump-policy'

t.test('an interrupted dump is asked for again until it is consistent', async (t) => {
  const answers: Array<number[] | null> = [null, null, [1, 2]]
  let calls = 0
  t.same(consistentDump('RTM_GETADDR', () => answers[calls++]), [1, 2])
  t.equal(calls, 3)
})

t.test(`after ${DUMP_ATTEMPTS} interrupted dumps: EAGAIN, worded as the addon's SystemErrors`, async (t) => {
  let calls = 0
  t.throws(
    () => consistentDump('RTM_GETROUTE', () => (calls++, null)),
    {
      code: 'EAGAIN',
      errno: -11,
      syscall: 'RTM_GETROUTE',
      reason: 'dump interrupted by concurrent changes 4 times',
      message: 'RTM_GETROUTE EAGAIN (Resource temporarily unavailable): dump interrupted by concurrent changes 4 times',
    },
  )
  t.equal(calls, DUMP_ATTEMPTS)
})

t.test('ENOENT of a filtered route dump is no routes; anything else is thrown', async (t) => {
  const enoent = () => {
    throw Object.assign(new Error('RTM_GETROUTE ENOENT'), { code: 'ENOENT', syscall: 'RTM_GETROUTE' })
  }
  t.same(routesOfTable(100, enoent), [])
  t.throws(() => routesOfTable(undefined, enoent), { code: 'ENOENT' }, 'unfiltered: a real error')
  t.throws(
    () =>
      routesOfTable(100, () => {
        throw Object.assign(new Error('EPERM'), { code: 'EPERM' })
      }),
    { code: 'EPERM' },
  )
})
