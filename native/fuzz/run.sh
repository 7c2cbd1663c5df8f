#!/usr/bin/env bash
# Builds one of the fuzzers with clang (libFuzzer + ASan + UBSan) and runs it.
# Not part of the product build (binding.gyp).
#
#   native/fuzz/run.sh netlink|frames [seconds=60] [extra libFuzzer flags...]
#
#   netlink  the rtnetlink decoders and the extended-ACK parser (netlink_fuzz.cc)
#   frames   the frame parser, builder -> parser round trips and the capture
#            filters against a reference BPF interpreter (frames_fuzz.cc)
#
# Artifacts go to build/fuzz/TARGET/ (corpus/, crash-* files on failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:-}"
case "$target" in
  netlink) sources=(native/fuzz/netlink_fuzz.cc native/netlink.cc native/nlsocket.cc native/netns.cc); max_len=4096 ;;
  frames) sources=(native/fuzz/frames_fuzz.cc native/frames.cc native/capture_filter.cc); max_len=256 ;;
  -h|--help|"") sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; [ -n "$target" ]; exit ;;
  *) echo "unknown fuzz target '$target' (netlink or frames)" >&2; exit 2 ;;
esac
seconds="${2:-60}"
shift $(( $# < 2 ? $# : 2 ))
out="build/fuzz/$target"
mkdir -p "$out/corpus"
CXX="${CXX:-clang++}"
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)

"$CXX" "${flags[@]}" -DVIP_FUZZ_WRITE_SEEDS "${sources[@]}" -o "$out/write_seeds" -lpthread
"$out/write_seeds" "$out/corpus"
"$CXX" "${flags[@]}" -fsanitize=fuzzer "${sources[@]}" -o "$out/fuzz" -lpthread
"$out/fuzz" "$out/corpus" -max_total_time="$seconds" -max_len="$max_len" -artifact_prefix="$out/" -print_final_stats=1 "$@"
