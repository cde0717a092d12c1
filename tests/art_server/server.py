#!/usr/bin/env python3
"""Protocol-faithful stand-in for OpenPipe ART's ``art run`` server (simulated training).

    python tests/art_server/server.py --dialect 0.4|0.5 [--port 0] [--inference-port 0]
        [--data-dir DIR] [--host 127.0.0.1] [--api-key KEY] [--log-file F]
        [--ready-file F] [--record-file F] [--faults JSON|@file] [--quirks LIST]
        [--record-body-cap BYTES] [--full-art-import]

Prints exactly one JSON line on stdout once both ports are bound and the
control port is listening:

    {"control_port": N, "inference_port": M, "pid": P, "dialect": "0.4", "art_version": "0.4.11"}

Everything else goes to the log file.  See README.md beside this file.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

QUIRKS = {"0.4": set(), "0.5": {"get-step-query", "choice-as-dict"}}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dialect", required=True, choices=["0.4", "0.5"])
    p.add_argument("--port", type=int, default=0, help="control (ART API) port; 0 = any free port")
    p.add_argument("--inference-port", type=int, default=0, help="simulated vLLM port; 0 = any free port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--data-dir", default=".art", help="ART's art_path (default ./.art, as ART)")
    p.add_argument("--api-key", default="default", help="inference API key when the request sets none")
    p.add_argument("--log-file", default=None, help="default: <data-dir>/server.log")
    p.add_argument("--ready-file", default=None)
    p.add_argument("--record-file", default=None, help="append one JSON line per request")
    p.add_argument("--record-body-cap", type=int, default=64 * 1024 * 1024)
    p.add_argument("--faults", default=None, help="fault JSON, or @path to a JSON file")
    p.add_argument(
        "--quirks",
        default="",
        help="comma-separated release defects to reproduce (0.5: get-step-query, choice-as-dict; or 'all')",
    )
    p.add_argument("--full-art-import", action="store_true", help="import art normally (slow)")
    args = p.parse_args(argv)
    q = {x.strip() for x in args.quirks.split(",") if x.strip()}
    if "all" in q:
        q = set(QUIRKS[args.dialect])
    bad = q - QUIRKS[args.dialect]
    if bad:
        p.error(f"unknown quirks for dialect {args.dialect}: {sorted(bad)}")
    args.quirks = q
    return args


def write_ready_file(path: str, line: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = os.path.abspath(args.data_dir)
    os.makedirs(data_dir, exist_ok=True)
    log_file = os.path.abspath(args.log_file or os.path.join(data_dir, "server.log"))
    os.makedirs(os.path.dirname(log_file), exist_ok=True)

    # stdout carries only the ready line; stderr and all logging go to the log file.
    real_stdout = sys.stdout
    real_stderr_fd = os.dup(2)
    log_stream = open(log_file, "a", buffering=1, encoding="utf-8")
    os.dup2(log_stream.fileno(), 2)
    sys.stderr = log_stream
    sys.stdout = log_stream
    logging.basicConfig(
        level=logging.INFO,
        stream=log_stream,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    log = logging.getLogger("art_server")

    def fatal(msg: str) -> int:
        log.error("%s", msg)
        os.write(real_stderr_fd, (f"art_server: {msg}\n").encode())
        return 2

    t0 = time.monotonic()
    log.info("starting: %s", " ".join(sys.argv))

    from control import Faults, FaultError, Recorder, RecordingFaultMiddleware, TestRoutes

    faults = Faults()
    if args.faults:
        try:
            text = args.faults
            if text.startswith("@"):
                with open(text[1:]) as f:
                    text = f.read()
            faults.set(json.loads(text))
        except (OSError, ValueError, FaultError) as e:
            return fatal(f"invalid --faults: {e}")

    import art_loader

    try:
        ns = art_loader.load(args.dialect, full_import=args.full_art_import)
    except art_loader.ArtUnavailable as e:
        return fatal(str(e))
    if args.dialect == "0.5" and "choice-as-dict" not in args.quirks:
        art_loader.use_strict_message_union(ns)
    ns.local_backend_docs = art_loader.local_backend_docstrings(ns)
    log.info("loaded openpipe-art %s (%.2fs)", ns.version, time.monotonic() - t0)

    import uvicorn

    from inference import InferenceApp, InferenceServer, InferenceState, bind_socket
    import sim_backend

    try:
        import httptools  # noqa: F401

        http_impl = "httptools"  # what `art run` gets through vLLM's uvicorn[standard]
    except ImportError:
        http_impl = "h11"

    def make_config(app):
        return uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            loop="asyncio",
            http=http_impl,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )

    recorder = Recorder(body_cap=args.record_body_cap, record_file=args.record_file)
    try:
        control_sock = bind_socket(args.host, args.port)
        inf_state = InferenceState(args.api_key)
        inf_app = RecordingFaultMiddleware(InferenceApp(inf_state), recorder, faults, "inference")
        inf_server = InferenceServer(args.host, args.inference_port, inf_app, make_config)
    except OSError as e:
        return fatal(f"cannot bind: {e}")

    shared = sim_backend.Shared(
        args.dialect, data_dir, args.api_key, inf_state, inf_server, faults, recorder, args.quirks
    )
    backend = sim_backend.make_backend(ns, shared)
    try:
        mismatches = art_loader.signature_mismatches(ns, backend)
    except Exception as e:  # pragma: no cover - diagnostics only
        mismatches = [f"could not compare: {e}"]
    for m in mismatches:
        log.warning("route signature differs from ART's LocalBackend: %s", m)
    art_app = art_loader.build_app(ns, backend)

    control_port = control_sock.getsockname()[1]

    def state():
        return {
            "dialect": args.dialect,
            "art_version": ns.version,
            "quirks": sorted(args.quirks),
            "data_dir": data_dir,
            "control_port": control_port,
            "inference_port": inf_server.port,
            "inference_listening": inf_server.listening,
            "inference_api_key": inf_state.api_key,
            "served_models": inf_state.served_ids(),
            "faults": faults.to_json(),
            "requests": len(recorder.records),
            "signature_mismatches": mismatches,
        }

    app = RecordingFaultMiddleware(art_app, recorder, faults, "control", TestRoutes(recorder, faults, state))

    async def run() -> int:
        loop = asyncio.get_running_loop()
        server = uvicorn.Server(make_config(app))
        task = asyncio.ensure_future(server._serve(sockets=[control_sock]))
        while not server.started:
            if task.done():
                task.result()
                return fatal("control server did not start")
            await asyncio.sleep(0.005)

        ready = json.dumps(
            {
                "control_port": control_port,
                "inference_port": inf_server.port,
                "pid": os.getpid(),
                "dialect": args.dialect,
                "art_version": ns.version,
            }
        )
        if args.ready_file:
            write_ready_file(args.ready_file, ready)
        real_stdout.write(ready + "\n")
        real_stdout.flush()
        log.info("ready in %.2fs: %s", time.monotonic() - t0, ready)

        stopping = {"n": 0}

        def on_signal(signum):
            stopping["n"] += 1
            log.info("signal %d received", signum)
            if stopping["n"] > 1:
                os._exit(1)
            server.should_exit = True
            # Hard stop if graceful shutdown hangs.
            loop.call_later(6, lambda: os._exit(0))

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)
        await task
        await inf_server.stop()
        log.info("stopped")
        return 0

    try:
        rc = asyncio.run(run())
    except Exception:
        log.exception("server failed")
        rc = 1
    logging.shutdown()
    try:
        real_stdout.flush()
    except Exception:
        pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
