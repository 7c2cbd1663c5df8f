#!/usr/bin/env bash
# npm run build:cmake: the cmake-js Release build of the addon, the guard and
# the C++ tests into build-cmake/ (addon and guard in build-cmake/Release/).
# Extra arguments go to cmake-js (e.g. -- --CDVIP_TESTS=OFF).
#
# nodedir: cmake-js downloads node's headers unless told where they are; point
# it at the running node's own include/node, as node-gyp's nodedir did, so the
# build needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(node -p "require('path').resolve(process.execPath, '..', '..')")
if [ -z "${npm_config_nodedir:-}" ] && [ -e "$prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$prefix"
fi
exec npx --no-install cmake-js compile --out build-cmake --config Release "$@"
