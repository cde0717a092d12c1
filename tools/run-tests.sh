#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors and runs every
# test suite (a plain `meson test`, the style check included), then the fuzzers
# for a bounded time (tools/run-fuzzers.sh) and the C/C++ suites under
# AddressSanitizer+UndefinedBehaviorSanitizer and ThreadSanitizer
# (tools/run-sanitizers.sh). This is what CI runs (.ci/run). Arguments go to
# `meson test`.
#
# Environment:
#   FUZZ_SECONDS   fuzzing time per harness (default 45; 0 replays the seed
#                  corpus and the reproducers only)
#   SANITIZERS     all (default), address, thread, or none
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tools/setup-system.sh
tools/setup-venvs.sh
tools/setup-nat-venv.sh
tools/setup-nat-native-venv.sh
tools/setup-nemo-venvs.sh

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build -Dwerror=true >/dev/null
else
  meson setup build -Dwerror=true
fi
ninja -C build
meson test -C build --print-errorlogs "$@"

tools/run-fuzzers.sh "${FUZZ_SECONDS:-45}"

tools/run-wine-tests.sh

tools/run-sanitizers.sh --require-all "${SANITIZERS:-all}"
