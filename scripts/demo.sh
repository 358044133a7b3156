#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the creditwatch demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build
exec "${BUILD_DIR:-build}"/src/app/creditwatch demo "$@"
