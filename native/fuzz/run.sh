#!/usr/bin/env bash
# Builds the netlink decoder fuzzer with clang (libFuzzer + ASan + UBSan) and
# runs it. Not part of the product build (binding.gyp).
#
#   native/fuzz/run.sh [seconds=60] [extra libFuzzer flags...]
#
# Artifacts go to build/fuzz/ (corpus/, crash-* files on failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
out=build/fuzz
mkdir -p "$out/corpus"
CXX="${CXX:-clang++}"
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
sources=(native/fuzz/netlink_fuzz.cc native/netlink.cc native/nlsocket.cc native/netns.cc)

"$CXX" "${flags[@]}" -DVIP_FUZZ_WRITE_SEEDS "${sources[@]}" -o "$out/write_seeds" -lpthread
"$out/write_seeds" "$out/corpus"
"$CXX" "${flags[@]}" -fsanitize=fuzzer "${sources[@]}" -o "$out/netlink_fuzz" -lpthread
"$out/netlink_fuzz" "$out/corpus" -max_total_time="$seconds" -max_len=4096 -artifact_prefix="$out/" -print_final_stats=1 "$@"
