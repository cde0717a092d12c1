#!/usr/bin/env python3
"""Tests of the nat-trainer command line, run against fixture plugins.

Usage: cli_test.py NAT_TRAINER MINIMAL_ADAPTER_SO [ART_PLUGIN_SO]
Environment: NAT_HOST_FIXTURE_DIR (the fixture libraries), NAT_HOST_TEST_DATA_DIR,
NAT_HOST_EXAMPLES_DIR.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

NAT_TRAINER = None
# The ABI version of the header the host was built with.
HOST_ABI = (1, 1)
MINIMAL_ADAPTER = None
ART_PLUGIN = None  # optional: the openpipe-art plugin, for what the minimal example cannot show
FIXTURES = os.environ.get("NAT_HOST_FIXTURE_DIR", "")
DATA = os.environ.get("NAT_HOST_TEST_DATA_DIR", "")
EXAMPLES = os.environ.get("NAT_HOST_EXAMPLES_DIR", "")
TRAJECTORIES = os.path.join(DATA, "trajectories.json")
SUBCOMMANDS = ["list", "info", "health", "run", "convert", "resubmit", "status", "wait", "cancel"]

# Whatever the failure, nat-trainer prints one message, never these.
CRASH_MARKERS = ["terminate called", "what():", "Traceback", "Segmentation fault", "Aborted"]


def environment(**extra):
    env = {k: v for k, v in os.environ.items() if k != "NAT_TRAINER_ADAPTER_PATH"}
    env.update(extra)
    return env


def nat_trainer(*args, env=None, timeout=60):
    return subprocess.run([NAT_TRAINER, *args], capture_output=True, text=True,
                          env=env or environment(), timeout=timeout)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nat-cli-test-")
        self.plugins = self.make_plugin_dir("plugins", [MINIMAL_ADAPTER])
        self.config = self.write("config.yml", """
trainer_adapters:
  mini:
    type: minimal_trainer_adapter     # NAT's alias of _type
finetuning:
  trainer_adapter: mini
  num_epochs: 2
  learning_rate_hint: 1e-5
""")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def make_plugin_dir(self, name, libraries, mode=0o755):
        directory = os.path.join(self.tmp, name)
        os.makedirs(directory)
        for library in libraries:
            target = os.path.join(directory, os.path.basename(library))
            shutil.copyfile(library, target)
            os.chmod(target, 0o755)
        os.chmod(directory, mode)
        return directory

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def fixture(self, name):
        return os.path.join(FIXTURES, "lib%s.so" % name)

    def assert_clean_failure(self, result, code=2):
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertEqual(result.stdout, "")
        for marker in CRASH_MARKERS:
            self.assertNotIn(marker, result.stderr)
        self.assertTrue(result.stderr.strip(), "an error must say what is wrong")

    # --- help and usage -------------------------------------------------------

    def test_every_subcommand_has_help(self):
        result = nat_trainer("--help")
        self.assertEqual(result.returncode, 0)
        for name in SUBCOMMANDS:
            self.assertIn(name, result.stdout)
            sub = nat_trainer(name, "--help")
            self.assertEqual(sub.returncode, 0, name)
            self.assertIn("Usage: nat-trainer " + name, sub.stdout)

    def test_version(self):
        result = nat_trainer("--version")
        self.assertEqual(result.returncode, 0)
        self.assertIn("ABI %d.%d" % HOST_ABI, result.stdout)

    def test_usage_errors_exit_2(self):
        self.assert_clean_failure(nat_trainer())
        self.assert_clean_failure(nat_trainer("bogus"))
        self.assert_clean_failure(nat_trainer("run", "--config", self.config))
        self.assert_clean_failure(nat_trainer("run", "--config", "/nonexistent.yml", "--trajectories", TRAJECTORIES))
        self.assert_clean_failure(nat_trainer("--plugin-dir", "/nonexistent", "list"))

    # --- list and info ----------------------------------------------------------

    def test_list_shows_plugins_shadowed_refused_and_search_path(self):
        first = self.make_plugin_dir("first", [self.fixture("fixture_alpha_again")])
        env_dir = self.make_plugin_dir("env", [self.fixture("fixture_alpha"), self.fixture("fixture_abi2")])
        with open(os.path.join(first, "x.so"), "w") as f:
            f.write("text, not a library\n")
        os.chmod(os.path.join(first, "x.so"), 0o644)
        env = environment(NAT_TRAINER_ADAPTER_PATH=env_dir)

        result = nat_trainer("--plugin-dir", first, "list", "--plugin-dir", self.plugins, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"NAME +VERSION +ABI +BACKEND +PATH")
        self.assertRegex(result.stdout, r"fixture_alpha +2\.0\.0 +1\.0 +fixture +" + first)
        self.assertRegex(result.stdout, r"minimal_trainer_adapter +1\.0\.0 +1\.0 +minimal +" + self.plugins)
        self.assertIn("shadowed by " + os.path.join(first, "libfixture_alpha_again.so"), result.stdout)
        self.assertIn("x.so: cannot load", result.stdout)
        self.assertIn("plugin ABI 2.0 is incompatible with nat-trainer's ABI %d.%d" % HOST_ABI, result.stdout)

        listed = json.loads(nat_trainer("list", "--json", "--plugin-dir", first, "--plugin-dir", self.plugins,
                                        env=env).stdout)
        # The build tree's own plugins (this binary runs from the build tree) come last.
        ours = [p["name"] for p in listed["plugins"] if p["origin"] != "build tree"]
        self.assertEqual(ours, ["fixture_alpha", "minimal_trainer_adapter"])
        self.assertEqual([p["name"] for p in listed["plugins"]][:2], ours)
        self.assertEqual([s["name"] for s in listed["shadowed"]], ["fixture_alpha"])
        self.assertEqual(len([r for r in listed["refused"] if r["path"].startswith(self.tmp)]), 2)
        origins = [(d["path"], d["origin"]) for d in listed["search_path"]]
        self.assertEqual(origins[:3], [(first, "--plugin-dir"), (self.plugins, "--plugin-dir"),
                                       (env_dir, "NAT_TRAINER_ADAPTER_PATH")])
        self.assertEqual([origin for _, origin in origins[3:]], ["installed", "build tree"])

    def test_list_refuses_a_world_writable_directory(self):
        open_dir = self.make_plugin_dir("open", [self.fixture("fixture_beta")], mode=0o777)
        listed = json.loads(nat_trainer("list", "--json", "--plugin-dir", open_dir).stdout)
        self.assertNotIn("fixture_beta", [p["name"] for p in listed["plugins"]])
        self.assertIn("writable by group or others (mode 0777)", listed["refused"][0]["reason"])

    def test_info_prints_the_plugin_info_in_its_own_order(self):
        result = nat_trainer("info", "minimal_trainer_adapter", "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        info = json.loads(result.stdout)
        self.assertEqual(info["name"], "minimal_trainer_adapter")
        self.assertEqual(info["config_schema"]["required"], ["_type"])
        self.assertTrue(result.stdout.startswith('{\n  "name": "minimal_trainer_adapter"'))
        self.assert_clean_failure(nat_trainer("info", "nope", "--plugin-dir", self.plugins))

    # --- health, convert, run ----------------------------------------------------

    def test_health(self):
        result = nat_trainer("health", "--config", self.config, "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("healthy", result.stdout)
        never = self.make_plugin_dir("never", [self.fixture("never_ending_adapter")])
        config = self.write("never.json", '{"_type": "never_ending_adapter"}')
        result = nat_trainer("health", "--config", config, "--plugin-dir", never)
        self.assertEqual(result.returncode, 1)
        self.assertIn("unhealthy", result.stdout)

    def test_convert_to_stdout_and_file(self):
        result = nat_trainer("convert", "--config", self.config, "--trajectories", TRAJECTORIES,
                             "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["trajectories"], 2)
        out = os.path.join(self.tmp, "body.json")
        result = nat_trainer("convert", "--config", self.config, "--trajectories", TRAJECTORIES, "--out", out,
                             "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "")
        with open(out) as f:
            self.assertEqual(json.load(f)["run_id"], "art_run_1a2b3c4d")

    def test_run_wait_prints_job_ref_then_final_status(self):
        result = nat_trainer("run", "--config", self.config, "--trajectories", TRAJECTORIES, "--wait",
                             "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        ref, status = json_lines(result.stdout)
        self.assertEqual(ref["run_id"], "art_run_1a2b3c4d")
        self.assertEqual(ref["backend"], "minimal")
        self.assertEqual(status["status"], "completed")
        # stderr is not a terminal here: plain progress lines.
        self.assertIn("art_run_1a2b3c4d: started", result.stderr)
        self.assertIn("step 1/1", result.stderr)
        self.assertNotIn("\r", result.stderr)

    def test_the_minimal_adapter_example_runs_as_documented(self):
        examples = os.environ["NAT_HOST_EXAMPLES_DIR"]
        result = nat_trainer("--plugin-dir", self.plugins, "run",
                             "--config", os.path.join(examples, "minimal_adapter", "config.yml"),
                             "--trajectories", os.path.join(examples, "quickstart", "trajectories.json"), "--wait")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json_lines(result.stdout)[-1]["status"], "completed")

    def test_run_without_wait_prints_only_the_job_ref(self):
        result = nat_trainer("run", "--config", self.config, "--trajectories", TRAJECTORIES,
                             "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(json_lines(result.stdout)), 1)

    def test_run_finds_plugins_through_the_environment_variable(self):
        env = environment(NAT_TRAINER_ADAPTER_PATH="/nonexistent:" + self.plugins)
        result = nat_trainer("run", "--config", self.config, "--trajectories", TRAJECTORIES, "--wait", env=env)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_adapter_option_picks_the_entry(self):
        config = self.write("two.yml", """
trainer_adapters:
  other: {_type: not_installed_anywhere}
  mini: {_type: minimal_trainer_adapter}
""")
        result = nat_trainer("run", "--config", config, "--adapter", "mini", "--trajectories", TRAJECTORIES,
                             "--wait", "--plugin-dir", self.plugins)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES,
                             "--plugin-dir", self.plugins)
        self.assert_clean_failure(result)
        self.assertIn("several entries (mini, other)", result.stderr)

    def test_timeout_cancels_the_job_and_exits_1(self):
        never = self.make_plugin_dir("never", [self.fixture("never_ending_adapter")])
        config = self.write("never.json", '{"_type": "never_ending_adapter"}')
        started = time.monotonic()
        result = nat_trainer("run", "--config", config, "--trajectories", TRAJECTORIES, "--wait", "--timeout", "0.5",
                             "--plugin-dir", never)
        self.assertLess(time.monotonic() - started, 20)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(json_lines(result.stdout)[-1]["status"], "canceled")
        self.assertIn("--timeout 0.5 s ran out", result.stderr)

    def test_ctrl_c_cancels_the_job_and_prints_the_canceled_status(self):
        never = self.make_plugin_dir("never", [self.fixture("never_ending_adapter")])
        config = self.write("never.json", '{"_type": "never_ending_adapter"}')
        process = subprocess.Popen([NAT_TRAINER, "run", "--config", config, "--trajectories", TRAJECTORIES, "--wait",
                                    "--plugin-dir", never],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
        first_line = process.stdout.readline()  # the job ref: submitted
        self.assertEqual(json.loads(first_line)["backend"], "never")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertEqual(json.loads(stdout)["status"], "canceled")
        self.assertIn("interrupted", stderr)

    def test_resubmit_needs_a_plugin_with_a_spool_and_resubmit(self):
        # The minimal example keeps no spool and cannot resubmit (the ART
        # plugin against the reference server: art_reliability_test.py). What
        # is spooled comes from the plugin alone: --spool-dir does not make the
        # host list a directory by itself.
        spool = os.path.join(self.tmp, "spool")
        os.makedirs(spool)
        spooled = os.path.join(spool, "art_run_1a2b3c4d.1700000000000.42.0.json")
        shutil.copyfile(TRAJECTORIES, spooled)
        no_spool = r"plugin minimal_trainer_adapter \(.*\)(: its ABI 1\.0 has no spool listing| has no spool: )"
        for extra in ([], ["--spool-dir", spool]):
            result = nat_trainer("resubmit", "--config", self.config, "--list", "--plugin-dir", self.plugins, *extra)
            self.assert_clean_failure(result)
            self.assertRegex(result.stderr, no_spool)
            self.assertNotIn(spooled, result.stdout)
        result = nat_trainer("resubmit", "--config", self.config, "--spool-dir", spool, spooled,
                             "--plugin-dir", self.plugins)
        self.assert_clean_failure(result)
        self.assertRegex(result.stderr, r"cannot resubmit: its ABI 1\.0 has no nat_trainer_adapter_resubmit|" + no_spool)
        self.assertTrue(os.path.exists(spooled))

    def test_resubmit_list_shows_what_the_art_plugin_lists(self):
        # No backend is needed to list a spool directory (runs in well under a second).
        if not ART_PLUGIN:
            self.skipTest("the ART plugin is not built")
        art = self.make_plugin_dir("art", [ART_PLUGIN])
        spool = os.path.join(self.tmp, "art-spool")
        config = self.write("art.json", json.dumps({
            "_type": "openpipe_art_trainer_adapter", "backend": {"ip": "127.0.0.1", "port": 7623},
            "native": {"spool_dir": spool, "spool": False}}))
        result = nat_trainer("resubmit", "--config", config, "--list", "--plugin-dir", art)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Spool directory: %s (%s: native.spool_dir)\n" % (spool, config), result.stdout)
        self.assertIn("native.spool is false", result.stdout)
        self.assertIn("It does not exist", result.stdout)
        os.makedirs(spool)
        spooled = os.path.join(spool, "art_run_1a2b3c4d.1700000000000.%d.0.json" % os.getpid())
        shutil.copyfile(TRAJECTORIES, spooled)
        mine = self.write("art-spool/mine.json", "{}")
        os.utime(mine, (1000000000, 1000000000))
        partial = self.write("art-spool/r.1700000000000.1.0.json.partial", "{")
        self.write("art-spool/notes.txt", "not listed")
        listing = json.loads(nat_trainer("resubmit", "--config", config, "--list", "--json", "--plugin-dir", art)
                             .stdout)
        self.assertEqual(listing["spool_dir"], spool)
        self.assertEqual(listing["spooling"], False)
        self.assertEqual([f["path"] for f in listing["files"]], [mine, spooled])
        self.assertNotIn("run", listing["files"][0])
        self.assertEqual(listing["files"][1]["run"], "art_run_1a2b3c4d")
        self.assertEqual(listing["files"][1]["writer_running"], True)
        self.assertEqual(listing["files"][1]["submitted_unix_ms"], 1700000000000)
        self.assertEqual([f["path"] for f in listing["incomplete"]], [partial])
        other = os.path.join(self.tmp, "other")
        result = nat_trainer("resubmit", "--config", config, "--list", "--spool-dir", other, "--plugin-dir", art)
        self.assertIn("Spool directory: %s (--spool-dir)\n" % other, result.stdout)
        result = nat_trainer("resubmit", "--config", config, partial, "--plugin-dir", art)
        self.assert_clean_failure(result)
        self.assertIn("an incomplete spool file", result.stderr)

    # --- errors ---------------------------------------------------------------------

    def test_errors_name_the_file_the_key_and_the_plugin(self):
        unknown = self.write("unknown.yml", "trainer_adapters:\n  a: {_type: not_installed_anywhere}\n")
        result = nat_trainer("run", "--config", unknown, "--trajectories", TRAJECTORIES, "--plugin-dir", self.plugins)
        self.assert_clean_failure(result)
        self.assertIn("no trainer adapter plugin named 'not_installed_anywhere'", result.stderr)
        self.assertIn("unknown.yml: trainer_adapters.a", result.stderr)
        self.assertIn("found: minimal_trainer_adapter", result.stderr)

        untyped = self.write("untyped.yml", "trainer_adapters:\n  a: {backend: {ip: x}}\n")
        result = nat_trainer("convert", "--config", untyped, "--trajectories", TRAJECTORIES)
        self.assert_clean_failure(result)
        self.assertIn("untyped.yml: trainer_adapters.a: missing _type", result.stderr)

        broken = self.write("broken.yml", "trainer_adapters:\n  a: [1\n")
        result = nat_trainer("health", "--config", broken)
        self.assert_clean_failure(result)
        self.assertIn("broken.yml:", result.stderr)
        self.assertIn("invalid YAML", result.stderr)

        refused = self.write("refused.yml", "trainer_adapters:\n  a: {_type: minimal_trainer_adapter}\n"
                                            "  b: {_type: fixture_beta}\nfinetuning: {trainer_adapter: b}\n")
        beta = self.make_plugin_dir("beta", [self.fixture("fixture_beta")])
        result = nat_trainer("run", "--config", refused, "--trajectories", TRAJECTORIES, "--plugin-dir", beta)
        self.assert_clean_failure(result)
        self.assertIn("refused.yml: trainer_adapters.b: plugin fixture_beta", result.stderr)
        self.assertIn("INVALID_ARGUMENT: fixture fixture_beta refuses every config", result.stderr)

    def test_invalid_trajectories_are_reported_with_the_file(self):
        # nat-trainer does not parse the collection: the plugin's verdict is
        # reported after the file name. The minimal example's scanner is lax...
        bad_json = self.write("bad.json", '{"run_id": ')
        result = nat_trainer("run", "--config", self.config, "--trajectories", bad_json, "--plugin-dir", self.plugins)
        self.assert_clean_failure(result)
        # run validates (through convert) before initialize.
        self.assertIn("bad.json: minimal_trainer_adapter: convert: INVALID_ARGUMENT: "
                      "TrajectoryCollection: not a JSON object", result.stderr)
        # ...the ART plugin says where the JSON breaks (convert needs no backend).
        if ART_PLUGIN:
            art = self.make_plugin_dir("art", [ART_PLUGIN])
            art_config = os.path.join(EXAMPLES, "configs", "openpipe_art.yml")
            result = nat_trainer("convert", "--config", art_config, "--trajectories", bad_json, "--plugin-dir", art)
            self.assert_clean_failure(result)
            self.assertIn("bad.json: openpipe_art_trainer_adapter: convert: INVALID_ARGUMENT: "
                          "TrajectoryCollection: invalid JSON at byte 11", result.stderr)
            self.assertEqual(result.stdout, "")
            # run refuses it before initialize contacts the backend (none
            # listens on the example's port: the error is the JSON, not
            # UNAVAILABLE).
            result = nat_trainer("run", "--config", art_config, "--trajectories", bad_json, "--plugin-dir", art)
            self.assert_clean_failure(result)
            self.assertIn("TrajectoryCollection: invalid JSON at byte 11", result.stderr)
            self.assertNotIn("UNAVAILABLE", result.stderr)

        invalid = self.write("invalid.json", '{"run_id": "r", "trajectories": [[{"episode": []}]]}')
        result = nat_trainer("run", "--config", self.config, "--trajectories", invalid, "--plugin-dir", self.plugins)
        self.assert_clean_failure(result)
        self.assertIn("invalid.json: minimal_trainer_adapter: convert: INVALID_ARGUMENT: "
                      "trajectories[0][0]: reward must be a number", result.stderr)

    # --- hostile configs -------------------------------------------------------

    def run_measured(self, *args):
        """nat-trainer with its exit code, output, wall time and peak RSS (MiB)."""
        out_path, err_path = os.path.join(self.tmp, "out.txt"), os.path.join(self.tmp, "err.txt")
        start = time.monotonic()
        with open(out_path, "w") as out, open(err_path, "w") as err:
            process = subprocess.Popen([NAT_TRAINER, *args], stdout=out, stderr=err, env=environment())
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                process.returncode = 0  # reaped by wait4
        seconds = time.monotonic() - start
        with open(out_path) as out, open(err_path) as err:
            result = subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), out.read(), err.read())
        return result, seconds, usage.ru_maxrss / 1024.0

    def test_yaml_cycles_bombs_and_duplicate_keys_are_config_errors(self):
        bomb = "trainer_adapters:\n  mini:\n    type: minimal_trainer_adapter\nbomb:\n  a0: &a0 [lol]\n"
        for level in range(1, 10):
            bomb += "  a%d: &a%d [%s]\n" % (level, level, ", ".join(["*a%d" % (level - 1)] * 9))
        cases = {
            "cycle.yml": ("trainer_adapters:\n  mini:\n    type: minimal_trainer_adapter\n    cyc: &c [1, *c]\n",
                          "trainer_adapters.mini.cyc[1]: an alias refers to a node that contains it (a cycle)"),
            "cycles.yml": ("trainer_adapters:\n  mini:\n    type: minimal_trainer_adapter\n    cyc: &c [*c, *c, *c]\n",
                           "an alias refers to a node that contains it (a cycle)"),
            "bomb.yml": (bomb, "the document expands to more than 100000 values"),
            "duplicate.yml": ("trainer_adapters:\n  mini:\n    type: minimal_trainer_adapter\n"
                              "  mini:\n    type: other\n", "trainer_adapters.mini: duplicate key"),
            "duplicate.json": ('{"_type": "minimal_trainer_adapter", "_type": "other"}', "_type: duplicate key"),
        }
        for name, (text, expected) in cases.items():
            path = self.write(name, text)
            result, seconds, rss_mib = self.run_measured("convert", "--config", path, "--trajectories", TRAJECTORIES,
                                                         "--plugin-dir", self.plugins)
            self.assert_clean_failure(result)
            self.assertIn(path + ":", result.stderr)
            self.assertIn(expected, result.stderr)
            self.assertLess(seconds, 10, name)
            self.assertLess(rss_mib, 200, name)

    def test_art_configs_with_hostile_values_are_refused_without_quoting_them(self):
        if not ART_PLUGIN:
            self.skipTest("the ART plugin is not built")
        art = self.make_plugin_dir("art", [ART_PLUGIN])
        head = "trainer_adapters:\n  art:\n    _type: openpipe_art_trainer_adapter\n    backend:\n      port: 7623\n"
        for line, key in [('      ip: "127.0.0.1/evil?x="\n', "backend.ip"),
                          ('      ip: "127.0.0.1#"\n', "backend.ip"),
                          ('      ip: "127.0.0.1\\0evil"\n', "backend.ip"),
                          ('      ip: 127.0.0.1\n      api_key: "sk-evil\\r\\nX-Injected: 1"\n', "backend.api_key")]:
            path = self.write("hostile.yml", head + line)
            result = nat_trainer("convert", "--config", path, "--trajectories", TRAJECTORIES, "--plugin-dir", art)
            self.assert_clean_failure(result)
            self.assertIn("INVALID_ARGUMENT: config: " + key + ": ", result.stderr)
            self.assertNotIn("evil", result.stderr)
        # NAT's YAML loader gives `1e-5` as a string: the plugin reads it as NAT's pydantic does.
        path = self.write("strings.yml", head + '      ip: localhost\n    training:\n      learning_rate: "1e-5"\n'
                                                '      beta: "0.5"\n')
        result = nat_trainer("convert", "--config", path, "--trajectories", TRAJECTORIES, "--plugin-dir", art)
        self.assertEqual(result.returncode, 0, result.stderr)
        body = json.loads(result.stdout)
        self.assertEqual(body["config"]["learning_rate"], 1e-5)

    def test_job_commands_explain_that_jobs_live_in_the_run_process(self):
        for name in ["status", "wait", "cancel"]:
            result = nat_trainer(name, "--run-id", "art_run_1")
            self.assert_clean_failure(result)
            self.assertIn("jobs live inside the adapter of the `nat-trainer run` process", result.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    NAT_TRAINER, MINIMAL_ADAPTER = sys.argv[1], sys.argv[2]
    ART_PLUGIN = sys.argv[3] if len(sys.argv) > 3 else None
    unittest.main(argv=[sys.argv[0], "-v"])
