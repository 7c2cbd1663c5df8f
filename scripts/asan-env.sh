# Sourced by the sanitizer scripts (test-asan.sh, test-native.sh --asan,
# fuzz.sh, ci-sanitizers.sh): builds the `asan` CMake preset into build-asan/
# and sets the environment that runs the JS suite against it.
#
#   asan_tools   installs what the harness needs when it is missing (as root)
#   asan_build   cmake --preset asan && cmake --build --preset asan
#   asan_env     exports the variables below
#
# What asan_env sets, and why:
#   PATH                      build-asan/node first: a copy of node whose first
#                             DT_NEEDED is the shared ASan runtime
#                             (cmake/sanitized_node.cmake). Nothing is preloaded
#                             through the environment, so the ps/pgrep/ip/sh
#                             children the tests spawn never load ASan; every
#                             node they spawn (process.execPath, or `node`) is
#                             that copy.
#   VIP_ANNOUNCER_BUILD_DIR   build-asan/Release: src/net/binding.ts loads the
#                             sanitized addon and spawns the sanitized guard
#   VIP_ANNOUNCER_SANITIZERS  address,undefined: tests that measure memory
#                             (guard-hardening's RSS bound) allow for ASan
#   ASAN_OPTIONS              leak detection on, then per-binary options by
#                             basename from build-asan/asan-options/%b: `node`
#                             turns it off (V8 leaves its heap to the OS at
#                             exit), vip_guard and the C++ tests keep it
#   UBSAN_OPTIONS             halt_on_error=1 print_stacktrace=1
#   with asan_env logs:       reports go to build-asan/sanitizer-logs/<name>.<pid>
#                             as well, so a report from a guard whose stderr a
#                             test ignores is still seen (asan_reports)
_asan_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASAN_BUILD="$_asan_root/build-asan"

asan_tools() {
  local missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v ninja >/dev/null || missing+=(ninja-build)
  command -v clang++ >/dev/null || missing+=(clang)
  command -v patchelf >/dev/null || missing+=(patchelf)
  if command -v clang++ >/dev/null; then
    [ -e "$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)" ] || missing+=(libclang-rt-14-dev)
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${missing[*]} (apt-get install them)" >&2
    return 1
  fi
  echo "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/asan-apt.log 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/asan-apt.log 2>&1; } ||
    { tail -20 /tmp/asan-apt.log >&2; return 1; }
}

asan_build() {
  asan_tools || return 1
  (cd "$_asan_root" && cmake --preset asan >/dev/null && cmake --build --preset asan) || return 1
  [ -x "$ASAN_BUILD/node/node" ] || { echo "no sanitized node in $ASAN_BUILD/node (patchelf missing?)" >&2; return 1; }
}

# asan_env [logs]
asan_env() {
  local options="$ASAN_BUILD/asan-options/%b"
  export PATH="$ASAN_BUILD/node:$PATH"
  export VIP_ANNOUNCER_BUILD_DIR="$ASAN_BUILD/Release"
  export VIP_ANNOUNCER_SANITIZERS=address,undefined
  export ASAN_OPTIONS="detect_leaks=1:include_if_exists=$options"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  if [ "${1:-}" = logs ]; then
    ASAN_LOGS="$ASAN_BUILD/sanitizer-logs"
    rm -rf "$ASAN_LOGS" && mkdir -p "$ASAN_LOGS"
    # log_path replaces stderr for the report; `%b` is not expanded here, the
    # runtime appends .<pid>. ASan and UBSan share the common flags.
    ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$ASAN_LOGS/report:log_exe_name=1"
    UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$ASAN_LOGS/report:log_exe_name=1"
  fi
}

# Prints every sanitizer report written since asan_env logs; returns 1 if any.
asan_reports() {
  local found=0 file
  for file in "$ASAN_LOGS"/report*; do
    [ -s "$file" ] || continue
    found=1
    echo "--- sanitizer report $file"
    head -60 "$file"
  done
  return $found
}
