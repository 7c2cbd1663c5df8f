#!/usr/bin/env node
// The package's install script: use the prebuilt native part when it fits this
// host, build from source only when none does. A missing compiler is reported
// in one line instead of node-gyp's page of output.
//
// The source build is also chosen in a git checkout (developers build what
// they edit) and with `npm rebuild --build-from-source` (npm_config_build_from_source).
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)
const say = (line) => process.stderr.write(`vip-announcer: ${line}\n`)

/** Why the prebuild cannot serve this host, or undefined when it loads and its guard runs. */
function prebuildProblem() {
  if (!fs.existsSync(prebuild)) return `no prebuild for ${process.platform}-${process.arch}`
  let manifest = {}
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(prebuild, 'prebuild.json'), 'utf8'))
  } catch {}
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime
  if (manifest.libc === 'glibc' && !glibc) return 'the prebuild is for glibc and this system has another C library'
  try {
    require(path.join(prebuild, 'vip_announcer.node'))
  } catch (error) {
    return `the prebuild does not load: ${String(error.message).split('\n')[0]}`
  }
  // The guard prints its usage and exits 2 on an unknown option: a run proves
  // the dynamic loader accepts it (it shares the addon's libc needs).
  const guard = spawnSync(path.join(prebuild, 'vip_guard'), ['--vip-announcer-install-check'], { encoding: 'utf8', timeout: 5000 })
  if (guard.error) return `the prebuilt vip_guard does not run: ${guard.error.message}`
  if (guard.signal || /error while loading shared libraries|not found/.test(guard.stderr)) {
    return `the prebuilt vip_guard does not run: ${(guard.stderr || guard.signal).trim().split('\n')[0]}`
  }
  return undefined
}

function onPath(command) {
  if (command.includes('/')) return fs.existsSync(command)
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

function buildFromSource(why) {
  const cxx = (process.env.CXX || '').split(' ')[0]
  const tools = [cxx || (onPath('g++') ? 'g++' : 'c++'), 'make', 'python3']
  const missing = tools.filter((tool) => !onPath(tool))
  if (missing.length) {
    say(
      `${why}, and a source build needs ${missing.join(', ')}, not found on PATH: ` +
        'install a C++ toolchain (Debian/Ubuntu: apt-get install g++ make python3) and run `npm rebuild vip-announcer`, ' +
        'or use linux-x64/linux-arm64 with glibc >= 2.34, which the package ships prebuilt for',
    )
    process.exit(1)
  }
  say(`${why}: building from source with node-gyp`)
  // npm hands scripts the node-gyp it bundles; a checkout also has its own.
  let gyp = process.env.npm_config_node_gyp
  if (!gyp || !fs.existsSync(gyp)) {
    try {
      gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] })
    } catch {
      gyp = undefined
    }
  }
  const result = gyp
    ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' })
    : spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit' })
  if (result.error) say(`node-gyp could not start: ${result.error.message}`)
  process.exit(result.status ?? 1)
}

const checkout = fs.existsSync(path.join(root, '.git'))
const fromSource = /^(true|1)$/.test(process.env.npm_config_build_from_source || '')
if (checkout || fromSource) buildFromSource(checkout ? 'git checkout' : '--build-from-source')
const problem = prebuildProblem()
if (problem) buildFromSource(problem)
