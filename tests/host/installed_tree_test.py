#!/usr/bin/env python3
"""An adapter written against the installed header alone, run by the installed nat-trainer.

1. `meson install --destdir STAGE` of the configured build tree.
2. Compile examples/minimal_adapter/minimal_adapter.c as C99 outside the
   meson project: once with -I<staged includedir>, once with the flags of
   the staged nat-trainer-adapter.pc (PKG_CONFIG_SYSROOT_DIR=STAGE).
3. Run the staged nat-trainer with --plugin-dir pointing at the new plugin:
   list, info, run --wait.

Why DESTDIR plus --plugin-dir: the installed plugin directory is compiled
into nat-trainer as <prefix>/<libdir>/nat-trainer-adapter/plugins. A DESTDIR
copy still points there, not into STAGE, and a second `meson setup
--prefix=<tmp>` build of the whole project would double the CI build time.
So this test checks the compiled-in directory by name (list --json shows it
as "installed") and reaches the staged plugins through --plugin-dir, which
is exactly how a user runs a plugin that is not installed. It also checks
that the staged binary, being outside the build root, does not search the
build tree.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile


def run(command, env=None, cwd=None):
    print("$", " ".join(shlex.quote(str(c)) for c in command), flush=True)
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env, cwd=cwd)
    if result.stdout:
        print(result.stdout, end="")
    if result.stderr:
        print(result.stderr, end="", file=sys.stderr)
    return result


def require(condition, message):
    if not condition:
        print("FAIL: " + message, file=sys.stderr)
        sys.exit(1)


def staged(stage, prefix, *parts):
    # <stage>/<prefix>/<parts>; parts may themselves be absolute (a libdir outside the prefix).
    path = os.path.join(prefix, *parts)
    return os.path.join(stage, os.path.relpath(path, "/"))


def main():
    parser = argparse.ArgumentParser()
    for option in ["build-root", "prefix", "bindir", "libdir", "includedir", "plugin-install-dir", "example", "cc"]:
        parser.add_argument("--" + option, required=True)
    parser.add_argument("--meson", default=os.environ.get("MESON", "meson"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="nat-installed-test-")
    try:
        stage = os.path.join(work, "stage")
        result = run([args.meson, "install", "-C", args.build_root, "--no-rebuild", "--quiet", "--destdir", stage])
        require(result.returncode == 0, "meson install --destdir failed")

        nat_trainer = staged(stage, args.prefix, args.bindir, "nat-trainer")
        include_dir = staged(stage, args.prefix, args.includedir)
        pc_dir = staged(stage, args.prefix, args.libdir, "pkgconfig")
        installed_plugin_dir = os.path.join(args.prefix, args.plugin_install_dir)
        require(os.access(nat_trainer, os.X_OK), "nat-trainer is not installed at " + nat_trainer)
        require(os.path.isfile(os.path.join(include_dir, "nat", "trainer_adapter.h")), "header not installed")
        require(os.path.isfile(os.path.join(pc_dir, "nat-trainer-adapter.pc")), "nat-trainer-adapter.pc not installed")

        cc = shlex.split(args.cc)
        c_flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC"]

        # The example, outside the project, with the installed header only.
        direct_dir = os.path.join(work, "direct")
        os.makedirs(direct_dir)
        direct = os.path.join(direct_dir, "libnat_trainer_adapter_minimal.so")
        result = run(cc + c_flags + ["-I" + include_dir, args.example, "-o", direct, "-pthread"], cwd=work)
        require(result.returncode == 0, "the example does not compile against the installed header")

        # The same through pkg-config.
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir, PKG_CONFIG_SYSROOT_DIR=stage)
        cflags = run(["pkg-config", "--cflags", "nat-trainer-adapter"], env=env)
        require(cflags.returncode == 0, "pkg-config does not know nat-trainer-adapter")
        require("-I" + include_dir in cflags.stdout, "pkg-config --cflags does not point at the installed header")
        plugindir = run(["pkg-config", "--variable=plugindir", "nat-trainer-adapter"],
                        env=dict(os.environ, PKG_CONFIG_PATH=pc_dir)).stdout.strip()
        require(os.path.normpath(plugindir) == os.path.normpath(installed_plugin_dir),
                "plugindir %r is not the plugin directory the host searches (%r)" % (plugindir, installed_plugin_dir))
        pkg_dir = os.path.join(work, "pkg")
        os.makedirs(pkg_dir)
        result = run(cc + c_flags + shlex.split(cflags.stdout) +
                     [args.example, "-o", os.path.join(pkg_dir, "libminimal.so"), "-pthread"], cwd=work)
        require(result.returncode == 0, "the example does not compile with pkg-config's flags")

        # The staged host finds and runs it.
        host_env = {k: v for k, v in os.environ.items() if k != "NAT_TRAINER_ADAPTER_PATH"}
        result = run([nat_trainer, "--plugin-dir", direct_dir, "--plugin-dir", pkg_dir, "list", "--json"],
                     env=host_env)
        require(result.returncode == 0, "list failed")
        listed = json.loads(result.stdout)
        require([p["name"] for p in listed["plugins"]][:1] == ["minimal_trainer_adapter"], "plugin not found")
        require([s["path"] for s in listed["shadowed"]] == [os.path.join(pkg_dir, "libminimal.so")],
                "the pkg-config build should be shadowed by the first one")
        origins = {d["origin"]: d["path"] for d in listed["search_path"]}
        require(os.path.normpath(origins.get("installed", "")) == os.path.normpath(installed_plugin_dir),
                "the compiled-in installed plugin directory is %r" % origins.get("installed"))
        require("build tree" not in origins, "an installed nat-trainer must not search the build tree")

        result = run([nat_trainer, "--plugin-dir", direct_dir, "info", "minimal_trainer_adapter"], env=host_env)
        require(result.returncode == 0 and json.loads(result.stdout)["backend"] == "minimal", "info failed")

        config = os.path.join(work, "config.yml")
        with open(config, "w") as f:
            f.write("trainer_adapters:\n  mini:\n    _type: minimal_trainer_adapter\nfinetuning:\n  num_epochs: 1\n")
        trajectories = os.path.join(os.environ["NAT_HOST_TEST_DATA_DIR"], "trajectories.json")
        result = run([nat_trainer, "--plugin-dir", direct_dir, "run", "--config", config,
                      "--trajectories", trajectories, "--wait"], env=host_env)
        require(result.returncode == 0, "run --wait did not complete")
        final = json.loads(result.stdout.splitlines()[-1])
        require(final["status"] == "completed", "final status is %r" % final.get("status"))

        # The plugins the project installs load from their installed copy.
        staged_plugins = staged(stage, args.prefix, args.plugin_install_dir)
        if os.path.isdir(staged_plugins):
            result = run([nat_trainer, "--plugin-dir", staged_plugins, "list", "--json"], env=host_env)
            require(result.returncode == 0, "list of the installed plugins failed")
            refused = [r for r in json.loads(result.stdout)["refused"]
                       if os.path.dirname(r["path"]) == staged_plugins]
            require(not refused, "installed plugins refused: %r" % refused)
        print("OK")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
