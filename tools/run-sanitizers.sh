#!/usr/bin/env bash
# Builds the project with sanitizers in separate build directories and runs
# the C and C++ test suites there.
#
#   tools/run-sanitizers.sh [address|undefined|thread|all]   (default: all)
#
#   address    build-asan:  -Db_sanitize=address,undefined (ASan + LSan + UBSan)
#   undefined  build-ubsan: -Db_sanitize=undefined (UBSan alone, faster)
#   thread     build-tsan:  -Db_sanitize=thread
#   all        address, then thread (address already includes UBSan)
#
# Each directory is configured once (-Db_lundef=false -Doptimization=1, debug
# info kept; UBSan builds add -fsanitize=float-cast-overflow, which GCC's
# "undefined" leaves out) and reused by later runs; delete it to start over.
#
# Suites run: unit, integration, abi (the C/C++ executables: gtest suites,
# the C99 C-API test, header checks, the ABI checks), plus on request the
# host's C++ unit test host-unit. The Python-driven suites (bindings,
# art-server, differential and the host CLI tests) are not run here: their
# interpreters are not instrumented. integration-art needs the ART reference
# server venvs .venv/art-0.4 and .venv/art-0.5 (tools/setup-venvs.sh); without
# them its tests skip by themselves.
#
# Environment:
#   SANITIZER_BUILD_ROOT  where the build directories go (default: the source
#                         tree; /build*/ is gitignored)
#   CC, CXX               compilers for a new build directory (default: the
#                         system's cc/c++, i.e. gcc 12 on Debian 12; clang works
#                         too)
#   MESON_TEST_ARGS       extra arguments for meson test (e.g. "--repeat 3")
#   SANITIZER_HOST_UNIT   1 to also build and run the host's C++ unit test
#                         host-unit (suite 'host'); off by default: building
#                         the host (Boost.DLL, yaml-cpp, CLI11) under a
#                         sanitizer roughly doubles the build time
#
# Sanitizer options (set unless already in the environment):
#   ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
#   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
#   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=tools/tsan.supp
# The same environments are available to a manual run as meson test setups
# (meson test -C build-asan --setup asan ...), defined in abi/meson.build.
#
# Exits non-zero if any build or test fails; a sanitizer report fails the test
# that triggered it (halt_on_error) and is printed with --print-errorlogs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
which="${1:-all}"
build_root="${SANITIZER_BUILD_ROOT:-$root}"
read -r -a extra_test_args <<< "${MESON_TEST_ARGS:-}"
host_unit="${SANITIZER_HOST_UNIT:-0}"

case "$which" in
  address) runs=(address) ;;
  undefined) runs=(undefined) ;;
  thread) runs=(thread) ;;
  all) runs=(address thread) ;;
  -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
  *) echo "usage: $0 [address|undefined|thread|all]" >&2; exit 2 ;;
esac

export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp}"

now() { date +%s; }

# meson test plus a look at its log: a report from a helper process whose exit
# status a test ignores would not fail the test by itself.
mtest() {
  local dir="$1" rc=0
  shift
  meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 3 "$@" "${extra_test_args[@]}" || rc=1
  if grep -qE '==[0-9]+==ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|SUMMARY: (Address|Thread|UndefinedBehavior|Leak)Sanitizer|runtime error:' \
       "$dir/meson-logs/testlog.txt" 2>/dev/null; then
    echo "run-sanitizers: sanitizer report in $dir/meson-logs/testlog.txt:" >&2
    grep -E -A30 '==[0-9]+==ERROR|WARNING: ThreadSanitizer|runtime error:' "$dir/meson-logs/testlog.txt" | head -80 >&2 || true
    cp "$dir/meson-logs/testlog.txt" "$dir/meson-logs/testlog-report-$(date +%s).txt"
    rc=1
  fi
  return $rc
}
# test_targets DIR core|host: the ninja targets of the suites unit,
# integration and abi (core), or of the test host-unit (host).
test_targets() {
  local dir="$1"
  # Regenerate first if a meson.build changed, so the introspection is current.
  ninja -C "$dir" build.ninja > /dev/null || return 1
  meson introspect "$dir" --tests --targets | python3 -c '
import json, os, sys
info = json.load(sys.stdin)
build_dir, which = sys.argv[1], sys.argv[2]
files = {t["id"]: t["filename"] for t in info["targets"]}
wanted = set()
for t in info["tests"]:
    suites = {s.split(":")[-1] for s in t["suite"]}
    if (suites & {"unit", "integration", "abi"}) if which == "core" else t["name"] == "host-unit":
        for dep in t["depends"]:
            for f in files.get(dep, []):
                wanted.add(os.path.relpath(f, build_dir))
print(" ".join(sorted(wanted)))
' "$dir" "$2"
}

results=()
failed=0

run_one() {
  local kind="$1" dir sanitize
  case "$kind" in
    address) dir="$build_root/build-asan"; sanitize="address,undefined" ;;
    undefined) dir="$build_root/build-ubsan"; sanitize="undefined" ;;
    thread) dir="$build_root/build-tsan"; sanitize="thread" ;;
  esac
  local t0 t1 t2 t3 status=ok
  t0=$(now)
  if [ ! -f "$dir/build.ninja" ]; then
    # GCC's -fsanitize=undefined leaves out float-cast-overflow (clang's
    # includes it); ask for it explicitly where UBSan is on.
    local extra=()
    if [ "$kind" != thread ]; then
      extra=(-Dc_args=-fsanitize=float-cast-overflow -Dcpp_args=-fsanitize=float-cast-overflow)
    fi
    # -O1 with debug info (-g): what the sanitizers recommend, and about 40%
    # less compile time than debugoptimized's -O2 under instrumentation.
    meson setup "$dir" "$root" -Db_sanitize="$sanitize" -Db_lundef=false -Doptimization=1 "${extra[@]}"
  fi
  t1=$(now)
  # Build only what the selected tests need (meson test would do the same
  # when it rebuilds; doing it here separates build time from test time and
  # skips the rest of the project, e.g. the nat-trainer executable).
  local targets
  if ! targets="$(test_targets "$dir" core)" || ! ninja -C "$dir" $targets; then
    status="BUILD FAILED"
  fi
  t2=$(now)
  if [ "$status" = ok ]; then
    mtest "$dir" --suite unit --suite integration --suite abi || status="TESTS FAILED"
  fi
  # The host's C++ unit test (opt-in): built and run after the plugin suites,
  # so that a host build problem does not hide their results.
  if [ "$host_unit" = 1 ] && meson test -C "$dir" --list 2>/dev/null | grep -q '/ host-unit$'; then
    if ! targets="$(test_targets "$dir" host)" || ! ninja -C "$dir" $targets; then
      status="$status, host-unit BUILD FAILED"
    elif ! mtest "$dir" host-unit; then
      status="$status, host-unit FAILED"
    fi
  fi
  t3=$(now)
  if [ "$status" != ok ]; then failed=1; fi
  results+=("$kind ($sanitize, $dir): $status; setup $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s, total $((t3 - t0)) s")
}

for kind in "${runs[@]}"; do
  run_one "$kind"
done

echo
echo "run-sanitizers: summary"
for line in "${results[@]}"; do echo "  $line"; done
exit $failed
