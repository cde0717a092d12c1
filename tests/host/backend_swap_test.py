#!/usr/bin/env python3
"""One nat-trainer binary, two backends: only the config's _type changes.

Usage: backend_swap_test.py NAT_TRAINER ART_PLUGIN_SO EXPORT_PLUGIN_SO

Two configs are written that are byte-for-byte the same except for the
`_type` of the selected trainer_adapters entry. Both carry the keys of both
adapters (`backend:` for openpipe-art, `output_dir:` for the JSONL export),
as NAT configs may; each adapter ignores the other's key.

- jsonl_export_trainer_adapter: `run --wait` completes and writes its files.
- openpipe_art_trainer_adapter: `convert` builds the /_train_model body
  without a server (the backend port is closed on purpose), so the same
  binary demonstrably drives the ART plugin too; `run` against the closed
  port fails cleanly with exit code 2.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

CONFIG = """\
trainer_adapters:
  trainer:
    _type: {type}
    backend:
      ip: 127.0.0.1
      port: {port}
      name: swap_run
      project: swap_project
      base_model: Qwen/Qwen2.5-0.5B-Instruct
    training: {{learning_rate: 1e-5, beta: 0.0}}
    output_dir: {output_dir}
finetuning:
  trainer_adapter: trainer
  num_epochs: 1
"""


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nat_trainer(binary, *args, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "NAT_TRAINER_ADAPTER_PATH"}
    result = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=timeout)
    print("$ nat-trainer", " ".join(args), "->", result.returncode)
    print(result.stdout, end="")
    print(result.stderr, end="", file=sys.stderr)
    return result


def require(condition, message):
    if not condition:
        print("FAIL: " + message, file=sys.stderr)
        sys.exit(1)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    binary, art_plugin, export_plugin = sys.argv[1:]
    trajectories = os.path.join(os.environ["NAT_HOST_TEST_DATA_DIR"], "trajectories.json")
    work = tempfile.mkdtemp(prefix="nat-swap-test-")
    try:
        plugin_dirs = []
        for plugin in (art_plugin, export_plugin):
            directory = os.path.dirname(os.path.abspath(plugin))
            if directory not in plugin_dirs:
                plugin_dirs += ["--plugin-dir", directory]

        names = {}
        for label, plugin in (("art", art_plugin), ("export", export_plugin)):
            listed = json.loads(nat_trainer(binary, *plugin_dirs, "list", "--json").stdout)
            matches = [p for p in listed["plugins"] if os.path.samefile(p["loaded_from"], plugin)]
            require(len(matches) == 1, "%s plugin %s not found by nat-trainer list" % (label, plugin))
            names[label] = matches[0]
        require(names["art"]["name"] == "openpipe_art_trainer_adapter", "unexpected ART plugin name")
        require(names["export"]["name"] == "jsonl_export_trainer_adapter", "unexpected export plugin name")

        output_dir = os.path.join(work, "export")
        port = closed_port()
        configs = {}
        for label in ("art", "export"):
            configs[label] = os.path.join(work, label + ".yml")
            with open(configs[label], "w") as f:
                f.write(CONFIG.format(type=names[label]["name"], port=port, output_dir=output_dir))
        with open(configs["art"]) as a, open(configs["export"]) as e:
            differing = [(x, y) for x, y in zip(a.read().splitlines(), e.read().splitlines()) if x != y]
        require(len(differing) == 1 and "_type:" in differing[0][0], "the configs must differ only in _type")

        # JSONL export: a whole job.
        result = nat_trainer(binary, *plugin_dirs, "run", "--config", configs["export"],
                             "--trajectories", trajectories, "--wait")
        require(result.returncode == 0, "export run --wait did not complete")
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        require(lines[0]["backend"] == names["export"]["backend"], "job ref of another backend: %r" % lines[0])
        require(lines[-1]["status"] == "completed", "export job status %r" % lines[-1].get("status"))
        require(os.path.isdir(output_dir) and os.listdir(output_dir), "the export adapter wrote nothing")

        # openpipe-art: the same binary converts without a server...
        art_body = nat_trainer(binary, *plugin_dirs, "convert", "--config", configs["art"],
                               "--trajectories", trajectories)
        require(art_body.returncode == 0, "ART convert failed")
        export_body = nat_trainer(binary, *plugin_dirs, "convert", "--config", configs["export"],
                                  "--trajectories", trajectories)
        require(export_body.returncode == 0, "export convert failed")
        require(art_body.stdout != export_body.stdout, "both _types produced the same body")

        # ... and fails cleanly when the server is not there.
        result = nat_trainer(binary, *plugin_dirs, "run", "--config", configs["art"],
                             "--trajectories", trajectories, "--wait", "--timeout", "30")
        require(result.returncode == 2, "ART run against a closed port should fail with exit code 2")
        require("openpipe_art_trainer_adapter" in result.stderr, "the error should name the plugin")
        require("terminate called" not in result.stderr, "no crash")
        # The example configs of examples/configs select these two plugins.
        examples = os.environ["NAT_HOST_EXAMPLES_DIR"]
        for name in ("openpipe_art.yml", "jsonl_export.yml"):
            result = nat_trainer(binary, *plugin_dirs, "convert", "--config", os.path.join(examples, "configs", name),
                                 "--trajectories", os.path.join(examples, "quickstart", "trajectories.json"),
                                 "--out", os.path.join(work, name + ".body"))
            require(result.returncode == 0, "convert with examples/configs/" + name + " failed")
        print("OK")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
