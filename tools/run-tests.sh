#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors and runs every
# test suite, then the fuzzers for a bounded time and the C/C++ suites under
# AddressSanitizer+UndefinedBehaviorSanitizer and ThreadSanitizer. This is
# what CI runs (.ci/run). Arguments go to `meson test`.
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

if [ -f build/build.ninja ]; then
  meson setup --reconfigure build -Dwerror=true >/dev/null
else
  meson setup build -Dwerror=true
fi
ninja -C build
meson test -C build --print-errorlogs "$@"

tools/run-fuzzers.sh "${FUZZ_SECONDS:-45}"

sanitizers=${SANITIZERS:-all}
if [ "$sanitizers" != none ]; then
  tools/run-sanitizers.sh --require-all "$sanitizers"
fi
