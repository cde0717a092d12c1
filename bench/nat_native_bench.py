#!/usr/bin/env python3
"""Inside NAT: the native adapter's submit against NAT's ARTTrainerAdapter.

    nat_native_bench.py --python VENV_PYTHON [--collection FILE] [--runs N] [--spool on|off|both]
                        [--modes native,nat] [--art-python PY]

A benchmark, not a test. The collection (default: generated with the bench
generator, ~104 MB: --groups 64 --gens 8 --turns 4 --tokens 256 --seed 1) is
loaded as NAT's pydantic TrajectoryCollection in a fresh process per
adapter and run; timed is NAT's interface call, from `await adapter.submit(...)`
until the last byte of the /_train_model body reached the server (the
reference ART server, dialect 0.4, behind a relay in this process that notes
when the client's last request byte before the server's answer arrived).
Per process the peak RSS during that interval is sampled (every 5 ms), next
to the RSS with the collection loaded.

VENV_PYTHON must have NAT with nvidia-nat-openpipe-art and this package
(tests/nat makes one: build/tests/nat/work/venv-full/bin/python). NAT's
adapter is registered with the server the way its initialize does it,
without its health check of port 8000. The native adapter's split:
serialisation (orjson, else pydantic-core; NAT objects -> JSON bytes), the plugin's
validation (submit returns), conversion and upload until the last byte.
With --spool both, each run measures the native adapter with the spool on
and off next to NAT's, so both ratios come from the same run (and the same
load); the job's spool sync (metadata.spool_sync*) is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GEN = Path("/work/shared/bench/gen_collection.py")


# -- the relay --------------------------------------------------------------------


class Relay:
    """TCP relay to the server; for each POST /_train_model, the time of the
    client's last byte before the server's first response byte."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.body_done: "queue.Queue[float]" = queue.Queue()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            c, _ = self.sock.accept()
            s = socket.create_connection(self.target)
            state = {"train": False, "last": 0.0}
            lock = threading.Lock()
            threading.Thread(target=self._pump, args=(c, s, state, lock, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, state, lock, False), daemon=True).start()

    def _pump(self, src, dst, state, lock, from_client):
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        try:
            while True:
                n = src.recv_into(buf)
                if n == 0:
                    break
                now = time.time()
                with lock:
                    if from_client:
                        if not state["train"] and buf.find(b"POST /_train_model ", 0, n) >= 0:
                            state["train"] = True
                        state["last"] = now
                    elif state["train"]:
                        state["train"] = False
                        self.body_done.put(state["last"])
                dst.sendall(view[:n])
        except OSError:
            pass
        finally:
            for x in (src, dst):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


# -- one measured process -------------------------------------------------------------

CHILD = r'''
import asyncio, json, os, sys, threading, time, logging
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("WANDB_MODE", "disabled")
logging.disable(logging.CRITICAL)
mode, path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
from nat.data_models.finetuning import FinetuneConfig, TrajectoryCollection

def rss_mb():
    with open("/proc/self/status") as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) / 1024
t = time.perf_counter()
collection = TrajectoryCollection.model_validate_json(open(path, "rb").read())
load_s = time.perf_counter() - t
import gc; gc.collect()
backend = {"ip": "127.0.0.1", "port": port, "name": "bench", "project": "bench",
           "base_model": "Qwen/Qwen2.5-0.5B-Instruct"}

async def main():
    if mode == "native":
        from nat_trainer_adapter.nat.config import NativeARTTrainerAdapterConfig
        from nat_trainer_adapter.nat.adapter import NativeTrainerAdapter
        cfg = NativeARTTrainerAdapterConfig.model_validate({"_type": "native_openpipe_art_trainer_adapter",
            "backend": backend, "native": {"spool_dir": sys.argv[4], "spool": sys.argv[5] == "on"}})
        adapter = NativeTrainerAdapter(cfg, cfg.plugin_config())
        await adapter.initialize(FinetuneConfig())
    else:
        from nat.plugins.openpipe.config import ARTTrainerAdapterConfig
        from nat.plugins.openpipe.trainer_adapter import ARTTrainerAdapter
        cfg = ARTTrainerAdapterConfig.model_validate({"_type": "openpipe_art_trainer_adapter", "backend": backend})
        adapter = ARTTrainerAdapter(cfg)
        await adapter.model.register(adapter.remote_backend)   # initialize without the port-8000 health check
    base = rss_mb()
    samples = []
    stop = threading.Event()
    def sample():
        while not stop.is_set():
            samples.append((time.time(), rss_mb(), time.process_time()))
            time.sleep(0.005)
    th = threading.Thread(target=sample, daemon=True); th.start()
    t0 = time.time()
    cpu0 = time.process_time()
    ref = await adapter.submit(collection)
    submit_returned = time.time()
    status = await adapter.wait_until_complete(ref, poll_interval=0.05)
    done = time.time()
    stop.set(); th.join()
    meta = getattr(status, "metadata", None) or {}
    print(json.dumps({"t0": t0, "cpu0": cpu0, "submit_returned": submit_returned, "done": done, "status": str(status.status),
                      "spool": {k: v for k, v in meta.items() if k.startswith("spool_")},
                      "base_rss_mb": base, "load_s": load_s, "samples": samples,
                      "timing": getattr(adapter, "last_submit_timing", {})}), flush=True)

asyncio.run(main())
'''


def measure(python: str, mode: str, collection: Path, relay: Relay, spool: str = "on") -> dict:
    while not relay.body_done.empty():
        relay.body_done.get()
    # In a directory of its own: NAT's adapter creates .art/<project> in the working directory.
    run_dir = tempfile.mkdtemp(prefix="nat-native-bench-run-")
    spool_dir = os.path.join(run_dir, "spool")
    try:
        p = subprocess.run([python, "-c", CHILD, mode, str(collection.resolve()), str(relay.port), spool_dir, spool],
                           capture_output=True, text=True, timeout=1800, cwd=run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    if p.returncode != 0:
        raise RuntimeError(f"{mode}: exit {p.returncode}\n{p.stderr[-3000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    try:
        end = relay.body_done.get(timeout=10)
    except queue.Empty:
        raise RuntimeError(f"{mode}: the relay saw no /_train_model body end; child: {p.stdout[-2000:]}") from None
    window = [rss for t, rss, _ in r["samples"] if r["t0"] <= t <= end + 0.01]
    cpu_end = next((cpu for t, _, cpu in r["samples"] if t >= end), None)
    return {
        "mode": mode if mode == "nat" else f"{mode} (spool {spool})",
        "status": r["status"],
        "spool": r.get("spool", {}),
        "submit_to_body_s": end - r["t0"],
        "submit_returns_s": r["submit_returned"] - r["t0"],
        "cpu_to_body_s": None if cpu_end is None else cpu_end - r["cpu0"],
        "base_rss_mb": r["base_rss_mb"],
        "peak_rss_mb": max(window) if window else None,
        "timing": r["timing"],
        "load_s": r["load_s"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", required=True, help="interpreter with NAT, nvidia-nat-openpipe-art and this package")
    ap.add_argument("--collection", type=Path)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--spool", choices=("on", "off", "both"), default="on",
                    help="the native plugin's spool (native.spool, default on: the collection is written to disk "
                    "before anything is sent); both: the native adapter with each, side by side in every run")
    ap.add_argument("--modes", default="native,nat", help="which adapters, comma-separated (native, nat)")
    ap.add_argument("--art-python", default=str(ROOT / ".venv" / "art-0.4" / "bin" / "python"))
    args = ap.parse_args()
    # Absolute (not resolved: a venv's python is a symlink): each run's process starts in a directory of its own.
    args.python = os.path.abspath(args.python)

    tmp = Path(tempfile.mkdtemp(prefix="nat-native-bench-"))
    collection = args.collection
    if collection is None:
        collection = tmp / "collection.json"
        with open(collection, "wb") as f:
            subprocess.run([sys.executable, str(GEN), "--groups", "64", "--gens", "8", "--turns", "4", "--tokens", "256",
                            "--seed", "1"], stdout=f, check=True)
    size = collection.stat().st_size
    print(f"collection {collection}: {size / 1e6:.1f} MB", flush=True)

    server = subprocess.Popen([args.art_python, str(ROOT / "tests" / "art_server" / "server.py"), "--dialect", "0.4",
                               "--port", "0", "--inference-port", "0", "--data-dir", str(tmp / "art"),
                               "--record-body-cap", "1024"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready = json.loads(server.stdout.readline())
        relay = Relay(int(ready["control_port"]))
        modes = [m for m in args.modes.split(",") if m]
        spools = ("on", "off") if args.spool == "both" else (args.spool,)
        # (adapter, spool) pairs; the spool setting only matters to the native one.
        cases = [(m, s) for m in modes for s in (spools if m == "native" else ("on",))]
        results = {c: [] for c in cases}
        for _ in range(args.runs):
            for mode, spool in cases:
                r = measure(args.python, mode, collection, relay, spool)
                results[(mode, spool)].append(r)
                print(json.dumps(r), flush=True)
        if set(modes) != {"native", "nat"}:
            return 0
        for spool in spools:
            report(results[("nat", "on")], results[("native", spool)], spool, size)
        return 0
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def report(nat_runs: list, native_runs: list, spool: str, size: int) -> None:
    results = {"nat": nat_runs, "native": native_runs}
    med = {m: statistics.median(x["submit_to_body_s"] for x in rs) for m, rs in results.items()}
    cpu = {m: statistics.median(x["cpu_to_body_s"] or 0.0 for x in rs) for m, rs in results.items()}
    peak = {m: max(x["peak_rss_mb"] for x in rs) for m, rs in results.items()}
    base = {m: max(x["base_rss_mb"] for x in rs) for m, rs in results.items()}
    nt = {k: statistics.median(x["timing"][k] for x in native_runs)
          for k in ("serialize_s", "native_submit_s", "bytes") if all(k in x["timing"] for x in native_runs)}
    print(f"\nsubmit -> whole /_train_model body at the server, {size / 1e6:.0f} MB collection as NAT objects, "
          f"native spool {spool} (medians of {len(native_runs)}):")
    print(f"  NAT's ARTTrainerAdapter  {med['nat']:8.2f} s (process CPU {cpu['nat']:.2f} s)   peak RSS "
          f"{peak['nat']:7.0f} MB (with the collection loaded: {base['nat']:.0f} MB)")
    print(f"  native adapter           {med['native']:8.2f} s (process CPU {cpu['native']:.2f} s)   peak RSS "
          f"{peak['native']:7.0f} MB (with the collection loaded: {base['native']:.0f} MB)")
    print(f"  speed-up {med['nat'] / med['native']:.1f}x wall clock, {cpu['nat'] / max(cpu['native'], 1e-9):.1f}x "
          f"CPU; peak memory {peak['native'] / peak['nat']:.2f} of NAT's")
    if len(nt) == 3:
        rest = med["native"] - nt["serialize_s"] - nt["native_submit_s"]
        what = "plugin validation and spool write" if spool == "on" else "plugin validation"
        print(f"  native split (medians of each part): serialisation (orjson) {nt['serialize_s']:.2f} s, "
              f"{what} (submit returns) {nt['native_submit_s']:.2f} s, conversion+upload to the last byte "
              f"{rest:.2f} s ({nt['bytes'] / 1e6:.0f} MB of JSON)")
    syncs = [x["spool"].get("spool_sync_s") for x in native_runs if x.get("spool", {}).get("spool_sync_s") is not None]
    if syncs:
        waits = [x["spool"].get("spool_sync_wait_s", 0.0) for x in native_runs]
        print(f"  spool fsync (file and directory, beside the upload) {statistics.median(syncs):.2f} s; the job "
              f"waited for it at its end {statistics.median(waits):.2f} s")


if __name__ == "__main__":
    sys.exit(main())
