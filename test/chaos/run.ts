// npm run chaos -- [--seed N] [--rounds N | --minutes M] [--electors file-lock,etcd]
//                  [--faults sigkill,...] [--round K] [--json]
// A bounded, seeded fault-injection run (docs/reliability.md). The seed is
// printed first and in the report; `--round K` replays round K of each
// elector alone. Exit code 1 when any invariant failed. Needs root.
import { parseArgs } from 'node:util'
import { canUseNamespaces } from '../lab/lab'
import { cgroupSupport } from '../support/cgroup'
import { ELECTORS, type ElectorKind } from './cluster'
import { FAULTS } from './faults'
import { buildReport, formatReport } from './report'
import { runSuite } from './suite'

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    rounds: { type: 'string' },
    minutes: { type: 'string' },
    electors: { type: 'string', default: ELECTORS.join(',') },
    faults: { type: 'string' },
    round: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`)
  process.exit(2)
}

if (values.help) {
  process.stdout.write(`usage: npm run chaos -- [--seed N] [--rounds N | --minutes M] [--electors ${ELECTORS.join(',')}] [--faults ${FAULTS.map((f) => f.name).join(',')}] [--round K] [--json]\n`)
  process.exit(0)
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31)
if (!Number.isSafeInteger(seed) || seed < 0) fail(`--seed: a non-negative integer, not ${values.seed}`)
const electors = values.electors!.split(',').filter(Boolean) as ElectorKind[]
for (const e of electors) if (!ELECTORS.includes(e)) fail(`--electors: unknown elector ${e} (${ELECTORS.join(', ')})`)
const faults = values.faults?.split(',').filter(Boolean)
for (const f of faults ?? []) if (!FAULTS.some((k) => k.name === f)) fail(`--faults: unknown fault ${f} (${FAULTS.map((k) => k.name).join(', ')})`)
const positive = (name: string, text?: string) => {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!(n > 0)) fail(`--${name}: a positive number, not ${text}`)
  return n
}
const rounds = positive('rounds', values.rounds)
const minutes = positive('minutes', values.minutes)
const round = positive('round', values.round)
if (rounds && minutes) fail('--rounds or --minutes, not both')
if (!canUseNamespaces()) fail('needs root (network namespaces)')
try {
  cgroupSupport()
} catch (error) {
  fail((error as Error).message)
}

// Reports go to stdout, progress to stderr, so --json output stays parseable.
process.stderr.write(`chaos: seed ${seed}\n`)
runSuite({ seed, electors, rounds, minutes, faults, round, log: (line) => process.stderr.write(`${line}\n`) }).then((result) => {
  const report = buildReport(result)
  process.stdout.write(values.json ? JSON.stringify({ report, result }, null, 2) + '\n' : formatReport(report, result) + '\n')
  process.exit(report.passed ? 0 : 1)
}, (error) => {
  process.stderr.write(`chaos: ${(error as Error).stack}\n`)
  process.exit(2)
})
