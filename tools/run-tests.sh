#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors and runs every
# test suite. This is what CI runs (.ci/run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools/setup-system.sh
tools/setup-venvs.sh
tools/setup-nat-venv.sh

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build -Dwerror=true >/dev/null
else
  meson setup build -Dwerror=true
fi
ninja -C build
meson test -C build --print-errorlogs "$@"
