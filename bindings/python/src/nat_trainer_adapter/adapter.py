"""The Adapter class: one nat_trainer_adapter handle."""

from __future__ import annotations

import ctypes
import json
import os
import threading
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _ffi
from .errors import DeadlineExceeded, FailedPrecondition, InvalidArgument, error_from_code
from .loader import Plugin, PathLike, load_plugin
from .models import TrainingJobRef, TrainingJobStatus, TrajectoryCollection

JobRefLike = Union[TrainingJobRef, TrainingJobStatus, Dict[str, Any], str, bytes]
CollectionLike = Union[TrajectoryCollection, Dict[str, Any], str, bytes]


def _to_json_bytes(value: Any) -> bytes:
    """JSON bytes of a model object, a dict/list, or JSON text as str/bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, TrainingJobStatus):
        value = value.job_ref
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _config_type(config: Any) -> Optional[str]:
    if hasattr(config, "to_dict"):
        config = config.to_dict()
    if isinstance(config, (str, bytes, bytearray)):
        try:
            config = json.loads(config)
        except ValueError:
            return None
    if isinstance(config, dict):
        t = config.get("_type", config.get("type"))
        return t if isinstance(t, str) else None
    return None


class Adapter:
    """A trainer adapter created by a plugin from its config.

    ``config`` is NAT's trainer adapter config (dict, JSON str or bytes).
    ``plugin`` is a :class:`Plugin`, a file path or a plugin name; when it is
    omitted the plugin named by the config's ``_type`` is searched for (see
    :mod:`nat_trainer_adapter.loader`). Use it as a context manager, or call
    :meth:`close`; it is thread-safe like the C handle.
    """

    def __init__(
        self,
        config: Any,
        plugin: Union[Plugin, PathLike, None] = None,
        *,
        search_dirs: Optional[Sequence[PathLike]] = None,
        installed_dir: Optional[PathLike] = None,
    ):
        self._handle: Optional[_ffi.AdapterHandle] = None
        self._close_lock = threading.Lock()
        if plugin is None:
            name = _config_type(config)
            if not name:
                raise InvalidArgument("the adapter config has no \"_type\" naming the plugin; pass plugin=")
            plugin = name
        self.plugin: Plugin = load_plugin(plugin, search_dirs, installed_dir)
        self._fns = self.plugin.fns
        data = _to_json_bytes(config)
        out = _ffi.AdapterHandle()
        self._check(self._fns.create(data, len(data), ctypes.byref(out)))
        if not out:
            raise error_from_code(_ffi.INTERNAL, "nat_trainer_adapter_create returned no adapter")
        self._handle = out

    # -- plumbing ---------------------------------------------------------

    def _check(self, err: _ffi.ErrorPtr) -> None:
        if not err:
            return
        fns = self._fns
        try:
            code = int(fns.error_code(err))
            raw = fns.error_message(err) or b""
        finally:
            fns.error_free(err)
        raise error_from_code(code, raw.decode("utf-8", "replace"))

    def _take(self, buf: _ffi.BufferPtr) -> Optional[bytes]:
        """Copies a returned buffer and frees it at once."""
        if not buf:
            return None
        fns = self._fns
        try:
            size = int(fns.buffer_size(buf))
            data = ctypes.string_at(fns.buffer_data(buf), size) if size else b""
        finally:
            fns.buffer_free(buf)
        return data

    def _take_json(self, buf: _ffi.BufferPtr) -> Any:
        data = self._take(buf)
        return None if data is None else json.loads(data.decode("utf-8"))

    @property
    def handle(self) -> _ffi.AdapterHandle:
        h = self._handle
        if h is None:
            raise FailedPrecondition("the adapter is closed")
        return h

    def _call_json_out(self, fn, *args) -> Any:
        out = _ffi.BufferPtr()
        self._check(fn(self.handle, *args, ctypes.byref(out)))
        return self._take_json(out)

    # -- lifecycle --------------------------------------------------------

    def close(self) -> None:
        """Destroys the adapter (cancels its running jobs). Idempotent."""
        with self._close_lock:
            h, self._handle = self._handle, None
        if h is not None:
            self._fns.destroy(h)

    def __enter__(self) -> "Adapter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._handle is None

    def initialize(self, run_config: Any = None) -> None:
        """NAT's initialize(run_config): the FinetuneConfig as dict/JSON; None means {}."""
        data = _to_json_bytes({} if run_config is None else run_config)
        self._check(self._fns.initialize(self.handle, data, len(data)))

    def is_healthy(self) -> bool:
        out = ctypes.c_int32(0)
        self._check(self._fns.is_healthy(self.handle, ctypes.byref(out)))
        return out.value != 0

    # -- jobs ---------------------------------------------------------------

    def submit(self, collection: CollectionLike) -> TrainingJobRef:
        """Validates and submits a TrajectoryCollection; returns its job reference."""
        data = _to_json_bytes(collection)
        return TrainingJobRef.from_dict(self._call_json_out(self._fns.submit, data, len(data)))

    def resubmit(self, spool_path: PathLike) -> TrainingJobRef:
        """Submits a collection again from its spool file: the path in a job
        status' ``metadata["spool_file"]`` (every submit spools its collection
        to the config's ``native.spool_dir``; the file is removed only when
        training completed). Use it after a failed or canceled job, or after
        a crash. The new job has the same run_id and the same spool file.
        Raises NotFound when the file does not exist, else as :meth:`submit`."""
        fn = self._fns.resubmit
        if fn is None:
            raise FailedPrecondition(
                f"plugin {self.plugin.path} does not implement nat_trainer_adapter_resubmit "
                f"(ABI {self.plugin.abi[0]}.{self.plugin.abi[1]})"
            )
        data = os.fsencode(spool_path)
        return TrainingJobRef.from_dict(self._call_json_out(fn, data, len(data)))

    def spooled(self, spool_dir: Optional[PathLike] = None) -> Dict[str, Any]:
        """The collections in a spool directory (None: the adapter's own,
        config ``native.spool_dir``): what :meth:`resubmit` can take, as the
        JSON object of nat_trainer_adapter_spooled. ABI 1.1."""
        fn = self._fns.spooled
        if fn is None:
            raise FailedPrecondition(
                f"plugin {self.plugin.path} does not implement nat_trainer_adapter_spooled "
                f"(ABI {self.plugin.abi[0]}.{self.plugin.abi[1]})"
            )
        data = None if spool_dir is None else os.fsencode(spool_dir)
        return self._call_json_out(fn, data, 0 if data is None else len(data))

    def status(self, ref: JobRefLike) -> TrainingJobStatus:
        data = _to_json_bytes(ref)
        return TrainingJobStatus.from_dict(self._call_json_out(self._fns.status, data, len(data)))

    def wait(self, ref: JobRefLike, poll_interval: float = 10.0, timeout: Optional[float] = None) -> TrainingJobStatus:
        """NAT's wait_until_complete: blocks until the job ends (it wakes at
        once; poll_interval only bounds re-checks). ``timeout`` None waits
        without limit; otherwise DeadlineExceeded when it runs out."""
        data = _to_json_bytes(ref)
        t = 0.0 if timeout is None else float(timeout)
        if timeout is not None and t <= 0:
            t = 1e-9  # the C ABI reads <= 0 as "no timeout"
        return TrainingJobStatus.from_dict(
            self._call_json_out(self._fns.wait_until_complete, data, len(data), float(poll_interval), t)
        )

    wait_until_complete = wait

    def cancel(self, ref: JobRefLike) -> None:
        data = _to_json_bytes(ref)
        self._check(self._fns.cancel(self.handle, data, len(data)))

    def jobs(self) -> List[Tuple[TrainingJobRef, TrainingJobStatus]]:
        """Every job of this adapter, oldest first, as (job_ref, status) pairs."""
        doc = self._call_json_out(self._fns.jobs)
        return [
            (TrainingJobRef.from_dict(j["job_ref"]), TrainingJobStatus.from_dict(j["status"]))
            for j in doc.get("jobs", [])
        ]

    def next_event(self, ref: JobRefLike, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The next training event of a job, or None if none came within
        ``timeout`` seconds (None: wait without limit; 0: do not wait) or the
        final event was already delivered."""
        data = _to_json_bytes(ref)
        t = -1.0 if timeout is None else max(0.0, float(timeout))
        return self._call_json_out(self._fns.next_event, data, len(data), t)

    def events(self, ref: JobRefLike, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Iterates over a job's events, ending after the one with
        ``"final": true``. ``timeout`` bounds the wait for each event:
        DeadlineExceeded when none arrives in time."""
        while True:
            ev = self.next_event(ref, timeout)
            if ev is None:
                if timeout is None or self.status(ref).status.is_terminal:
                    return  # the final event went to another consumer
                raise DeadlineExceeded(f"no training event within {timeout} s")
            yield ev
            if ev.get("final") is True:
                return

    def log_progress(self, ref: JobRefLike, metrics: Dict[str, Any], output_dir: Optional[PathLike] = None) -> None:
        """NAT's log_progress: appends a JSON line to
        ``<output_dir>/trainer_adapter_<run_id>.jsonl``."""
        r = _to_json_bytes(ref)
        m = _to_json_bytes(metrics)
        d = None if output_dir is None else os.fsencode(output_dir)
        self._check(self._fns.log_progress(self.handle, r, len(r), m, len(m), d))

    def convert(self, collection: CollectionLike) -> Any:
        """What submit would send to the backend (for openpipe-art the
        /_train_model body), without sending it."""
        data = _to_json_bytes(collection)
        return self._call_json_out(self._fns.convert, data, len(data))

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Adapter {self.plugin.name!r} {state}>"
