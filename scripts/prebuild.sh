#!/bin/sh
# Builds the prebuilt native part shipped in the tarball: the addon and the
# guard executable for linux-x64 and linux-arm64 (glibc), into
# prebuilds/linux-<arch>/ (the layout src/net/native-loader.ts looks in).
#
# Each arch builds in its own staging copy of binding.gyp + native/, so the
# developer's build/Release (the source build the tests use) is left alone.
# arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu; node's headers
# are the same for every arch, and the addon uses Node-API only, so one
# prebuild per arch serves every Node >= 20.
#
# Usage: scripts/prebuild.sh [x64] [arm64]   (default: both)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
arches=${*:-x64 arm64}
gyp="$root/node_modules/node-gyp/bin/node-gyp.js"
# The headers that come with this node (distro packages and nodejs.org tarballs
# both install include/node): no download, and the same for every target arch.
nodedir=${npm_config_nodedir:-$(node -p "require('path').resolve(process.execPath, '../..')")}
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "prebuild: no Node headers in $nodedir/include/node (set npm_config_nodedir)" >&2
  exit 1
fi
stage=$(mktemp -d /tmp/vip-prebuild.XXXXXX)
trap 'rm -rf "$stage"' EXIT INT TERM

for arch in $arches; do
  case $arch in
    x64) cross= ;;
    arm64) cross=aarch64-linux-gnu- ;;
    *) echo "prebuild: unsupported arch '$arch' (x64 or arm64)" >&2; exit 2 ;;
  esac
  if ! command -v "${cross}g++" >/dev/null 2>&1; then
    echo "prebuild: ${cross}g++ not found (Debian: apt-get install ${cross:+g++-aarch64-linux-gnu}${cross:-g++ make})" >&2
    exit 1
  fi
  dir="$stage/$arch"
  mkdir -p "$dir"
  cp -R "$root/binding.gyp" "$root/native" "$dir/"
  # binding.gyp resolves node-addon-api with node -p require(...) from the build dir.
  ln -s "$root/node_modules" "$dir/node_modules"
  echo "prebuild: linux-$arch (${cross}g++)"
  start=$(date +%s)
  (
    cd "$dir"
    if [ -n "$cross" ]; then
      export CC="${cross}gcc" CXX="${cross}g++" LINK="${cross}g++" AR="${cross}ar"
    fi
    node "$gyp" rebuild --arch="$arch" --nodedir="$nodedir" --jobs=1 --loglevel=warn >"$dir/build.log" 2>&1 ||
      { tail -40 "$dir/build.log" >&2; exit 1; }
  )
  out="$root/prebuilds/linux-$arch"
  rm -rf "$out"
  mkdir -p "$out"
  for f in vip_announcer.node vip_guard; do
    # Stripped: the symbols are for debugging a source build, not for shipping.
    "${cross}strip" --strip-unneeded -o "$out/$f" "$dir/build/Release/$f"
  done
  glibc=$("${cross}objdump" -T "$out/vip_announcer.node" "$out/vip_guard" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  glibcxx=$("${cross}objdump" -T "$out/vip_announcer.node" "$out/vip_guard" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
  echo "prebuild: linux-$arch done in $(($(date +%s) - start)) s: needs $glibc, $glibcxx"
  printf '{ "arch": "%s", "libc": "glibc", "glibc": "%s", "glibcxx": "%s", "napi": 8 }\n' \
    "$arch" "${glibc#GLIBC_}" "${glibcxx#GLIBCXX_}" >"$out/prebuild.json"
done
