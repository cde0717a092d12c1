#!/usr/bin/env bash
# Runs the C and C++ test suites (unit, integration, abi) under sanitizers,
# through the test setups of meson.build (asan, tsan), each in its own build
# directory, configured once and reused.
#
#   tools/run-sanitizers.sh [--require-all] [all|address|thread|none]   (default: all)
#
#   address  build-asan: -Db_sanitize=address,undefined (ASan + LSan + UBSan,
#            with float-cast-overflow, which GCC's "undefined" leaves out)
#   thread   build-tsan: -Db_sanitize=thread (tests under `setarch -R`)
#   all      address, then thread
#
# --require-all  fail if any test or gtest case was skipped (the integration
#                tests skip without the ART reference server venvs of
#                tools/setup-venvs.sh). For CI.
#
# Builds are -O1 with debug info. A sanitizer report fails the test that
# triggered it (halt_on_error); the log is also searched for reports from
# helper processes whose exit status a test ignores.
# Environment: SANITIZER_BUILD_PREFIX (default: <source>/build-, giving
# build-asan and build-tsan), MESON_TEST_ARGS (extra meson test arguments).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
require_all=0 which=all
for arg in "$@"; do
  case "$arg" in
    --require-all) require_all=1 ;;
    all|address|thread|none) which="$arg" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
case "$which" in all) runs=(asan tsan) ;; address) runs=(asan) ;; thread) runs=(tsan) ;; none) runs=() ;; esac
read -r -a extra <<< "${MESON_TEST_ARGS:-}"

failed=0
for setup in "${runs[@]}"; do
  dir="${SANITIZER_BUILD_PREFIX:-$root/build-}$setup"
  if [ ! -f "$dir/build.ninja" ]; then
    if [ "$setup" = asan ]; then
      options=(-Db_sanitize=address,undefined -Dc_args=-fsanitize=float-cast-overflow
               -Dcpp_args=-fsanitize=float-cast-overflow)
    else
      options=(-Db_sanitize=thread)
    fi
    meson setup "$dir" "$root" -Db_lundef=false -Doptimization=1 "${options[@]}"
  fi
  start=$(date +%s)
  status=ok
  log="$dir/meson-logs/testlog-$setup.txt"
  rm -f "$log" "${log%.txt}.json"
  # meson test builds only what the selected tests need.
  meson test -C "$dir" --setup "$setup" --print-errorlogs --suite unit --suite integration --suite abi \
    "${extra[@]}" || status=FAILED
  if grep -E -A30 '==[0-9]+==ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|FATAL: ThreadSanitizer|runtime error:' \
       "$log"; then
    echo "run-sanitizers: sanitizer report in $log (above)" >&2
    status=FAILED
  fi
  if [ "$require_all" = 1 ] && grep -E '^\[  SKIPPED \] [^ ]+ \(|"result": "SKIP"' "$log" "${log%.txt}.json"; then
    echo "run-sanitizers: --require-all: skipped tests (above) in $log" >&2
    status=FAILED
  fi
  echo "run-sanitizers: $setup ($dir): $status in $(( $(date +%s) - start )) s (build included)"
  if [ "$status" != ok ]; then failed=1; fi
done
exit $failed
