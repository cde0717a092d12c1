#!/usr/bin/env bash
# setup-nemo-venvs.sh - the environment of the NeMo Customizer tests:
#
#   .venv/nat-customizer   nvidia-nat-nemo-customizer 1.9.0 (NAT's NeMo Customizer DPO adapter, for the
#                          differential test tests/nemo_differential/) and everything it needs, pinned in
#                          tests/nemo_server/requirements.txt. The same venv runs the reference NeMo
#                          server (tests/nemo_server/server.py): fastapi, uvicorn and nemo-microservices
#                          come with NAT already, so there is one venv, not two.
#
# It is a venv of its own because the adapter pins huggingface-hub<2 while the other NAT packages
# resolve huggingface_hub 2.x.
#
# Idempotent: the venv keeps a stamp (sha256 of the requirements file + interpreter version); a
# matching stamp means nothing to do (well under a second). Runs are serialized with flock.
# Never fails the build: when the venv cannot be made, the reason goes to
# .venv/nat-customizer-unavailable.txt and the script exits 0 (the tests then skip, exit 77).
#
# Usage: tools/setup-nemo-venvs.sh [--force]
# Environment: NEMO_VENV_PYTHON  interpreter (default: pyenv's 3.12.1, else python3.12, python3.11)
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
req="$root/tests/nemo_server/requirements.txt"
venv_root="$root/.venv"
venv="$venv_root/nat-customizer"
stamp="$venv/.nemo-requirements.stamp"
unavailable="$venv_root/nat-customizer-unavailable.txt"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

log() { printf 'setup-nemo-venvs: %s\n' "$*" >&2; }

give_up() {
  log "NOT available: $1"
  printf '%s\n' "$1" >"$unavailable"
  rm -f "$stamp"
  exit 0
}

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) log "unknown argument: $arg"; exit 2 ;;
  esac
done

pick_python() {
  if [ -n "${NEMO_VENV_PYTHON:-}" ]; then
    printf '%s\n' "$NEMO_VENV_PYTHON"
    return 0
  fi
  local c
  for c in /root/.pyenv/versions/3.12.1/bin/python3.12 python3.12 /root/.pyenv/versions/3.11.*/bin/python3.11 \
           python3.11; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

mkdir -p "$venv_root"
exec 9>"$venv_root/.nemo-setup.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

[ -f "$req" ] || give_up "missing $req"
req_hash="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$force" = 0 ] && [ -x "$venv/bin/python" ] && [ -f "$stamp" ]; then
  pyver="$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || true)"
  if [ -n "$pyver" ] && [ "$(cat "$stamp")" = "$req_hash python-$pyver" ]; then
    log ".venv/nat-customizer is up to date"
    rm -f "$unavailable"
    exit 0
  fi
fi

python="$(pick_python)" || give_up "no Python 3.12 or 3.11 (set NEMO_VENV_PYTHON)"
start=$(date +%s)
log "building .venv/nat-customizer with $python"
rm -rf "$venv"
"$python" -m venv "$venv" || give_up "$python -m venv failed"
"$venv/bin/python" -m pip install -q --prefer-binary -r "$req" || give_up "pip install -r $req failed"
# Smoke check: the adapter, the SDK models and the server's web stack import, at the pinned version.
"$venv/bin/python" - <<'EOF' || give_up "smoke import failed in .venv/nat-customizer"
import importlib.metadata as md
import fastapi, uvicorn, huggingface_hub  # noqa: F401
from nemo_microservices.types.customization import CustomizationJob, CustomizationStatusDetails  # noqa: F401
from nat.plugins.customizer.dpo.trainer_adapter import NeMoCustomizerTrainerAdapter  # noqa: F401
v = md.version("nvidia-nat-nemo-customizer")
assert v == "1.9.0", v
EOF
pyver="$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])')"
printf '%s\n' "$req_hash python-$pyver" >"$stamp.tmp" && mv "$stamp.tmp" "$stamp"
rm -f "$unavailable"
log ".venv/nat-customizer ready ($(($(date +%s) - start))s, $(du -sh "$venv" | cut -f1))"
