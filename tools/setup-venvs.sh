#!/usr/bin/env bash
# Create the virtual environments of the ART stand-in servers (tests/art_server):
#
#   .venv/art-0.4   openpipe-art 0.4.11 + fastapi/uvicorn  (tests/art_server/requirements-0.4.txt)
#   .venv/art-0.5   openpipe-art 0.5.16 + fastapi/uvicorn  (tests/art_server/requirements-0.5.txt)
#
# Idempotent: a venv whose stamp (sha256 of its requirements file + interpreter
# version) matches is left alone, so a re-run takes well under a second.  The
# .venv/nat environment is not touched (someone else creates it).
#
# Usage: tools/setup-venvs.sh [--force] [0.4] [0.5]
#   --force   rebuild even when the stamp matches
#   0.4/0.5   only these environments (default: both)
# Environment: ART_VENV_PYTHON  interpreter to build the venvs with
#              (default: python3.11, then python3 if it is >= 3.11)
#              PIP_INDEX_URL etc. are honoured by pip as usual.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ_DIR="$ROOT/tests/art_server"
VENV_ROOT="$ROOT/.venv"
STAMP_NAME=".art-requirements.stamp"

force=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    0.4|0.5) wanted+=("$arg") ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "setup-venvs: unknown argument: $arg" >&2; exit 2 ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=(0.4 0.5)

py_ok() {  # interpreter usable and >= 3.11?
  "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
  local c
  for c in "${ART_VENV_PYTHON:-}" python3.11 /root/.pyenv/versions/3.11.*/bin/python3.11 python3 \
           python3.12 /root/.pyenv/versions/3.12.*/bin/python3.12; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

mkdir -p "$VENV_ROOT"
# Serialize concurrent runs (CI steps, meson test and a developer at once).
exec 9>"$VENV_ROOT/.art-setup.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

PYTHON=""
status=0
for d in "${wanted[@]}"; do
  req="$REQ_DIR/requirements-$d.txt"
  venv="$VENV_ROOT/art-$d"
  stamp="$venv/$STAMP_NAME"
  if [ ! -f "$req" ]; then
    echo "setup-venvs: missing $req" >&2
    exit 1
  fi
  req_hash="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$force" = 0 ] && [ -x "$venv/bin/python" ] && [ -f "$stamp" ]; then
    pyver="$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || true)"
    if [ -n "$pyver" ] && [ "$(cat "$stamp")" = "$req_hash python-$pyver" ]; then
      echo "setup-venvs: .venv/art-$d is up to date"
      continue
    fi
  fi

  if [ -z "$PYTHON" ]; then
    PYTHON="$(find_python)" || {
      echo "setup-venvs: need python >= 3.11 (set ART_VENV_PYTHON)" >&2
      exit 1
    }
  fi
  start=$(date +%s)
  echo "setup-venvs: building .venv/art-$d with $PYTHON"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        --prefer-binary -r "$req"; then
    echo "setup-venvs: pip install failed for .venv/art-$d" >&2
    rm -f "$stamp"
    status=1
    continue
  fi
  # Smoke check: the packages the server needs import and the ART version is right.
  want_art="$(sed -n 's/^openpipe-art==//p' "$req")"
  if ! "$venv/bin/python" - "$want_art" <<'EOF'
import sys, importlib.metadata as md
import fastapi, uvicorn, pydantic  # noqa: F401
v = md.version("openpipe-art")
sys.exit(0 if v == sys.argv[1] else f"openpipe-art {v} installed, {sys.argv[1]} wanted")
EOF
  then
    status=1
    continue
  fi
  pyver="$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])')"
  printf '%s\n' "$req_hash python-$pyver" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
  echo "setup-venvs: .venv/art-$d ready ($(( $(date +%s) - start ))s, $(du -sh "$venv" | cut -f1))"
done
exit $status
