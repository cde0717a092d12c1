#!/usr/bin/env bash
# Self-test of abi/check_abi.sh: shows that it passes the unchanged ABI and an
# addition, and fails real breaks, against the checked-in baseline.
#
#   abi/check_abi_selftest.sh [BASELINE.abi]
#
# In a temporary directory it copies include/nat/trainer_adapter.h, edits the
# copy, builds a stub plugin from it with g++ (-g, the project's version
# script, every function of the header defined as a stub) and runs
# check_abi.sh on it with the edited copy as the public headers:
#
#   unchanged header                          expect pass
#   a function added                          expect pass (compatible change)
#   create(): config_len size_t -> uint32_t   expect fail (changed parameter)
#   status(): a parameter added               expect fail (changed function)
#   cancel() removed                          expect fail (removed function)
#
# Takes a few seconds. Exit 0 when every case behaves as expected, 1 when not,
# 77 when abidiff or g++ is missing or the machine is not x86_64.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baseline="${1:-$root/abi/baseline/libnat_trainer_adapter_openpipe_art.abi}"
cxx="${CXX_FOR_SELFTEST:-g++}"
for tool in abidiff "$cxx" python3 readelf; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check_abi_selftest: SKIP: $tool not found"
    exit 77
  fi
done
if [ "$(uname -m)" != x86_64 ]; then
  echo "check_abi_selftest: SKIP: the baseline was recorded on x86_64"
  exit 77
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Stub definitions of every function the header declares.
make_stub() {
  python3 - "$1" "$2" <<'EOF'
import re, sys
header, out = sys.argv[1], sys.argv[2]
text = open(header, encoding="utf-8").read()
text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
lines = ['#include "nat/trainer_adapter.h"']
for m in re.finditer(r"^NAT_TRAINER_ADAPTER_API\s+([^;{]*?)\b(nat_trainer_adapter_\w+)\s*\(([^)]*)\)\s*;", text, re.M):
    ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
    body = "{}" if ret == "void" else "{ return 0; }"
    lines.append(f"{ret} {name}({params}) {body}")
open(out, "w", encoding="utf-8").write("\n".join(lines) + "\n")
EOF
}

# build NAME SED_SCRIPT: header copy edited by sed, stub built from it.
build() {
  local name="$1" script="$2" dir="$tmp/$1"
  mkdir -p "$dir/include/nat"
  # The copy leaves out the header's redeclaration from its function list:
  # the compiler would refuse the edited prototype before abidiff sees it.
  sed -e "$script" -e '/^NAT_TRAINER_ADAPTER_FUNCTIONS(NAT_TRAINER_ADAPTER_REDECLARE_)$/d' \
    "$root/include/nat/trainer_adapter.h" > "$dir/include/nat/trainer_adapter.h"
  make_stub "$dir/include/nat/trainer_adapter.h" "$dir/stub.cpp"
  "$cxx" -std=c++17 -g -O2 -fPIC -shared -fvisibility=hidden -DNAT_TRAINER_ADAPTER_BUILDING \
    -Wno-unused-parameter -I"$dir/include" "$dir/stub.cpp" \
    -Wl,--version-script="$root/abi/nat_trainer_adapter.vers" -Wl,-soname,libnat_trainer_adapter_openpipe_art.so \
    -o "$dir/libnat_trainer_adapter_openpipe_art.so"
}

failed=0
# expect NAME pass|fail SED_SCRIPT
expect() {
  local name="$1" want="$2" script="$3" got rc
  if ! build "$name" "$script"; then
    echo "check_abi_selftest: FAIL: $name: the stub did not build"
    failed=1
    return
  fi
  "$root/abi/check_abi.sh" --headers-dir "$tmp/$name/include/nat" \
    "$tmp/$name/libnat_trainer_adapter_openpipe_art.so" "$baseline" > "$tmp/$name/check.log" 2>&1
  rc=$?
  case $rc in
    0) got=pass ;;
    1) got=fail ;;
    *) got="exit $rc" ;;
  esac
  if [ "$got" = "$want" ]; then
    echo "check_abi_selftest: ok: $name: check_abi.sh says $got, as expected"
  else
    echo "check_abi_selftest: FAIL: $name: expected $want, check_abi.sh says $got:"
    sed 's/^/    /' "$tmp/$name/check.log"
    failed=1
  fi
}

expect unchanged pass ''
expect function-added pass \
  '/nat_trainer_adapter_buffer \*\*out_body);/a NAT_TRAINER_ADAPTER_API int32_t nat_trainer_adapter_selftest_added(void);'
expect parameter-type-changed fail \
  '/nat_trainer_adapter_create(const char \*config_json,/{n;s/size_t config_len/uint32_t config_len/}'
expect parameter-added fail \
  '/nat_trainer_adapter_status(/,/;$/s/size_t job_ref_len,$/size_t job_ref_len, int32_t flags,/'
expect function-removed fail \
  '/nat_trainer_adapter_error \*nat_trainer_adapter_cancel(/,/;$/d'
exit $failed
