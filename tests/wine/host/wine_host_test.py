#!/usr/bin/env python3
"""nat-trainer.exe under Wine, as a Windows user runs it.

- Discovery: an installed tree (bin\\nat-trainer.exe finds
  lib\\nat-trainer-adapter\\plugins), the plugins folder beside the .exe,
  %NAT_TRAINER_ADAPTER_PATH% as a ';' list, plugin names and the .dll suffix
  in any case, a plugin file or folder that Everyone may write refused, the
  libcurl DLLs beside the plugins passed over (not plugins, not loaded).
- info and convert print exactly what the Linux build's nat-trainer prints
  for the same plugin and input (skipped without a Linux build:
  $NAT_LINUX_BUILD_DIR, default <source>/build).
- run --wait against the reference ART server (run natively), dialects 0.4
  and 0.5, through the Windows libcurl: the job completes; without libcurl
  beside the plugin the error names the DLLs looked for.
- A NeMo Customizer cycle through nat-trainer.exe against the reference
  NeMo Microservices server (run natively): the uploaded dataset is NAT's,
  byte for byte; a job the service fails exits 1 with its status.
- The plain-C example adapter (examples/minimal_adapter) compiled for
  Windows with the public header alone is found and runs a job.

About 30 s once Wine's prefix exists.
"""
import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--exe", required=True)
parser.add_argument("--plugins", nargs="+", required=True)
parser.add_argument("--libcurl", required=True)
parser.add_argument("--cc", required=True)
parser.add_argument("--art-python-04", required=True)
parser.add_argument("--art-python-05", required=True)
parser.add_argument("--art-server", required=True)
parser.add_argument("--nemo-python", required=True)
parser.add_argument("--nemo-server", required=True)
parser.add_argument("--source-root", required=True)
ARGS, _ = parser.parse_known_args()
WINE = os.environ.get("MESON_EXE_WRAPPER", "wine")
ROOT = ARGS.source_root
LINUX_BUILD = os.environ.get("NAT_LINUX_BUILD_DIR", os.path.join(ROOT, "build"))
LINUX_NAT_TRAINER = os.path.join(LINUX_BUILD, "host", "nat-trainer")
QUICKSTART = os.path.join(ROOT, "examples", "quickstart")
TRAJECTORIES = os.path.join(QUICKSTART, "trajectories.json")
ART_PLUGIN = next(p for p in ARGS.plugins if "openpipe_art" in p)
EXPORT_PLUGIN = next(p for p in ARGS.plugins if "jsonl_export" in p)
CUSTOMIZER_DATA = os.path.join(ROOT, "tests", "integration", "customizer_data")
NEMO_CONFIG = """\
trainer_adapters:
  nemo:
    _type: nemo_customizer_trainer_adapter
    entity_host: {url}
    datastore_host: {url}/
    hf_token: wine-token-0042
    namespace: wine-ns
    customization_config: meta/llama-3.2-1b-instruct@v1.0.0+A100
    hyperparameters: {{epochs: 1, learning_rate: 1e-5}}
    poll_interval_seconds: 0.05
finetuning:
  trainer_adapter: nemo
  num_epochs: 1
"""
NAMES = {"openpipe_art_trainer_adapter", "nemo_customizer_trainer_adapter", "jsonl_export_trainer_adapter"}


def windows_path(path):
    """The Wine path of a Linux path (drive Z: is /)."""
    return "Z:" + os.path.abspath(path).replace("/", "\\")


def nat_trainer(exe, *args, env=None, cwd=None, timeout=120):
    full_env = dict(os.environ, WINEDEBUG="-all", WINEPATH="")
    full_env.pop("NAT_TRAINER_ADAPTER_PATH", None)
    full_env.update(env or {})
    return subprocess.run([WINE, exe, *args], env=full_env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def copy_libcurl(folder):
    """libcurl-x64.dll and the DLLs it imports."""
    source = os.path.dirname(ARGS.libcurl)
    for name in os.listdir(source):
        if name.lower().endswith(".dll"):
            shutil.copy(os.path.join(source, name), folder)


def plugin_folder(parent, name="plugins", plugins=None, libcurl=True):
    folder = os.path.join(parent, name)
    os.makedirs(folder, exist_ok=True)
    for plugin in plugins if plugins is not None else ARGS.plugins:
        shutil.copy(plugin, folder)
    if libcurl:
        copy_libcurl(folder)
    return folder


def listed(result):
    """(name, path) of the table's rows, the refused lines, the search path lines."""
    rows, refused, search, section = [], [], [], "rows"
    for line in result.stdout.splitlines():
        if line.startswith("Refused:"):
            section = "refused"
        elif line.startswith("Search path:"):
            section = "search"
        elif line.startswith("Shadowed"):
            section = "shadowed"
        elif line.startswith("No trainer adapter plugins found"):
            pass
        elif line.strip() and not line.startswith("NAME"):
            if section == "rows":
                rows.append((line.split()[0], line.split()[-1]))
            elif section == "refused":
                refused.append(line.strip())
            elif section == "search":
                search.append(line.strip())
    return rows, refused, search


def art_config(folder, port, libcurl_path=None):
    with open(os.path.join(QUICKSTART, "config.yml")) as f:
        text = f.read().replace("port: 7623", f"port: {port}")
    assert f"port: {port}" in text
    if libcurl_path is not None:
        text = text.replace("    training:\n", f"    native: {{libcurl_path: '{libcurl_path}'}}\n    training:\n")
        assert "libcurl_path" in text
    path = os.path.join(folder, "config.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


class WineNatTrainer(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nat-wine-host-")
        # An installed tree: <prefix>\bin\nat-trainer.exe and the plugins in
        # <prefix>\lib\nat-trainer-adapter\plugins.
        self.prefix = os.path.join(self.tmp, "prefix")
        os.makedirs(os.path.join(self.prefix, "bin"))
        self.exe = shutil.copy(ARGS.exe, os.path.join(self.prefix, "bin"))
        self.installed = plugin_folder(os.path.join(self.prefix, "lib", "nat-trainer-adapter"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- Discovery -----------------------------------------------------------------

    def test_installed_tree_finds_its_plugins_and_passes_over_libcurl(self):
        r = nat_trainer(self.exe, "list")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows, refused, search = listed(r)
        self.assertEqual({name for name, _ in rows}, NAMES, r.stdout)
        for _, path in rows:
            self.assertTrue(path.lower().startswith(windows_path(self.installed).lower()), path)
        # libcurl-x64.dll and its DLLs lie beside the plugins: not plugins,
        # neither loaded nor refused.
        self.assertEqual(refused, [], r.stdout)
        self.assertTrue(any("(installed)" in line for line in search), search)
        self.assertTrue(any("beside nat-trainer.exe" in line for line in search), search)

    def test_plugins_folder_beside_the_exe_comes_before_the_installed_one(self):
        beside = plugin_folder(os.path.join(self.prefix, "bin"), plugins=[EXPORT_PLUGIN], libcurl=False)
        r = nat_trainer(self.exe, "list")
        rows, _, _ = listed(r)
        paths = dict(rows)
        self.assertTrue(paths["jsonl_export_trainer_adapter"].lower().startswith(windows_path(beside).lower()),
                        r.stdout)
        self.assertTrue(paths["openpipe_art_trainer_adapter"].lower().startswith(
            windows_path(self.installed).lower()), r.stdout)
        self.assertIn("Shadowed (an earlier plugin has the same name):", r.stdout)

    def test_environment_variable_is_a_semicolon_list(self):
        shutil.rmtree(self.installed)
        first = plugin_folder(self.tmp, "first", plugins=[ART_PLUGIN], libcurl=False)
        second = plugin_folder(self.tmp, "second", plugins=[EXPORT_PLUGIN], libcurl=False)
        missing = os.path.join(self.tmp, "missing")
        value = ";".join([windows_path(missing), windows_path(first), "", windows_path(second)])
        r = nat_trainer(self.exe, "list", env={"NAT_TRAINER_ADAPTER_PATH": value})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows, refused, search = listed(r)
        # In search order: the first folder's plugin first.
        self.assertEqual([name for name, _ in rows], ["openpipe_art_trainer_adapter", "jsonl_export_trainer_adapter"])
        env_lines = [line for line in search if "(NAT_TRAINER_ADAPTER_PATH" in line]
        self.assertEqual(len(env_lines), 3, search)  # the empty entry is skipped; "Z:" is no separator
        # A directory that was asked for and is missing is reported.
        self.assertTrue(any(windows_path(missing) in line and "cannot be read" in line for line in refused),
                        refused)

    def test_names_and_suffix_in_any_case(self):
        shutil.rmtree(self.installed)
        folder = plugin_folder(self.tmp, "upper", plugins=[], libcurl=False)
        shutil.copy(EXPORT_PLUGIN, os.path.join(folder, "NAT_EXPORT.DLL"))
        r = nat_trainer(self.exe, "--plugin-dir", windows_path(folder), "info", "JSONL_Export_Trainer_Adapter")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["name"], "jsonl_export_trainer_adapter")
        r = nat_trainer(self.exe, "--plugin-dir", windows_path(folder), "info", "no_such_adapter")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no trainer adapter plugin named 'no_such_adapter'", r.stderr)
        self.assertIn("found: jsonl_export_trainer_adapter", r.stderr)

    def test_plugin_file_or_folder_everyone_may_write_is_refused(self):
        # Wine gives a file without a stored security descriptor one made
        # from its Unix mode: write for others is write for Everyone.
        plugin = os.path.join(self.installed, os.path.basename(ART_PLUGIN))
        os.chmod(plugin, os.stat(plugin).st_mode | stat.S_IWOTH)
        r = nat_trainer(self.exe, "list")
        rows, refused, _ = listed(r)
        self.assertNotIn("openpipe_art_trainer_adapter", dict(rows), r.stdout)
        self.assertTrue(any(os.path.basename(ART_PLUGIN) in line and "writable by Everyone" in line
                            and "not loaded" in line for line in refused), refused)
        os.chmod(plugin, os.stat(plugin).st_mode & ~stat.S_IWOTH)
        os.chmod(self.installed, os.stat(self.installed).st_mode | stat.S_IWOTH)
        r = nat_trainer(self.exe, "list")
        rows, refused, _ = listed(r)
        self.assertEqual(rows, [], r.stdout)
        self.assertTrue(any("plugin directory is writable by Everyone" in line for line in refused), refused)

    # --- The same output as on Linux -------------------------------------------------

    def linux(self, *args):
        if not os.path.exists(LINUX_NAT_TRAINER):
            self.skipTest(f"no Linux nat-trainer at {LINUX_NAT_TRAINER}")
        linux_plugins = os.path.join(LINUX_BUILD, "plugin")
        env = dict(os.environ)
        env.pop("NAT_TRAINER_ADAPTER_PATH", None)
        return subprocess.run([LINUX_NAT_TRAINER, "--plugin-dir", linux_plugins, *args], env=env,
                              capture_output=True, text=True, timeout=60)

    def test_info_equals_linux(self):
        for name in sorted(NAMES):
            windows = nat_trainer(self.exe, "info", name)
            self.assertEqual(windows.returncode, 0, windows.stderr)
            linux = self.linux("info", name)
            self.assertEqual(linux.returncode, 0, linux.stderr)
            self.assertEqual(windows.stdout.replace("\r\n", "\n"), linux.stdout, name)

    def test_convert_equals_linux(self):
        config = art_config(self.tmp, 7623)
        inputs = [TRAJECTORIES, os.path.join(ROOT, "tests", "host", "data", "trajectories.json")]
        for index, collection in enumerate(inputs):
            out_windows = os.path.join(self.tmp, f"windows{index}.json")
            out_linux = os.path.join(self.tmp, f"linux{index}.json")
            linux = self.linux("convert", "--config", config, "--trajectories", collection, "--out", out_linux)
            self.assertEqual(linux.returncode, 0, linux.stderr)
            windows = nat_trainer(self.exe, "convert", "--config", windows_path(config), "--trajectories",
                                  windows_path(collection), "--out", windows_path(out_windows))
            self.assertEqual(windows.returncode, 0, windows.stderr)
            with open(out_windows, "rb") as w, open(out_linux, "rb") as l:
                body = w.read()
                self.assertGreater(len(body), 1000)
                self.assertEqual(body, l.read(), collection)

    # --- Training through the Windows libcurl -----------------------------------------

    def run_against_art(self, python, dialect, libcurl_path=None):
        server = subprocess.Popen([python, ARGS.art_server, "--dialect", dialect, "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = json.loads(server.stdout.readline())["control_port"]
            config = art_config(self.tmp, port, libcurl_path)
            r = nat_trainer(self.exe, "run", "--config", windows_path(config), "--trajectories",
                            windows_path(TRAJECTORIES), "--wait", "--timeout", "120", cwd=self.tmp)
        finally:
            server.terminate()
            server.wait(timeout=30)
            server.stdout.close()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        final = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(final["status"], "completed", final)
        self.assertEqual(final["metadata"]["dialect"], dialect)
        self.assertEqual(final["metadata"]["trajectories_submitted"], 12)
        self.assertGreater(final["metadata"]["gradient_steps_done"], 0)
        self.assertIn("completed: Training completed successfully.", r.stderr)

    def test_run_wait_dialect_04(self):
        self.run_against_art(ARGS.art_python_04, "0.4")

    def test_run_wait_dialect_05(self):
        self.run_against_art(ARGS.art_python_05, "0.5")

    def test_libcurl_path_names_a_dll_elsewhere(self):
        # No libcurl beside the plugins: native.libcurl_path names it in its
        # own folder (with the DLLs it imports).
        shutil.rmtree(self.installed)
        plugin_folder(os.path.join(self.prefix, "lib", "nat-trainer-adapter"), libcurl=False)
        curl = os.path.join(self.tmp, "curl", "bin")
        os.makedirs(curl)
        copy_libcurl(curl)
        self.run_against_art(ARGS.art_python_04, "0.4", windows_path(os.path.join(curl, "libcurl-x64.dll")))
        # A path where there is none: the error names it.
        wrong = windows_path(os.path.join(self.tmp, "nowhere", "libcurl-x64.dll"))
        config = art_config(self.tmp, 9, wrong)
        r = nat_trainer(self.exe, "run", "--config", windows_path(config), "--trajectories",
                        windows_path(TRAJECTORIES), cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(wrong + " could not be loaded", r.stderr)

    def test_missing_libcurl_is_a_clear_error(self):
        shutil.rmtree(self.installed)
        plugin_folder(os.path.join(self.prefix, "lib", "nat-trainer-adapter"), libcurl=False)
        config = art_config(self.tmp, 9)
        r = nat_trainer(self.exe, "run", "--config", windows_path(config), "--trajectories",
                        windows_path(TRAJECTORIES), cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("libcurl-x64.dll could not be loaded", r.stderr)

    def test_nemo_customizer_cycle_and_failed_job(self):
        server = subprocess.Popen([ARGS.nemo_python, ARGS.nemo_server, "--port", "0"], stdout=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, text=True)
        try:
            url = "http://127.0.0.1:%d" % json.loads(server.stdout.readline())["port"]
            config = os.path.join(self.tmp, "nemo.yml")
            with open(config, "w") as f:
                f.write(NEMO_CONFIG.format(url=url))
            collection = windows_path(os.path.join(CUSTOMIZER_DATA, "dpo_collection.json"))

            r = nat_trainer(self.exe, "run", "--config", windows_path(config), "--trajectories", collection,
                            "--wait", "--timeout", "60", cwd=self.tmp)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
            self.assertEqual(lines[0]["backend"], "nemo-customizer")
            self.assertEqual(lines[-1]["status"], "completed", lines[-1])
            self.assertNotIn("wine-token-0042", r.stdout + r.stderr)
            with urllib.request.urlopen(url + "/_test/state", timeout=30) as reply:
                state = json.loads(reply.read())
            with open(os.path.join(CUSTOMIZER_DATA, "expected_training_last.jsonl"), encoding="utf-8") as f:
                self.assertEqual(state["files"].get("wine-ns/nat-dpo/training/training_file.jsonl"), f.read())
            jobs = [q for q in state["requests"] if q["path"] == "/v1/customization/jobs"]
            self.assertEqual(len(jobs), 1)
            self.assertEqual(json.loads(jobs[0]["body"])["hyperparameters"]["epochs"], 1)

            request = urllib.request.Request(url + "/_test/faults", data=b'{"job_fail": true}', method="POST")
            urllib.request.urlopen(request, timeout=30).close()
            r = nat_trainer(self.exe, "run", "--config", windows_path(config), "--trajectories", collection,
                            "--wait", "--timeout", "60", cwd=self.tmp)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(json.loads(r.stdout.splitlines()[-1])["status"], "failed", r.stdout)
        finally:
            server.terminate()
            server.wait(timeout=30)
            server.stdout.close()

    # --- A plugin of one's own ---------------------------------------------------------

    def test_plain_c_adapter_built_against_the_header_alone(self):
        include = os.path.join(self.tmp, "include", "nat")
        os.makedirs(include)
        shutil.copy(os.path.join(ROOT, "include", "nat", "trainer_adapter.h"), include)
        folder = plugin_folder(self.tmp, "mine", plugins=[], libcurl=False)
        dll = os.path.join(folder, "libnat_trainer_adapter_minimal.dll")
        compiled = subprocess.run(
            [ARGS.cc, "-std=c99", "-Wall", "-Wextra", "-pedantic-errors", "-Werror", "-shared",
             "-DNAT_TRAINER_ADAPTER_BUILDING", "-I", os.path.join(self.tmp, "include"),
             os.path.join(ROOT, "examples", "minimal_adapter", "minimal_adapter.c"), "-o", dll, "-static",
             "-pthread"], capture_output=True, text=True, timeout=120)
        self.assertEqual(compiled.returncode, 0, compiled.stderr)
        r = nat_trainer(self.exe, "--plugin-dir", windows_path(folder), "list")
        rows, refused, _ = listed(r)
        self.assertIn(("minimal_trainer_adapter", windows_path(dll)), rows, r.stdout)
        self.assertEqual(refused, [])
        r = nat_trainer(self.exe, "--plugin-dir", windows_path(folder), "run", "--config",
                        windows_path(os.path.join(ROOT, "examples", "minimal_adapter", "config.yml")),
                        "--trajectories", windows_path(TRAJECTORIES), "--wait", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        final = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["metadata"]["trajectories"], 12)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
