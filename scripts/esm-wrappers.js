// Writes ESM entry points (dist/esm/*.mjs, with their .d.mts) that re-export the CommonJS build by
// name, so `import { VipAnnouncer } from 'vip-announcer'` works without relying
// on Node's CommonJS export detection.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const dist = path.join(__dirname, '..', 'dist')
const entries = { 'index.mjs': '../index.js', 'net.mjs': '../net/index.js', 'testing.mjs': '../testing/index.js' }
fs.mkdirSync(path.join(dist, 'esm'), { recursive: true })
for (const [file, target] of Object.entries(entries)) {
  const resolved = path.join(dist, 'esm', target)
  if (!fs.existsSync(resolved)) continue
  const names = Object.keys(require(resolved)).filter((n) => n !== 'default' && n !== '__esModule')
  const lines = [`import cjs from '${target}'`, 'export default cjs']
  if (names.length) lines.push(`export const { ${names.join(', ')} } = cjs`)
  fs.writeFileSync(path.join(dist, 'esm', file), lines.join('\n') + '\n')
  // Its types, as an ES module's (TypeScript under node16/bundler reads a
  // .d.ts beside an import condition as CommonJS: "masquerading as CJS").
  fs.writeFileSync(
    path.join(dist, 'esm', file.replace(/\.mjs$/, '.d.mts')),
    `import cjs from '${target}'\nexport default cjs\nexport * from '${target}'\n`,
  )
}
