#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, checks formatting, runs every
# tier through ctest. Pass a tier to run only that one: scripts/test.sh unit
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh test
bash scripts/check-format.sh
BUILD_DIR=${BUILD_DIR:-build}
label=()
[[ -n "${1:-}" ]] && label=(-L "$1")
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "${label[@]}"
