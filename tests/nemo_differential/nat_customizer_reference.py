#!/usr/bin/env python3
"""NAT's own NeMoCustomizerTrainerAdapter against the reference NeMo server;
runs inside .venv/nat-customizer (tools/setup-nemo-venvs.sh).

    nat_customizer_reference.py --url http://127.0.0.1:PORT --config CONFIG.json \
        --collection COLLECTION.json [--out OUT.json]
    nat_customizer_reference.py --url http://127.0.0.1:PORT --config CONFIG.json \
        --cases DIR [--out OUT.json]

With --cases, DIR is gen_dpo_collections.py's output: every case is run in turn (the case's "config" on top
of CONFIG, the server reset before each and given the case's "faults") and the output is {case id: <the object below>}.

CONFIG: NAT's nemo_customizer_trainer_adapter fields as JSON (entity_host and
datastore_host default to --url). The driver builds the adapter from NAT's
config class, initialize()s it, submit()s the collection, wait_until_complete()s
(when submit succeeded), and prints (or writes to OUT) one JSON object:

  {"versions": {...},
   "outcome": "ok" | "submit_error" | "wait_error",
   "error": {"type", "message"} (not "ok"),
   "ref": <TrainingJobRef.model_dump(mode="json")> or null,
   "status": <final TrainingJobStatus.model_dump(mode="json")> or null (after a wait_error: status()'s answer),
   "server": <the server's GET /_test/state: requests, files, files_b64, jobs, datasets, namespaces, ...>}

The server is reset (POST /_test/reset) before the run unless --no-reset.
"""
import argparse
import asyncio
import json
import os
import sys
import urllib.request


def _state(url, path="/_test/state", data=None):
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _versions():
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in ("nvidia-nat-nemo-customizer", "nvidia-nat-core", "nemo-microservices", "huggingface-hub", "httpx",
                 "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except Exception:
            out[dist] = None
    return out


async def _run(args, cfg, text):
    from nat.data_models.finetuning import FinetuneConfig, TrajectoryCollection
    from nat.plugins.customizer.dpo.config import NeMoCustomizerTrainerAdapterConfig
    from nat.plugins.customizer.dpo.trainer_adapter import NeMoCustomizerTrainerAdapter

    result = {"versions": _versions(), "outcome": "ok", "ref": None, "status": None}
    adapter = NeMoCustomizerTrainerAdapter(NeMoCustomizerTrainerAdapterConfig(**cfg))
    await adapter.initialize(FinetuneConfig())
    collection = TrajectoryCollection.model_validate_json(text)
    try:
        ref = await adapter.submit(collection)
    except Exception as e:  # NAT's own error is the expected answer for some collections
        result.update(outcome="submit_error", error={"type": type(e).__name__, "message": str(e)})
        return result
    result["ref"] = ref.model_dump(mode="json")
    try:
        status = await asyncio.wait_for(adapter.wait_until_complete(ref), timeout=args.timeout)
        result["status"] = status.model_dump(mode="json")
    except Exception as e:  # NAT raises RuntimeError for a failed or cancelled job
        result.update(outcome="wait_error", error={"type": type(e).__name__, "message": str(e)})
        try:  # the status the job ended with
            result["status"] = (await adapter.status(ref)).model_dump(mode="json")
        except Exception:
            pass
    return result


def run_one(args, url, cfg, text, faults=None):
    if not args.no_reset:
        _state(url, "/_test/reset", b"")
    if faults:
        _state(url, "/_test/faults", json.dumps(faults).encode())
    result = asyncio.run(_run(args, cfg, text))
    result["server"] = _state(url)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--collection")
    ap.add_argument("--cases")
    ap.add_argument("--out")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--no-reset", action="store_true")
    args = ap.parse_args()
    if bool(args.collection) == bool(args.cases):
        ap.error("give one of --collection and --cases")
    url = args.url.rstrip("/")
    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.setdefault("entity_host", url)
    cfg.setdefault("datastore_host", url)
    if args.collection:
        with open(args.collection, encoding="utf-8") as f:
            result = run_one(args, url, cfg, f.read())
    else:
        with open(os.path.join(args.cases, "cases.json"), encoding="utf-8") as f:
            cases = json.load(f)
        result = {}
        for case in cases:
            with open(os.path.join(args.cases, case["id"] + ".json"), encoding="utf-8") as f:
                result[case["id"]] = run_one(args, url, {**cfg, **case["config"]}, f.read(), case.get("faults"))
    data = json.dumps(result, indent=1, sort_keys=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(data + "\n")
    else:
        print(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
