#!/usr/bin/env bash
# Installs what is missing and builds creditwatch into build/ (Release with debug info).
# Usage: scripts/build.sh [build|test]   Env: BUILD_DIR (default build), CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh "${1:-build}"
BUILD_DIR=${BUILD_DIR:-build}
tests=OFF
[[ "${1:-build}" == "test" ]] && tests=ON
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCREDITWATCH_TESTS=$tests ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
