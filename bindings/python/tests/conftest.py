"""Fixtures: fake plugins compiled from fake_plugin.c, the real ART plugin and
the ART reference server (started here as a subprocess on port 0)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
HEADER_DIR = REPO / "include"
PLUGIN_NAME = "openpipe_art_trainer_adapter"
DEFAULT_PLUGIN = REPO / "build" / "plugin" / "libnat_trainer_adapter_openpipe_art.so"
DEFAULT_SERVER_PYTHON = REPO / ".venv" / "art-0.4" / "bin" / "python"
DEFAULT_SERVER_SCRIPT = REPO / "tests" / "art_server" / "server.py"


def _required(env_name: str, default: Path, what: str) -> Path:
    """The path from env_name, which must exist when set (meson sets it);
    otherwise the default, or a skip when the default is missing."""
    value = os.environ.get(env_name)
    if value:
        p = Path(value)
        if not p.exists():
            pytest.fail(f"{env_name}={value}: {what} does not exist")
        return p
    if not default.exists():
        pytest.skip(f"{what} not found at {default} (set {env_name})")
    return default


@pytest.fixture(scope="session")
def cc():
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        pytest.skip("no C compiler to build the fake plugins")
    return compiler


@pytest.fixture(scope="session")
def build_fake(cc, tmp_path_factory):
    """build_fake(dir, name, abi=None, filename=None, defines=()) -> path of a fake plugin."""
    counter = [0]

    def build(directory=None, name="fake_trainer_adapter", abi=None, filename=None, defines=()):
        counter[0] += 1
        directory = Path(directory or tmp_path_factory.mktemp("fake"))
        directory.mkdir(parents=True, exist_ok=True)
        out = directory / (filename or f"libfake_{counter[0]}.so")
        cmd = [cc, "-shared", "-fPIC", "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-I", str(HEADER_DIR),
               f'-DFAKE_NAME="{name}"', "-o", str(out), str(HERE / "fake_plugin.c")]
        if abi is not None:
            cmd.insert(1, f"-DFAKE_ABI={abi}u")
        for d in defines:
            cmd.insert(1, f"-D{d}")
        subprocess.run(cmd, check=True)
        return out

    return build


@pytest.fixture(scope="session")
def art_plugin_path():
    return _required("NAT_TRAINER_ADAPTER_PLUGIN", DEFAULT_PLUGIN, "the openpipe-art plugin")


class ArtServer:
    def __init__(self, python: Path, script: Path, dialect: str = "0.4"):
        self.data_dir = tempfile.mkdtemp(prefix="art-server-")
        self.log_path = os.path.join(self.data_dir, "server.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(python), str(script), "--dialect", dialect, "--port", "0", "--inference-port", "0",
             "--data-dir", self.data_dir],
            stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        lines: "queue.Queue[bytes]" = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=float(os.environ.get("ART_SERVER_START_TIMEOUT", "180")))
        except queue.Empty:
            log = self.log()
            self.stop()
            raise RuntimeError(f"the ART server printed no ready line; log: {log}")
        if not line:
            log = self.log()
            self.stop()
            raise RuntimeError(f"the ART server exited before it was ready; log: {log}")
        ready = json.loads(line)
        self.control_port = int(ready["control_port"])
        self.inference_port = int(ready["inference_port"])

    def log(self) -> str:
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def config(self) -> dict:
        # Spooled collections go to the server's data dir, not the working directory.
        return art_config(self.control_port, spool_dir=os.path.join(self.data_dir, "spool"))

    def set_faults(self, faults: dict) -> None:
        """POST /_test/faults: the server's injected faults ({} clears them)."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/_test/faults",
                                     data=json.dumps(faults).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200, resp.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def art_config(port: int, spool_dir=None) -> dict:
    config = {
        "_type": PLUGIN_NAME,
        "backend": {"ip": "127.0.0.1", "port": port, "name": "m", "project": "p",
                    "base_model": "Qwen/Qwen2.5-0.5B-Instruct", "api_key": "default"},
    }
    if spool_dir is not None:
        config["native"] = {"spool_dir": str(spool_dir)}
    return config


@pytest.fixture(scope="session")
def art_server():
    python = _required("ART_SERVER_PYTHON", DEFAULT_SERVER_PYTHON, "the ART 0.4 venv interpreter")
    script = _required("ART_SERVER_SCRIPT", DEFAULT_SERVER_SCRIPT, "the ART reference server")
    server = ArtServer(python, script, "0.4")
    yield server
    server.stop()


CUSTOMIZER_PLUGIN_NAME = "nemo_customizer_trainer_adapter"
DEFAULT_CUSTOMIZER_PLUGIN = REPO / "build" / "plugin" / "libnat_trainer_adapter_nemo_customizer.so"
DPO_COLLECTION = REPO / "tests" / "integration" / "customizer_data" / "dpo_collection.json"


class NemoServer:
    """A NeMo Microservices server for the Customizer plugin: it prints {"port": N} once it listens; /_test/state
    returns the recorded requests and the committed files, /_test/faults sets faults, /_test/reset clears both."""

    def __init__(self, python: Path, script: Path):
        self.proc = subprocess.Popen([str(python), str(script), "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        lines: "queue.Queue[bytes]" = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=120)
        except queue.Empty:
            line = b""
        if not line:
            self.stop()
            raise RuntimeError(f"the NeMo server {script} did not start")
        self.url = f"http://127.0.0.1:{json.loads(line)['port']}"

    def _post(self, path: str, body: dict) -> None:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200, resp.read()

    def reset(self) -> None:
        self._post("/_test/reset", {})

    def set_faults(self, faults: dict) -> None:
        self._post("/_test/faults", faults)

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "/_test/state", timeout=30) as resp:
            return json.loads(resp.read())

    def config(self, spool_dir, **overrides) -> dict:
        config = {"_type": CUSTOMIZER_PLUGIN_NAME, "entity_host": self.url, "datastore_host": self.url,
                  "hf_token": "bindings-token", "namespace": "bindings-ns",
                  "customization_config": "meta/llama-3.2-1b-instruct@v1.0.0+A100",
                  "poll_interval_seconds": 0.05, "native": {"spool_dir": str(spool_dir)}}
        config.update(overrides)
        return config

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def customizer_plugin_path():
    return _required("NAT_CUSTOMIZER_PLUGIN", DEFAULT_CUSTOMIZER_PLUGIN, "the NeMo Customizer plugin")


@pytest.fixture(scope="session")
def nemo_server():
    python = Path(os.environ.get("NEMO_SERVER_PYTHON") or REPO / ".venv" / "nat-customizer" / "bin" / "python")
    script = _required("NEMO_SERVER_SCRIPT", REPO / "tests" / "nemo_server" / "server.py",
                       "the NeMo Microservices server")
    server = NemoServer(python, script)
    yield server
    server.stop()
