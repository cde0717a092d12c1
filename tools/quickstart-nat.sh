#!/usr/bin/env bash
# quickstart-nat.sh (run as `tools/quickstart.sh --nat [nat finetune options...]`):
# from a fresh machine to `nat finetune` training through the native ART adapter.
#
#  1. tools/setup-system.sh, tools/setup-venvs.sh (the reference ART server's
#     .venv/art-0.4), tools/setup-nat-native-venv.sh (.venv/nat-core:
#     nvidia-nat-core 1.9.0 at pinned versions; .venv/wheel-build: the pinned
#     meson-python, meson, ninja).
#  2. .venv/nat-quickstart: a venv over .venv/nat-core with this package built
#     (meson-python, build directory .tmp/nat-quickstart/build) and installed,
#     and a `nat` command. Its stamp holds the hash of the sources and of the
#     base venvs' stamps: a re-run with nothing changed skips the build.
#  3. The reference ART server (dialect 0.4) on free loopback ports, then
#       nat finetune --config_file examples/nat/config.yml \
#         -o trainer_adapters.art.backend.port <port> -o finetuning.output_dir <dir> [options...]
#     and a check that every epoch completed and its metrics were written.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf 'quickstart --nat: %s\n' "$*"; }
die() { printf 'quickstart --nat: %s\n' "$*" >&2; exit 1; }
t_start=$(date +%s)

tools/setup-system.sh
tools/setup-venvs.sh
tools/setup-nat-native-venv.sh
core="$root/.venv/nat-core"
tools_venv="$root/.venv/wheel-build"
if [ ! -x "$core/bin/python" ] || [ ! -x "$tools_venv/bin/python" ]; then
  die "the NAT core environment could not be made: $(cat .venv/nat-native-unavailable.txt 2>/dev/null || echo unknown reason)"
fi

venv="$root/.venv/nat-quickstart"
build_dir="$root/.tmp/nat-quickstart/build"
sources=(meson.build meson_options.txt pyproject.toml include plugin bindings/python)
want=$(
  {
    cat "$core/.stamp" "$tools_venv/.stamp"
    if git rev-parse --git-dir >/dev/null 2>&1; then
      git ls-files -s -- "${sources[@]}"
      git diff HEAD -- "${sources[@]}"
      git ls-files -o --exclude-standard -- "${sources[@]}" | xargs -r sha256sum
    else
      find "${sources[@]}" -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    fi
  } | sha256sum | cut -d' ' -f1
)
if [ -x "$venv/bin/nat" ] && [ "$(cat "$venv/.stamp" 2>/dev/null)" = "$want" ]; then
  say "up to date: $venv"
else
  t0=$(date +%s)
  say "building and installing nat_trainer_adapter into $venv (first time: a few minutes)"
  rm -rf "$venv"
  py=$(readlink -f "$core/bin/python")
  "$py" -m venv --without-pip "$venv"
  purelib() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'; }
  # NAT core's packages (and its pip) through a .pth file: nothing downloaded again.
  purelib "$core" >"$(purelib "$venv")/_nat_core.pth"
  mkdir -p "$build_dir"
  PATH="$tools_venv/bin:$PATH" PYTHONPATH="$(purelib "$tools_venv")" "$venv/bin/python" -m pip install -q \
    --disable-pip-version-check --no-index --no-deps --no-build-isolation \
    "-Cbuild-dir=$build_dir" -Ccompile-args=-j2 "$root" ||
    die "pip install of this package into $venv failed"
  cat >"$venv/bin/nat" <<NAT
#!$venv/bin/python
import sys
from nat.cli.main import run_cli
sys.argv[0] = "nat"
sys.exit(run_cli())
NAT
  chmod +x "$venv/bin/nat"
  "$venv/bin/python" -c 'import nat_trainer_adapter.nat.register' || die "the package does not import in $venv"
  printf '%s\n' "$want" >"$venv/.stamp"
  say "$venv ready in $(($(date +%s) - t0)) s"
fi

work="$root/.tmp/nat-quickstart/run"
rm -rf "$work"
mkdir -p "$work"
.venv/art-0.4/bin/python tests/art_server/server.py --dialect 0.4 --port 0 --inference-port 0 \
  --data-dir "$work/art" --log-file "$work/art-server.log" --ready-file "$work/ready.json" >"$work/ready.line" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -s "$work/ready.json" ] && break
  kill -0 "$server" 2>/dev/null || die "the reference server did not start; see $work/art-server.log"
  sleep 0.1
done
[ -s "$work/ready.json" ] || die "the reference server was not ready within 30 s; see $work/art-server.log"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control_port"])' "$work/ready.json")
say "reference ART server (dialect 0.4) on 127.0.0.1:$port"

out="$work/finetuning"
cmd=(nat finetune --config_file examples/nat/config.yml -o trainer_adapters.art.backend.port "$port"
  -o finetuning.output_dir "$out" "$@")
say "${cmd[*]}"
set +e
env LITELLM_LOCAL_MODEL_COST_MAP=True WANDB_MODE=disabled WEAVE_DISABLED=true PATH="$venv/bin:$PATH" \
  "${cmd[@]}" 2>&1 | tee "$work/nat.log"
rc=${PIPESTATUS[0]}
set -e

epochs=$(grep -oE 'Completed epoch [0-9]+/[0-9]+' "$work/nat.log" | tail -n1 | cut -d/ -f2 || true)
metrics="$out/training_metrics.jsonl"
if [ "$rc" != 0 ] || ! grep -q 'Finetuning completed successfully!' "$work/nat.log" || [ -z "$epochs" ] ||
  ! grep -q "Completed epoch $epochs/$epochs" "$work/nat.log" || [ ! -s "$metrics" ] ||
  [ "$(wc -l <"$metrics")" != "$epochs" ]; then
  die "training did not complete (nat finetune exit $rc); NAT's log: $work/nat.log, server log: $work/art-server.log"
fi
say "training completed: $epochs epochs in $(($(date +%s) - t_start)) s"
say "NAT's output (metrics files): $out"
ls -1 "$out" | sed 's/^/  /'
say "NAT's log: $work/nat.log; the ART server's log and data: $work/art-server.log, $work/art"
