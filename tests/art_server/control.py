"""Fault injection, request recording and the test-only ``/_test/`` routes.

Everything here is ASGI middleware around the apps that ART's own ``cli.py``
builds (control port) and around the simulated vLLM app (inference port), so
the routes and the OpenAPI document of the dialect stay exactly ART's.
"""

import asyncio
import http
import json
import logging
import threading
import time
import urllib.parse
from typing import Any, Optional

log = logging.getLogger("art_server.control")

DEFAULT_BODY_CAP = 64 * 1024 * 1024


class FaultError(ValueError):
    pass


_TRAIN_KEYS = {
    "cut_after",
    "stall_after",
    "stall_seconds",
    "exit_after",
    "exit_code",
    "step_delay",
    "count",
}


def _num(v: Any, what: str, allow_none: bool = False) -> Optional[float]:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise FaultError(f"{what} must be a non-negative number")
    return float(v)


def _int(v: Any, what: str, allow_none: bool = False) -> Optional[int]:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise FaultError(f"{what} must be a non-negative integer")
    return v


class Faults:
    """Fault state.  ``set()`` replaces everything (see README for the schema)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._release: Optional[asyncio.Event] = None
        self.set({})

    def release_event(self) -> asyncio.Event:
        """Set when the faults are next replaced or reset (ends stalls early)."""
        if self._release is None:
            self._release = asyncio.Event()
        return self._release

    def set(self, spec: Any) -> None:
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise FaultError("faults must be a JSON object")
        unknown = set(spec) - {"delay", "fail", "train", "inference"}
        if unknown:
            raise FaultError(f"unknown fault keys: {sorted(unknown)}")
        delay = {}
        for path, secs in (spec.get("delay") or {}).items():
            delay[str(path)] = _num(secs, f"delay[{path}]")
        fail = {}
        for path, f in (spec.get("fail") or {}).items():
            if isinstance(f, int) and not isinstance(f, bool):
                f = {"status": f}
            if not isinstance(f, dict):
                raise FaultError(f"fail[{path}] must be an object")
            bad = set(f) - {"count", "status", "body", "content_type"}
            if bad:
                raise FaultError(f"unknown keys in fail[{path}]: {sorted(bad)}")
            status = f.get("status", 500)
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                raise FaultError(f"fail[{path}].status must be an HTTP status code")
            fail[str(path)] = {
                "count": _int(f.get("count", 1), f"fail[{path}].count"),
                "status": status,
                "body": f.get("body"),
                "has_body": "body" in f,
                "content_type": f.get("content_type"),
            }
        train_spec = spec.get("train") or {}
        if not isinstance(train_spec, dict):
            raise FaultError("train must be an object")
        bad = set(train_spec) - _TRAIN_KEYS
        if bad:
            raise FaultError(f"unknown keys in train: {sorted(bad)}")
        train = {
            "cut_after": _int(train_spec.get("cut_after"), "train.cut_after", True),
            "stall_after": _int(train_spec.get("stall_after"), "train.stall_after", True),
            "stall_seconds": _num(train_spec.get("stall_seconds"), "train.stall_seconds", True),
            "exit_after": _int(train_spec.get("exit_after"), "train.exit_after", True),
            "exit_code": _int(train_spec.get("exit_code", 1), "train.exit_code"),
            "step_delay": _num(train_spec.get("step_delay", 0), "train.step_delay"),
            "count": _int(train_spec.get("count"), "train.count", True),
        }
        inf_spec = spec.get("inference") or {}
        if not isinstance(inf_spec, dict):
            raise FaultError("inference must be an object")
        bad = set(inf_spec) - {"refuse"}
        if bad:
            raise FaultError(f"unknown keys in inference: {sorted(bad)}")
        inference = {"refuse": bool(inf_spec.get("refuse", False))}
        with self._lock:
            self.delay = delay
            self.fail = fail
            self.train = train
            self.inference = inference
            release, self._release = self._release, None
        if release is not None:
            release.set()
        log.info("faults set: %s", json.dumps(self.to_json()))

    def to_json(self) -> dict:
        fail = {}
        for p, f in self.fail.items():
            d = {"count": f["count"], "status": f["status"]}
            if f["has_body"]:
                d["body"] = f["body"]
            if f["content_type"]:
                d["content_type"] = f["content_type"]
            fail[p] = d
        train = {k: v for k, v in self.train.items() if v is not None}
        return {"delay": dict(self.delay), "fail": fail, "train": train, "inference": dict(self.inference)}

    def delay_for(self, path: str) -> float:
        return self.delay.get(path, self.delay.get("*", 0.0))

    def take_fail(self, path: str) -> Optional[dict]:
        with self._lock:
            for key in (path, "*"):
                f = self.fail.get(key)
                if f and f["count"] > 0:
                    f["count"] -= 1
                    return dict(f)
        return None

    def take_train(self) -> dict:
        """Train faults for one /_train_model call (consumes one 'count')."""
        with self._lock:
            t = dict(self.train)
            active = any(t[k] is not None for k in ("cut_after", "stall_after", "exit_after")) or t["step_delay"]
            if not active:
                return t
            if t["count"] is not None:
                if t["count"] <= 0:
                    return {"cut_after": None, "stall_after": None, "stall_seconds": None,
                            "exit_after": None, "exit_code": 1, "step_delay": 0.0, "count": 0}
                self.train["count"] -= 1
            return t


class Record:
    __slots__ = ("data", "raw", "content_type", "_parsed", "written")

    def __init__(self, data: dict) -> None:
        self.data = data
        self.raw = bytearray()
        self.content_type = ""
        self._parsed = None
        self.written = False

    def body_value(self) -> Any:
        if self._parsed is not None:
            return self._parsed[0]
        raw = bytes(self.raw)
        if not raw:
            value = None
        elif self.data.get("body_truncated"):
            value = raw.decode("utf-8", "replace")
        else:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw.decode("utf-8", "replace")
        self._parsed = (value,)
        return value

    def to_json(self, with_body: bool = True) -> dict:
        d = dict(self.data)
        if with_body:
            d["body"] = self.body_value()
        return d


class Recorder:
    def __init__(self, body_cap: int = DEFAULT_BODY_CAP, record_file: Optional[str] = None) -> None:
        self.body_cap = body_cap
        self.record_file = record_file
        self.records: list = []
        self._seq = 0
        self._file_lock = threading.Lock()

    def new(self, scope: dict, server: str) -> Record:
        self._seq += 1
        headers: dict = {}
        for k, v in scope.get("headers") or []:
            name = k.decode("latin-1").lower()
            val = v.decode("latin-1")
            headers[name] = headers[name] + ", " + val if name in headers else val
        qs = scope.get("query_string", b"").decode("latin-1")
        query: dict = {}
        for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True):
            if k in query:
                query[k] = query[k] if isinstance(query[k], list) else [query[k]]
                query[k].append(v)
            else:
                query[k] = v
        rec = Record(
            {
                "seq": self._seq,
                "time": time.time(),
                "server": server,
                "method": scope.get("method"),
                "path": scope.get("path"),
                "route": scope.get("path"),
                "query_string": qs,
                "query": query,
                "headers": headers,
                "body_size": 0,
                "body_truncated": False,
                "status": None,
                "response_bytes": 0,
                "response_lines": 0,
                "completed": False,
                "error": None,
                "fault": None,
            }
        )
        rec.content_type = headers.get("content-type", "")
        self.records.append(rec)
        return rec

    def add_chunk(self, rec: Record, chunk: bytes) -> None:
        rec.data["body_size"] += len(chunk)
        room = self.body_cap - len(rec.raw)
        if room > 0:
            rec.raw += chunk[:room]
        if len(chunk) > max(room, 0):
            rec.data["body_truncated"] = True

    def finish(self, rec: Record) -> None:
        if self.record_file and not rec.written:
            rec.written = True
            line = json.dumps(rec.to_json(), default=str)
            with self._file_lock:
                with open(self.record_file, "a", encoding="utf-8") as f:
                    f.write(line + "\n")

    def flush_pending(self) -> None:
        """Write records of requests still in flight (used before os._exit)."""
        for rec in self.records:
            if not rec.written:
                try:
                    self.finish(rec)
                except Exception:  # pragma: no cover - best effort
                    log.exception("could not write record")

    def clear(self) -> None:
        self.records = []


async def _send_simple(send, status: int, body: bytes, content_type: Optional[str]) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def fault_response(f: dict) -> tuple:
    status = f["status"]
    ctype = f.get("content_type")
    if not f.get("has_body"):
        if status == 500:
            return status, b"Internal Server Error", ctype or "text/plain; charset=utf-8"
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Injected fault"
        return status, json.dumps({"detail": phrase}).encode(), ctype or "application/json"
    body = f.get("body")
    if isinstance(body, str):
        return status, body.encode("utf-8"), ctype or "text/plain; charset=utf-8"
    return status, json.dumps(body).encode(), ctype or "application/json"


class RecordingFaultMiddleware:
    """Records each request, applies delay/fail faults, then calls the app.

    The whole request body is read (and recorded up to the cap) before the app
    runs; the app then gets the same chunks replayed.
    """

    def __init__(self, app, recorder: Recorder, faults: Faults, server: str, test_routes=None) -> None:
        self.app = app
        self.recorder = recorder
        self.faults = faults
        self.server = server
        self.test_routes = test_routes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if self.test_routes is not None and path.startswith("/_test/"):
            return await self.test_routes(scope, receive, send)
        rec = self.recorder.new(scope, self.server)
        chunks = []
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                rec.data["error"] = "client disconnected while sending the body"
                self.recorder.finish(rec)
                return
            body = msg.get("body", b"")
            if body:
                chunks.append(body)
                self.recorder.add_chunk(rec, body)
            if not msg.get("more_body", False):
                break
        if not chunks:
            chunks = [b""]

        d = self.faults.delay_for(path)
        if d:
            rec.data["fault"] = f"delay {d}s"
            await asyncio.sleep(d)
        f = self.faults.take_fail(path)
        if f is not None:
            status, body, ctype = fault_response(f)
            rec.data["fault"] = f"fail {status}"
            rec.data["status"] = status
            rec.data["response_bytes"] = len(body)
            await _send_simple(send, status, body, ctype)
            rec.data["completed"] = True
            self.recorder.finish(rec)
            return

        idx = 0

        async def replay():
            nonlocal idx
            if idx < len(chunks):
                body = chunks[idx]
                chunks[idx] = b""
                idx += 1
                return {"type": "http.request", "body": body, "more_body": idx < len(chunks)}
            return await receive()

        async def send_wrapper(message):
            t = message["type"]
            if t == "http.response.start":
                rec.data["status"] = message["status"]
            elif t == "http.response.body":
                body = message.get("body", b"")
                rec.data["response_bytes"] += len(body)
                rec.data["response_lines"] += body.count(b"\n")
                if not message.get("more_body", False):
                    rec.data["completed"] = True
            await send(message)

        try:
            await self.app(scope, replay, send_wrapper)
        except BaseException as exc:
            rec.data["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.recorder.finish(rec)


class TestRoutes:
    """``POST /_test/faults``, ``GET /_test/requests``, ``POST /_test/reset``, ``GET /_test/state``."""

    def __init__(self, recorder: Recorder, faults: Faults, state_fn) -> None:
        self.recorder = recorder
        self.faults = faults
        self.state_fn = state_fn

    async def __call__(self, scope, receive, send):
        path = scope["path"]
        method = scope.get("method", "GET")
        body = b""
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if not msg.get("more_body", False):
                break
        qs = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))

        async def reply(status: int, obj: Any) -> None:
            await _send_simple(send, status, json.dumps(obj, default=str).encode(), "application/json")

        if path == "/_test/faults" and method == "POST":
            try:
                spec = json.loads(body or b"{}")
                self.faults.set(spec)
            except (ValueError, FaultError) as e:
                return await reply(400, {"detail": str(e)})
            return await reply(200, self.faults.to_json())
        if path == "/_test/faults" and method == "GET":
            return await reply(200, self.faults.to_json())
        if path == "/_test/reset" and method == "POST":
            self.recorder.clear()
            self.faults.set({})
            return await reply(200, {"status": "ok"})
        if path == "/_test/requests" and method == "GET":
            with_body = qs.get("body", ["1"])[-1] not in ("0", "false", "no")
            want_path = qs.get("path", [None])[-1]
            since = int(qs.get("since", ["0"])[-1] or 0)
            server = qs.get("server", [None])[-1]
            out = []
            for rec in list(self.recorder.records):
                d = rec.data
                if want_path is not None and d["path"] != want_path:
                    continue
                if server is not None and d["server"] != server:
                    continue
                if d["seq"] <= since:
                    continue
                out.append(rec.to_json(with_body))
            # Serialize off the event loop: bodies can be large.
            data = await asyncio.get_running_loop().run_in_executor(
                None, lambda: json.dumps(out, default=str).encode()
            )
            return await _send_simple(send, 200, data, "application/json")
        if path == "/_test/state" and method == "GET":
            return await reply(200, self.state_fn())
        return await reply(404, {"detail": "Not Found"})
