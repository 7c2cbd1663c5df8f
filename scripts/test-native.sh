#!/usr/bin/env bash
# npm run test:native: builds and runs the C++ unit tests (native/test/) and
# replays the fuzz seeds and native/fuzz/regressions/<harness>/ through the
# fuzz harnesses, with ctest.
#
#   scripts/test-native.sh           the cmake-js Release build (build-cmake/)
#   scripts/test-native.sh --asan    the asan preset (build-asan/), leak detection on
# Further arguments go to ctest (e.g. -R unit.Route).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --asan ]; then
  shift
  source scripts/asan-env.sh
  asan_build
  asan_env
  dir=build-asan
else
  scripts/build-cmake.sh
  dir=build-cmake
fi
exec ctest --test-dir "$dir" -j "$(nproc)" --output-on-failure "$@"
