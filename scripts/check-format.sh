#!/usr/bin/env bash
# Fails when a C++ source is not formatted per .clang-format. Fix with: --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h')
if [[ "${1:-}" == "--fix" ]]; then clang-format -i "${files[@]}"; exit 0; fi
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "format check failed: run scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "format check: ${#files[@]} files ok"
