// typed-emitter is types only (its JavaScript is empty), but as a dependency
// it makes every consumer install its optional dependency rxjs (12 MB). So it
// is a devDependency: the build copies its declarations (MIT, notice kept)
// into dist/vendor/ and points the emitted .d.ts files at that copy.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const dist = path.join(__dirname, '..', 'dist')
const source = path.dirname(require.resolve('typed-emitter/package.json'))
const vendor = path.join(dist, 'vendor')
const { version } = require(path.join(source, 'package.json'))
fs.mkdirSync(vendor, { recursive: true })
const license = fs.readFileSync(path.join(source, 'LICENSE'), 'utf8').trim()
const notice = `/*\n * typed-emitter ${version} (https://github.com/andywer/typed-emitter), index.d.ts, copied unchanged.\n *\n${license
  .split('\n')
  .map((l) => ` * ${l}`.trimEnd())
  .join('\n')}\n */\n`
fs.writeFileSync(path.join(vendor, 'typed-emitter.d.ts'), notice + fs.readFileSync(path.join(source, 'index.d.ts'), 'utf8'))

const SPECIFIER = /(from\s+)(['"])typed-emitter\2/g
let rewritten = 0
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) walk(file)
    else if (/\.d\.(m|c)?ts$/.test(entry.name) && dir !== vendor) {
      const text = fs.readFileSync(file, 'utf8')
      if (!SPECIFIER.test(text)) continue
      let relative = path.relative(path.dirname(file), path.join(vendor, 'typed-emitter.js')).split(path.sep).join('/')
      if (!relative.startsWith('.')) relative = `./${relative}`
      fs.writeFileSync(file, text.replace(SPECIFIER, `$1$2${relative}$2`))
      rewritten++
    }
  }
}
walk(dist)
if (rewritten === 0) throw new Error('vendor-types: no declaration imports typed-emitter: is dist/ built?')
