# A copy of node that loads the shared ASan runtime itself, for running the JS
# suite against the sanitized addon: <build>/node/node.
#
# Why not LD_PRELOAD: a preload set in the environment reaches every child the
# tests spawn (ps, pgrep, ip, sh, ...). iproute2's `ip route show` then trips an
# ASan strncpy-param-overlap report that is not our code, and ps/pgrep can hang.
# Here the runtime is the first DT_NEEDED of this node binary alone (ASan wants
# to come first in the initial library list), so node and every node it spawns
# (process.execPath, or `node` from PATH with <build>/node first) are sanitized
# and nothing else ever loads ASan. Needs patchelf (Debian: patchelf).
#
# Also writes <build>/asan-options/node: ASAN_OPTIONS=...:include_if_exists=
# <build>/asan-options/%b makes ASan read per-binary options by basename, so
# leak detection stays off for node (V8 does not free its heap at exit) and on
# for vip_guard and the C++ tests from one environment (scripts/asan-env.sh).
find_program(PATCHELF patchelf)
if(NOT PATCHELF)
  message(WARNING "patchelf not found (apt-get install patchelf): no sanitized node, test:asan cannot run")
  return()
endif()
execute_process(
  COMMAND "${CMAKE_CXX_COMPILER}" -print-file-name=libclang_rt.asan-x86_64.so
  OUTPUT_VARIABLE asan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS "${asan_runtime}")
  message(FATAL_ERROR "no shared ASan runtime from ${CMAKE_CXX_COMPILER} (Debian: libclang-rt-14-dev)")
endif()
get_filename_component(asan_runtime_dir "${asan_runtime}" DIRECTORY)
get_filename_component(asan_runtime_name "${asan_runtime}" NAME)
get_filename_component(node_real "${NODE_EXECUTABLE}" REALPATH)
set(VIP_SANITIZED_NODE "${CMAKE_BINARY_DIR}/node/node")
add_custom_command(
  OUTPUT "${VIP_SANITIZED_NODE}"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/node"
  COMMAND ${CMAKE_COMMAND} -E copy "${node_real}" "${VIP_SANITIZED_NODE}.tmp"
  COMMAND "${PATCHELF}" --add-needed "${asan_runtime_name}" "${VIP_SANITIZED_NODE}.tmp"
  COMMAND "${PATCHELF}" --set-rpath "${asan_runtime_dir}" "${VIP_SANITIZED_NODE}.tmp"
  COMMAND ${CMAKE_COMMAND} -E rename "${VIP_SANITIZED_NODE}.tmp" "${VIP_SANITIZED_NODE}"
  DEPENDS "${node_real}"
  COMMENT "node with ${asan_runtime_name} as its first DT_NEEDED")
add_custom_target(sanitized_node ALL DEPENDS "${VIP_SANITIZED_NODE}")
file(WRITE "${CMAKE_BINARY_DIR}/asan-options/node" "detect_leaks=0\n")
