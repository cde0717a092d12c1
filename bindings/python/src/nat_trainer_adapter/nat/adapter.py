"""NativeTrainerAdapter: NAT's TrainerAdapter over a native plugin handle.

The blocking C calls (initialize, submit, wait_until_complete, is_healthy)
run in worker threads, so NAT's event loop never waits on them; each job's
training events (``nat_trainer_adapter_next_event``) are read by a thread of
its own and logged as they arrive. The native handle lives as long as this
object (NAT leaves the builder's context before training starts, so it is
not tied to the build function) and is destroyed, cancelling running jobs,
when the object goes away or the process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
import time
import weakref
from typing import Any

import pydantic_core

try:
    import orjson
except ImportError:  # the package depends on it; pydantic-core alone still works
    orjson = None

from nat.data_models.finetuning import EpisodeItem
from nat.data_models.finetuning import FinetuneConfig
from nat.data_models.finetuning import TrainerAdapterConfig
from nat.data_models.finetuning import TrainingJobRef
from nat.data_models.finetuning import TrainingJobStatus
from nat.data_models.finetuning import TrainingStatusEnum
from nat.data_models.finetuning import Trajectory
from nat.data_models.finetuning import TrajectoryCollection
from nat.finetuning.interfaces.trainer_adapter import TrainerAdapter

from ..adapter import Adapter
from ..errors import AlreadyExists
from ..errors import DeadlineExceeded
from ..errors import InvalidArgument
from ..errors import NotFound
from ..errors import Unavailable
from ..loader import load_plugin

logger = logging.getLogger(__name__)

_TERMINAL = frozenset({TrainingStatusEnum.COMPLETED, TrainingStatusEnum.FAILED, TrainingStatusEnum.CANCELED})

# How long one blocking C call waits before it returns to Python (wait and
# next_event are re-issued): bounds how long a cancelled task or a closing
# adapter waits for a worker thread.
_SLICE_S = 1.0

_live: "weakref.WeakSet[NativeTrainerAdapter]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # Destroy the handles (cancel and join their jobs) before the interpreter
    # and the plugins' static objects go away under running threads.
    for adapter in list(_live):
        adapter.close()


def _plain_collection(collection: TrajectoryCollection) -> Any:
    """The collection as plain containers around its own values (nothing is
    copied): pydantic-core writes the same JSON as ``model_dump_json`` from
    it several times faster, since the logprobs (``Any`` in NAT's model, and
    nearly all of the bytes) are then written without the model serializer's
    per-value inference. Subclasses keep their own serializer."""
    if type(collection) is not TrajectoryCollection:
        return collection
    groups = []
    for group in collection.trajectories:
        out = []
        for t in group:
            if type(t) is not Trajectory:
                out.append(t)
                continue
            episode = [{
                "role": item.role.value, "content": item.content, "logprobs": item.logprobs, "metadata": item.metadata
            } if type(item) is EpisodeItem else item for item in t.episode]
            out.append({"episode": episode, "reward": t.reward, "shaped_rewards": t.shaped_rewards,
                        "metadata": t.metadata})
        groups.append(out)
    return {"trajectories": groups, "run_id": collection.run_id}


# Types orjson would write in its own way (dates, dataclasses, subclasses of
# str, int, dict and list) are passed to the fallback instead.
_ORJSON_OPTIONS = 0 if orjson is None else (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                                            | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _collection_json(collection: TrajectoryCollection) -> bytes:
    """``collection.model_dump_json()`` as bytes (NaN and infinities as null, as the model writes them).

    orjson writes the plain containers 3-4x faster than pydantic-core and
    byte for byte as it does for JSON's own types (floats in the same
    shortest form, the same escapes, NaN as null); anything else in the
    collection (a value orjson refuses: an integer beyond 64 bits, a non-str
    key, bytes, a set, a model, a date...) makes it raise, and the whole
    collection is then written by pydantic-core as before."""
    plain = _plain_collection(collection)
    if orjson is not None:
        try:
            return orjson.dumps(plain, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError
            pass
    try:
        return pydantic_core.to_json(plain, inf_nan_mode="null")
    except TypeError:  # a pydantic-core without inf_nan_mode
        return collection.__pydantic_serializer__.to_json(collection)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _nat_error(e: Exception, run_id: str | None = None) -> Exception:
    """The exception NAT's own adapter raises for the same condition."""
    if isinstance(e, NotFound) and run_id is not None:
        return ValueError(f"No training job found with run_id {run_id}.")
    if isinstance(e, AlreadyExists):
        # NAT: assert run_id not in training_jobs, "Training job with run_id ... already exists."
        return AssertionError(str(e))
    if isinstance(e, InvalidArgument):
        return ValueError(str(e))
    if isinstance(e, Unavailable):
        return ConnectionError(str(e))
    return e


class NativeTrainingJob:
    """One submitted job, as NAT's trainers see it in ``training_jobs``
    (NAT's own adapter keeps asyncio tasks there): ``done()`` and ``cancel()``."""

    def __init__(self, adapter: "NativeTrainerAdapter", ref: TrainingJobRef):
        self._adapter = adapter
        self.ref = ref
        self._ref_json = _json_bytes(ref.model_dump(mode="json"))
        self.events_thread: threading.Thread | None = None

    @property
    def run_id(self) -> str:
        return self.ref.run_id

    def status(self) -> TrainingJobStatus:
        return TrainingJobStatus.model_validate(self._adapter._native.status(self._ref_json).to_dict())

    def done(self) -> bool:
        if self._adapter.closed:
            return True
        return self.status().status in _TERMINAL

    def cancel(self) -> bool:
        """Requests cancellation; True when the job was still running."""
        if self.done():
            return False
        self._adapter._native.cancel(self._ref_json)
        return True

    def __repr__(self) -> str:
        return f"<NativeTrainingJob run_id={self.run_id!r} job_id={(self.ref.metadata or {}).get('job_id')!r}>"


class NativeTrainerAdapter(TrainerAdapter):
    """A NAT trainer adapter implemented by a native plugin.

    ``plugin_config`` is the plugin's config (a dict with ``_type``);
    ``plugin`` is a plugin name or path (default: ``plugin_config["_type"]``).
    """

    def __init__(self,
                 adapter_config: TrainerAdapterConfig,
                 plugin_config: dict[str, Any],
                 plugin: str | None = None,
                 plugin_dirs: list[str] | None = None):
        super().__init__(adapter_config)
        self._plugin_config = plugin_config
        name = plugin or plugin_config.get("_type") or plugin_config.get("type")
        if not name:
            raise ValueError("native trainer adapter: no plugin named (set `plugin`, or `_type` in `config`)")
        loaded = load_plugin(name, search_dirs=plugin_dirs or None)
        try:
            self._native: Adapter = Adapter(plugin_config, plugin=loaded)
        except InvalidArgument as e:
            raise ValueError(f"{loaded.name}: {e}") from None
        self._jobs: dict[str, NativeTrainingJob] = {}
        self._pumps: list[threading.Thread] = []
        self._closing = threading.Event()
        self.last_submit_timing: dict[str, float] = {}
        _live.add(self)
        logger.info("Initialized native trainer adapter %s %s (%s)", loaded.name, loaded.version, loaded.path)

    # -- lifetime ------------------------------------------------------------

    @property
    def plugin(self):
        return self._native.plugin

    @property
    def closed(self) -> bool:
        return self._native.closed

    def close(self) -> None:
        """Destroys the native adapter: running jobs are cancelled and joined. Idempotent."""
        self._closing.set()
        self._native.close()
        for t in self._pumps:
            t.join(timeout=2 * _SLICE_S)
        _live.discard(self)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    @property
    def training_jobs(self) -> dict[str, NativeTrainingJob]:
        """run_id -> the latest job submitted with it (NAT's trainers cancel the unfinished ones at cleanup)."""
        return self._jobs

    # -- TrainerAdapter --------------------------------------------------------

    async def initialize(self, run_config: FinetuneConfig) -> None:
        await super().initialize(run_config)
        # The plugin gets the run's settings, not the run_configuration (the
        # CLI arguments and the whole NAT Config object).
        data = run_config.model_dump(mode="json", exclude={"run_configuration"})
        try:
            await asyncio.to_thread(self._native.initialize, data)
        except Exception as e:
            raise _nat_error(e) from None
        logger.info("Successfully initialized native trainer adapter %s.", self._native.plugin.name)

    async def is_healthy(self) -> bool:
        try:
            return await asyncio.to_thread(self._native.is_healthy)
        except Exception as e:
            logger.error("Health check failed: %s", e)
            return False

    async def submit(self, trajectories: TrajectoryCollection) -> TrainingJobRef:
        # pydantic-core writes the JSON bytes; the plugin validates and
        # converts them and returns once validation has accepted them (the
        # upload continues in the plugin's own thread).
        t0 = time.perf_counter()
        data = await asyncio.to_thread(_collection_json, trajectories)
        t1 = time.perf_counter()
        try:
            ref = await asyncio.to_thread(self._native.submit, data)
        except Exception as e:
            raise _nat_error(e, trajectories.run_id) from None
        # For benchmarks: pydantic serialisation vs the plugin's validation.
        self.last_submit_timing = {"serialize_s": t1 - t0, "native_submit_s": time.perf_counter() - t1,
                                   "bytes": len(data)}
        del data
        job_ref = TrainingJobRef.model_validate(ref.to_dict())
        job = NativeTrainingJob(self, job_ref)
        self._jobs[job_ref.run_id] = job
        meta = job.status().metadata or {}
        for d in meta.get("dropped") or []:
            logger.error("Error constructing trajectory: trajectories[%s][%s]: %s. Skipping.", d.get("group"),
                         d.get("trajectory"), d.get("reason"))
        logger.info("Submitted %s trajectories in %s groups for training with run_id %s.",
                    meta.get("trajectories_submitted", "?"), meta.get("groups_submitted", "?"), job_ref.run_id)
        self._start_event_pump(job)
        return job_ref

    def _ref_bytes(self, ref: TrainingJobRef) -> bytes:
        return _json_bytes(ref.model_dump(mode="json"))

    async def status(self, ref: TrainingJobRef) -> TrainingJobStatus:
        try:
            st = self._native.status(self._ref_bytes(ref))
        except Exception as e:
            raise _nat_error(e, ref.run_id) from None
        return TrainingJobStatus.model_validate(st.to_dict())

    async def wait_until_complete(self, ref: TrainingJobRef, poll_interval: float = 10.0) -> TrainingJobStatus:
        data = self._ref_bytes(ref)
        while True:
            try:
                st = await asyncio.to_thread(self._native.wait, data, poll_interval, _SLICE_S)
            except DeadlineExceeded:
                continue  # still running: wait again (keeps the task cancellable)
            except Exception as e:
                raise _nat_error(e, ref.run_id) from None
            # The job's last events are logged before the caller goes on.
            job = self._jobs.get(ref.run_id)
            if job is not None and job.events_thread is not None and (ref.metadata or {}).get("job_id") in (
                    None, (job.ref.metadata or {}).get("job_id")):
                await asyncio.to_thread(job.events_thread.join, 2 * _SLICE_S)
            return TrainingJobStatus.model_validate(st.to_dict())

    def log_progress(self, ref: TrainingJobRef, metrics: dict[str, Any], output_dir: str | None = None) -> None:
        try:
            self._native.log_progress(self._ref_bytes(ref), metrics, output_dir)
        except Exception as e:
            raise _nat_error(e, ref.run_id) from None
        logger.info("Trainer adapter progress logged for job %s: status=%s", ref.run_id,
                    metrics.get("status", "unknown"))

    # -- events ----------------------------------------------------------------

    def _start_event_pump(self, job: NativeTrainingJob) -> None:
        t = threading.Thread(target=self._pump_events, args=(job,), name=f"nat-native-events:{job.run_id}",
                             daemon=True)
        self._pumps = [p for p in self._pumps if p.is_alive()]
        self._pumps.append(t)
        job.events_thread = t
        t.start()

    def _pump_events(self, job: NativeTrainingJob) -> None:
        """Logs the job's training events as they come, until its final event."""
        while not self._closing.is_set():
            try:
                ev = self._native.next_event(job._ref_json, _SLICE_S)
            except Exception as e:  # the adapter was closed, or the job is gone
                if not self._closing.is_set():
                    logger.debug("event stream of %s ended: %s", job.run_id, e)
                return
            if ev is None:
                continue
            _log_event(ev)
            if ev.get("final") is True:
                return


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _log_event(ev: dict[str, Any]) -> None:
    run_id = ev.get("run_id")
    kind = ev.get("type")
    if kind == "step":
        total = ev.get("num_gradient_steps")
        metrics = ev.get("metrics") or {}
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in metrics.items() if k != "num_gradient_steps")
        logger.info("Training %s: step %s/%s%s", run_id, ev.get("step"), total if total is not None else "?",
                    f" ({shown})" if shown else "")
    elif kind == "started":
        logger.info("Training %s: started with %s trajectories in %s groups%s", run_id, ev.get("trajectories"),
                    ev.get("groups"),
                    f" ({ev['trajectories_dropped']} dropped)" if ev.get("trajectories_dropped") else "")
    elif kind == "warning":
        logger.warning("Training %s: %s", run_id, ev.get("message"))
    elif ev.get("final") is True:
        status = ev.get("status") or {}
        if kind == "completed":
            logger.info("Training %s completed successfully.", run_id)
        elif kind == "canceled":
            logger.info("Training %s was cancelled.", run_id)
        else:
            logger.error("Training %s failed: %s", run_id, status.get("message"))
    else:
        logger.debug("Training %s: %s", run_id, ev)


class NativeNeMoCustomizerTrainerAdapter(NativeTrainerAdapter):
    """The native NeMo Customizer plugin with NAT's ``NeMoCustomizerTrainerAdapter`` behaviour at
    ``wait_until_complete``: ``poll_interval`` None means the config's ``poll_interval_seconds``; a failed job
    raises ``RuntimeError`` (``TimeoutError`` when the deployment did not become ready in time); a canceled job
    raises when a deployment was expected and is returned otherwise. The plugin itself reports all three as
    statuses, as every plugin does."""

    async def wait_until_complete(self, ref: TrainingJobRef, poll_interval: float | None = None) -> TrainingJobStatus:
        interval = poll_interval or self.adapter_config.poll_interval_seconds
        status = await super().wait_until_complete(ref, interval)
        if status.status == TrainingStatusEnum.FAILED:
            error_msg = status.message or "Training job failed"
            if "did not become ready within" in error_msg:
                raise TimeoutError(error_msg)
            raise RuntimeError(f"Training job {ref.run_id} failed: {error_msg}. "
                               f"Model was not trained and cannot be deployed. "
                               f"Please check the job logs for details and retry the training.")
        if status.status == TrainingStatusEnum.CANCELED and self.adapter_config.deploy_on_completion:
            error_msg = status.message or "Training job was canceled"
            progress = f"{status.progress:.1f}%" if status.progress is not None else "unknown progress"
            raise RuntimeError(f"Training job {ref.run_id} was canceled at {progress}: {error_msg}. "
                               f"Model was not trained and will NOT be deployed.")
        return status
