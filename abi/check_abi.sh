#!/usr/bin/env bash
# Compares built plugins against their recorded ABI baselines with abidiff.
#
#   abi/check_abi.sh [--headers-dir DIR] PLUGIN.so BASELINE.abi [PLUGIN.so BASELINE.abi ...]
#
# DIR defaults to include/nat of this source tree: only types declared there
# are part of the ABI (everything else in a plugin is private).
#
# Exit status:
#   0   no ABI change, or only compatible changes (functions added, as ABI 1.x
#       allows); those are printed
#   1   an incompatible change in some plugin: a function of the baseline was
#       removed or changed (parameters, return type, a type it reaches), or
#       abidiff failed
#   77  skipped (all plugins): abidiff missing, no debug info in the plugin,
#       or the machine is not the baseline's architecture (x86_64)
#
# abidiff's own exit status is a bit field: 1 error, 2 usage error, 4 ABI
# change, 8 incompatible ABI change. libabigail sets bit 8 only when a
# function or variable was removed: a changed parameter or return type is
# only bit 4. So bit 8 fails, and for bit 4 this script reads abidiff's
# summary: any removed or changed function or variable fails; additions pass.
#
# See abi/README.md for updating the baseline deliberately.
set -uo pipefail

usage() { echo "usage: $0 [--headers-dir DIR] PLUGIN.so BASELINE.abi [PLUGIN.so BASELINE.abi ...]" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
headers="$root/include/nat"
if [ "${1:-}" = --headers-dir ]; then
  [ $# -ge 2 ] || usage
  headers="$2"
  shift 2
fi
if [ $# -lt 2 ] || [ $(($# % 2)) -ne 0 ]; then usage; fi

if ! command -v abidiff >/dev/null 2>&1; then
  echo "check_abi: SKIP: abidiff not found (Debian: apt-get install abigail-tools)"
  exit 77
fi
if [ "$(uname -m)" != x86_64 ]; then
  echo "check_abi: SKIP: the baselines were recorded on x86_64, this is $(uname -m)"
  exit 77
fi

# Returns 0 (ok), 1 (incompatible or error) or 77 (skipped).
check_one() {
  local so="$1" baseline="$2" out rc name broken line removed changed f
  for f in "$so" "$baseline"; do
    if [ ! -f "$f" ]; then
      echo "check_abi: FAIL: $f: no such file"
      return 1
    fi
  done
  name="$(basename "$so")"
  # Without DWARF, abidiff sees only symbol names and passes a changed
  # signature silently.
  if ! readelf -S --wide "$so" 2>/dev/null | grep -q '\.debug_info'; then
    echo "check_abi: SKIP: $name has no debug info (build with -g, e.g. the default buildtype debugoptimized)"
    return 77
  fi

  out="$(abidiff --headers-dir2 "$headers" --drop-private-types --exported-interfaces-only \
          --no-show-locs "$baseline" "$so" 2>&1)"
  rc=$?
  if [ $((rc & 3)) -ne 0 ]; then
    echo "check_abi: FAIL: abidiff could not compare $name with $baseline (exit $rc):"
    echo "$out"
    return 1
  fi
  if [ $rc -eq 0 ]; then
    echo "check_abi: ok: $name matches $(basename "$baseline")"
    return 0
  fi

  # "Functions changes summary: R Removed, C Changed, A Added function", the
  # same for variables and for symbols without debug info.
  broken=0
  while IFS= read -r line; do
    removed=$(sed -nE 's/.*summary: ([0-9]+) Removed.*/\1/p' <<< "$line")
    changed=$(sed -nE 's/.*Removed(,| \([^)]*\),) ([0-9]+) Changed.*/\2/p' <<< "$line")
    if [ "${removed:-0}" -ne 0 ] || [ "${changed:-0}" -ne 0 ]; then broken=1; fi
  done < <(grep -E 'changes summary:' <<< "$out")

  if [ $((rc & 8)) -ne 0 ] || [ $broken -ne 0 ]; then
    echo "check_abi: FAIL: incompatible ABI change in $name against $(basename "$baseline") (abidiff exit $rc):"
    echo "$out"
    echo "check_abi: ABI 1.x only allows additions. If this break is intended (a new ABI major), see abi/README.md."
    return 1
  fi
  echo "check_abi: ok (compatible change): $name adds to $(basename "$baseline") (abidiff exit $rc):"
  echo "$out"
  echo "check_abi: record the addition in the baseline when it is released (abi/README.md)."
  return 0
}

failed=0
checked=0
while [ $# -gt 0 ]; do
  check_one "$1" "$2"
  case $? in
    0) checked=$((checked + 1)) ;;
    77) ;;
    *) failed=1; checked=$((checked + 1)) ;;
  esac
  shift 2
done
if [ $failed -ne 0 ]; then exit 1; fi
if [ $checked -eq 0 ]; then exit 77; fi
exit 0
