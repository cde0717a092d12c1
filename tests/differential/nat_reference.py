#!/usr/bin/env python3
"""NAT's own answer for each collection; runs inside the NAT venv
(.venv/nat, made by tools/setup-nat-venv.sh).

    nat_reference.py IN.jsonl OUT.jsonl

IN: one JSON object per line with at least {"id", "text"} (text: the
TrajectoryCollection JSON text). OUT: a header line
{"header": {...versions, adapter mode...}}, then one line per input:

    {"id", "outcome": "ok", "groups": [<art.TrajectoryGroup.model_dump(mode="json")>...],
     "dropped": [<NAT's "Error constructing trajectory" log messages>]}
    {"id", "outcome": "model_error", "type", "message"}   TrajectoryCollection.model_validate raised
    {"id", "outcome": "order_error", "message"}           ValueError out of _construct_trajectory_groups
                                                          (_validate_episode_order): whole submit rejected
    {"id", "outcome": "crash", "type", "message"}         any other exception out of it
    {"id", "outcome": "no_groups", "message"}             it returned [] (submit: "No valid trajectory
                                                          groups to submit.")
    {"id", "outcome": "json_error", "message"}            the text is not JSON (json.loads)

This mirrors ARTTrainerAdapter.submit up to the HTTP call: NAT's real
_construct_trajectory_groups on a real ARTTrainerAdapter built from an
ARTTrainerAdapterConfig (construction needs no network). Only if building
the adapter fails is the method called unbound with a stand-in `self` whose
_validate_episode_order is NAT's real one; the header says which.
"""

import os

# LiteLLM (imported by openpipe-art) otherwise tries to download its model
# price map at import time; there is no network for it here.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WEAVE_DISABLED", "true")

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append(record.getMessage())
        except Exception:  # pragma: no cover
            self.messages.append(str(record.msg))


def _versions():
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in ("nvidia-nat-openpipe-art", "nvidia-nat-core", "openpipe-art", "openai", "pydantic", "pydantic-core"):
        try:
            out[dist] = metadata.version(dist)
        except Exception:
            out[dist] = None
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    in_path, out_path = argv[1], argv[2]

    from nat.data_models.finetuning import TrajectoryCollection
    from nat.plugins.openpipe.config import ARTTrainerAdapterConfig
    from nat.plugins.openpipe.trainer_adapter import ARTTrainerAdapter

    adapter_logger = logging.getLogger(ARTTrainerAdapter.__module__)
    adapter_logger.propagate = False
    adapter_logger.setLevel(logging.DEBUG)
    capture = _Capture()
    adapter_logger.handlers[:] = [capture]

    config = ARTTrainerAdapterConfig.model_validate({
        "_type": "openpipe_art_trainer_adapter",
        "backend": {"ip": "127.0.0.1", "port": 7623},
    })
    header = {"versions": _versions()}
    try:
        adapter = ARTTrainerAdapter(config)
        construct = adapter._construct_trajectory_groups
        header["adapter_mode"] = "instance"
    except Exception as e:  # e.g. an openpipe-art whose TrainableModel needs other arguments
        header["adapter_mode"] = "unbound"
        header["adapter_error"] = "%s: %s" % (type(e).__name__, e)
        standin = types.SimpleNamespace(adapter_config=config)
        standin._validate_episode_order = types.MethodType(ARTTrainerAdapter._validate_episode_order, standin)

        def construct(lists, _s=standin):
            return ARTTrainerAdapter._construct_trajectory_groups(_s, lists)

    loop = asyncio.new_event_loop()
    n = 0
    with open(in_path, encoding="utf-8") as fin, open(out_path, "w", encoding="utf-8") as fout:
        fout.write(json.dumps({"header": header}) + "\n")
        for line in fin:
            if not line.strip():
                continue
            case = json.loads(line)
            res = {"id": case["id"]}
            n += 1
            try:
                obj = json.loads(case["text"])
            except ValueError as e:
                res.update(outcome="json_error", message=str(e))
                fout.write(json.dumps(res, ensure_ascii=True) + "\n")
                continue
            try:
                coll = TrajectoryCollection.model_validate(obj)
            except Exception as e:
                res.update(outcome="model_error", type=type(e).__name__, message=str(e))
                fout.write(json.dumps(res, ensure_ascii=True) + "\n")
                continue
            capture.messages = []
            try:
                groups = loop.run_until_complete(construct(coll.trajectories))
            except ValueError as e:
                res.update(outcome="order_error", type=type(e).__name__, message=str(e))
            except Exception as e:
                res.update(outcome="crash", type=type(e).__name__, message=str(e),
                           traceback=traceback.format_exc(limit=3))
            else:
                if not groups:
                    res.update(outcome="no_groups", message="No valid trajectory groups to submit.")
                else:
                    res.update(outcome="ok", groups=[g.model_dump(mode="json") for g in groups])
            res["dropped"] = list(capture.messages)
            # allow_nan: NAT can produce NaN/Infinity (coerced "nan" strings).
            fout.write(json.dumps(res, ensure_ascii=True, allow_nan=True) + "\n")
    loop.close()
    print("nat_reference: %d collections, adapter %s, %s" % (n, header["adapter_mode"], json.dumps(header["versions"])),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
