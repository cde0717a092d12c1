#!/usr/bin/env python3
"""nat-trainer with the ART plugin when things go wrong.

Usage: art_reliability_test.py NAT_TRAINER ART_PLUGIN_SO

- The spool: a `nat-trainer run` killed with SIGKILL mid-training leaves its
  collection in the spool directory byte for byte; `nat-trainer resubmit`
  trains it and the file goes away; `resubmit --list`; what resubmit refuses.
- native.insecure_skip_tls_verify: nat-trainer warns on stderr, and the plugin
  warns once through the job's events.
- The api key never appears in stdout, stderr or spool files, whatever fails.
- num_gradient_steps values no integer can hold (1e300, -1e300, NaN, ...)
  from a stand-in server that sends them.

The reference ART server (tests/art_server/server.py, dialect 0.4) runs under
ART_PYTHON_04 (default .venv/art-0.4/bin/python); the tests that need it are
skipped without it. ART_SERVER_SCRIPT overrides the server script.
Environment: NAT_HOST_EXAMPLES_DIR (examples/, for the quickstart collection).
"""
import glob
import http.client
import json
import os
import queue
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAT_TRAINER = None
ART_PLUGIN = None
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.environ.get("NAT_HOST_EXAMPLES_DIR", os.path.join(ROOT, "examples"))
TRAJECTORIES = os.path.join(EXAMPLES, "quickstart", "trajectories.json")  # 3 groups, 12 gradient steps
SERVER_SCRIPT = os.environ.get("ART_SERVER_SCRIPT") or os.path.join(ROOT, "tests", "art_server", "server.py")
API_KEY = "sk-nat-LEAKCHECK-5d2e81"
CRASH_MARKERS = ["terminate called", "what():", "Traceback", "Segmentation fault", "Aborted"]


def art_python():
    path = os.environ.get("ART_PYTHON_04") or os.path.join(ROOT, ".venv", "art-0.4", "bin", "python")
    return path if os.path.exists(path) else None


def environment():
    return {k: v for k, v in os.environ.items() if k != "NAT_TRAINER_ADAPTER_PATH"}


def nat_trainer(*args, timeout=180, cwd=None):
    plugin_dir = os.path.dirname(os.path.abspath(ART_PLUGIN))
    return subprocess.run([NAT_TRAINER, "--plugin-dir", plugin_dir, *args], capture_output=True, text=True,
                          env=environment(), timeout=timeout, cwd=cwd)


def start_nat_trainer(*args):
    plugin_dir = os.path.dirname(os.path.abspath(ART_PLUGIN))
    return subprocess.Popen([NAT_TRAINER, "--plugin-dir", plugin_dir, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environment())


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class ReferenceServer:
    """tests/art_server/server.py, dialect 0.4, on free ports."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.proc = subprocess.Popen([art_python(), SERVER_SCRIPT, "--dialect", "0.4", "--data-dir", data_dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        readable, _, _ = select.select([self.proc.stdout], [], [], 120)
        line = self.proc.stdout.readline() if readable else b""
        if not line:
            self.stop()
            raise RuntimeError("the reference server did not start: " + self.proc.stderr.read().decode())
        self.port = json.loads(line)["control_port"]

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return json.loads(response.read() or b"null")
        finally:
            conn.close()

    def set_faults(self, faults):
        self.call("POST", "/_test/faults", faults)

    def requests_to(self, path):
        return self.call("GET", "/_test/requests?path=%s&body=0" % path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class WithReferenceServer(unittest.TestCase):
    """One server per class; faults and the request record reset per test."""

    @classmethod
    def setUpClass(cls):
        if art_python() is None:
            raise unittest.SkipTest("no ART 0.4 interpreter (tools/setup-venvs.sh)")
        cls.server_dir = tempfile.mkdtemp(prefix="nat-reliability-server-")
        cls.server = ReferenceServer(cls.server_dir)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.server_dir, ignore_errors=True)

    def setUp(self):
        self.server.call("POST", "/_test/reset")
        self.tmp = tempfile.mkdtemp(prefix="nat-reliability-test-")
        self.spool = os.path.join(self.tmp, "spool")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, name="config.yml", port=None, native=None, backend=None):
        """A NAT config (JSON is YAML) with the adapter under trainer_adapters.art."""
        adapter = {
            "_type": "openpipe_art_trainer_adapter",
            "backend": {"ip": "127.0.0.1", "port": port or self.server.port, "name": "reliability_run",
                        "project": "reliability_project", "base_model": "Qwen/Qwen2.5-3B-Instruct",
                        **(backend or {})},
            "native": {"spool_dir": self.spool, "retry_backoff_s": 0.05, **(native or {})},
        }
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump({"trainer_adapters": {"art": adapter}, "finetuning": {"trainer_adapter": "art"}}, f, indent=2)
        return path

    def spool_files(self):
        return sorted(glob.glob(os.path.join(self.spool, "*")))


class SpoolAndResubmitTest(WithReferenceServer):

    def test_a_killed_run_leaves_its_collection_spooled_and_resubmit_trains_it(self):
        config = self.write_config()
        # Training stops after two gradient steps until the faults change.
        self.server.set_faults({"train": {"stall_after": 2}})
        process = start_nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait")
        lines = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True)
        reader.start()
        job_ref = json.loads(process.stdout.readline())
        self.assertEqual(job_ref["run_id"], "art_run_quickstart")
        deadline = time.monotonic() + 120
        seen = []
        while not any("step 2/12" in line for line in seen):
            self.assertLess(time.monotonic(), deadline, "no second step: " + "".join(seen))
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                self.assertIsNone(process.poll(), "nat-trainer ended early: " + "".join(seen))
        # The host process dies mid-training, without any chance to clean up.
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        self.assertEqual(process.returncode, -signal.SIGKILL)
        reader.join(timeout=30)
        process.stdout.close()
        process.stderr.close()

        files = self.spool_files()
        self.assertEqual(len(files), 1, files)  # and no .partial file
        spooled = files[0]
        self.assertTrue(spooled.endswith(".json"), spooled)
        self.assertEqual(read_bytes(spooled), read_bytes(TRAJECTORIES))  # the collection exactly as submitted
        self.assertEqual(stat.S_IMODE(os.stat(spooled).st_mode), 0o600)

        listed = nat_trainer("resubmit", "--config", config, "--list", "--json")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        listing = json.loads(listed.stdout)
        self.assertEqual(listing["spool_dir"], self.spool)
        self.assertEqual([f["path"] for f in listing["files"]], [spooled])
        self.assertEqual(listing["files"][0]["size"], os.path.getsize(TRAJECTORIES))
        self.assertEqual(listing["files"][0]["run"], "art_run_quickstart")
        self.assertEqual(listing["files"][0]["writer_pid"], process.pid)
        self.assertFalse(listing["files"][0]["writer_running"])
        table = nat_trainer("resubmit", "--config", config, "--list")
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertRegex(table.stdout, r"MODIFIED +SIZE +RUN +WRITER +FILE")
        self.assertIn("pid %d exited" % process.pid, table.stdout)
        self.assertIn("resubmit --config " + config + " FILE...", table.stdout)

        self.server.set_faults({})  # ends the stall of the orphaned call too
        result = nat_trainer("resubmit", "--config", config, spooled, "--wait")
        self.assertEqual(result.returncode, 0, result.stderr)
        ref, status = json_lines(result.stdout)
        self.assertEqual(ref["run_id"], "art_run_quickstart")
        self.assertEqual(status["status"], "completed")
        self.assertEqual(status["progress"], 100.0)
        self.assertEqual(status["metadata"]["spool_file"], spooled)
        self.assertEqual(status["metadata"]["spool_file_removed"], True)
        self.assertEqual(status["metadata"]["gradient_steps_done"], 12)
        self.assertIn("step 12/12", result.stderr)
        self.assertIn("spool file %s removed" % spooled, result.stderr)
        self.assertFalse(os.path.exists(spooled))
        self.assertEqual(self.spool_files(), [])
        self.assertGreaterEqual(len(self.server.requests_to("/_train_model")), 2)

        empty = nat_trainer("resubmit", "--config", config, "--list")
        self.assertIn("No spooled collections", empty.stdout)

    def test_a_failed_run_names_its_spool_file_and_the_resubmit_command(self):
        config = self.write_config()
        self.server.set_faults({"train": {"cut_after": 1}})
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait")
        self.assertEqual(result.returncode, 1, result.stderr)
        status = json_lines(result.stdout)[-1]
        self.assertEqual(status["status"], "failed")
        spooled = status["metadata"]["spool_file"]
        self.assertEqual(self.spool_files(), [spooled])
        self.assertIn("the collection stays in the spool: " + spooled, result.stderr)
        self.assertIn("submit it again with: nat-trainer --plugin-dir ", result.stderr)
        self.assertIn(" resubmit --config %s %s\n" % (config, spooled), result.stderr)

        self.server.set_faults({})
        # Without --wait: the job ref on stdout, the outcome on stderr.
        result = nat_trainer("resubmit", "--config", config, spooled)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(json_lines(result.stdout)), 1)
        self.assertIn("job art_run_quickstart completed: Training completed successfully.", result.stderr)
        self.assertFalse(os.path.exists(spooled))

        # Gone: a usage error before anything is sent.
        result = nat_trainer("resubmit", "--config", config, spooled)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")

    def test_resubmit_with_spool_dir_trains_and_removes_files_of_that_directory(self):
        # --spool-dir names the adapter's spool directory for the command: the
        # plugin, which removes only files of its own spool directory, removes
        # the trained file there, and spools no copy in the configured one.
        config = self.write_config()
        other = os.path.join(self.tmp, "other-spool")
        os.makedirs(other)
        spooled = os.path.join(other, "art_run_quickstart.1700000000000.42.0.json")
        shutil.copyfile(TRAJECTORIES, spooled)
        result = nat_trainer("resubmit", "--config", config, "--spool-dir", other, "--wait", spooled)
        self.assertEqual(result.returncode, 0, result.stderr)
        status = json_lines(result.stdout)[-1]
        self.assertEqual(status["status"], "completed")
        self.assertEqual(status["metadata"]["spool_file"], spooled)
        self.assertFalse(os.path.exists(spooled))
        self.assertEqual(self.spool_files(), [])

    def test_resubmit_takes_only_complete_files_of_the_spool_directory(self):
        config = self.write_config()
        own = os.path.join(self.tmp, "mine.json")
        shutil.copyfile(TRAJECTORIES, own)
        result = nat_trainer("resubmit", "--config", config, own)
        self.assertEqual(result.returncode, 2)
        self.assertIn("not a file of the spool directory " + self.spool, result.stderr)
        self.assertTrue(os.path.exists(own))  # never trained, so never removed
        os.makedirs(self.spool)
        partial = os.path.join(self.spool, "r.1700000000000.42.0.json.partial")
        shutil.copyfile(TRAJECTORIES, partial)
        result = nat_trainer("resubmit", "--config", config, partial)
        self.assertEqual(result.returncode, 2)
        self.assertIn("an incomplete spool file", result.stderr)
        listed = nat_trainer("resubmit", "--config", config, "--list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("Incomplete", listed.stdout)
        self.assertIn(partial, listed.stdout)
        self.assertEqual(json.loads(nat_trainer("resubmit", "--config", config, "--list", "--json").stdout)
                         ["incomplete"][0]["path"], partial)
        # Usage errors.
        for args in (["--list", own], ["--list", "--wait"], ["--json"], []):
            result = nat_trainer("resubmit", "--config", config, *args)
            self.assertEqual(result.returncode, 2, args)
            self.assertEqual(self.server.requests_to("/_train_model"), [])


class TlsVerificationSwitchTest(WithReferenceServer):

    HOST_WARNING = "nat-trainer: warning: "
    SWITCH = "native.insecure_skip_tls_verify is true"
    PLUGIN_WARNING = "warning: native.insecure_skip_tls_verify is on"

    def test_the_insecure_switch_warns_on_stderr_and_through_the_plugin(self):
        config = self.write_config(native={"insecure_skip_tls_verify": True})
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait")
        self.assertEqual(result.returncode, 0, result.stderr)
        # Once from nat-trainer, about the loaded config ...
        self.assertEqual(result.stderr.count(self.SWITCH), 1, result.stderr)
        self.assertIn(self.HOST_WARNING + config + ": trainer_adapters.art: " + self.SWITCH, result.stderr)
        # ... and once from the plugin, as an event of the job.
        self.assertEqual(result.stderr.count(self.PLUGIN_WARNING), 1, result.stderr)
        self.assertEqual(json_lines(result.stdout)[-1]["metadata"]["tls_verification"],
                         "off (native.insecure_skip_tls_verify)")
        # Without --wait the plugin's warning is still shown.
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.count(self.PLUGIN_WARNING), 1, result.stderr)
        # (Unhealthy: before initialize the inference server is looked for on
        # NAT's default port 8000, where the reference server is not.)
        result = nat_trainer("health", "--config", config)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        self.assertEqual(result.stderr.count(self.SWITCH), 1, result.stderr)

    def test_verification_on_says_nothing(self):
        config = self.write_config()
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("insecure", result.stderr)
        self.assertNotIn("warning", result.stderr)


class ApiKeyNeverLeaksTest(WithReferenceServer):
    """Every error path through nat-trainer: the key is in no output and no file."""

    def keyed_config(self, **kwargs):
        # The server hands the key back from prepare (server_args.api_key),
        # and the adapter then sends it in every model body.
        backend = {"api_key": API_KEY, "server_config": {"server_args": {"api_key": API_KEY}}}
        return self.write_config(backend=backend, native={"retries": 0, "connect_timeout_s": 2,
                                                          "health_timeout_s": 2, **kwargs.pop("native", {})},
                                 **kwargs)

    def test_the_api_key_is_in_no_output_and_no_file(self):
        outputs = []

        def run(*args, code=None):
            result = nat_trainer(*args)
            outputs.append((args, result.stdout + result.stderr))
            if code is not None:
                self.assertEqual(result.returncode, code, result.stderr)
            for marker in CRASH_MARKERS:
                self.assertNotIn(marker, result.stderr)
            return result

        def run_training(config, faults, code=1):
            self.server.set_faults(faults)
            result = run("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait", code=code)
            self.server.set_faults({})
            return result

        config = self.keyed_config()
        # Nothing listens.
        unreachable = self.keyed_config(name="unreachable.yml", port=closed_port())
        run("run", "--config", unreachable, "--trajectories", TRAJECTORIES, "--wait", code=2)
        run("health", "--config", unreachable, code=1)
        # Initialize fails: 401 from /register, 500 from prepare quoting its config.
        run_training(config, {"fail": {"/register": {"status": 401, "body": {"error": "Unauthorized"}}}}, code=2)
        result = run_training(config, {"fail": {"/_prepare_backend_for_training": {
            "status": 500, "body": "Error: bad server_args={'api_key': '%s'}" % API_KEY}}}, code=2)
        self.assertIn("[redacted]", result.stderr)
        # The job fails: 422 quoting its input (FastAPI does), 500 quoting the
        # Authorization header, 401.
        result = run_training(config, {"fail": {"/_train_model": {"status": 422, "body": {"detail": [
            {"type": "missing", "loc": ["body", "model", "x"], "msg": "Field required",
             "input": {"name": "reliability_run", "inference_api_key": API_KEY}}]}}}})
        self.assertIn("[redacted]", json_lines(result.stdout)[-1]["message"])
        run_training(config, {"fail": {"/_train_model": {"status": 500, "body": "Bearer " + API_KEY}}})
        run_training(config, {"fail": {"/_train_model": {"status": 401, "body": {"error": "Unauthorized"}}}})
        run_training(config, {"train": {"cut_after": 1}})
        # Resubmit a spooled collection, and fail to resubmit.
        spooled = self.spool_files()
        self.assertGreaterEqual(len(spooled), 4)
        run("resubmit", "--config", config, "--list")
        run("resubmit", "--config", config, "--list", "--json")
        run("resubmit", "--config", config, spooled[0], "--wait", code=0)
        run("resubmit", "--config", unreachable, spooled[1], code=2)
        run("convert", "--config", config, "--trajectories", TRAJECTORIES, code=0)

        # Configs that cannot be used, the key in the broken part.
        def broken(name, text):
            path = os.path.join(self.tmp, name)
            with open(path, "w") as f:
                f.write(text)
            run("run", "--config", path, "--trajectories", TRAJECTORIES, code=2)
            run("health", "--config", path, code=2)

        adapter = '{"_type": "openpipe_art_trainer_adapter", "backend": {"ip": "127.0.0.1", "port": %d, ' % (
            self.server.port)
        broken("control_character.json", adapter + '"api_key": "%s\x01"}}' % API_KEY)
        broken("unterminated.json", adapter + '"api_key": "%s}}' % API_KEY)
        broken("bad_port.yml", "trainer_adapters:\n  a:\n    _type: openpipe_art_trainer_adapter\n"
                               "    backend: {ip: 127.0.0.1, port: x, api_key: %s}\n" % API_KEY)
        broken("bad_type.yml", "trainer_adapters:\n  a:\n    _type: openpipe_art_trainer_adapter\n"
                               "    backend: {ip: 127.0.0.1, port: 1, api_key: [%s]}\n" % API_KEY)
        broken("tagged_key.yml", "trainer_adapters:\n  a:\n    _type: openpipe_art_trainer_adapter\n"
                                 "    backend: {ip: 127.0.0.1, port: 1, api_key: !!int %s}\n" % API_KEY)
        broken("bad_yaml.yml", "trainer_adapters:\n  a:\n    _type: openpipe_art_trainer_adapter\n"
                               "    backend: {ip: 127.0.0.1, port: 1, api_key: \"%s}\n" % API_KEY)

        for args, text in outputs:
            self.assertNotIn(API_KEY, text, args)
        # The spool files of the failed jobs (the configs hold the key on purpose).
        spooled = self.spool_files()
        self.assertGreaterEqual(len(spooled), 3)
        for path in spooled:
            self.assertNotIn(API_KEY.encode(), read_bytes(path), path)


# --- num_gradient_steps no integer can hold ----------------------------------------

class StandInArtServer(ThreadingHTTPServer):
    """Just enough of an ART 0.4 server for initialize and one training call,
    whose NDJSON lines the test chooses (json.dumps-style, NaN included)."""

    daemon_threads = True

    def __init__(self, lines):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.lines = lines
        self.step = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.shutdown()
        self.server_close()


class StandInHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/healthcheck":
            self.reply(200, {"status": "ok"})
        elif self.path.startswith("/v1/models"):
            self.reply(200, {"object": "list", "data": []})
        else:  # /openapi.json too: the adapter assumes ART 0.4.x
            self.reply(404, {"detail": "Not Found"})

    def do_POST(self):
        self.read_body()
        if self.path == "/register":
            self.reply(200, None)
        elif self.path == "/_prepare_backend_for_training":
            self.reply(200, ["http://0.0.0.0:%d/v1" % self.server.server_address[1], "default"])
        elif self.path == "/_get_step":
            self.reply(200, self.server.step)
        elif self.path == "/_train_model":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in self.server.lines:
                chunk = (line + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.server.step += 1
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.reply(404, {"detail": "Not Found"})


class StreamNumbersTest(unittest.TestCase):
    """A num_gradient_steps that is not a step count is ignored (noted in the
    metadata), never converted: the job completes with sane numbers."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nat-stream-numbers-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def train(self, lines):
        server = StandInArtServer(lines)
        self.addCleanup(server.close)
        config = os.path.join(self.tmp, "config.json")
        with open(config, "w") as f:
            json.dump({"_type": "openpipe_art_trainer_adapter",
                       "backend": {"ip": "127.0.0.1", "port": server.server_address[1]},
                       "native": {"spool_dir": os.path.join(self.tmp, "spool"), "retry_backoff_s": 0.05}}, f)
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait", timeout=60)
        for marker in CRASH_MARKERS:
            self.assertNotIn(marker, result.stderr)
        self.assertEqual(result.returncode, 0, result.stderr)
        status = json_lines(result.stdout)[-1]
        self.assertEqual(status["status"], "completed", status)
        return status, result.stderr

    def test_values_out_of_any_integer_range_are_ignored(self):
        values = ["1e300", "-1e300", "NaN", "Infinity", "-Infinity", "1e400", "2.5", "-3",
                  "18446744073709551615", "9007199254740993"]
        lines = ['{"loss": 0.5, "num_gradient_steps": %s}' % v for v in values]
        status, stderr = self.train(lines)
        metadata = status["metadata"]
        # The total stayed unknown: at the end it is the number of lines.
        self.assertEqual(metadata["gradient_steps_done"], len(values))
        self.assertEqual(metadata["num_gradient_steps"], len(values))
        self.assertEqual(status["progress"], 100.0)
        notes = metadata["stream_notes"]
        self.assertTrue(any("NaN or Infinity" in n for n in notes), notes)
        for v in ["1e+300", "-1e+300", "2.5", "-3", "18446744073709551615", "9007199254740993"]:
            self.assertTrue(any(("num_gradient_steps " + v + " is not a step count") in n for n in notes),
                            (v, notes))
        self.assertIn("step %d  loss 0.5" % len(values), stderr)

    def test_a_valid_total_survives_later_garbage_and_nan_metrics_are_read(self):
        lines = ['{"loss": NaN, "grad_norm": Infinity, "num_gradient_steps": 3}',
                 '{"loss": 0.25, "num_gradient_steps": 1e300}',
                 '{"loss": -Infinity, "num_gradient_steps": 3.0, "note": "NaN in a string stays"}']
        status, stderr = self.train(lines)
        metadata = status["metadata"]
        self.assertEqual(metadata["num_gradient_steps"], 3)
        self.assertEqual(metadata["gradient_steps_done"], 3)
        self.assertIsNone(metadata["last_metrics"]["loss"])
        self.assertEqual(metadata["last_metrics"]["note"], "NaN in a string stays")
        self.assertIn("step 2/3  loss 0.25", stderr)
        self.assertIn("step 3/3", stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    NAT_TRAINER, ART_PLUGIN = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
