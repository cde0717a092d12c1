#!/usr/bin/env bash
# The quick start: installs what is needed, builds, starts the reference ART
# server and trains the bundled example collection with `nat-trainer run --wait`,
# exactly as against a real ART server on a GPU machine.
#
# tools/quickstart.sh --nat [nat finetune options...]: the same from NAT's side:
# sets up the pinned NAT core (tools/setup-nat-native-venv.sh), builds and
# installs this package into .venv/nat-quickstart (again only when the sources
# changed), starts the reference ART server and runs
#   nat finetune --config_file examples/nat/config.yml -o trainer_adapters.art.backend.port <port>
# (native_trainer, the native ART adapter, the recorded example collection).
# Exits non-zero unless training completed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${1:-}" = "--nat" ]; then
  shift
  exec tools/quickstart-nat.sh "$@"
fi

tools/setup-system.sh
tools/setup-venvs.sh
if [ ! -f build/build.ninja ]; then meson setup build; fi
ninja -C build

work="$root/.tmp/quickstart"
rm -rf "$work"
mkdir -p "$work"
# The reference server (ART protocol dialect 0.4.x, as NAT's `art` server 0.4.11)
# on free ports; it prints its ports as one JSON line when it is ready.
.venv/art-0.4/bin/python tests/art_server/server.py --dialect 0.4 --port 0 --inference-port 0 \
  --data-dir "$work/art" --log-file "$work/art-server.log" --ready-file "$work/ready.json" > "$work/ready.line" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -s "$work/ready.json" ] && break
  kill -0 "$server" 2>/dev/null || { echo "quickstart: the reference server did not start; see $work/art-server.log" >&2; exit 1; }
  sleep 0.1
done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control_port"])' "$work/ready.json")
echo "quickstart: reference ART server (dialect 0.4) on 127.0.0.1:$port"
sed "s/port: 7623/port: $port/" examples/quickstart/config.yml > "$work/config.yml"

build/host/nat-trainer run --config "$work/config.yml" \
  --trajectories examples/quickstart/trajectories.json --wait --timeout 300
