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

# libcurl for the Wine tests: the libcurl DLL of curl_cffi's win_amd64 wheel
# (curl-impersonate, the full curl_easy_* and curl_url_* API), checked
# against the pinned hash, kept as .venv/windows/libcurl-x64.dll beside the
# DLLs it imports (zlib, zstd, brotli, nghttp2, psl, idn2, ...).
CURL_CFFI_VERSION=0.7.4
CURL_CFFI_SHA256=31a80d5ab1bc0f9d4bc0f98d91dc1a3ed4aa08566f21b76ecfde23ece08e0fa9
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.venv/windows"
stamp="$out/libcurl-x64.dll.sha256"
if [[ ! -f "$out/libcurl-x64.dll" || "$(cat "$stamp" 2>/dev/null)" != "$CURL_CFFI_SHA256" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: --platform win_amd64 --python-version 3.11 \
    "curl_cffi==$CURL_CFFI_VERSION" -d "$tmp"
  wheel=$(ls "$tmp"/curl_cffi-*.whl)
  echo "$CURL_CFFI_SHA256  $wheel" | sha256sum -c --quiet
  mkdir -p "$out"
  python3 - "$wheel" "$out" <<'PY'
import os, re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    libs = [n for n in z.namelist() if n.startswith("curl_cffi.libs/") and n.endswith(".dll")]
    curl = [n for n in libs if re.fullmatch(r"curl_cffi\.libs/libcurl-[0-9a-f]+\.dll", n)]
    if len(curl) != 1:
        sys.exit(f"expected one libcurl DLL in the wheel, found {curl}")
    for n in libs:
        name = "libcurl-x64.dll" if n == curl[0] else os.path.basename(n)
        with open(os.path.join(sys.argv[2], name), "wb") as f:
            f.write(z.read(n))
PY
  echo "$CURL_CFFI_SHA256" >"$stamp"
fi
echo "setup-mingw: $out/libcurl-x64.dll"
