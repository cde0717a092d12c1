#!/usr/bin/env bash
# Installs what the Windows cross build and its Wine tests need (Debian 12):
# the MinGW-w64 compilers with POSIX threads (std::thread) and Wine, at
# pinned versions. Idempotent: nothing is installed when the versions are
# there. Needs root (or sudo) only when something is missing.
#
# Usage: tools/setup-mingw.sh
set -euo pipefail

PACKAGES=(
  g++-mingw-w64-x86-64-posix=12.2.0-14+deb12u1+25.2+b1
  gcc-mingw-w64-x86-64-posix=12.2.0-14+deb12u1+25.2+b1
  binutils-mingw-w64-x86-64=2.40-2+10.4
  mingw-w64-x86-64-dev=10.0.0-3
  wine64=8.0~repack-4
  wine=8.0~repack-4
)

missing=()
for spec in "${PACKAGES[@]}"; do
  name="${spec%%=*}" want="${spec#*=}"
  have="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)"
  [[ "$have" == "$want" ]] || missing+=("$spec")
done
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  echo "setup-mingw: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup-mingw: $(x86_64-w64-mingw32-g++-posix --version | head -1); $(wine --version 2>/dev/null)"
