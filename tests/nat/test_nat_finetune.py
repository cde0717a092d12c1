#!/usr/bin/env python3
"""`nat finetune` (NVIDIA NeMo Agent Toolkit 1.9.0, the real CLI) with the
native trainer adapters, installed from the wheel this test builds.

    test_nat_finetune.py --source-root DIR --work-dir DIR --art-python-04 PY --art-python-05 PY
                         --nat-venv DIR --nat-core-venv DIR --wheel-build-venv DIR
                         --nemo-server-python PY --nemo-server-script FILE

1. Builds the wheel from the source tree (pip wheel, meson-python, the pinned
   build tools of .venv/wheel-build, no build isolation), checks its
   contents, `auditwheel show` and `auditwheel repair` (a manylinux tag).
2. Makes two virtual environments: `native` (the repaired wheel over
   .venv/nat-core: NAT without openpipe-art) and `full` (`pip install` of the
   source tree over .venv/nat: NAT with its own ART adapter). Each sees NAT's
   packages through a .pth file; pip installs the package into the new
   environment itself. No environment variable points at the plugins.
3. Against the reference ART server (tests/art_server/server.py), dialects
   0.4 and 0.5, from recorded TrajectoryCollection files
   (recorded_trajectory_builder), several epochs:
   - `full`: the native adapter (`_type: native_openpipe_art_trainer_adapter`)
     with NAT's openpipe_art_trainer, then the same config with only `_type`
     switched back to NAT's `openpipe_art_trainer_adapter`, same server: both
     complete, and the trajectory_groups of the recorded /_train_model bodies
     are equal epoch by epoch (as JSON, null-valued keys dropped: NAT's
     pydantic dump writes `"refusal": null` and the like, which the server
     reads as absent; anything else must be identical);
   - `native`: the native trainer and adapter (no openpipe-art importable),
     three epochs, the same groups again; per-step progress in NAT's log
     before each epoch ends; then the bundled examples/nat/config.yml as it
     is (tools/quickstart.sh --nat), two epochs at learning rate 1e-5.
   - a collection that fails NAT's episode-order validation, with both
     adapters: NAT reports `Error during epoch 0: <NAT's message>` and a
     failed job for both, nothing is sent.
4. Without a server: an unreachable backend, both adapters (`nat finetune`
   fails, exit 1, `Finetuning failed: ...`; the native one with
   `Failed to connect to ART backend.` once); the JSONL export plugin through
   the generic `native_trainer_adapter` in `native`: one dataset per epoch
   with the same groups.
5. The NeMo Customizer plugin (`_type: native_nemo_customizer_trainer_adapter`,
   NAT's NeMoCustomizerTrainerAdapterConfig fields) with the native trainer
   in `native`, against the NeMo Microservices server: two epochs of a
   recorded DPO collection complete, and the server holds NAT's dataset
   files; a job the service fails makes NAT report the failed epoch with
   NAT's RuntimeError text (`Training job ... failed: ...`).

NAT's own adapter checks inference health at port 8000 of the backend ip (a
fixed port), so the servers run with their inference port at 8000 inside a
private network namespace (`unshare -rn`, where 127.0.0.1:8000 is free);
without one, on the host's 127.0.0.1:8000 if it is free, else the test fails.

Exit 77 (skip) only when the environments of tools/setup-nat-native-venv.sh
or tools/setup-nat-venv.sh are missing. Runtime: ~3-4 min (2 cores).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import queue
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SKIP = 77
NETNS_ENV = "NAT_NATIVE_TESTS_NETNS"
NAT_MAIN = "import sys; from nat.cli.main import run_cli; sys.argv[0] = 'nat'; sys.exit(run_cli())"
NAT_ART = "openpipe_art_trainer_adapter"
NATIVE_ART = "native_openpipe_art_trainer_adapter"
ORDER_ERROR = "The first message in the trajectory must be from 'user' or 'system'."

_print_lock = threading.Lock()
failures: list[str] = []


def say(msg: str) -> None:
    with _print_lock:
        print(msg, flush=True)


def check(cond: bool, msg: str, detail: str = "") -> bool:
    if cond:
        say(f"ok: {msg}")
    else:
        failures.append(msg)
        say(f"FAIL: {msg}" + (f"\n{detail}" if detail else ""))
    return cond


# -- network namespace --------------------------------------------------------


def reexec_in_private_netns() -> None:
    """Re-executes this script in a new user+network namespace (its own loopback)."""
    if os.environ.get(NETNS_ENV):
        _loopback_up()
        return
    unshare = shutil.which("unshare")
    if not unshare or os.environ.get("NAT_NATIVE_TESTS_NO_NETNS"):
        return
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        say(f"note: no private network namespace ({probe.stderr.strip()}); using the host's loopback")
        return
    env = dict(os.environ, **{NETNS_ENV: "1"})
    sys.stdout.flush()
    os.execve(unshare, [unshare, "-rn", sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


def _loopback_up() -> None:
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, siocgifflags, struct.pack("16sH", b"lo", 0))
        flags = struct.unpack("16sH", ifr[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH", b"lo", flags | iff_up))


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- building and installing ----------------------------------------------------


def run(cmd, **kw) -> subprocess.CompletedProcess:
    say("+ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def site_packages(venv: Path) -> Path:
    out = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def layered_venv(path: Path, bases: list[Path]) -> Path:
    """A new venv seeing the packages of `bases` (a .pth file each)."""
    shutil.rmtree(path, ignore_errors=True)
    base_python = (bases[0] / "bin" / "python").resolve()
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(path)], check=True)
    sp = site_packages(path)
    for i, b in enumerate(bases):
        (sp / f"_{i}_base.pth").write_text(str(site_packages(b)) + "\n")
    return path


def build_env(args) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{args.wheel_build_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def build_wheel(args, wheel_dir: Path, build_dir: Path) -> Path:
    shutil.rmtree(wheel_dir, ignore_errors=True)
    wheel_dir.mkdir(parents=True)
    t0 = time.monotonic()
    r = run([args.wheel_build_venv / "bin" / "python", "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
             "--no-index", "-w", wheel_dir, f"-Cbuild-dir={build_dir}", "-Ccompile-args=-j2", args.source_root],
            env=build_env(args))
    if r.returncode != 0:
        raise RuntimeError(f"pip wheel failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    wheels = list(wheel_dir.glob("nat_trainer_adapter-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"pip wheel made {wheels}")
    say(f"built {wheels[0].name} in {time.monotonic() - t0:.1f} s")
    return wheels[0]


def check_wheel(args, wheel: Path, repaired_dir: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        eps = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ep_text = z.read(eps).decode()
    for so in ("libnat_trainer_adapter_openpipe_art.so", "libnat_trainer_adapter_jsonl_export.so",
               "libnat_trainer_adapter_nemo_customizer.so"):
        check(f"nat_trainer_adapter/plugins/{so}" in names, f"the wheel has nat_trainer_adapter/plugins/{so}")
    check("nat_trainer_adapter/nat/register.py" in names, "the wheel has the NAT components")
    check(re.search(r"\[nat\.components\]\s*\n\s*nat_trainer_adapter\s*=\s*nat_trainer_adapter\.nat\.register",
                    ep_text) is not None, "the wheel's entry point nat.components -> nat_trainer_adapter.nat.register",
          ep_text)
    check(not any(n.startswith(("include/", "bin/")) or n.endswith((".h", ".pc")) for n in names),
          "the wheel has no header, pkg-config file or host", "\n".join(names))
    aw = args.wheel_build_venv / "bin" / "auditwheel"
    r = run([aw, "show", wheel], env=build_env(args))
    m = re.search(r'consistent\s+with\s+the\s+following\s+platform\s+tag:\s+"(manylinux_\d+_\d+_x86_64)"', r.stdout)
    check(r.returncode == 0 and m is not None, "auditwheel show: a manylinux platform tag", r.stdout + r.stderr)
    shutil.rmtree(repaired_dir, ignore_errors=True)
    r = run([aw, "repair", "-w", repaired_dir, wheel], env=build_env(args))
    repaired = list(repaired_dir.glob("*.whl"))
    if r.returncode != 0 or len(repaired) != 1:
        raise RuntimeError(f"auditwheel repair failed:\n{r.stdout}\n{r.stderr}")
    check(re.search(r"-manylinux_\d+_\d+_x86_64\.whl$", repaired[0].name) is not None,
          f"auditwheel repair: {repaired[0].name}")
    with zipfile.ZipFile(repaired[0]) as z:
        check(not any(".libs/" in n for n in z.namelist()), "auditwheel grafted no library into the wheel")
    return repaired[0]


def pip_install(venv: Path, what: list, env: dict) -> None:
    r = run([venv / "bin" / "python", "-m", "pip", "install", "--no-index", "--no-deps"] + what, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"pip install {what} into {venv} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")


# -- the ART reference server -----------------------------------------------------


class Server:

    def __init__(self, python: Path, script: Path, dialect: str, data_dir: Path, inference_port: int):
        self.dialect = dialect
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        self.record = data_dir / "requests.jsonl"
        self._log = open(data_dir / "server.stderr", "wb")
        self.proc = subprocess.Popen([str(python), str(script), "--dialect", dialect, "--port", "0",
                                      "--inference-port", str(inference_port), "--data-dir", str(data_dir / "art"),
                                      "--record-file", str(self.record)],
                                     stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL)
        lines: "queue.Queue[bytes]" = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=180)
        except queue.Empty:
            line = b""
        if not line:
            self.stop()
            raise RuntimeError(f"the ART {dialect} server did not start; see {data_dir}/art/server.log")
        self.port = int(json.loads(line)["control_port"])
        self.seen = 0

    def new_requests(self) -> list[dict]:
        """The requests recorded since the last call."""
        lines = self.record.read_text().splitlines() if self.record.exists() else []
        out = [json.loads(l) for l in lines[self.seen:]]
        self.seen = len(lines)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# -- nat finetune -----------------------------------------------------------------


def nat_finetune(venv: Path, config: Path, cwd: Path, overrides: dict, timeout: float = 300) -> tuple[int, str]:
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir(parents=True)
    cmd = [str(venv / "bin" / "python"), "-c", NAT_MAIN, "finetune", "--config_file", str(config)]
    for k, v in overrides.items():
        cmd += ["-o", k, str(v)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NAT_TRAINER_ADAPTER", "PYTHON"))}
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", WANDB_MODE="disabled", WEAVE_DISABLED="true", NO_COLOR="1")
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout)
    log = p.stdout + p.stderr
    (cwd / "nat.log").write_text(log)
    say(f"nat finetune ({cwd.name}): exit {p.returncode} in {time.monotonic() - t0:.1f} s; log {cwd / 'nat.log'}")
    return p.returncode, log


def config_with_type(src: Path, dst: Path, adapter_type: str) -> Path:
    old_lines = src.read_text().splitlines(keepends=True)
    new_lines = [l.replace(f"_type: {NATIVE_ART}", f"_type: {adapter_type}") for l in old_lines]
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(changed) == 1, f"{src}: expected one `_type: {NATIVE_ART}` line, found {len(changed)}"
    dst.write_text("".join(new_lines))
    return dst


def drop_nulls(x):
    if isinstance(x, dict):
        return {k: drop_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [drop_nulls(v) for v in x]
    return x


def only_nulls_differ(a, b) -> bool:
    """a equals b once the keys whose value is null are dropped from both."""
    return drop_nulls(a) == drop_nulls(b)


def train_bodies(requests: list[dict]) -> list[dict]:
    return [r for r in requests if r["path"] == "/_train_model" and r.get("server", "control") == "control"]


def log_tail(log: str) -> str:
    return "\n".join(log.splitlines()[-40:])


# -- scenarios ----------------------------------------------------------------------


def make_collections(src: Path, out: Path) -> dict[str, Path]:
    base = json.loads(src.read_text())
    second = json.loads(src.read_text())
    second["trajectories"] = list(reversed(second["trajectories"]))
    for gi, group in enumerate(second["trajectories"]):
        for ti, t in enumerate(group):
            t["reward"] = round(0.5 * t["reward"] + 0.1 * ((gi + ti) % 3), 4)
    bad = json.loads(src.read_text())
    bad["trajectories"][0][1]["episode"] = [
        i for i in bad["trajectories"][0][1]["episode"] if i["role"] not in ("system", "user")]
    out.mkdir(parents=True, exist_ok=True)
    files = {"a": out / "epoch-a.json", "b": out / "epoch-b.json", "bad": out / "bad-order.json"}
    files["a"].write_text(json.dumps(base))
    files["b"].write_text(json.dumps(second))
    files["bad"].write_text(json.dumps(bad))
    return files


def check_training_run(name: str, rc: int, log: str, epochs: int, native: bool, venv: Path | None) -> None:
    ok = check(rc == 0 and "Finetuning completed successfully!" in log,
               f"{name}: nat finetune completes ({epochs} epochs)", log_tail(log))
    if not ok:
        return
    for e in range(1, epochs + 1):
        check(f"Completed epoch {e}/{epochs}" in log, f"{name}: epoch {e}/{epochs} completed")
    check(log.count("completed with status: completed") == epochs, f"{name}: {epochs} jobs with status completed",
          log_tail(log))
    if not native:
        return
    m = re.search(r"Initialized native trainer adapter openpipe_art_trainer_adapter \S+ \((\S+)\)", log)
    check(m is not None and venv is not None and m.group(1).startswith(str(site_packages(venv))),
          f"{name}: the plugin is the one installed in the environment", m.group(0) if m else log_tail(log))
    # Per-step progress from the plugin's events reaches NAT's log while the
    # epoch runs: every epoch's steps come before NAT logs the epoch complete.
    lines = log.splitlines()
    pos = 0
    for e in range(1, epochs + 1):
        end = next((i for i in range(pos, len(lines)) if f"Completed epoch {e}/{epochs}" in lines[i]), None)
        steps = [l for l in lines[pos:end] if re.search(r"Training \S+: step \d+/\d+ \(", l)]
        done = [l for l in lines[pos:end] if re.search(r"Training \S+ completed successfully\.", l)]
        check(end is not None and len(steps) > 0 and len(done) == 1,
              f"{name}: epoch {e}: {len(steps)} step progress lines and the job's end in NAT's log before the epoch ends")
        pos = (end or pos) + 1


def check_sent(name: str, sent: list[dict], expected: list[list], epochs_files: list[str]) -> None:
    check(len(sent) == len(epochs_files), f"{name}: {len(epochs_files)} /_train_model requests reached the server",
          f"got {len(sent)}")
    for i, (req, f) in enumerate(zip(sent, epochs_files)):
        check(req.get("completed") is True and not req.get("body_truncated") and req.get("status") == 200,
              f"{name}: epoch {i}: the /_train_model stream completed")
        groups = (req.get("body") or {}).get("trajectory_groups")
        want = expected[f]
        same = groups is not None and only_nulls_differ(groups, want)
        check(same, f"{name}: epoch {i}: trajectory_groups equal NAT's own for file {f}",
              json.dumps(groups)[:600] + "\nNAT:\n" + json.dumps(want)[:600])


def scenario_server(args, dialect: str, venvs: dict, files: dict, work: Path, inference_port: int,
                    with_validation: bool) -> None:
    py = args.art_python_04 if dialect == "0.4" else args.art_python_05
    server = Server(py, args.source_root / "tests" / "art_server" / "server.py", dialect, work / f"server-{dialect}",
                    inference_port)
    try:
        base = {"trainer_adapters.art.backend.port": server.port}
        art_cfg = args.source_root / "tests" / "nat" / "configs" / "art.yml"
        nat_cfg = config_with_type(art_cfg, work / f"art-nat-{dialect}.yml", NAT_ART)
        two = {**base, "trajectory_builders.recorded.paths": f"{files['a']},{files['b']}",
               "finetuning.num_epochs": 2}

        # The same config, native adapter first, then NAT's own: same server.
        d = work / f"{dialect}-full-native"
        rc, log = nat_finetune(venvs["full"], art_cfg, d, {**two, "finetuning.output_dir": d / "out"})
        check_training_run(f"{dialect} native adapter, NAT's trainer", rc, log, 2, True, venvs["full"])
        native_sent = train_bodies(server.new_requests())

        d = work / f"{dialect}-full-nat"
        rc, log = nat_finetune(venvs["full"], nat_cfg, d, {**two, "finetuning.output_dir": d / "out"})
        check_training_run(f"{dialect} NAT's own adapter (_type switched back)", rc, log, 2, False, None)
        nat_sent = train_bodies(server.new_requests())
        check(len(nat_sent) == 2, f"{dialect}: NAT's own adapter sent 2 /_train_model requests", str(len(nat_sent)))
        expected = {}
        for req, f in zip(nat_sent, ("a", "b")):
            expected[f] = (req.get("body") or {}).get("trajectory_groups")
        if len(expected) == 2 and all(expected.values()):
            check_sent(f"{dialect} native adapter vs NAT's own", native_sent, expected, ["a", "b"])
        venvs.setdefault("expected", {})[dialect] = expected

        # Native only: the native trainer, three epochs.
        d = work / f"{dialect}-native-only"
        only_cfg = args.source_root / "tests" / "nat" / "configs" / "native_only.yml"
        rc, log = nat_finetune(venvs["native"], only_cfg, d, {
            **base, "trajectory_builders.recorded.paths": f"{files['a']},{files['b']}", "finetuning.num_epochs": 3,
            "finetuning.output_dir": d / "out"})
        check_training_run(f"{dialect} native only (native trainer)", rc, log, 3, True, venvs["native"])
        if expected:
            check_sent(f"{dialect} native only", train_bodies(server.new_requests()), expected, ["a", "b", "a"])
        if with_validation:
            check_adapter(venvs["native"], server.port, files, work)
            server.new_requests()
        metrics = d / "out" / "training_metrics.jsonl"
        check(metrics.is_file() and len(metrics.read_text().splitlines()) == 3,
              f"{dialect} native only: the native trainer wrote training_metrics.jsonl for 3 epochs")

        if with_validation:
            # The bundled example (tools/quickstart.sh --nat) as it is, only
            # the port, the recorded file and the output directory moved.
            d = work / f"{dialect}-example"
            rc, log = nat_finetune(venvs["native"], args.source_root / "examples" / "nat" / "config.yml", d, {
                **base, "trajectory_builders.recorded.paths": args.source_root / "examples" / "quickstart" /
                "trajectories.json", "finetuning.output_dir": d / "out"}, timeout=60)
            check_training_run(f"{dialect} examples/nat/config.yml", rc, log, 2, True, venvs["native"])
            metrics = d / "out" / "training_metrics.jsonl"
            check(metrics.is_file() and len(metrics.read_text().splitlines()) == 2,
                  f"{dialect} examples/nat/config.yml: training_metrics.jsonl for 2 epochs")
            sent = train_bodies(server.new_requests())
            check(len(sent) == 2 and all((r.get("body") or {}).get("config", {}).get("learning_rate") == 1e-5
                                         for r in sent),
                  f"{dialect} examples/nat/config.yml: 2 /_train_model requests with learning_rate 1e-5",
                  json.dumps([(r.get("body") or {}).get("config") for r in sent])[:2000])

        if with_validation:
            # A collection NAT's adapter refuses (episode order): both adapters
            # make NAT report the same failed epoch and send nothing.
            bad = {**base, "trajectory_builders.recorded.paths": str(files["bad"]), "finetuning.num_epochs": 1}
            for label, cfg in (("native", art_cfg), ("nat", nat_cfg)):
                d = work / f"{dialect}-invalid-{label}"
                rc, log = nat_finetune(venvs["full"], cfg, d, {**bad, "finetuning.output_dir": d / "out"})
                check(rc == 0 and re.search(r"Error during epoch 0: (\S+: )?" + re.escape(ORDER_ERROR), log)
                      and "Finetuning completed with 1 failed job(s) out of 1 total." in log,
                      f"{dialect} invalid collection, {label} adapter: NAT reports the failed epoch with NAT's message",
                      log_tail(log))
                check(not train_bodies(server.new_requests()), f"{dialect} invalid collection, {label}: nothing sent")
    finally:
        server.stop()


def scenario_offline(args, venvs: dict, files: dict, work: Path, expected_ready: threading.Event) -> None:
    art_cfg = args.source_root / "tests" / "nat" / "configs" / "art.yml"
    nat_cfg = config_with_type(art_cfg, work / "art-nat-offline.yml", NAT_ART)
    port = closed_port()
    over = {"trainer_adapters.art.backend.port": port, "trajectory_builders.recorded.paths": str(files["a"])}
    for label, cfg in (("native", art_cfg), ("nat", nat_cfg)):
        d = work / f"unreachable-{label}"
        rc, log = nat_finetune(venvs["full"], cfg, d, {**over, "finetuning.output_dir": d / "out"})
        failed = re.search(r"Finetuning failed: (.*)", log)
        check(rc == 1 and failed is not None and "Error: " in log,
              f"unreachable backend, {label} adapter: nat finetune fails as for NAT's adapter (exit 1, "
              f"'Finetuning failed: ...')", log_tail(log))
        if label == "native" and failed:
            msg = failed.group(1)
            check(msg.startswith("Failed to connect to ART backend. ") and msg.count("Failed to connect to ART backend.") == 1,
                  "unreachable backend, native: ConnectionError 'Failed to connect to ART backend.' once", msg)

    # The JSONL export plugin through the generic native_trainer_adapter,
    # and under its own name.
    only_cfg = args.source_root / "tests" / "nat" / "configs" / "native_only.yml"
    for name, key in (("export", "trainer_adapters.export.config.output_dir"),
                      ("export_named", "trainer_adapters.export_named.output_dir")):
        d = work / name
        out_dir = d / "datasets"
        rc, log = nat_finetune(venvs["native"], only_cfg, d, {
            "finetuning.trainer_adapter": name, key: out_dir,
            "trajectory_builders.recorded.paths": f"{files['a']},{files['b']}", "finetuning.num_epochs": 2,
            "finetuning.output_dir": d / "out"})
        ok = check(rc == 0 and "Finetuning completed successfully!" in log,
                   f"JSONL export ({name}) through nat finetune completes", log_tail(log))
        datasets = sorted(out_dir.glob("*.jsonl"), key=lambda p: int(p.name.split(".")[-2])) if out_dir.is_dir() else []
        if ok and check(len(datasets) == 2, f"JSONL export ({name}): one dataset per epoch", str(datasets)):
            expected_ready.wait(timeout=600)
            expected = venvs.get("expected", {}).get("0.4") or venvs.get("expected", {}).get("0.5")
            for ds, f in zip(datasets, ("a", "b")):
                groups = [json.loads(l) for l in ds.read_text().splitlines()]
                check(expected is not None and only_nulls_differ(groups, expected[f]),
                      f"JSONL export ({name}): {ds.name} holds NAT's groups for file {f}")


CUSTOMIZER_CONFIG = """\
workflow:
  _type: current_datetime
trainer_adapters:
  customizer:
    _type: native_nemo_customizer_trainer_adapter
    entity_host: {url}
    datastore_host: {url}/
    hf_token: nat-tests-token
    namespace: nat-tests
    customization_config: meta/llama-3.2-1b-instruct@v1.0.0+A100
    hyperparameters: {{epochs: 1, learning_rate: 1e-5}}
    poll_interval_seconds: 0.05
    native: {{spool_dir: {spool}}}
trajectory_builders:
  recorded:
    _type: recorded_trajectory_builder
    paths: [{collection}]
trainers:
  native_trainer:
    _type: native_trainer
    backend: nemo-customizer
finetuning:
  enabled: true
  trainer: native_trainer
  trajectory_builder: recorded
  trainer_adapter: customizer
  reward_function:
    name: reward
  num_epochs: {epochs}
  output_dir: {out}
"""


def scenario_customizer(args, venvs: dict, work: Path) -> None:
    data = args.source_root / "tests" / "integration" / "customizer_data"
    proc = subprocess.Popen([str(args.nemo_server_python), str(args.nemo_server_script), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline()
        if not check(bool(line), "NeMo Microservices server started"):
            return
        url = f"http://127.0.0.1:{json.loads(line)['port']}"

        def control(path: str, body=None):
            req = urllib.request.Request(url + path, method="GET" if body is None else "POST",
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")

        for name, epochs, faults in (("customizer", 2, {}),
                                     ("customizer-failed", 1, {"job_statuses": [["running", 10, 0], ["failed", 10, 0]]})):
            control("/_test/reset", {})
            if faults:
                control("/_test/faults", faults)
            d = work / name
            d.mkdir(parents=True, exist_ok=True)
            cfg = d.parent / f"{name}.yml"
            cfg.write_text(CUSTOMIZER_CONFIG.format(url=url, spool=d.parent / f"{name}-spool", epochs=epochs,
                                                    collection=data / "dpo_collection.json", out=d / "out"))
            rc, log = nat_finetune(venvs["native"], cfg, d, {}, timeout=120)
            state = control("/_test/state")
            jobs = [r for r in state["requests"] if r["method"] == "POST" and r["path"] == "/v1/customization/jobs"]
            if not faults:
                check(rc == 0 and "Finetuning completed successfully!" in log and log.count("Completed epoch") == 2,
                      "NeMo Customizer through nat finetune: 2 epochs complete", log_tail(log))
                check(len(jobs) == 2, "NeMo Customizer through nat finetune: 2 customization jobs created", str(len(jobs)))
                files = {k.split("/", 2)[2]: v for k, v in state["files"].items()}
                check(files.get("training/training_file.jsonl") ==
                      (data / "expected_training_last.jsonl").read_text(encoding="utf-8") and
                      files.get("validation/validation_file.jsonl") ==
                      (data / "expected_validation_last.jsonl").read_text(encoding="utf-8"),
                      "NeMo Customizer through nat finetune: the uploaded dataset files are NAT's", str(files)[:2000])
            else:
                check(rc == 0 and re.search(r"Error during epoch 0: Training job \S+ failed: ", log) is not None,
                      "NeMo Customizer through nat finetune, failed job: NAT reports the failed epoch with NAT's "
                      "RuntimeError text", log_tail(log))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


SERIALISATION_CHECK = r"""
import json, math, sys
from nat.data_models.finetuning import TrajectoryCollection, Trajectory, EpisodeItem, DPOItem
from nat_trainer_adapter.nat.adapter import _collection_json
cases = [TrajectoryCollection.model_validate_json(open(p, "rb").read()) for p in sys.argv[1:]]
odd = TrajectoryCollection(run_id="r\u00e9", trajectories=[[
    Trajectory(episode=[EpisodeItem(role="user", content="\u6f22\"\\\n", metadata={"k": [1, None, 2.5]}),
                        EpisodeItem(role="assistant", content="a", logprobs={"content": [{"logprob": float("nan")}]})],
               reward=float("inf"), shaped_rewards=[0.5, -1e300]),
    Trajectory(episode=[DPOItem(prompt="p", chosen_response="c", rejected_response="r")], reward=-0.0)], []])
class Sub(TrajectoryCollection):
    extra_field: int = 3
cases += [odd, Sub(run_id="s", trajectories=odd.trajectories)]
# Doubles of every magnitude and bit pattern, in logprobs (the bulk of real collections).
import random, struct, datetime, decimal, uuid, enum
rng = random.Random(5)
doubles = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(20000)]
doubles += [10 ** rng.uniform(-320, 308) for _ in range(5000)] + [rng.uniform(-30, 0) for _ in range(5000)]
doubles += [5e-324, 1.7976931348623157e308, 1e16, 1e15, 1e-7, 1e-5, 0.1, 1 / 3, -0.0, 2.0 ** 63, 9007199254740993.0]
tokens = [{"token": chr(32 + i % 95) + "\u2028\x7f\x01", "logprob": d, "bytes": [i % 256], "top_logprobs": []}
          for i, d in enumerate(doubles)]
floats = TrajectoryCollection(run_id="f", trajectories=[[Trajectory(episode=[EpisodeItem(
    role="assistant", content="x", logprobs={"content": tokens})], reward=doubles[7], shaped_rewards=doubles[:50])]])
cases.append(floats)
# Values orjson would refuse or write otherwise than the model: the whole collection then takes the fallback.
class Colour(enum.Enum):
    RED = "red"
class Name(str):
    pass
odd_values = [2 ** 70, -2 ** 65, b"bytes", {1, 2}, datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
              datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc), datetime.date(2024, 1, 2), decimal.Decimal("1.5"), uuid.UUID(int=5), Colour.RED, Name("n"), (1, 2.5),
              {"nested": [datetime.timedelta(seconds=3)]}, EpisodeItem(role="user", content="model in metadata")]
for i, v in enumerate(odd_values):
    try:
        c = TrajectoryCollection(run_id=f"o{i}", trajectories=[[Trajectory(episode=[EpisodeItem(
            role="user", content="c", metadata={"v": v})], reward=1.0)]])
        c.model_dump_json()
    except Exception:
        continue  # not a collection NAT can hold or write
    cases.append(c)
bad = [i for i, c in enumerate(cases) if _collection_json(c) != c.model_dump_json().encode()]
print("differ:", bad)
# The fast writer is the one used for plain collections (the recorded files and the doubles).
import nat_trainer_adapter.nat.adapter as a
assert a.orjson is not None, "orjson is not importable"
def refuse(*args, **kwargs):
    raise AssertionError("pydantic-core was used for a plain collection")
saved, a.pydantic_core.to_json = a.pydantic_core.to_json, refuse
try:
    for c in cases[:2] + [floats]:
        _collection_json(c)
finally:
    a.pydantic_core.to_json = saved
print(len(cases), "cases")
sys.exit(1 if bad else 0)
"""


ADAPTER_CHECK = r"""
import asyncio, json, sys, time, urllib.request
from nat.data_models.finetuning import (FinetuneConfig, TrainingJobRef, TrainingJobStatus, TrainingStatusEnum,
                                        TrajectoryCollection)
from nat_trainer_adapter.nat.adapter import NativeTrainerAdapter
from nat_trainer_adapter.nat.config import NativeARTTrainerAdapterConfig
port, path, spool = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def faults(f):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_test/faults", data=json.dumps(f).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()

def expect(exc, text, fn):
    try:
        fn()
    except exc as e:
        assert text in str(e), f"{type(e).__name__}: {e}"
        return
    raise AssertionError(f"no {exc.__name__} ({text})")

async def raises(exc, text, coro):
    try:
        await coro
    except exc as e:
        assert text in str(e) and str(e).count(text) == 1, f"{type(e).__name__}: {e}"
        return
    raise AssertionError(f"no {exc.__name__} ({text})")

async def main():
    cfg = NativeARTTrainerAdapterConfig.model_validate({"_type": "native_openpipe_art_trainer_adapter",
        "backend": {"ip": "127.0.0.1", "port": port, "name": "checks", "project": "tests"},
        "training": {"learning_rate": "1e-5"}, "native": {"spool_dir": spool}})
    a = NativeTrainerAdapter(cfg, cfg.plugin_config())
    await a.initialize(FinetuneConfig(num_epochs=2))
    assert a.run_config is not None and a.run_config.num_epochs == 2, "base initialize sets run_config"
    assert await a.is_healthy() is True
    await raises(ValueError, "No training job found with run_id nope.",
                 a.status(TrainingJobRef(run_id="nope", backend="openpipe-art")))
    await raises(ValueError, "No training job found with run_id nope.",
                 a.wait_until_complete(TrainingJobRef(run_id="nope", backend="openpipe-art")))
    coll = TrajectoryCollection.model_validate_json(open(path, "rb").read())
    coll.run_id = "dup"
    faults({"train": {"step_delay": 0.25}})
    ref = await a.submit(coll)
    assert type(ref) is TrainingJobRef, type(ref)
    await raises(AssertionError, "Training job with run_id dup already exists.", a.submit(coll))
    # The event loop keeps running while the native wait blocks in its thread.
    ticks = 0
    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1
    t = asyncio.create_task(ticker())
    st = await a.wait_until_complete(ref, poll_interval=10.0)
    t.cancel()
    assert type(st) is TrainingJobStatus and st.status == TrainingStatusEnum.COMPLETED, st
    assert ticks >= 50, f"the event loop ran {ticks} ticks while waiting ~3 s"
    assert st.model_dump()["status"] == TrainingStatusEnum.COMPLETED
    job = a.training_jobs["dup"]
    assert job.done() and job.cancel() is False
    # A running job: training_jobs[...].cancel() as NAT's trainer cleanup does it.
    faults({"train": {"step_delay": 1.0}})
    ref2 = await a.submit(coll)
    job = a.training_jobs["dup"]
    assert not job.done() and job.cancel() is True
    st = await a.wait_until_complete(ref2, poll_interval=10.0)
    assert st.status == TrainingStatusEnum.CANCELED, st
    faults({})
    bad = coll.model_copy(deep=True)
    bad.trajectories[0][0].episode = bad.trajectories[0][0].episode[2:]
    await raises(ValueError, "The first message in the trajectory must be from 'user' or 'system'.", a.submit(bad))
    a.close()
    await raises(Exception, "closed", a.status(ref))
    print("adapter checks passed")

asyncio.run(main())
"""


def check_adapter(venv: Path, port: int, files: dict, work: Path) -> None:
    r = run([venv / "bin" / "python", "-c", ADAPTER_CHECK, port, files["a"], work / "adapter-check-spool"])
    check(r.returncode == 0 and "adapter checks passed" in r.stdout,
          "NativeTrainerAdapter directly: NAT's errors (unknown run, duplicate run_id, validation), NAT's pydantic "
          "types, training_jobs done()/cancel(), the event loop runs while wait_until_complete waits",
          r.stdout[-2000:] + r.stderr[-3000:])


def check_serialisation(venv: Path, files: dict) -> None:
    r = run([venv / "bin" / "python", "-c", SERIALISATION_CHECK] + [files[k] for k in ("a", "b", "bad")])
    check(r.returncode == 0, "the adapter's collection JSON is byte for byte NAT's model_dump_json "
          "(recorded files, unicode, NaN/inf, DPO items, a subclass, 30k doubles; values orjson refuses take pydantic-core)", r.stdout + r.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-root", type=Path, required=True)
    ap.add_argument("--work-dir", type=Path, required=True)
    ap.add_argument("--art-python-04", type=Path, required=True)
    ap.add_argument("--art-python-05", type=Path, required=True)
    ap.add_argument("--nat-venv", type=Path, required=True)
    ap.add_argument("--nat-core-venv", type=Path, required=True)
    ap.add_argument("--wheel-build-venv", type=Path, required=True)
    ap.add_argument("--nemo-server-python", type=Path, required=True)
    ap.add_argument("--nemo-server-script", type=Path, required=True)
    args = ap.parse_args()
    for a in ("source_root", "work_dir", "art_python_04", "art_python_05", "nat_venv", "nat_core_venv",
              "wheel_build_venv", "nemo_server_script"):
        setattr(args, a, getattr(args, a).absolute())

    missing = [str(p) for p in (args.nat_venv / "bin" / "python", args.nat_core_venv / "bin" / "python",
                                args.wheel_build_venv / "bin" / "python", args.art_python_04, args.art_python_05)
               if not p.exists()]
    if missing:
        for why in (args.source_root / ".venv" / "nat-native-unavailable.txt",
                    args.source_root / ".venv" / "nat-unavailable.txt"):
            if why.is_file():
                say(f"{why.name}: {why.read_text().strip()}")
        say("SKIP: missing (tools/setup-nat-native-venv.sh, tools/setup-nat-venv.sh, tools/setup-venvs.sh): " +
            ", ".join(missing))
        return SKIP

    reexec_in_private_netns()
    in_netns = bool(os.environ.get(NETNS_ENV))
    if not in_netns and not port_free(8000):
        say("FAIL: NAT's own adapter needs the inference server at 127.0.0.1:8000, which is taken, and no private "
            "network namespace is available (unshare -rn)")
        return 1

    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        wheel = build_wheel(args, work / "wheel", work / "wheel-build")
        repaired = check_wheel(args, wheel, work / "wheelhouse")
        env = build_env(args)
        venvs = {
            "native": layered_venv(work / "venv-native", [args.nat_core_venv]),
            "full": layered_venv(work / "venv-full", [args.nat_venv, args.wheel_build_venv]),
        }
        pip_install(venvs["native"], [repaired], env)
        # From the source tree (the build directory of the wheel is reused).
        pip_install(venvs["full"], ["--no-build-isolation", f"-Cbuild-dir={work / 'wheel-build'}", args.source_root],
                    env)
        r = run([venvs["native"] / "bin" / "python", "-c", "import art"])
        check(r.returncode != 0 and "No module named 'art'" in r.stderr,
              "the native environment has no openpipe-art (import art fails)")
        say(f"wheel and environments ready in {time.monotonic() - t0:.1f} s")
    except Exception as e:
        say(f"FAIL: {e}")
        return 1

    files = make_collections(args.source_root / "examples" / "quickstart" / "trajectories.json", work / "collections")
    check_serialisation(venvs["native"], files)
    expected_ready = threading.Event()

    def servers():
        try:
            for dialect in ("0.4", "0.5"):
                scenario_server(args, dialect, venvs, files, work, 8000, with_validation=(dialect == "0.4"))
                expected_ready.set()
        finally:
            expected_ready.set()

    with ThreadPoolExecutor(2) as pool:
        def offline_then_customizer():
            scenario_offline(args, venvs, files, work, expected_ready)
            scenario_customizer(args, venvs, work)

        futures = [pool.submit(servers), pool.submit(offline_then_customizer)]
        for f in futures:
            try:
                f.result()
            except Exception:
                failures.append("scenario raised")
                say("FAIL: scenario raised:\n" + traceback.format_exc())

    say(f"total {time.monotonic() - t0:.1f} s; {len(failures)} failure(s)")
    for f in failures:
        say(f"  FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
