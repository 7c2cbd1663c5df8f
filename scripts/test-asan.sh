#!/usr/bin/env bash
# npm run test:asan: builds the asan preset (build-asan/) and runs the JS tap
# suite against the sanitized addon and guard. Arguments are passed to tap
# (test files; none: the whole suite). See scripts/asan-env.sh for the
# environment and docs/development.md for figures.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/asan-env.sh
echo "== build (asan preset)"
asan_build || exit 1
asan_env logs

echo "== preflight: the sanitized node loads the sanitized addon"
# tsx, as the tests load it: src/net/binding.ts must pick VIP_ANNOUNCER_BUILD_DIR.
node --import tsx -e "
  const { buildDir } = require('./src/net/binding')
  const maps = require('fs').readFileSync('/proc/self/maps', 'utf8')
  if (buildDir !== process.env.VIP_ANNOUNCER_BUILD_DIR) throw new Error('binding.ts loads ' + buildDir)
  if (!maps.includes('libclang_rt.asan')) throw new Error('node runs without the ASan runtime')
  if (!maps.includes(buildDir + '/vip_announcer.node')) throw new Error('sanitized addon not mapped')
  console.log('node', process.execPath, 'addon', buildDir)
" || exit 1

echo "== tap $*"
start=$(date +%s)
npx --no-install tap "$@"
status=$?
echo "== tap exited $status after $(( $(date +%s) - start )) s"
if ! asan_reports; then
  echo "sanitizer reports found (above)"
  exit 1
fi
echo "no sanitizer reports"
exit $status
