#!/usr/bin/env bash
# Installs the Debian packages creditwatch needs to build, test and run.
# Idempotent: installs only what is missing; runs apt-get update only then.
# Usage: scripts/bootstrap.sh [build|test|profile]   (test adds the test-only tools,
# profile the profiler)
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  librdkafka-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libjemalloc-dev
)
test_pkgs=(
  catch2 librapidcheck-dev libbenchmark-dev clang-format
  prometheus python3 python3-yaml valgrind
)
profile_pkgs=(valgrind)

want=("${build_pkgs[@]}")
if [[ "${1:-build}" == "test" ]]; then want+=("${test_pkgs[@]}"); fi
if [[ "${1:-build}" == "profile" ]]; then want+=("${profile_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bootstrap: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
