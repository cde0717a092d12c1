#!/usr/bin/env bash
# Builds what the benchmark needs and runs it (bench/):
#
#   tools/run-bench.sh            inputs of 1, 4, 16, 64 MB and the ~104 MB reference
#                                 case; the Python paths on inputs up to 16 MB
#   tools/run-bench.sh --full     the Python paths on every input, 104 MB included
#                                 (the pydantic baseline alone takes ~60 s and 2.6 GB there)
#   tools/run-bench.sh --quick    a smoke run (1 and 4 MB, no Python, 3 runs)
#
# Every other option goes to nat-bench (`build/bench/nat-bench --help`).
# The benchmark is not part of `meson test`; `meson test -C build --benchmark`
# runs it too. Set BUILD_DIR to use another build directory (default: build).
# The Python environments come from tools/setup-venvs.sh and
# tools/setup-nat-venv.sh; without them those parts are skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-build}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build"
elif [ ! -f "$build/bench/nat-bench" ] && ! grep -q "bench/nat-bench" "$build/build.ninja"; then
  # Configured before bench/ existed: let meson pick it up.
  meson setup --reconfigure "$build" >/dev/null
fi
ninja -C "$build"
if [ ! -x "$build/bench/nat-bench" ]; then
  echo "run-bench: $build/bench/nat-bench was not built (simdjson missing? tools/setup-system.sh installs it)" >&2
  exit 1
fi

exec "$build/bench/nat-bench" "$@"
