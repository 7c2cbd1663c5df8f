#!/bin/bash
# CI entry for the package (called from .ci/run): installs the cross compiler
# and qemu-user when missing, builds the prebuilds for linux-x64 and
# linux-arm64, and runs pack:check (tarball contents, install without a
# compiler, arm64 under qemu, namespace smoke test, attw, publint, consumer
# tsc). Ends with `package: N passed, N failed`. Run as root from the repo.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
missing=()
command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci-package: apt-get install ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/tmp/ci-package-apt.log 2>&1 ||
    { tail -20 /tmp/ci-package-apt.log; echo "package: 0 passed, 1 failed"; exit 1; }
fi
start=$(date +%s)
if ! sh scripts/prebuild.sh x64 arm64; then
  echo "package: 0 passed, 1 failed"
  exit 1
fi
bash scripts/pack-check.sh | tee /tmp/ci-package.log
rc=${PIPESTATUS[0]}
summary=$(grep '^pack-check: [0-9]* passed' /tmp/ci-package.log | tail -1)
passed=$(echo "$summary" | sed -n 's/^pack-check: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
failed=$(echo "$summary" | sed -n 's/^pack-check: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -n "$passed" ] || { passed=0; failed=1; }
[ "$rc" = 0 ] || [ "$failed" != 0 ] || failed=1
echo "ci-package: $(($(date +%s) - start)) s"
echo "package: $passed passed, $failed failed"
[ "$failed" = 0 ]
