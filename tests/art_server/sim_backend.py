"""The simulated ``LocalBackend`` that ART's ``art.cli.run()`` is given.

Methods that ``cli.py`` registers directly as routes (``close``, ``register``,
``_get_step``, ``_delete_checkpoints``) have the same signatures as ART's
``LocalBackend`` methods of the pinned release, so FastAPI derives the same
parameters, validation and OpenAPI entries.  The other methods are called by
``cli.py``'s own wrapper routes.

On-disk layout (``--data-dir`` plays the role of ART's ``.art`` directory), as
in both ART 0.4.11 and 0.5.16:

    {data_dir}/{project}/models/{name}/model.json
    {data_dir}/{project}/models/{name}/checkpoints/{step:04d}/   (simulated LoRA)
    {data_dir}/{project}/models/{name}/history.jsonl              (0.4 only)
    {data_dir}/{project}/models/{name}/trajectories/{split}/{step:04d}.jsonl (0.4 only)

NOTE: this module must not use ``from __future__ import annotations``: the
route signatures need real classes, not strings.
"""

import asyncio
import json
import logging
import math
import os
import shutil
from datetime import datetime
from typing import Any, AsyncIterator, Optional

import training

log = logging.getLogger("art_server.backend")


def model_dir(art_path: str, model: Any) -> str:
    return f"{art_path}/{model.project}/models/{model.name}"


def checkpoint_dir(mdir: str, step: int) -> str:
    return f"{mdir}/checkpoints/{step:04d}"


def get_step_from_dir(mdir: str) -> int:
    os.makedirs(mdir, exist_ok=True)
    cdir = os.path.join(mdir, "checkpoints")
    if not os.path.exists(cdir):
        return 0
    return max(
        (int(d) for d in os.listdir(cdir) if os.path.isdir(os.path.join(cdir, d)) and d.isdigit()),
        default=0,
    )


def delete_checkpoints(mdir: str, excluding: list) -> None:
    cdir = os.path.join(mdir, "checkpoints")
    if not os.path.exists(cdir):
        return
    for d in os.listdir(cdir):
        if os.path.isdir(os.path.join(cdir, d)) and d.isdigit() and int(d) not in excluding:
            shutil.rmtree(os.path.join(cdir, d))
            log.info("Deleted checkpoint %s/%s", cdir, d)


def save_checkpoint(path: str, base_model: str, step: int, extra: Optional[dict] = None) -> None:
    """Write a simulated LoRA adapter directory."""
    os.makedirs(path, exist_ok=True)
    cfg = {
        "simulated": True,
        "base_model_name_or_path": base_model,
        "peft_type": "LORA",
        "r": 8,
        "lora_alpha": 16,
        "step": step,
    }
    if extra:
        cfg.update(extra)
    with open(os.path.join(path, "adapter_config.json"), "w") as f:
        json.dump(cfg, f)


class TrainingFault(RuntimeError):
    pass


class Shared:
    """Server-wide state shared by the backend, inference server and test routes."""

    def __init__(self, dialect, art_path, default_api_key, inference_state, inference_server, faults, recorder, quirks):
        self.dialect = dialect
        self.art_path = art_path
        self.default_api_key = default_api_key
        self.inference_state = inference_state
        self.inference_server = inference_server
        self.faults = faults
        self.recorder = recorder
        self.quirks = quirks
        self.service_model: Optional[str] = None  # model whose "model-service" exists
        self.train_locks: dict = {}
        self.training_active = 0


def make_backend(ns, shared: Shared):
    """Build the simulated LocalBackend for ART namespace ``ns``."""
    Model = ns.Model
    TrainableModel = ns.TrainableModel
    dialect = shared.dialect

    class SimLocalBackend:
        def __init__(self) -> None:
            self._path = shared.art_path
            os.makedirs(self._path, exist_ok=True)

        # -- helpers -------------------------------------------------------
        def _mdir(self, model) -> str:
            return model_dir(self._path, model)

        def __get_step(self, model) -> int:
            if model.trainable:
                return get_step_from_dir(self._mdir(model))
            return 0

        async def _get_service(self, model) -> None:
            # ART kills every other "model-service" process (pkill -9) when a
            # new model's service is created: one trainable model per server.
            if shared.service_model != model.name:
                if shared.service_model is not None:
                    log.info("model-service for %s replaced by %s", shared.service_model, model.name)
                    await shared.inference_server.stop()
                    shared.inference_state.model_name = None
                shared.service_model = model.name

        def _log_metrics(self, model, metrics: dict, split: str, step: Optional[int] = None) -> None:
            metrics = {f"{split}/{k}": v for k, v in metrics.items()}
            step = step if step is not None else self.__get_step(model)
            with open(f"{self._mdir(model)}/history.jsonl", "a") as f:
                f.write(
                    json.dumps(
                        {k: v for k, v in metrics.items() if v == v}
                        | {"step": step, "recorded_at": datetime.now().isoformat()}
                    )
                    + "\n"
                )

        # -- routes registered directly by cli.py ----------------------------
        async def close(self) -> None:
            """Kills "vLLM" (the inference port stops listening); the server keeps running."""
            await shared.inference_server.stop()
            shared.inference_state.model_name = None
            shared.service_model = None

        async def register(self, model: Model) -> None:
            if dialect == "0.5":
                model.base_path = self._path
            output_dir = self._mdir(model)
            os.makedirs(output_dir, exist_ok=True)
            with open(f"{output_dir}/model.json", "w") as f:
                json.dump(model.model_dump(), f)

        async def _get_step(self, model: TrainableModel) -> int:
            return self.__get_step(model)

        async def _delete_checkpoints(
            self,
            model: TrainableModel,
            benchmark: str,
            benchmark_smoothing: float,
        ) -> None:
            output_dir = self._mdir(model)
            steps_to_keep = [get_step_from_dir(output_dir)]
            best = best_step_from_history(f"{output_dir}/history.jsonl", benchmark, benchmark_smoothing)
            if best is not None:
                steps_to_keep.append(best)
            delete_checkpoints(output_dir, steps_to_keep)

        # -- methods called by cli.py's wrapper routes ------------------------
        async def _delete_checkpoint_files(self, model, steps_to_keep: list) -> None:
            await self._get_service(model)
            delete_checkpoints(self._mdir(model), steps_to_keep)

        async def _prepare_backend_for_training(self, model, config=None):
            await self._get_service(model)
            mdir = self._mdir(model)
            step = get_step_from_dir(mdir)
            # ART saves an initial (empty) LoRA as 0000 when there is none.
            # 0.4.11's get_last_checkpoint_dir() returns None at step 0, so it
            # (re)writes 0000 every time; 0.5.16 only when the dir is missing.
            last = checkpoint_dir(mdir, step)
            if (dialect == "0.4" and step == 0) or not os.path.exists(last):
                save_checkpoint(checkpoint_dir(mdir, 0), model.base_model, 0)
                step = get_step_from_dir(mdir)
            server_args = dict((config or {}).get("server_args", {}) or {})
            host = server_args.get("host") or "0.0.0.0"
            api_key = server_args.get("api_key") or shared.default_api_key
            st = shared.inference_state
            st.api_key = api_key
            st.base_model = model.base_model
            st.model_name = model.name
            st.dialect = dialect
            st.loaded_steps = [step]
            await shared.inference_server.stop()
            if shared.faults.inference["refuse"]:
                log.warning("fault: inference server not started (port %d refuses connections)", shared.inference_server.port)
            else:
                await shared.inference_server.start()
            base_url = f"http://{host}:{shared.inference_server.port}/v1"
            return base_url, api_key

        async def _log(self, model, trajectory_groups: list, split: str = "val") -> None:
            parent = f"{self._mdir(model)}/trajectories/{split}"
            os.makedirs(parent, exist_ok=True)
            iteration = self.__get_step(model)
            with open(f"{parent}/{iteration:04d}.jsonl", "w") as f:
                f.write("\n".join(json.dumps(g.model_dump(mode="json")) for g in trajectory_groups))
            all_metrics: dict = {"reward": [], "exception_rate": []}
            for group in trajectory_groups:
                for t in group:
                    all_metrics["exception_rate"].append(0)
                    all_metrics["reward"].append(t.reward)
                    for k, v in t.metrics.items():
                        all_metrics.setdefault(k, []).append(float(v))
            averages = {k: sum(v) / len(v) for k, v in all_metrics.items() if v}
            stds = []
            for group in trajectory_groups:
                rewards = [t.reward for t in group.trajectories]
                if len(rewards) > 1:
                    m = sum(rewards) / len(rewards)
                    stds.append(math.sqrt(sum((r - m) ** 2 for r in rewards) / len(rewards)))
            averages["reward_std_dev"] = sum(stds) / len(stds) if stds else 0
            self._log_metrics(model, averages, split)

        async def _train_model(
            self,
            model,
            trajectory_groups: list,
            config,
            dev_config: dict,
            verbose: bool = False,
        ) -> AsyncIterator[dict]:
            lock = shared.train_locks.setdefault(model.name, asyncio.Lock())
            async with lock:
                shared.training_active += 1
                try:
                    async for line in self._train_model_locked(model, trajectory_groups, config, dev_config):
                        yield line
                finally:
                    shared.training_active -= 1

        async def _train_model_locked(self, model, groups, config, dev_config):
            faults = shared.faults.take_train()
            sent = 0

            async def before_line(final: bool = False):
                # Fault hooks run before each line and once more before the
                # checkpoint is saved (final=True), i.e. "after k lines".
                if faults["exit_after"] is not None and sent >= faults["exit_after"]:
                    log.warning("fault: os._exit(%d) after %d lines", faults["exit_code"], sent)
                    await asyncio.sleep(0.05)  # let the event loop flush written lines
                    shared.recorder.flush_pending()
                    logging.shutdown()
                    os._exit(faults["exit_code"])
                if faults["cut_after"] is not None and sent >= faults["cut_after"]:
                    raise TrainingFault(f"injected fault: training stream cut after {sent} lines")
                if faults["stall_after"] is not None and sent == faults["stall_after"]:
                    faults["stall_after"] = None
                    secs = faults["stall_seconds"]
                    log.warning("fault: stalling after %d lines for %s", sent, "ever" if secs is None else f"{secs}s")
                    try:
                        await asyncio.wait_for(shared.faults.release_event().wait(), secs)
                        log.info("stall ended early: faults were replaced")
                    except asyncio.TimeoutError:
                        pass
                if faults["step_delay"] and not final:
                    await asyncio.sleep(faults["step_delay"])

            await self._get_service(model)
            mdir = self._mdir(model)
            if dialect == "0.4":
                await self._log(model, groups, "train")
            num_groups_submitted = len(groups)
            num_groups_trainable = training.num_groups_trainable(groups)
            allow = bool(dev_config.get("allow_training_without_logprobs", False))
            results = training.tokenize_groups(
                groups,
                dialect,
                allow_training_without_logprobs=allow,
                scale_rewards=dev_config.get("scale_rewards", True),
            )
            rows = training.packable_results(results, allow)
            if rows is None:
                log.info(
                    "Skipping tuning as there is no suitable data. This can happen when all the "
                    "trajectories in the same group have the same reward and thus no advantage to train on."
                )
                current = self.__get_step(model)
                nxt = current + 1
                cur_dir, next_dir = checkpoint_dir(mdir, current), checkpoint_dir(mdir, nxt)
                if dialect == "0.4":
                    await before_line(final=True)
                    if os.path.exists(cur_dir):
                        os.rename(cur_dir, next_dir)
                        self._advance_inference(model, nxt)
                    self._log_metrics(
                        model,
                        {"num_groups_submitted": num_groups_submitted, "num_groups_trainable": 0},
                        "train",
                        step=nxt,
                    )
                    return
                if os.path.exists(cur_dir):
                    shutil.copytree(cur_dir, next_dir, dirs_exist_ok=True)
                    self._advance_inference(model, nxt)
                await before_line()
                yield {"num_groups_submitted": num_groups_submitted, "num_groups_trainable": 0, "num_gradient_steps": 0}
                sent += 1
                await before_line(final=True)
                return

            n = len(rows)
            if dialect == "0.4":
                with_kl = float(getattr(config, "beta", 0.0) or 0.0) > 0
            else:
                with_kl = (float(getattr(config, "beta", 0.0) or 0.0) > 0) or (
                    float(getattr(config, "kl_penalty_coef", 0.0) or 0.0) > 0
                )
            results_out = []
            for r in rows:
                await before_line()
                m = training.step_metrics(r, with_kl)
                results_out.append(m)
                yield {**m, "num_gradient_steps": n}
                sent += 1
            await before_line(final=True)
            nxt = get_step_from_dir(mdir) + 1
            save_checkpoint(
                checkpoint_dir(mdir, nxt),
                model.base_model,
                nxt,
                {"num_gradient_steps": n, "learning_rate": float(getattr(config, "learning_rate", 0.0))},
            )
            self._advance_inference(model, nxt)
            if dialect == "0.4":
                keys = {k for d in results_out for k in d}
                data = {k: sum(d.get(k, 0) for d in results_out) / sum(1 for d in results_out if k in d) for k in keys}
                data["num_groups_submitted"] = num_groups_submitted
                data["num_groups_trainable"] = num_groups_trainable
                self._log_metrics(model, data, "train", step=self.__get_step(model))

        def _advance_inference(self, model, step: int) -> None:
            st = shared.inference_state
            if st.model_name == model.name and step not in st.loaded_steps:
                st.loaded_steps.append(step)

        async def _experimental_pull_from_s3(self, model, s3_bucket=None, prefix=None, verbose=False, delete=False, **kw) -> None:
            log.info("simulated: pull_from_s3(%s, bucket=%s, prefix=%s) is a no-op", model.name, s3_bucket, prefix)

        async def _experimental_push_to_s3(self, model, s3_bucket=None, prefix=None, verbose=False, delete=False, **kw) -> None:
            log.info("simulated: push_to_s3(%s, bucket=%s, prefix=%s) is a no-op", model.name, s3_bucket, prefix)

        async def _experimental_deploy(self, **kwargs) -> Any:
            raise RuntimeError("simulated server: LoRA deployment is not available")

    if dialect == "0.5":
        del SimLocalBackend._delete_checkpoints
        if "get-step-query" in shared.quirks:
            # Exact ART 0.5.9+ behaviour: LocalBackend._get_step is annotated
            # with the string alias "TrainableModel[Any, Any]", which FastAPI
            # cannot resolve in art/local/backend.py (no `Any` there): `model`
            # becomes a query parameter of unknown type, /_get_step answers 422
            # or 500 and /openapi.json answers 500.
            glb = {"TrainableModel": TrainableModel, "__name__": "art.local.backend"}
            exec(
                "async def _get_step(self, model: 'TrainableModel[Any, Any]') -> int:\n"
                "    return _impl(self, model)\n",
                glb,
            )
            glb["_impl"] = lambda self, model: get_step_from_dir(self._mdir(model)) if model.trainable else 0
            SimLocalBackend._get_step = glb["_get_step"]
    else:
        del SimLocalBackend._delete_checkpoint_files
    # OpenAPI descriptions come from docstrings: use ART's own.
    docs = getattr(ns, "local_backend_docs", {}) or {}
    for name in ("close", "register", "_get_step", "_delete_checkpoints"):
        fn = SimLocalBackend.__dict__.get(name)
        if fn is not None:
            fn.__doc__ = docs.get(name)
    return SimLocalBackend()


def best_step_from_history(path: str, benchmark: str, smoothing: float) -> Optional[int]:
    """ART 0.4.11's polars pipeline, in plain Python.

    ``read_ndjson(history).drop_nulls([benchmark]).group_by("step").mean()
    .with_columns(col(benchmark).ewm_mean(alpha=smoothing)).sort(benchmark)
    .select(col("step").last())``.  Groups are taken in step order (polars
    leaves the order unspecified).
    """
    if not os.path.exists(path):
        log.info('"%s" not found', path)
        return None
    per_step: dict = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            v = row.get(benchmark)
            if v is None or "step" not in row:
                continue
            per_step.setdefault(row["step"], []).append(float(v))
    if not per_step:
        log.info('No "%s" metric found in history', benchmark)
        return None
    steps = sorted(per_step)
    means = [sum(per_step[s]) / len(per_step[s]) for s in steps]
    alpha = smoothing
    ewm = []
    num = den = 0.0
    for x in means:  # adjusted EWM, as polars' default (adjust=True)
        num = x + (1 - alpha) * num
        den = 1 + (1 - alpha) * den
        ewm.append(num / den)
    order = sorted(range(len(steps)), key=lambda i: ewm[i])
    return steps[order[-1]]
