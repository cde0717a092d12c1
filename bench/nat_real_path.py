#!/usr/bin/env python3
"""NAT's real submit path, timed: the reference the native plugin is compared with.

    nat_real_path.py COLLECTION.json... [--runs N] [--out-dir DIR]

Runs inside the NAT virtual environment (.venv/nat: nvidia-nat-openpipe-art
with openpipe-art; tools/setup-nat-venv.sh). What is timed, per run, is what
NAT's ARTTrainerAdapter.submit does before the network:

  parse      TrajectoryCollection.model_validate_json(raw bytes)  (NAT's pydantic model)
  construct  ARTTrainerAdapter._construct_trajectory_groups(collection.trajectories)
             (NAT's real method: episode-order validation, openai Choice objects,
             the art.Trajectory round-trip sanity check)
  dump       the /_train_model body as NAT's RemoteBackend builds it
             (model dump, [g.model_dump(mode="json")], TrainConfig, dev_config,
             verbose) and serialised as httpx's json= does (ensure_ascii=False,
             compact separators, UTF-8)

Imports are not timed (they take 10-20 s, so several collections can be
given to one process). Prints one line per collection with the fields
python_baseline.py prints, plus the three phases (medians over the runs). The
peak RSS is the process's while that collection was handled (VmHWM, reset
through /proc/self/clear_refs before each collection; ru_maxrss where that
is not possible), interpreter and imports included, as python_baseline.py
reports it:

    file=.. in_bytes=.. out_bytes=.. seconds=.. MBps=.. peak_rss_MB=.. parse_s=.. construct_s=.. dump_s=.. cpu_s=.. runs=..

(seconds and the phases: wall clock; cpu_s: process CPU time of the same runs.)
"""

import os

# LiteLLM (imported by openpipe-art) otherwise tries to download its model
# price map at import time.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WEAVE_DISABLED", "true")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("collections", nargs="+")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out-dir", default=None, help="write each body (last run) to DIR/<collection name>.nat-body.json")
    args = ap.parse_args(argv[1:])

    logging.disable(logging.CRITICAL)  # NAT logs every trajectory it drops
    import art
    from nat.data_models.finetuning import TrajectoryCollection
    from nat.plugins.openpipe.config import ARTTrainerAdapterConfig
    from nat.plugins.openpipe.trainer_adapter import ARTTrainerAdapter

    try:
        from nat.plugins.openpipe.remote_backend import _dump_model
    except ImportError:  # older NAT: RemoteBackend lives in ART
        def _dump_model(model):
            data = model.model_dump(mode="json")
            data["config"] = None
            return data

    config = ARTTrainerAdapterConfig.model_validate({
        "_type": "openpipe_art_trainer_adapter",
        "backend": {"ip": "127.0.0.1", "port": 7623},
    })
    adapter = ARTTrainerAdapter(config)
    loop = asyncio.new_event_loop()

    for path in args.collections:
        if run_one(path, args, adapter, config, loop, _dump_model, art, TrajectoryCollection) != 0:
            return 1
    loop.close()
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_mb(reset_ok):
    if reset_ok:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(path, args, adapter, config, loop, _dump_model, art, TrajectoryCollection):
    gc.collect()
    reset_ok = _reset_peak()
    raw = open(path, "rb").read()
    phases = {"parse": [], "construct": [], "dump": [], "total": [], "cpu": []}
    body = b""
    for _ in range(max(1, args.runs)):
        body = b""
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        coll = TrajectoryCollection.model_validate_json(raw)
        t1 = time.perf_counter()
        groups = loop.run_until_complete(adapter._construct_trajectory_groups(coll.trajectories))
        if not groups:
            print("nat_real_path: %s: No valid trajectory groups to submit." % path, file=sys.stderr)
            return 1
        t2 = time.perf_counter()
        # What NAT's submit passes to model.train(), as RemoteBackend._train_model builds the body.
        train_config = art.types.TrainConfig(
            beta=getattr(config.training, "beta", 0),
            learning_rate=getattr(config.training, "learning_rate", 5e-5),
        )
        payload = {
            "model": _dump_model(adapter.model),
            "trajectory_groups": [g.model_dump(mode="json") for g in groups],
            "config": train_config.model_dump(mode="json"),
            "dev_config": {},
            "verbose": False,
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        t3 = time.perf_counter()
        phases["cpu"].append(time.process_time() - c0)
        phases["parse"].append(t1 - t0)
        phases["construct"].append(t2 - t1)
        phases["dump"].append(t3 - t2)
        phases["total"].append(t3 - t0)
        del coll, groups, payload
    if args.out_dir:
        with open(os.path.join(args.out_dir, os.path.basename(path) + ".nat-body.json"), "wb") as f:
            f.write(body)
    dt = statistics.median(phases["total"])
    rss = _peak_mb(reset_ok)
    print(f"file={os.path.basename(path)} in_bytes={len(raw)} out_bytes={len(body)} seconds={dt:.3f} "
          f"MBps={len(raw) / dt / 1e6:.2f} peak_rss_MB={rss:.0f} parse_s={statistics.median(phases['parse']):.3f} "
          f"construct_s={statistics.median(phases['construct']):.3f} dump_s={statistics.median(phases['dump']):.3f} "
          f"cpu_s={statistics.median(phases['cpu']):.3f} runs={len(phases['total'])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
