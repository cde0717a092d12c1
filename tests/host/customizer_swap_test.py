#!/usr/bin/env python3
"""One nat-trainer binary and one folder of collections train on two
backends: an ART config against the reference ART server
(tests/art_server/server.py, dialect 0.4), then a NeMo Customizer config
against the NeMo server of the build ($NEMO_SERVER_PYTHON $NEMO_SERVER_SCRIPT),
both entries of one NAT config file, chosen with --adapter.

Usage: customizer_swap_test.py NAT_TRAINER ART_PLUGIN_SO CUSTOMIZER_PLUGIN_SO

The ART part skips (the Customizer part still runs) without the ART 0.4
interpreter (ART_PYTHON_04). About 10 s.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.environ.get("NAT_HOST_EXAMPLES_DIR", os.path.join(ROOT, "examples"))
CUSTOMIZER_DATA = os.path.join(ROOT, "tests", "integration", "customizer_data")

CONFIG = """\
trainer_adapters:
  art:
    _type: openpipe_art_trainer_adapter
    backend: {{ip: 127.0.0.1, port: {art_port}, name: swap_run, project: swap_project,
              base_model: Qwen/Qwen2.5-0.5B-Instruct}}
    training: {{learning_rate: 1e-5, beta: 0.0}}
    native: {{spool_dir: {spool}}}
  nemo:
    _type: nemo_customizer_trainer_adapter
    entity_host: {nemo}
    datastore_host: {nemo}/
    hf_token: swap-token-0042
    namespace: swap-ns
    customization_config: meta/llama-3.2-1b-instruct@v1.0.0+A100
    hyperparameters: {{epochs: 1, learning_rate: 1e-5}}
    poll_interval_seconds: 0.05
    native: {{spool_dir: {spool}}}
finetuning:
  trainer_adapter: art
  num_epochs: 1
"""


def require(condition, message):
    if not condition:
        print("FAIL: " + message, file=sys.stderr)
        sys.exit(1)


def start(args):
    """A server that prints one JSON line with its port; (process, reply)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    readable, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline() if readable else b""
    if not line:
        stop(proc)
        raise RuntimeError("server did not start: %s" % " ".join(args))
    return proc, json.loads(line)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    binary, art_plugin, customizer_plugin = (os.path.abspath(a) for a in sys.argv[1:])
    art_python = os.environ.get("ART_PYTHON_04") or os.path.join(ROOT, ".venv", "art-0.4", "bin", "python")
    have_art = os.path.exists(art_python)
    work = tempfile.mkdtemp(prefix="nat-customizer-swap-")
    servers = []
    try:
        plugin_dirs = []
        for plugin in (art_plugin, customizer_plugin):
            directory = os.path.dirname(os.path.abspath(plugin))
            if directory not in plugin_dirs:
                plugin_dirs += ["--plugin-dir", directory]
        env = {k: v for k, v in os.environ.items() if k != "NAT_TRAINER_ADAPTER_PATH"}

        def nat_trainer(*args):
            result = subprocess.run([binary, *plugin_dirs, *args], capture_output=True, text=True, env=env,
                                    timeout=120, cwd=work)
            print("$ nat-trainer", " ".join(args), "->", result.returncode)
            print(result.stdout, end="")
            print(result.stderr, end="", file=sys.stderr)
            require("terminate called" not in result.stderr, "no crash")
            return result

        listed = json.loads(nat_trainer("list", "--json").stdout)
        names = {p["name"]: p for p in listed["plugins"]}
        require("nemo_customizer_trainer_adapter" in names, "nat-trainer list does not show the Customizer plugin")
        require(names["nemo_customizer_trainer_adapter"]["backend"] == "nemo-customizer", "backend name")

        # One folder holds the collections of both runs.
        collections = os.path.join(work, "collections")
        os.makedirs(collections)
        shutil.copy(os.path.join(EXAMPLES, "quickstart", "trajectories.json"), os.path.join(collections, "art.json"))
        shutil.copy(os.path.join(CUSTOMIZER_DATA, "dpo_collection.json"), os.path.join(collections, "dpo.json"))

        nemo_python = os.environ.get("NEMO_SERVER_PYTHON") or os.path.join(ROOT, ".venv", "nat-customizer", "bin",
                                                                            "python")
        if not os.path.exists(nemo_python):
            print("SKIP: no NeMo server interpreter at %s (tools/setup-nemo-venvs.sh)" % nemo_python)
            sys.exit(77)
        nemo_proc, nemo = start([nemo_python,
                                 os.environ.get("NEMO_SERVER_SCRIPT") or
                                 os.path.join(ROOT, "tests", "nemo_server", "server.py")])
        servers.append(nemo_proc)
        nemo_url = "http://127.0.0.1:%d" % nemo["port"]
        art_port = 9  # unused when the ART part skips
        if have_art:
            art_dir = os.path.join(work, "art-server")
            art_proc, art = start([art_python, os.path.join(ROOT, "tests", "art_server", "server.py"), "--dialect",
                                   "0.4", "--data-dir", art_dir])
            servers.append(art_proc)
            art_port = art["control_port"]
        config = os.path.join(work, "nat.yml")
        with open(config, "w") as f:
            f.write(CONFIG.format(art_port=art_port, nemo=nemo_url, spool=os.path.join(work, "spool")))

        if have_art:
            result = nat_trainer("run", "--config", config, "--adapter", "art", "--trajectories",
                                 os.path.join(collections, "art.json"), "--wait", "--timeout", "90")
            require(result.returncode == 0, "ART run --wait did not complete")
            final = json.loads(result.stdout.splitlines()[-1])
            require(final["backend"] == "openpipe-art" and final["status"] == "completed", "ART status %r" % final)
        else:
            print("SKIP: the ART part (no ART 0.4 interpreter at %s)" % art_python)

        result = nat_trainer("run", "--config", config, "--adapter", "nemo", "--trajectories",
                             os.path.join(collections, "dpo.json"), "--wait", "--timeout", "60")
        require(result.returncode == 0, "Customizer run --wait did not complete")
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        require(lines[0]["backend"] == "nemo-customizer" and lines[0]["metadata"]["job_id"] == "cust-1",
                "Customizer job reference %r" % lines[0])
        require(lines[-1]["status"] == "completed", "Customizer status %r" % lines[-1])
        require("swap-token-0042" not in result.stdout + result.stderr, "the token is shown")
        with urllib.request.urlopen(nemo_url + "/_test/state", timeout=30) as r:
            state = json.loads(r.read())
        with open(os.path.join(CUSTOMIZER_DATA, "expected_training_last.jsonl"), encoding="utf-8") as f:
            expected = f.read()
        require(state["files"].get("swap-ns/nat-dpo/training/training_file.jsonl") == expected,
                "the uploaded training file is not NAT's")
        jobs = [q for q in state["requests"] if q["path"] == "/v1/customization/jobs"]
        require(len(jobs) == 1 and json.loads(jobs[0]["body"])["hyperparameters"]["epochs"] == 1,
                "the job's hyperparameters")
        print("OK")
    finally:
        for proc in servers:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
