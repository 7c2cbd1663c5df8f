#!/usr/bin/env python3
"""Reads binding.gyp and prints it as CMake variables, so the cmake-js
developer harness (CMakeLists.txt) builds exactly the sources node-gyp builds
and binding.gyp stays the one list.

  gyp_sources.py binding.gyp > gyp_sources.cmake

For every target T:  VIP_GYP_T_SOURCES, VIP_GYP_T_DEFINES, VIP_GYP_T_LDFLAGS.
From target_defaults: VIP_GYP_CFLAGS_CC, VIP_GYP_LDFLAGS. VIP_GYP_TARGETS lists
the target names. gyp files are Python literals (comments, trailing commas),
which is how gyp itself reads them.
"""
import ast
import sys


def cmake_list(values):
    for value in values:
        if any(c in value for c in ';"\\$'):
            raise SystemExit(f'gyp_sources.py: cannot pass {value!r} to CMake')
    return '"' + ';'.join(values) + '"'


def main(path):
    with open(path, encoding='utf-8') as f:
        gyp = ast.literal_eval(f.read())
    defaults = gyp.get('target_defaults', {})
    lines = [
        f'# Generated from {path} by cmake/gyp_sources.py; do not edit.',
        f'set(VIP_GYP_CFLAGS_CC {cmake_list(defaults.get("cflags_cc", []))})',
        f'set(VIP_GYP_LDFLAGS {cmake_list(defaults.get("ldflags", []))})',
    ]
    names = []
    for target in gyp['targets']:
        name = target['target_name']
        names.append(name)
        sources = target.get('sources', [])
        # A gyp expansion (<(var), <!(cmd)) in a source list would mean another
        # meaning here than in node-gyp: refuse it rather than guess.
        if not sources or any('<' in s or '>' in s for s in sources):
            raise SystemExit(f'gyp_sources.py: target {name} has no plain source list')
        lines.append(f'set(VIP_GYP_{name}_SOURCES {cmake_list(sources)})')
        lines.append(f'set(VIP_GYP_{name}_DEFINES {cmake_list(target.get("defines", []))})')
        lines.append(f'set(VIP_GYP_{name}_LDFLAGS {cmake_list(target.get("ldflags", []))})')
    lines.append(f'set(VIP_GYP_TARGETS {cmake_list(names)})')
    print('\n'.join(lines))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit('usage: gyp_sources.py binding.gyp')
    main(sys.argv[1])
