#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages the build and the tests need.
# Versions are those of Debian 12's stable archive (meson 1.0.1, g++ 12,
# libcurl 7.88, nlohmann-json 3.11.2, Boost 1.74, GoogleTest 1.12, CLI11 2.1,
# yaml-cpp 0.7, simdjson 3.0.1, Google Benchmark 1.7, libabigail 2.2, clang 14).
# clang-format is pinned to the exact Debian version: the style check
# (tools/check-format.py) depends on its output byte for byte.
# Fast when everything is installed already. Needs root.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build clang libclang-rt-14-dev lld
  libcurl4-openssl-dev nlohmann-json3-dev libboost-dev libgtest-dev libgmock-dev
  libcli11-dev libyaml-cpp-dev libsimdjson-dev libbenchmark-dev
  abigail-tools binutils python3 python3-venv python3-pip curl ca-certificates
  clang-format-14=1:14.0.6-12
)

missing=()
for p in "${packages[@]}"; do
  name="${p%%=*}" version=""
  if [ "$name" != "$p" ]; then version="${p#*=}"; fi
  installed="$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)"
  if [ -n "$version" ]; then
    [ "$installed" = "install ok installed $version" ] || missing+=("$p")
  else
    case "$installed" in "install ok installed "*) ;; *) missing+=("$p") ;; esac
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all ${#packages[@]} Debian packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: missing packages (${missing[*]}); run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
