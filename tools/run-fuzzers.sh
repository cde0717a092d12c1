#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ (meson -Dfuzzing=true, clang,
# -fsanitize=fuzzer,address,undefined) and runs `meson test --suite fuzz`:
# for each harness the reproducers and the seed corpus, then fuzzing for a
# bounded time, two harnesses at a time (FUZZ_JOBS, default 2: one per core).
#
#   tools/run-fuzzers.sh [SECONDS] [HARNESS...]
#
# SECONDS   fuzzing time per harness (default: FUZZ_SECONDS, else 45). 0: the
#           reproducers and the seed corpus only (unless FUZZ_ARGS sets -runs=N).
# HARNESS   config, collection, ndjson, replies (default: all four)
#
# Environment: FUZZ_BUILD_DIR (default: build-fuzz in the source tree),
# FUZZ_ARGS (extra libFuzzer flags), CC/CXX (default clang/clang++). Logs,
# the work corpus and crash inputs: $FUZZ_BUILD_DIR/tests/fuzz/<harness>/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FUZZ_SECONDS="${1:-${FUZZ_SECONDS:-45}}"
if [ $# -gt 0 ]; then shift; fi
dir="${FUZZ_BUILD_DIR:-$root/build-fuzz}"

if [ ! -f "$dir/build.ninja" ]; then
  CC="${CC:-clang}" CXX="${CXX:-clang++}" \
    meson setup "$dir" "$root" -Dfuzzing=true -Db_lundef=false -Doptimization=1
fi
selection=(--suite fuzz)
if [ "$FUZZ_SECONDS" = 0 ] && [[ " ${FUZZ_ARGS:-} " != *" -runs="* ]]; then selection=(--suite fuzz-replay); fi
if [ $# -gt 0 ]; then
  selection=()
  for h in "$@"; do selection+=("fuzz-$h-replay" "fuzz-$h"); done
fi
start=$(date +%s) rc=0
meson test -C "$dir" --print-errorlogs --num-processes "${FUZZ_JOBS:-2}" "${selection[@]}" || rc=$?
# Each test's summary: reproducers and seeds, executions, corpus, crash inputs.
grep -E '^[a-z]+: (reproducers|[0-9]+ execs)' "$dir/meson-logs/testlog.txt" | sed 's/^/  /' || true
echo "run-fuzzers: $([ $rc = 0 ] && echo OK || echo FAILED) in $(( $(date +%s) - start )) s (build included)"
exit $rc
