#!/usr/bin/env bash
# Instructions the decision core executes per event, counted by callgrind: the
# instructions inside CreditEngine::Apply and CreditEngine::Tick during `bench core`
# (one round applying prepared events and one decoding them first), divided by the events
# applied. Unlike the throughput, this count does not move with the machine's load, so
# two builds can be compared on a shared machine; it does not see cache misses.
# Usage: scripts/core-instructions.sh [--events N] [BINARY...]
#   (default: 100,000 events and build/src/app/creditwatch). One JSON line per binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh profile
events=100000
if [[ "${1:-}" == "--events" ]]; then
  events=$2
  shift 2
fi
binaries=("$@")
[[ ${#binaries[@]} -eq 0 ]] && binaries=(build/src/app/creditwatch)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for bin in "${binaries[@]}"; do
  if ! valgrind --tool=callgrind --callgrind-out-file="$out/cg" --collect-atstart=no \
    --toggle-collect='creditwatch::core::CreditEngine::Apply*' \
    --toggle-collect='creditwatch::core::CreditEngine::Tick*' \
    "$bin" bench core --rounds 1 --events "$events" >/dev/null 2>"$out/log"; then
    cat "$out/log" >&2
    exit 1
  fi
  total=$(callgrind_annotate "$out/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "{\"bench\":\"core\",\"name\":\"core_instructions_per_event\",\"value\":$((total / (2 * events))),\"unit\":\"instructions\",\"events\":$events,\"binary\":\"$bin\"}"
done
