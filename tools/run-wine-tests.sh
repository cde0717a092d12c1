#!/usr/bin/env bash
# The Windows build, tested under Wine: installs the pinned MinGW-w64 and
# Wine packages and the test libcurl DLL (tools/setup-mingw.sh), cross-builds
# the plugin DLLs, nat-trainer.exe (with yaml-cpp from Debian's source,
# subprojects/yaml-cpp.wrap, downloaded by the first `meson setup`) and the
# Windows test programs in build-win (cross/x86_64-w64-mingw32.ini) and runs
# the cross build's tests: the DLLs' export tables (suite abi), the C ABI
# programs under Wine (abi, unit), the plugin DLLs against the reference
# servers through the libcurl DLL and nat-trainer.exe as a Windows user runs
# it (suite wine; the comparisons with Linux use the Linux build in build/).
# Wine's prefix lives in the build directory; its first start creates it
# (about 10 s). Arguments go to `meson test`.
#
# Environment: WIN_BUILD_DIR (default build-win), NINJA_JOBS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools/setup-mingw.sh

build=${WIN_BUILD_DIR:-build-win}
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" --cross-file cross/x86_64-w64-mingw32.ini -Dwerror=true >/dev/null
else
  meson setup "$build" --cross-file cross/x86_64-w64-mingw32.ini -Dwerror=true >/dev/null
fi
ninja -C "$build" -j"${NINJA_JOBS:-2}"

export WINEPREFIX="$root/$build/wineprefix" WINEARCH=win64 WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  wine cmd /c exit >/dev/null 2>&1 || true
  wineserver -w || true
fi
status=0
meson test -C "$build" --print-errorlogs "$@" || status=$?
wineserver -k >/dev/null 2>&1 || true
exit "$status"
