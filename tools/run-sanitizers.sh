#!/usr/bin/env bash
# Builds the project with sanitizers in separate build directories and runs
# the C and C++ test suites there.
#
#   tools/run-sanitizers.sh [options] [address|undefined|thread|all]   (default: all)
#
#   address    build-asan:  -Db_sanitize=address,undefined (ASan + LSan + UBSan)
#   undefined  build-ubsan: -Db_sanitize=undefined (UBSan alone, faster)
#   thread     build-tsan:  -Db_sanitize=thread
#   all        address, then thread (address already includes UBSan)
#
# Options:
#   --require-all  fail unless every test really ran: refuses to start when
#                  the ART reference server venvs (.venv/art-0.4, .venv/art-0.5,
#                  or the art_python_* meson options) are missing, and fails
#                  the run if any test or gtest case reports SKIPPED. For CI.
#   --fresh        delete the build directories first (a from-scratch run,
#                  as on a new CI machine; the timings are then comparable)
#   -j N, --jobs N ninja's parallelism (default: ninja's own, cores + 2)
#   --host-unit    also build and run the host's C++ unit test host-unit
#                  (suite 'host'); off by default: building the host
#                  (Boost.DLL, yaml-cpp, CLI11) under a sanitizer roughly
#                  doubles the build time
#
# Each directory is configured once (-Db_lundef=false -Doptimization=1, debug
# info kept; UBSan builds add -fsanitize=float-cast-overflow, which GCC's
# "undefined" leaves out) and reused by later runs; a directory that no longer
# regenerates (stale, e.g. after a meson upgrade) is wiped and set up again.
#
# Suites run: unit, integration, abi (the C/C++ executables: gtest suites,
# the C99 C-API test, header checks, the ABI checks). They include the
# concurrency tests, under every sanitizer: integration-capi-concurrency (one
# handle, submit/status/cancel/jobs/next_event/wait from many threads, destroy
# while jobs stream), unit-job-concurrency (Job/JobTable races without a
# server) and integration-art's ConcurrentSubmitsStatusAndCancelFromManyThreads
# and DestroyWhileAJobRunsCancelsAndJoins. The Python-driven suites
# (bindings, art-server, differential and the host CLI tests) are not run
# here: their interpreters are not instrumented. The integration suite needs
# the ART reference server venvs (tools/setup-venvs.sh); without them its
# tests skip by themselves, and --require-all turns that into a failure.
#
# Environment:
#   SANITIZER_BUILD_ROOT  where the build directories go (default: the source
#                         tree; /build*/ is gitignored)
#   CC, CXX               compilers for a new build directory (default: the
#                         system's cc/c++, i.e. gcc 12 on Debian 12; clang works
#                         too)
#   MESON_TEST_ARGS       extra arguments for meson test (e.g. "--repeat 3", or
#                         test names to run a subset)
#   NINJA_JOBS            same as --jobs
#   SANITIZER_HOST_UNIT   1: same as --host-unit
#   SANITIZER_REQUIRE_ALL 1: same as --require-all
#
# Sanitizer options (set unless already in the environment):
#   ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
#   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
#   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=tools/tsan.supp
# The same environments are available to a manual run as meson test setups
# (meson test -C build-asan --setup asan ...), defined in abi/meson.build.
# The TSan tests run under `setarch -R` (address space randomisation off for
# them only): with more than 28 bits of mmap randomisation (newer kernels),
# GCC 12's TSan runtime cannot map its shadow memory.
#
# Exits non-zero if any build or test fails, if a sanitizer reported anything
# (a report fails the test that triggered it, halt_on_error, and is printed;
# the logs are also scanned, for reports from helper processes), or, with
# --require-all, if anything was skipped. Ends with a summary per sanitizer:
# result, test counts, and setup/build/test times (build also as CPU time).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

which=all
fresh=0
require_all="${SANITIZER_REQUIRE_ALL:-0}"
host_unit="${SANITIZER_HOST_UNIT:-0}"
jobs="${NINJA_JOBS:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --require-all) require_all=1 ;;
    --fresh) fresh=1 ;;
    --host-unit) host_unit=1 ;;
    -j|--jobs) jobs="${2:?$1 needs a number}"; shift ;;
    -j*) jobs="${1#-j}" ;;
    --jobs=*) jobs="${1#--jobs=}" ;;
    -h|--help) usage; exit 0 ;;
    address|undefined|thread|all) which="$1" ;;
    *) echo "run-sanitizers: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
build_root="${SANITIZER_BUILD_ROOT:-$root}"
read -r -a extra_test_args <<< "${MESON_TEST_ARGS:-}"
ninja_jobs=()
if [ -n "$jobs" ]; then ninja_jobs=(-j "$jobs"); fi

case "$which" in
  address) runs=(address) ;;
  undefined) runs=(undefined) ;;
  thread) runs=(thread) ;;
  all) runs=(address thread) ;;
esac

export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp}"

now() { date +%s; }
# cpu_now VAR: CPU seconds (user + system) used so far by this shell's
# finished children, into VAR. (Not $(...): `times` in a subshell would
# report the subshell's children.)
cpu_file="$(mktemp)"
trap 'rm -f "$cpu_file"' EXIT
cpu_now() {
  times > "$cpu_file"
  printf -v "$1" '%s' "$(python3 -c '
import re, sys
lines = open(sys.argv[1]).read().split("\n")
print(int(sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", lines[1] if len(lines) > 1 else ""))))
' "$cpu_file")"
}

# The ART reference server interpreters the integration suite uses: the
# art_python_* options of the build directory, else the default venvs.
check_venvs() {
  local dir="$1" missing=() opt path
  for opt in art_python_04 art_python_05; do
    path=""
    if [ -f "$dir/build.ninja" ]; then
      path="$(meson introspect "$dir" --buildoptions 2>/dev/null | python3 -c '
import json, sys
for o in json.load(sys.stdin):
    if o["name"] == sys.argv[1]:
        print(o["value"])
' "$opt" || true)"
    fi
    if [ -z "$path" ]; then
      case "$opt" in
        art_python_04) path="$root/.venv/art-0.4/bin/python" ;;
        art_python_05) path="$root/.venv/art-0.5/bin/python" ;;
      esac
    fi
    [ -x "$path" ] || missing+=("$path")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "run-sanitizers: --require-all: the ART reference server interpreters are missing:" >&2
    printf '    %s\n' "${missing[@]}" >&2
    echo "  the integration tests would skip; create them with tools/setup-venvs.sh" >&2
    return 1
  fi
}

# Counts of the last meson test run (set by mtest).
n_ok=0 n_fail=0 n_skip=0 n_gtest_skip=0 skipped_names=""

# meson test plus a look at its log: a report from a helper process whose exit
# status a test ignores would not fail the test by itself; skipped tests and
# skipped gtest cases are counted (and fail the run with --require-all).
mtest() {
  local dir="$1" rc=0 wrap=()
  shift
  if [ "$dir" = "$build_root/build-tsan" ] && command -v setarch > /dev/null; then
    wrap=(setarch -R)
  fi
  rm -f "$dir/meson-logs/testlog.json"
  "${wrap[@]}" meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 3 "$@" "${extra_test_args[@]}" || rc=1
  local counts
  counts="$(python3 - "$dir/meson-logs/testlog.json" <<'EOF' || true
import json, re, sys
ok = fail = skip = 0
gskip = []
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for line in lines:
    if not line.strip():
        continue
    t = json.loads(line)
    r = t.get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
        gskip.append(t["name"] + " (whole test)")
    else:
        fail += 1
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    for name in re.findall(r"^\[  SKIPPED \] (\S+) \(\d+ ms\)$", out, re.M):
        gskip.append(t["name"].split(" / ")[-1] + ": " + name)
print(ok, fail, skip, len([g for g in gskip if not g.endswith("(whole test)")]), ";".join(gskip))
EOF
)"
  read -r n_ok n_fail n_skip n_gtest_skip skipped_names <<< "$counts"
  if grep -qE '==[0-9]+==ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|SUMMARY: (Address|Thread|UndefinedBehavior|Leak)Sanitizer|runtime error:|FATAL: ThreadSanitizer' \
       "$dir/meson-logs/testlog.txt" 2>/dev/null; then
    echo "run-sanitizers: sanitizer report in $dir/meson-logs/testlog.txt:" >&2
    grep -E -A30 '==[0-9]+==ERROR|WARNING: ThreadSanitizer|runtime error:|FATAL: ThreadSanitizer' "$dir/meson-logs/testlog.txt" | head -80 >&2 || true
    cp "$dir/meson-logs/testlog.txt" "$dir/meson-logs/testlog-report-$(date +%s).txt"
    rc=1
  fi
  if [ -n "$skipped_names" ]; then
    echo "run-sanitizers: skipped in $dir:" >&2
    tr ';' '\n' <<< "$skipped_names" | sed 's/^/    /' >&2
    if [ "$require_all" = 1 ]; then
      echo "run-sanitizers: --require-all: FAILING because tests were skipped (see above)" >&2
      rc=1
    fi
  fi
  return $rc
}

# test_targets DIR core|host: the ninja targets of the suites unit,
# integration and abi (core), or of the test host-unit (host).
test_targets() {
  local dir="$1"
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
  local kind="$1" dir sanitize label
  case "$kind" in
    address) dir="$build_root/build-asan"; sanitize="address,undefined"; label="ASan+UBSan" ;;
    undefined) dir="$build_root/build-ubsan"; sanitize="undefined"; label="UBSan" ;;
    thread) dir="$build_root/build-tsan"; sanitize="thread"; label="TSan" ;;
  esac
  echo
  echo "run-sanitizers: === $label in $dir ==="
  local t0 t1 t2 t3 c1 c2 status=ok
  t0=$(now)
  if [ "$fresh" = 1 ] && [ -e "$dir" ]; then
    echo "run-sanitizers: --fresh: removing $dir"
    rm -rf "$dir"
  fi
  # Regenerate first if a meson.build changed, so the introspection is
  # current; a directory that cannot regenerate is stale: start it over.
  if [ -f "$dir/build.ninja" ] && ! ninja -C "$dir" build.ninja > /dev/null; then
    echo "run-sanitizers: $dir does not regenerate; removing it and setting it up again" >&2
    rm -rf "$dir"
  fi
  if [ ! -f "$dir/build.ninja" ]; then
    # GCC's -fsanitize=undefined leaves out float-cast-overflow (clang's
    # includes it); ask for it explicitly where UBSan is on.
    local extra=()
    if [ "$kind" != thread ]; then
      extra=(-Dc_args=-fsanitize=float-cast-overflow -Dcpp_args=-fsanitize=float-cast-overflow)
    fi
    # -O1 with debug info (-g): what the sanitizers recommend, and about 40%
    # less compile time than debugoptimized's -O2 under instrumentation.
    if ! meson setup "$dir" "$root" -Db_sanitize="$sanitize" -Db_lundef=false -Doptimization=1 "${extra[@]}"; then
      status="SETUP FAILED"
    fi
  fi
  t1=$(now)
  cpu_now c1
  # Build only what the selected tests need (meson test would do the same
  # when it rebuilds; doing it here separates build time from test time and
  # skips the rest of the project, e.g. the nat-trainer executable).
  local targets=""
  if [ "$status" = ok ]; then
    if ! targets="$(test_targets "$dir" core)" || ! ninja -C "$dir" "${ninja_jobs[@]}" $targets; then
      status="BUILD FAILED"
    fi
  fi
  cpu_now c2
  t2=$(now)
  local counts="no tests run"
  if [ "$status" = ok ]; then
    mtest "$dir" --suite unit --suite integration --suite abi || status="TESTS FAILED"
    counts="$n_ok ok, $n_fail failed, $n_skip skipped, $n_gtest_skip gtest cases skipped"
  fi
  # The host's C++ unit test (opt-in): built and run after the plugin suites,
  # so that a host build problem does not hide their results.
  if [ "$host_unit" = 1 ] && [ -f "$dir/build.ninja" ] && meson test -C "$dir" --list 2>/dev/null | grep -q '/ host-unit$'; then
    if ! targets="$(test_targets "$dir" host)" || ! ninja -C "$dir" "${ninja_jobs[@]}" $targets; then
      status="$status, host-unit BUILD FAILED"
    elif ! mtest "$dir" host-unit; then
      status="$status, host-unit FAILED"
    else
      counts="$counts; host-unit ok"
    fi
  fi
  t3=$(now)
  if [ "$status" != ok ]; then failed=1; fi
  results+=("$label ($dir): $status; $counts; setup $((t1 - t0)) s, build $((t2 - t1)) s (cpu $((c2 - c1)) s), tests $((t3 - t2)) s, total $((t3 - t0)) s")
}

if [ "$require_all" = 1 ]; then
  for kind in "${runs[@]}"; do
    case "$kind" in
      address) d="$build_root/build-asan" ;; undefined) d="$build_root/build-ubsan" ;; thread) d="$build_root/build-tsan" ;;
    esac
    if ! check_venvs "$d"; then
      echo "run-sanitizers: FAILED before building (--require-all)" >&2
      exit 1
    fi
  done
fi

start=$(now)
for kind in "${runs[@]}"; do
  run_one "$kind"
done

echo
echo "run-sanitizers: summary ($((($(now) - start) / 60)) min $((($(now) - start) % 60)) s in all)"
for line in "${results[@]}"; do echo "  $line"; done
if [ "$failed" = 0 ]; then
  if [ "$require_all" = 1 ]; then
    echo "run-sanitizers: PASSED (--require-all: nothing was skipped)"
  else
    echo "run-sanitizers: PASSED"
  fi
else
  echo "run-sanitizers: FAILED (see the reports above and the meson-logs of the build directories)" >&2
fi
exit $failed
