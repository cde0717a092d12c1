#!/usr/bin/env python3
"""Runs one binding's test suite for meson (tests binding-python,
binding-rust, binding-go).

    run_binding_test.py python|rust|go --build-dir DIR

Inputs come from the environment (set by bindings/meson.build):
NAT_TRAINER_ADAPTER_PLUGIN (the openpipe-art plugin), ART_SERVER_PYTHON (the
ART 0.4 venv interpreter) and ART_SERVER_SCRIPT (tests/art_server/server.py).
The suites start the reference server themselves. Exit code 77 (a meson
skip) only when the language's toolchain is missing; everything else that
goes wrong is a failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

HERE = Path(__file__).resolve().parent
SKIP = 77


def skip(msg: str) -> int:
    print(f"SKIP: {msg}", flush=True)
    return SKIP


def run(cmd: List[str], cwd: Path, env: dict) -> int:
    print("+", " ".join(cmd), f"(in {cwd})", flush=True)
    return subprocess.call(cmd, cwd=str(cwd), env=env)


def check_inputs(env: dict) -> Optional[str]:
    for var in ("NAT_TRAINER_ADAPTER_PLUGIN", "ART_SERVER_PYTHON", "ART_SERVER_SCRIPT"):
        v = env.get(var)
        print(f"{var}={v}", flush=True)
        if v and not os.path.exists(v):
            return f"{var}={v} does not exist"
    return None


def find_tool(env_var: str, name: str, extra: List[str]) -> Optional[str]:
    cand = [os.environ.get(env_var), shutil.which(name)] + extra
    for c in cand:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def test_python(build_dir: Path, env: dict) -> int:
    try:
        import pytest  # noqa: F401
    except ImportError:
        return skip(f"pytest is not installed for {sys.executable} (pip install pytest)")
    pkg = HERE / "python"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pkg / "src"), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    rc = run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "--rootdir", str(pkg),
              "-c", str(pkg / "pytest.ini"), str(pkg / "tests")], cwd=build_dir, env=env)
    return 1 if rc == 5 else rc  # 5: no tests collected


def test_rust(build_dir: Path, env: dict) -> int:
    cargo = find_tool("CARGO", "cargo", [str(Path.home() / ".cargo" / "bin" / "cargo")])
    if not cargo:
        return skip("cargo (Rust) is not installed")
    if subprocess.call([cargo, "--version"], env=env) != 0:
        return skip("cargo is installed but has no working toolchain (rustup default stable)")
    env["CARGO_TARGET_DIR"] = str(build_dir / "cargo-target")
    env.setdefault("CARGO_TERM_COLOR", "never")
    plugin = env.get("NAT_TRAINER_ADAPTER_PLUGIN")
    if plugin:
        lib_dir = str(Path(plugin).resolve().parent)
        env["NAT_TRAINER_ADAPTER_LIB_DIR"] = lib_dir
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [lib_dir, env.get("LD_LIBRARY_PATH")]))
    ws = HERE / "rust"
    # Run-time loading (libloading): every test of the workspace.
    rc = run([cargo, "test", "--workspace", "--locked"], cwd=ws, env=env)
    if rc != 0:
        return rc
    # Link-time binding (feature `link`): the cycle again through the linked plugin.
    if plugin:
        rc = run([cargo, "test", "--locked", "-p", "nat-trainer-adapter", "--features", "link",
                  "--test", "art_cycle"], cwd=ws, env=env)
    return rc


def test_go(build_dir: Path, env: dict) -> int:
    go = find_tool("GO", "go", ["/usr/local/go/bin/go", "/usr/lib/go/bin/go"])
    if not go:
        return skip("the Go toolchain is not installed")
    out = subprocess.run([go, "version"], env=env, capture_output=True, text=True)
    m = re.search(r"go(\d+)\.(\d+)", out.stdout)
    if not m or (int(m.group(1)), int(m.group(2))) < (1, 23):
        return skip(f"Go >= 1.23 is needed, found: {out.stdout.strip() or out.stderr.strip()}")
    if not (env.get("CC") or shutil.which("cc") or shutil.which("gcc")):
        return skip("cgo needs a C compiler (cc/gcc)")
    env["CGO_ENABLED"] = "1"
    env["GOFLAGS"] = "-mod=mod"
    env["GOTOOLCHAIN"] = "local"
    env.setdefault("GOCACHE", str(build_dir / "go-cache"))
    env.setdefault("GOPATH", str(build_dir / "go-path"))
    return run([go, "test", "-count=1", "-v", "./..."], cwd=HERE / "go", env=env)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lang", choices=["python", "rust", "go"])
    ap.add_argument("--build-dir", type=Path, default=Path.cwd())
    args = ap.parse_args()
    env = dict(os.environ)
    problem = check_inputs(env)
    if problem:
        print(f"FAIL: {problem}", flush=True)
        return 1
    build_dir = args.build_dir.resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    return {"python": test_python, "rust": test_rust, "go": test_go}[args.lang](build_dir, env)


if __name__ == "__main__":
    sys.exit(main())
