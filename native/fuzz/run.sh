#!/usr/bin/env bash
# Builds one of the fuzzers with clang (libFuzzer + ASan + UBSan) and runs it.
# Not part of the product build (binding.gyp); the cmake-js developer harness
# (CMakeLists.txt, asan preset) builds it and scripts/fuzz.sh runs it.
#
#   native/fuzz/run.sh netlink|frames [seconds=60] [extra libFuzzer flags...]
#
#   netlink  the rtnetlink decoders and the extended-ACK parser (netlink_fuzz.cc)
#   frames   the frame parser, builder -> parser round trips and the capture
#            filters against a reference BPF interpreter (frames_fuzz.cc)
#
# Same as `npm run fuzz -- --seconds S TARGET -- FLAGS`: corpus in
# native/fuzz/corpus/TARGET/, findings copied to native/fuzz/regressions/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:-}"
case "$target" in
  netlink|frames) ;;
  -h|--help|"") sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; [ -n "$target" ]; exit ;;
  *) echo "unknown fuzz target '$target' (netlink or frames)" >&2; exit 2 ;;
esac
seconds="${2:-60}"
shift $(( $# < 2 ? $# : 2 ))
exec scripts/fuzz.sh --seconds "$seconds" "$target" -- "$@"
