#!/usr/bin/env bash
# npm run fuzz -- [--seconds N] [harness...]: builds the asan preset's libFuzzer
# harnesses and runs each (default: all, 60 s each).
#
#   netlink  the rtnetlink decoders and the extended-ACK parser (netlink_fuzz.cc)
#   frames   the frame parser, builder round trips and the capture filters (frames_fuzz.cc)
#
# The corpus lives in native/fuzz/corpus/<harness>/ (not in git), seeded on
# every run by the harness's seed writer from valid inputs the encoders and
# builders make. A finding (crash-*, leak-*, timeout-*, oom-*) is copied into
# native/fuzz/regressions/<harness>/, which `npm run test:native` replays:
# commit it with the fix. Arguments after `--` go to libFuzzer.
# Prints "fuzz <harness>: <execs>/s, ..." per harness; exits 1 on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=60
harnesses=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --) shift; extra=("$@"); break ;;
    netlink|frames) harnesses+=("$1"); shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument '$1' (harnesses: netlink frames)" >&2; exit 2 ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(netlink frames)

source scripts/asan-env.sh
if [ -z "${VIP_FUZZ_NO_BUILD:-}" ]; then asan_build >/dev/null || { asan_build; exit 1; }; fi
asan_env

failed=0
for harness in "${harnesses[@]}"; do
  case "$harness" in netlink) max_len=4096 ;; frames) max_len=256 ;; esac
  corpus="native/fuzz/corpus/$harness"
  artifacts="$ASAN_BUILD/fuzz-artifacts/$harness"
  regressions="native/fuzz/regressions/$harness"
  mkdir -p "$corpus" "$regressions"
  rm -rf "$artifacts" && mkdir -p "$artifacts"
  "$ASAN_BUILD/${harness}_seeds" "$corpus" || { echo "fuzz $harness: seed writer failed"; failed=1; continue; }
  log="$artifacts/fuzz.log"
  "$ASAN_BUILD/${harness}_fuzz" "$corpus" -max_total_time="$seconds" -max_len="$max_len" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
  status=$?
  stat() { grep -oE "^stat::$1: *[0-9]+" "$log" | grep -oE '[0-9]+$' | tail -1; }
  execs=$(stat number_of_executed_units); rate=$(stat average_exec_per_sec); cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  findings=$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
  if [ $status -ne 0 ] || [ -n "$findings" ]; then
    failed=1
    grep -E 'ERROR|SUMMARY|property violated|runtime error' "$log" | head -20
    for finding in $findings; do
      cp "$finding" "$regressions/"
      echo "fuzz $harness: finding saved as $regressions/$(basename "$finding")"
    done
    echo "fuzz $harness: FAILED (exit $status; log $log)"
  else
    echo "fuzz $harness: ${rate:-?} execs/s, ${execs:-?} execs in ${seconds} s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) inputs"
  fi
done
exit $failed
