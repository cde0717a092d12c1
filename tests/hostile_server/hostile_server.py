#!/usr/bin/env python3
"""A hostile stand-in for an ART `art run` server, scriptable per route.

Python standard library only (raw sockets), so it runs with any python3.
It listens on 127.0.0.1 on a free port (and on a second free port, the
"trap": a host a hostile reply may try to send the adapter to) and prints
one JSON line on stdout when ready:

    {"port": 41234, "trap_port": 41235}

Every route answers like a well-behaved ART 0.4 server unless a script says
otherwise. A script maps a route path (query string ignored) to a reply or a
list of replies used in turn (the last one repeats):

    {"/_get_step": [{"status": 503}, {"status": 503}, {"body": "7"}],
     "/_train_model": {"lines": ["{\\"loss\\": 1, \\"num_gradient_steps\\": 5}"], "framing": "close"}}

A reply is an object with any of:
    status         HTTP status (200)
    reason         reason phrase ("Hostile")
    version        "HTTP/1.1" (default) or "HTTP/1.0"
    headers        [[name, value], ...] or {name: value}, sent as they are
                   (characters as latin-1 bytes)
    body           text (UTF-8), or
    body_hex       raw bytes, hex encoded, or
    deep           {"depth": N, "open": "[", "close": "]", "prefix": "", "suffix": ""}:
                   prefix + open*N + close*N + suffix
    repeat         {"text": "...", "times": N, "prefix": "", "suffix": ""}
    lines          training stream lines (each sent with "\\n", one chunk each)
    line_delay     seconds between lines
    framing        "length" (Content-Length, default), "chunked" (with the
                   final chunk), "close" (no length: ended by closing),
                   "chunked_truncated" (no final chunk, then close),
                   "length_short" (Content-Length larger than what is sent)
    endless        {"chunk": "text", "max_seconds": 20, "interval": 0}: after the
                   body, send the chunk (about 16 KiB of it; with an interval,
                   once per interval) until the client goes away
    delay          seconds to wait before answering
    advance_step   a 2xx /_train_model moves /_get_step on by one (default true)
"{port}" and "{trap_port}" in body texts and header values are replaced by
the ports.

Control routes (not recorded):
    POST /_hostile/script    the body is a new script; resets the replies' turns
    GET  /_hostile/requests  every request so far: method, path, port ("main"
                             or "trap"), raw header block (latin-1), body size
    POST /_hostile/reset     forgets the requests
"""
import argparse
import json
import socket
import socketserver
import sys
import threading
import time

LOCK = threading.Lock()
STATE = {
    "script": {},
    "turns": {},
    "requests": [],
    "step": 0,
    "port": 0,
    "trap_port": 0,
}

DEFAULT_OPENAPI = json.dumps({
    "openapi": "3.1.0",
    "paths": {p: {} for p in ("/healthcheck", "/register", "/_log", "/_delete_checkpoints", "/_get_step",
                              "/_prepare_backend_for_training", "/_train_model")},
})
DEFAULT_KEY = "hostile-inference-key"


def default_reply(method, path):
    if path == "/healthcheck":
        return {"body": '{"status": "ok"}'}
    if path == "/openapi.json":
        return {"body": DEFAULT_OPENAPI}
    if path == "/register":
        return {"body": "null"}
    if path == "/_prepare_backend_for_training":
        return {"body": json.dumps(["http://0.0.0.0:{port}/v1", DEFAULT_KEY])}
    if path == "/_get_step":
        with LOCK:
            return {"body": str(STATE["step"])}
    if path == "/_train_model":
        line = '{"loss": 0.5, "grad_norm": 1.0, "policy_loss": 0.1, "num_gradient_steps": 2}'
        return {"lines": [line, line], "framing": "chunked"}
    if path in ("/v1/models", "/models"):
        return {"body": '{"object": "list", "data": []}'}
    if path in ("/_delete_checkpoints", "/_delete_checkpoint_files"):
        return {"body": "null"}
    return {"status": 404, "body": '{"detail": "Not Found"}'}


def next_reply(method, path):
    with LOCK:
        entry = STATE["script"].get(path)
        if entry is None:
            entry = None
        elif isinstance(entry, list):
            if not entry:
                entry = None
            else:
                turn = STATE["turns"].get(path, 0)
                STATE["turns"][path] = turn + 1
                entry = entry[min(turn, len(entry) - 1)]
    if entry is None:
        return default_reply(method, path)
    if path == "/_get_step" and "body" not in entry and entry.get("status", 200) == 200 and \
            not any(k in entry for k in ("body_hex", "deep", "repeat", "lines")):
        entry = dict(entry)
        with LOCK:
            entry["body"] = str(STATE["step"])
    return entry


def fill(text):
    return text.replace("{port}", str(STATE["port"])).replace("{trap_port}", str(STATE["trap_port"]))


def body_of(reply):
    if "body_hex" in reply:
        return bytes.fromhex(reply["body_hex"])
    if "deep" in reply:
        d = reply["deep"]
        n = int(d.get("depth", 100000))
        return (d.get("prefix", "") + d.get("open", "[") * n + d.get("close", "]") * n +
                d.get("suffix", "")).encode()
    if "repeat" in reply:
        r = reply["repeat"]
        return (r.get("prefix", "") + r["text"] * int(r.get("times", 1)) + r.get("suffix", "")).encode()
    if "lines" in reply:
        return b"".join(fill(line).encode() + b"\n" for line in reply["lines"])
    return fill(reply.get("body", "")).encode()


class Handler(socketserver.BaseRequestHandler):
    where = "main"

    def read_request(self):
        """(method, path, raw header block, body size); applies the control routes' bodies."""
        self.body_size = 0
        f = self.request.makefile("rb")
        request_line = f.readline(65536)
        if not request_line:
            return None
        raw_headers = b""
        headers = {}
        while True:
            line = f.readline(65536)
            if not line or line in (b"\r\n", b"\n"):
                break
            raw_headers += line
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = f.readline(65536)
                if not line:
                    break
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while True:
                        trailer = f.readline(65536)
                        if not trailer or trailer in (b"\r\n", b"\n"):
                            break
                    break
                data = f.read(n)
                if len(body) < (1 << 16):
                    body += data[: (1 << 16) - len(body)]
                self.body_size += len(data)
                f.readline(65536)
        elif "content-length" in headers:
            n = int(headers["content-length"])
            body = f.read(n) if n else b""
            self.body_size = len(body)
        parts = request_line.decode("latin-1").split()
        method = parts[0] if parts else ""
        target = parts[1] if len(parts) > 1 else ""
        path = target.split("?", 1)[0]
        if path == "/_hostile/script":
            script = json.loads(body.decode() or "{}")
            with LOCK:
                STATE["script"] = script
                STATE["turns"] = {}
        elif path == "/_hostile/reset":
            with LOCK:
                STATE["requests"] = []
        return method, path, raw_headers.decode("latin-1"), self.body_size

    def send(self, data):
        self.request.sendall(data)

    def handle(self):
        try:
            req = self.read_request()
        except (OSError, ValueError):
            return
        if req is None:
            return
        method, path, raw_headers, size = req
        if path.startswith("/_hostile/"):
            self.control(method, path)
            return
        with LOCK:
            STATE["requests"].append({"method": method, "path": path, "port": self.where,
                                      "headers": raw_headers, "body_bytes": size})
        if self.where == "trap":
            self.respond({"body": '{"trap": true}'}, path)
            return
        try:
            self.respond(next_reply(method, path), path)
        except OSError:
            pass

    def control(self, method, path):
        if path == "/_hostile/requests":
            with LOCK:
                body = json.dumps(STATE["requests"]).encode()
        else:
            body = b"{}"
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)

    def respond(self, reply, path):
        if reply.get("delay"):
            time.sleep(float(reply["delay"]))
        status = int(reply.get("status", 200))
        version = reply.get("version", "HTTP/1.1")
        framing = reply.get("framing", "length")
        body = body_of(reply)
        head = "%s %d %s\r\n" % (version, status, reply.get("reason", "Hostile"))
        out = head.encode("latin-1")
        headers = reply.get("headers", [])
        for name, value in headers.items() if isinstance(headers, dict) else headers:
            out += name.encode("latin-1") + b": " + fill(value).encode("latin-1") + b"\r\n"
        if framing in ("length", "length_short"):
            extra = 1000 if framing == "length_short" else 0
            out += b"Content-Length: %d\r\n" % (len(body) + extra)
        elif framing in ("chunked", "chunked_truncated"):
            out += b"Transfer-Encoding: chunked\r\n"
        out += b"Connection: close\r\n\r\n"
        self.send(out)
        chunked = framing in ("chunked", "chunked_truncated")
        endless = reply.get("endless")

        def piece(data):
            if not data:
                return
            self.send(b"%x\r\n" % len(data) + data + b"\r\n" if chunked else data)

        if "lines" in reply:
            delay = float(reply.get("line_delay", 0))
            for line in reply["lines"]:
                piece(fill(line).encode() + b"\n")
                if delay:
                    time.sleep(delay)
        else:
            # Large bodies in pieces, so a client that stops reading is noticed.
            for i in range(0, len(body), 65536):
                piece(body[i:i + 65536])
        if endless:
            chunk = fill(endless.get("chunk", "x")).encode() or b"x"
            interval = float(endless.get("interval", 0))
            if not interval:
                chunk = chunk * max(1, 16384 // len(chunk))
            deadline = time.monotonic() + float(endless.get("max_seconds", 20))
            try:
                while time.monotonic() < deadline:
                    piece(chunk)
                    if interval:
                        time.sleep(interval)
            except OSError:
                return
        if framing == "chunked":
            self.send(b"0\r\n\r\n")
        if 200 <= status < 300 and path == "/_train_model" and reply.get("advance_step", True) and \
                framing in ("chunked", "length"):
            with LOCK:
                STATE["step"] += 1
        try:
            self.request.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class TrapHandler(Handler):
    where = "trap"


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--script", default="{}", help="initial script (JSON)")
    args = parser.parse_args()
    STATE["script"] = json.loads(args.script)
    main_server = Server(("127.0.0.1", 0), Handler)
    trap_server = Server(("127.0.0.1", 0), TrapHandler)
    STATE["port"] = main_server.server_address[1]
    STATE["trap_port"] = trap_server.server_address[1]
    for s in (main_server, trap_server):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(json.dumps({"port": STATE["port"], "trap_port": STATE["trap_port"]}), flush=True)
    try:
        # Until stdin closes (the test process went away) or a signal.
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
