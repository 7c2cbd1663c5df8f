#!/usr/bin/env node
// Command-line entry: the compiled CLI lives in dist/ (npm run build).
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js')
if (!fs.existsSync(entry)) {
  process.stderr.write(
    `vip-announcer: ${path.relative(process.cwd(), entry) || entry} is missing: the TypeScript has not been compiled.\n` +
      'Run `npm run build` (or `npm run build:ts` for the JavaScript only) in the package directory.\n',
  )
  process.exit(1)
}
require(entry).cli()
