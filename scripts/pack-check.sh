#!/bin/bash
# `npm run pack:check`: the package as a user gets it. Packs the tarball,
# checks its file list, installs it into an empty project with
# --ignore-scripts and no compiler on PATH (then once more with the install
# script, which must take the prebuild), and as root runs a smoke test with the
# installed package in two network namespaces: VIP up, gratuitous ARP learned
# by the peer, stop() clean, and the guard fencing a SIGKILLed host.
# Type checks (attw, publint, a consumer's tsc) follow when run with them.
#
# Prints one `ok`/`FAIL` line per check and ends with `pack-check: N passed, N failed`.
# Needs: prebuilds/ for x64 and arm64 (npm run prebuilds; built here if missing).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d /tmp/vip-pack.XXXXXX)
tag="vpc$$"
ns_a="${tag}a"
ns_b="${tag}b"
pids=()
passed=0
failed=0

cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
ms() { date +%s%3N; }

# --- build and pack ---------------------------------------------------------
for arch in x64 arm64; do
  [ -f "prebuilds/linux-$arch/vip_announcer.node" ] || sh scripts/prebuild.sh "$arch" || exit 1
done
rm -rf dist && npm run --silent build:ts || { echo "pack-check: build:ts failed"; exit 1; }
npm pack --json --pack-destination "$work" >"$work/pack.json" 2>"$work/pack.err" || { cat "$work/pack.err"; exit 1; }
tarball="$work/$(node -p "require('$work/pack.json')[0].filename")"
node -e "
  const [p] = require('$work/pack.json')
  console.log('pack-check: ' + p.filename + ': ' + (p.size / 1024).toFixed(0) + ' KiB packed, ' + (p.unpackedSize / 1024).toFixed(0) + ' KiB unpacked, ' + p.entryCount + ' files')
  require('fs').writeFileSync('$work/files.txt', p.files.map((f) => f.path).join('\n') + '\n')
"
files="$work/files.txt"
has() { grep -qx "$1" "$files"; }
none() { ! grep -Eq "$1" "$files"; }
for f in package.json README.md LICENSE CHANGELOG.md dist/index.js dist/index.d.ts dist/esm/index.mjs bin/vip-announcer.js \
  scripts/install.js binding.gyp native/guard/guard.cc \
  prebuilds/linux-x64/vip_announcer.node prebuilds/linux-x64/vip_guard prebuilds/linux-arm64/vip_announcer.node prebuilds/linux-arm64/vip_guard; do
  check "the tarball has $f" has "$f"
done
check 'no docs/api, fuzzers, build intermediates or tests in the tarball' none '^(docs/api/|native/fuzz/|build/|test/|bench/|examples/|\.tap/|coverage/)|\.(o|d|mk|tsbuildinfo)$'
check 'vip_guard is executable in the tarball' sh -c "tar -tvzf '$tarball' package/prebuilds/linux-x64/vip_guard package/prebuilds/linux-arm64/vip_guard | awk '{print \$1}' | grep -c '^-rwx' | grep -qx 2"

# --- the arm64 prebuild under qemu-user (scripts/check-arm64.sh) -------------
if arm64=$(sh scripts/check-arm64.sh 2>&1); then ok "${arm64#check-arm64: ok: }"; else fail "arm64 prebuild under qemu-user: $arm64"; fi

# --- a PATH with node and npm and no compiler -------------------------------
nocc="$work/bin"
mkdir -p "$nocc"
for tool in node npm npx sh env ip; do
  src=$(command -v "$tool") || { echo "pack-check: $tool not found"; exit 1; }
  ln -s "$src" "$nocc/$tool"
done
check 'the install PATH has no gcc, g++, cc, c++, make or python3' \
  env PATH="$nocc" sh -c '! command -v gcc && ! command -v g++ && ! command -v cc && ! command -v c++ && ! command -v make && ! command -v python3' >/dev/null

install_into() { # dir, extra npm flags...
  local dir=$1; shift
  mkdir -p "$dir" && (cd "$dir" && PATH="$nocc" npm init -y >/dev/null &&
    PATH="$nocc" npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" "$tarball" >"$dir.log" 2>&1)
}
app="$work/app"
start=$(ms)
if install_into "$app" --ignore-scripts; then
  ok "npm install --ignore-scripts without a compiler: $(($(ms) - start)) ms, node_modules $(du -sk "$app/node_modules" | cut -f1) KiB, $(ls "$app/node_modules" | wc -l) packages"
else
  fail "npm install --ignore-scripts without a compiler"; cat "$app.log"
fi
check 'no rxjs in the consumer (typed-emitter is types only)' test ! -e "$app/node_modules/rxjs"
start=$(ms)
if install_into "$work/app-scripts"; then
  ok "npm install with the install script, no compiler: $(($(ms) - start)) ms"
  check 'the install script took the prebuild (no build/)' test ! -e "$work/app-scripts/node_modules/vip-announcer/build"
else
  fail "npm install with the install script, no compiler"; cat "$work/app-scripts.log"
fi

in_app() { (cd "$app" && PATH="$nocc" "$@"); }
loaded=$(in_app node -p "const n = require('vip-announcer/net').loadNative(); n.source + ' ' + require('path').relative(process.cwd(), n.dir)" 2>&1)
check "the installed package loads its prebuild ($loaded)" test "$loaded" = "prebuild node_modules/vip-announcer/prebuilds/linux-$(node -p process.arch)"
check 'require, import and the bin work in the consumer' in_app sh -c \
  "node -e \"require('vip-announcer'); require('vip-announcer/net'); require('vip-announcer/testing')\" &&
   node --input-type=module -e \"import { VipAnnouncer } from 'vip-announcer'; import { Netlink } from 'vip-announcer/net'; if (typeof VipAnnouncer !== 'function' || typeof Netlink !== 'function') process.exit(1)\" &&
   node_modules/.bin/vip-announcer --help >/dev/null"
check 'require works with --disallow-code-generation-from-strings' in_app node --disallow-code-generation-from-strings -e "require('vip-announcer')"

# --- smoke test in two namespaces (root) ------------------------------------
if [ "$(id -u)" != 0 ]; then
  fail 'smoke test: needs root (network namespaces)'
else
  vip=192.0.2.100
  ip netns add "$ns_a" && ip netns add "$ns_b" &&
    ip link add name eth0 netns "$ns_a" type veth peer name eth0 netns "$ns_b" &&
    ip -n "$ns_a" addr add 192.0.2.10/24 dev eth0 && ip -n "$ns_b" addr add 192.0.2.20/24 dev eth0 &&
    ip -n "$ns_a" link set eth0 up && ip -n "$ns_b" link set eth0 up &&
    ip -n "$ns_a" link set lo up && ip -n "$ns_b" link set lo up &&
    # The peer creates a neighbour entry from a gratuitous ARP only with arp_accept.
    ip netns exec "$ns_b" sh -c 'echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_accept' || { echo "pack-check: namespace setup failed"; exit 1; }
  mac_a=$(ip -n "$ns_a" -br link show eth0 | awk '{print $3}')
  cp "$root/scripts/pack-smoke.js" "$app/smoke.js"

  has_vip() { ip -n "$ns_a" -4 addr show dev eth0 | grep -q " $vip/32 "; }
  wait_for() { # ms, command...
    local until=$(($(ms) + $1)); shift
    while ! "$@"; do [ "$(ms)" -ge "$until" ] && return 1; sleep 0.05; done
  }
  start_host() {
    (cd "$app" && PATH="$nocc" exec node smoke.js "/run/netns/$ns_a" eth0 "$vip") >"$1" 2>&1 &
    host=$!
    pids+=("$host")
    wait_for 15000 grep -q '^leader ' "$1"
  }

  if start_host "$work/host1.log"; then
    check "VIP up: $vip/32 on eth0 in the namespace" has_vip
    peer_learned() { ip -n "$ns_b" neigh show "$vip" dev eth0 | grep -q "lladdr $mac_a"; }
    check "the peer learned $vip at $mac_a from the gratuitous ARP (ip neigh)" wait_for 3000 peer_learned
    kill -TERM "$host"
    wait "$host"; rc=$?
    check "stop(): exit $rc, 'stopped' printed, VIP removed" sh -c "[ $rc = 0 ] && grep -qx stopped '$work/host1.log' && ! ip -n '$ns_a' -4 addr show dev eth0 | grep -q ' $vip/32 '"
  else
    fail "the host did not become leader:"; cat "$work/host1.log"
  fi

  if start_host "$work/host2.log"; then
    guard=$(pgrep -P "$host" vip_guard)
    check "the guard runs beside the host (pid ${guard:-none})" test -n "$guard"
    killed=$(ms)
    kill -9 "$host"
    wait "$host" 2>/dev/null
    if wait_for 5000 sh -c "! ip -n '$ns_a' -4 addr show dev eth0 | grep -q ' $vip/32 '"; then
      ok "the guard fenced the SIGKILLed host: VIP gone $(($(ms) - killed)) ms after kill -9"
    else
      fail "the VIP is still on eth0 5 s after kill -9 of the host"
    fi
    check 'the guard exited after fencing' wait_for 3000 sh -c "! kill -0 ${guard:-0} 2>/dev/null"
  else
    fail "the host did not become leader (2):"; cat "$work/host2.log"
  fi
fi

# --- types and package lint (scripts/check-types.sh, when present) ----------
if [ -x "$root/scripts/check-types.sh" ]; then
  "$root/scripts/check-types.sh" "$tarball" "$work/types" && ok 'types: attw, publint, consumer tsc' || fail 'types: attw, publint, consumer tsc'
fi

echo "pack-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
