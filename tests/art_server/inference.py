"""Simulated vLLM OpenAI server on the second port.

Like ART's LocalBackend, "vLLM" is not running until
``/_prepare_backend_for_training``: the inference port is bound at start-up
(so its number can be printed) but not listening, so a connection is refused.
``/_prepare_backend_for_training`` (re)starts it, ``/close`` stops it.
"""

import asyncio
import json
import logging
import socket
import time
import zlib
from typing import Optional

log = logging.getLogger("art_server.inference")


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(False)
    return sock


class InferenceState:
    """What the simulated vLLM serves."""

    def __init__(self, default_api_key: str) -> None:
        self.default_api_key = default_api_key
        self.api_key = default_api_key
        self.base_model: Optional[str] = None
        self.model_name: Optional[str] = None
        self.dialect = "0.4"
        self.loaded_steps: list = []  # 0.5: LoRA adapters name@step loaded so far

    def served_ids(self) -> list:
        if self.model_name is None:
            return []
        ids = [self.base_model] if self.base_model else []
        if self.dialect == "0.4":
            ids.append(self.model_name)
        else:
            ids.extend(f"{self.model_name}@{s}" for s in self.loaded_steps)
        return ids


def _json(status: int, obj) -> tuple:
    return status, json.dumps(obj, separators=(",", ":")).encode(), "application/json"


class InferenceApp:
    """Minimal OpenAI-compatible ASGI app (vLLM behaviour for the parts used)."""

    def __init__(self, state: InferenceState) -> None:
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if not msg.get("more_body", False):
                break
        status, payload, ctype = self.handle(scope, body)
        headers = [(b"content-length", str(len(payload)).encode())]
        if ctype:
            headers.append((b"content-type", ctype.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _authorized(self, scope) -> bool:
        want = f"Bearer {self.state.api_key}"
        for k, v in scope.get("headers") or []:
            if k.lower() == b"authorization":
                return v.decode("latin-1") == want
        return False

    def handle(self, scope, body: bytes) -> tuple:
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        if path == "/health":
            return 200, b"", None
        if path.startswith("/v1") and method != "OPTIONS" and not self._authorized(scope):
            return _json(401, {"error": "Unauthorized"})
        if path == "/v1/models" and method == "GET":
            now = int(time.time())
            data = []
            for mid in self.state.served_ids():
                is_base = mid == self.state.base_model
                data.append(
                    {
                        "id": mid,
                        "object": "model",
                        "created": now,
                        "owned_by": "vllm",
                        "root": mid if is_base else f"lora:{mid}",
                        "parent": None if is_base else self.state.base_model,
                        "max_model_len": 32768,
                        "permission": [],
                    }
                )
            return _json(200, {"object": "list", "data": data})
        if path == "/v1/chat/completions" and method == "POST":
            return self.chat_completion(body)
        return _json(404, {"detail": "Not Found"})

    def chat_completion(self, body: bytes) -> tuple:
        try:
            req = json.loads(body or b"null")
        except ValueError:
            return _json(400, {"object": "error", "message": "invalid JSON", "type": "BadRequestError", "param": None, "code": 400})
        if not isinstance(req, dict):
            return _json(400, {"object": "error", "message": "request body must be an object", "type": "BadRequestError", "param": None, "code": 400})
        model = req.get("model")
        if model not in self.state.served_ids():
            return _json(
                404,
                {
                    "object": "error",
                    "message": f"The model `{model}` does not exist.",
                    "type": "NotFoundError",
                    "param": None,
                    "code": 404,
                },
            )
        if req.get("stream"):
            return _json(400, {"object": "error", "message": "streaming is not simulated", "type": "BadRequestError", "param": None, "code": 400})
        last = ""
        for m in req.get("messages") or []:
            if isinstance(m, dict) and isinstance(m.get("content"), str):
                last = m["content"]
        words = [f"reply-{i}" for i in range(3)] if not last else ["echo:"] + last.split()[:8]
        content = " ".join(words)
        tokens = []
        for i, w in enumerate(words):
            tid = zlib.crc32(w.encode()) % 151643
            tokens.append(
                {
                    "token": f"token_id:{tid}",
                    "bytes": list((w if i == 0 else " " + w).encode()),
                    "logprob": round(-0.05 * (i + 1), 6),
                    "top_logprobs": [],
                }
            )
        resp = {
            "id": f"chatcmpl-sim-{zlib.crc32(body) & 0xFFFFFFFF:08x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None, "tool_calls": []},
                    "logprobs": {"content": tokens, "refusal": None},
                    "finish_reason": "stop",
                    "stop_reason": None,
                }
            ],
            "usage": {"prompt_tokens": len(last.split()), "completion_tokens": len(words), "total_tokens": len(last.split()) + len(words)},
        }
        return _json(200, resp)


class InferenceServer:
    """Starts/stops a uvicorn server on the pre-bound inference port."""

    def __init__(self, host: str, port: int, app, make_config) -> None:
        self.host = host
        self.sock = bind_socket(host, port)
        self.port = self.sock.getsockname()[1]
        self.app = app
        self.make_config = make_config
        self.server = None
        self.task: Optional[asyncio.Task] = None

    @property
    def listening(self) -> bool:
        return self.server is not None and self.server.started and not self.server.should_exit

    async def start(self) -> None:
        import uvicorn

        await self.stop()
        server = uvicorn.Server(self.make_config(self.app))
        self.server = server
        self.task = asyncio.ensure_future(server._serve(sockets=[self.sock]))
        while not server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("inference server did not start")
            await asyncio.sleep(0.005)
        log.info("inference server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self.server is None:
            return
        server, task = self.server, self.task
        self.server, self.task = None, None
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        except Exception:  # pragma: no cover
            log.exception("inference server did not stop cleanly")
            task.cancel()
        # uvicorn closed the socket; bind the port again without listening.
        for _ in range(50):
            try:
                self.sock = bind_socket(self.host, self.port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:  # pragma: no cover
            log.error("could not re-bind inference port %d", self.port)
        log.info("inference server stopped (port %d bound, not listening)", self.port)
