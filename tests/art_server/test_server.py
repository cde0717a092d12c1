"""Tests of the ART stand-in server (stdlib unittest; starts the real server).

Interpreters: ``ART_PYTHON_04`` / ``ART_PYTHON_05`` (default: ``.venv/art-0.4``
and ``.venv/art-0.5`` at the repository root).  A dialect whose interpreter is
missing is skipped.  Run: ``.venv/art-0.4/bin/python tests/art_server/test_server.py``.
"""

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(HERE, "server.py")
BASE = "Qwen/Qwen2.5-3B-Instruct"


def interpreter(dialect: str):
    env = os.environ.get("ART_PYTHON_" + dialect.replace(".", ""))
    path = env or os.path.join(ROOT, ".venv", f"art-{dialect}", "bin", "python")
    return path if os.path.exists(path) else None


class Server:
    """A server subprocess on port 0."""

    def __init__(self, dialect, data_dir=None, args=(), ready_timeout=90):
        self.dialect = dialect
        self.python = interpreter(dialect)
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="art-server-test-")
            data_dir = self._tmp.name
        self.data_dir = data_dir
        cmd = [self.python, SERVER, "--dialect", dialect, "--data-dir", data_dir, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = b""
        readable, _, _ = select.select([self.proc.stdout], [], [], ready_timeout)
        if readable:
            line = self.proc.stdout.readline()  # the ready line, or b"" at EOF
        if not line:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
            raise RuntimeError(
                f"server did not start (rc={self.proc.returncode}): {self.proc.stderr.read().decode()}\n"
                + self.log()
            )
        self.ready = json.loads(line)
        self.port = self.ready["control_port"]
        self.inference_port = self.ready["inference_port"]

    def log(self):
        try:
            with open(os.path.join(self.data_dir, "server.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = self.proc.stdout.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, rest

    def cleanup(self):
        if self._tmp is not None:
            self._tmp.cleanup()

    # -- HTTP helpers -------------------------------------------------------
    def call(self, method, path, body=None, headers=None, port=None, timeout=30, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            ctype = resp.getheader("content-type") or ""
            value = json.loads(payload) if payload and "json" in ctype else payload.decode()
            return resp.status, value, resp
        finally:
            conn.close()

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else None, **kw)

    def train(self, body, timeout=60):
        """POST /_train_model; returns (status, headers, lines, complete, raw)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", "/_train_model", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            complete = True
            try:
                raw = resp.read()
            except http.client.IncompleteRead as e:
                raw, complete = e.partial, False
            lines = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
            return resp.status, headers, lines, complete, raw
        finally:
            conn.close()


# -- request bodies -----------------------------------------------------------

def model_body(name, dialect, project="proj"):
    m = {
        "name": name,
        "project": project,
        "config": None,
        "trainable": True,
        "inference_api_key": None,
        "inference_base_url": None,
        "inference_model_name": None,
        "base_model": BASE,
        "_internal_config": {"init_args": {"max_seq_length": 8192}, "engine_args": {"gpu_memory_utilization": 0.8}},
    }
    if dialect == "0.5":
        m.update({"entity": None, "id": None, "run_id": None, "base_path": ".art", "report_metrics": None})
    return m


def choice(tokens, content="answer", **extra):
    c = {
        "finish_reason": "stop",
        "index": 0,
        "message": {"role": "assistant", "content": content, "refusal": None},
        "logprobs": {
            "content": [{"token": t, "bytes": None, "logprob": lp, "top_logprobs": []} for t, lp in tokens],
            "refusal": None,
        },
    }
    c.update(extra)
    return c


def trajectory(reward, items=None, **extra):
    t = {
        "messages_and_choices": items
        if items is not None
        else [{"role": "user", "content": "2+2?"}, choice([("token_id:19", -0.1), ("token_id:20", -0.7)])],
        "tools": None,
        "reward": reward,
        "metrics": {},
        "metadata": {},
        "logs": [],
    }
    t.update(extra)
    return t


def group(*rewards, **extra):
    g = {"trajectories": [trajectory(r) for r in rewards], "metadata": {}, "exceptions": []}
    g.update(extra)
    return g


def train_body(model, groups, config=None, dev_config=None):
    return {
        "model": model,
        "trajectory_groups": groups,
        "config": config if config is not None else {"learning_rate": 1e-5, "beta": 0.0},
        "dev_config": dev_config if dev_config is not None else {},
        "verbose": False,
    }


def connect_refused(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


# -- tests shared by both dialects ---------------------------------------------

class DialectTests:
    dialect = None
    server = None

    @classmethod
    def setUpClass(cls):
        if interpreter(cls.dialect) is None:
            raise unittest.SkipTest(f"no interpreter for dialect {cls.dialect} (run tools/setup-venvs.sh)")
        cls.record_dir = tempfile.TemporaryDirectory(prefix="art-rec-")
        cls.record = os.path.join(cls.record_dir.name, "rec.jsonl")
        cls.server = Server(cls.dialect, args=["--record-file", cls.record])

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            rc, rest = cls.server.stop()
            cls.server.cleanup()
            cls.record_dir.cleanup()
            assert rc == 0, f"server exit code {rc} after SIGTERM"
            assert rest == b"", f"unexpected stdout after the ready line: {rest!r}"

    def setUp(self):
        self.s = self.server
        status, _, _ = self.s.post("/_test/reset")
        self.assertEqual(status, 200)
        self.name = self.id().rsplit(".", 1)[-1].replace("test_", "m-")
        self.model = model_body(self.name, self.dialect)

    def mdir(self):
        return os.path.join(self.s.data_dir, "proj", "models", self.name)

    def step(self):
        status, value, _ = self.s.post("/_get_step", self.model)
        self.assertEqual(status, 200, value)
        self.assertIsInstance(value, int)
        return value

    def prepare(self, config=None):
        status, value, _ = self.s.post("/_prepare_backend_for_training", {"model": self.model, "config": config})
        self.assertEqual(status, 200, value)
        return value

    # -- basics -------------------------------------------------------------
    def test_ready_line_and_healthcheck(self):
        r = self.s.ready
        for k in ("control_port", "inference_port", "pid"):
            self.assertIsInstance(r[k], int)
        self.assertEqual(r["pid"], self.s.proc.pid)
        status, value, _ = self.s.call("GET", "/healthcheck")
        self.assertEqual((status, value), (200, {"status": "ok"}))

    def test_state_and_signatures(self):
        status, st, _ = self.s.call("GET", "/_test/state")
        self.assertEqual(status, 200)
        self.assertEqual(st["dialect"], self.dialect)
        self.assertEqual(st["signature_mismatches"], [])

    def test_openapi_routes(self):
        status, doc, _ = self.s.call("GET", "/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(set(doc["paths"]), self.expected_routes)
        self.assertFalse(any(p.startswith("/_test") for p in doc["paths"]))
        # /_get_step takes the model as the whole body
        body = doc["paths"]["/_get_step"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        self.assertIn("TrainableModel", json.dumps(body))

    def test_register_and_get_step(self):
        status, value, _ = self.s.post("/register", self.model)
        self.assertEqual((status, value), (200, None))
        with open(os.path.join(self.mdir(), "model.json")) as f:
            saved = json.load(f)
        self.assertEqual(saved["name"], self.name)
        self.assertEqual(self.step(), 0)

    def test_unknown_keys_ignored(self):
        m = dict(self.model, some_future_field={"x": 1})
        self.assertEqual(self.s.post("/register", m)[0], 200)
        g = group(1.0, 0.0, future_group_key=[1, 2])
        g["trajectories"][0]["future_key"] = "x"
        g["trajectories"][0]["messages_and_choices"][1]["stop_reason"] = None
        status, _, lines, complete, _ = self.s.train(train_body(m, [g], dev_config={"unknown_knob": 1}))
        self.assertEqual(status, 200)
        self.assertTrue(complete)
        self.assertEqual(len(lines), 2)

    # -- validation ---------------------------------------------------------
    def assert_422(self, path, body, loc_part=None):
        status, value, resp = self.s.post(path, body)
        self.assertEqual(status, 422, value)
        self.assertIsInstance(value["detail"], list)
        for d in value["detail"]:
            self.assertIn("loc", d)
            self.assertIn("msg", d)
            self.assertIn("type", d)
        if loc_part is not None:
            self.assertTrue(any(loc_part in [str(x) for x in d["loc"]] for d in value["detail"]), value)
        return value

    def test_validation_model(self):
        m = dict(self.model, name=123)
        self.assert_422("/register", m, "name")
        m = dict(self.model, trainable="maybe")
        self.assert_422("/_get_step", m, "trainable")
        self.assert_422("/_get_step", [1])
        self.assert_422("/_prepare_backend_for_training", {"config": None}, "model")
        self.assert_422("/_prepare_backend_for_training", {"model": self.model, "config": {"server_args": {"port": "x"}}}, "port")
        # ART's Model/TrainableModel have a custom __init__ with keyword-only
        # required arguments, which pydantic calls during validation: a
        # missing name/project/base_model is a TypeError, i.e. a plain 500.
        for key in ("name", "project", "base_model"):
            with self.subTest(missing=key):
                m = dict(self.model)
                del m[key]
                status, value, resp = self.s.post("/_get_step", m)
                self.assertEqual((status, value), (500, "Internal Server Error"))
                self.assertTrue(resp.getheader("content-type").startswith("text/plain"))

    def test_validation_train_bodies(self):
        m = self.model
        bad_choices = {
            "finish_reason": lambda c: c.pop("finish_reason"),
            "index": lambda c: c.pop("index"),
            "role": lambda c: c["message"].update(role="user"),
            "token": lambda c: c["logprobs"]["content"][0].pop("token"),
            "logprob": lambda c: c["logprobs"]["content"][0].pop("logprob"),
            "top_logprobs": lambda c: c["logprobs"]["content"][0].pop("top_logprobs"),
            "finish_reason_value": lambda c: c.update(finish_reason="bogus"),
        }
        for what, mutate in bad_choices.items():
            with self.subTest(what=what):
                g = group(1.0, 0.0)
                mutate(g["trajectories"][0]["messages_and_choices"][1])
                self.assert_422("/_train_model", train_body(m, [g]))
        g = group(1.0, 0.0)
        g["trajectories"][0]["metrics"] = {"a": "not a number"}
        self.assert_422("/_train_model", train_body(m, [g]), "metrics")
        g = group(1.0, 0.0)
        g["trajectories"][0]["metadata"] = {"a": [1, 2]}
        self.assert_422("/_train_model", train_body(m, [g]), "metadata")
        g = group(1.0, 0.0)
        del g["trajectories"][0]["messages_and_choices"]
        if self.dialect == "0.4":
            self.assert_422("/_train_model", train_body(m, [g]), "messages_and_choices")
        body = train_body(m, [group(1.0, 0.0)])
        del body["dev_config"]
        self.assert_422("/_train_model", body, "dev_config")
        self.assert_422("/_train_model", train_body(m, [{"metadata": {}}]), "trajectories")
        # nothing was trained
        self.assertEqual(self.step(), 0)

    # -- training -----------------------------------------------------------
    def test_train_stream(self):
        self.prepare()
        self.assertEqual(self.step(), 0)
        groups = [group(1.0, 0.0, 0.5), group(2.0, 2.0), group(0.3, 0.7)]
        status, headers, lines, complete, raw = self.s.train(train_body(self.model, groups))
        self.assertEqual(status, 200)
        self.assertTrue(complete)
        self.assertEqual(headers.get("transfer-encoding"), "chunked")
        self.assertNotIn("content-type", headers)
        self.assertNotIn("content-length", headers)
        # group 1: the 0.5 reward has advantage 0 (dropped); group 2: equal rewards
        # (dropped); group 3: 2 trajectories
        self.assertEqual(len(lines), 4)
        self.assertTrue(all(line["num_gradient_steps"] == 4 for line in lines))
        for line in lines:
            self.assertTrue({"loss", "grad_norm", "policy_loss", "entropy"} <= set(line))
        std = (((1.0 - 0.5) ** 2 + 0 + (0.0 - 0.5) ** 2) / 3) ** 0.5  # population std
        self.assertAlmostEqual(lines[0]["policy_loss"], -(0.5 / (std + 1e-6)), places=9)
        self.assertAlmostEqual(lines[1]["policy_loss"], (0.5 / (std + 1e-6)), places=9)
        self.assertAlmostEqual(lines[2]["policy_loss"], 0.2 / (0.2 + 1e-6), places=9)
        self.assertAlmostEqual(lines[3]["policy_loss"], -0.2 / (0.2 + 1e-6), places=9)
        self.assertEqual(lines[0]["loss"], lines[0]["policy_loss"])
        # tokens token_id:19 (-0.1) and token_id:20 (-0.7)
        self.assertAlmostEqual(lines[0]["entropy"], 0.4, places=12)
        adv = 0.5 / (std + 1e-6)
        gn = adv * ((1 - 2.718281828459045 ** -0.1) ** 2 + (1 - 2.718281828459045 ** -0.7) ** 2) ** 0.5
        self.assertAlmostEqual(lines[0]["grad_norm"], gn, places=9)
        self.assertEqual(raw.decode().count("\n"), 4)
        self.assertEqual(self.step(), 1)
        self.assertTrue(os.path.isdir(os.path.join(self.mdir(), "checkpoints", "0001")))
        # deterministic: a second identical call gives identical lines
        _, _, lines2, _, _ = self.s.train(train_body(self.model, groups))
        self.assertEqual(lines, lines2)
        self.assertEqual(self.step(), 2)

    def test_truncation_after_last_trainable_choice(self):
        def items(tail):
            return [
                {"role": "user", "content": "hi"},
                choice([("token_id:5", -0.2), ("token_id:6", -0.4)]),
                {"role": "user", "content": "more"},
                choice([("token_id:7", -1.5)]),
            ] + tail

        tail = [
            {"role": "user", "content": "ignored"},
            {"role": "assistant", "content": "ignored words here"},
            choice([("not-a-token", -3.0)], logprobs=None),
        ]
        base = {"trajectories": [trajectory(1.0, items([])), trajectory(0.0, items([]))]}
        tailed = {"trajectories": [trajectory(1.0, items(tail)), trajectory(0.0, items(tail))]}
        _, _, a, ca, _ = self.s.train(train_body(self.model, [base]))
        _, _, b, cb, _ = self.s.train(train_body(self.model, [tailed]))
        self.assertTrue(ca and cb)
        self.assertEqual(len(a), 2)
        self.assertEqual(a, b)

    def test_nothing_trainable(self):
        # without prepare there is no checkpoint 0000 to advance from
        equal = [group(1.0, 1.0), group(0.5)]
        status, headers, lines, complete, raw = self.s.train(train_body(self.model, equal))
        self.assertEqual(status, 200)
        self.assertTrue(complete)
        if self.dialect == "0.4":
            self.assertEqual((lines, raw), ([], b""))
        else:
            self.assertEqual(lines, [{"num_groups_submitted": 2, "num_groups_trainable": 0, "num_gradient_steps": 0}])
        self.assertEqual(self.step(), 0)
        # after prepare (checkpoint 0000 exists) the step advances in both dialects
        self.prepare()
        status, _, lines, complete, _ = self.s.train(train_body(self.model, equal))
        self.assertTrue(complete)
        self.assertEqual(len(lines), 0 if self.dialect == "0.4" else 1)
        self.assertEqual(self.step(), 1)
        # choices without logprobs are not trainable either
        g = {"trajectories": [trajectory(1.0, [{"role": "user", "content": "x"}, choice([], logprobs=None)]),
                              trajectory(0.0, [{"role": "user", "content": "x"}, choice([], logprobs=None)])]}
        status, _, lines, complete, _ = self.s.train(train_body(self.model, [g]))
        self.assertTrue(complete)
        self.assertEqual(len(lines), 0 if self.dialect == "0.4" else 1)
        self.assertEqual(self.step(), 2)

    def test_training_rules(self):
        m = self.model
        # scale_rewards=false: the advantage is r - mean; beta > 0 adds kl_div
        _, _, lines, ok, _ = self.s.train(train_body(m, [group(3.0, 1.0)], config={"learning_rate": 1e-5, "beta": 0.1},
                                                      dev_config={"scale_rewards": False}))
        self.assertTrue(ok)
        self.assertEqual([x["policy_loss"] for x in lines], [-1.0, 1.0])
        self.assertTrue(all(x["kl_div"] == 0.0 for x in lines))
        # additional_histories are extra sequences with the trajectory's advantage
        g = group(1.0, 0.0)
        g["trajectories"][0]["additional_histories"] = [
            {"messages_and_choices": [{"role": "user", "content": "q"}, choice([("token_id:3", -0.3)])], "tools": None}]
        _, _, lines, ok, _ = self.s.train(train_body(m, [g]))
        self.assertTrue(ok)
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[0]["policy_loss"], lines[1]["policy_loss"])
        # plain assistant dicts: trainable only with allow_training_without_logprobs
        plain = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "three word answer"}]
        g = {"trajectories": [trajectory(1.0, plain), trajectory(0.0, plain)]}
        _, _, lines, ok, _ = self.s.train(train_body(m, [g]))
        self.assertTrue(ok)
        self.assertEqual(len(lines), 0 if self.dialect == "0.4" else 1)
        _, _, lines, ok, _ = self.s.train(train_body(m, [g], dev_config={"allow_training_without_logprobs": True}))
        self.assertTrue(ok)
        self.assertEqual(len(lines), 2)
        self.assertAlmostEqual(lines[0]["entropy"], -__import__("math").log(0.5), places=12)
        # an assistant dict before the trainable Choice: 0.4 trains its tokens (NaN
        # logprobs), 0.5 does not (without allow_training_without_logprobs)
        before = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a b c"},
                  {"role": "user", "content": "again"}, choice([("token_id:9", -0.5)])]
        alone = [{"role": "user", "content": "again"}, choice([("token_id:9", -0.5)])]
        _, _, a, _, _ = self.s.train(train_body(m, [{"trajectories": [trajectory(1.0, before), trajectory(0.0, before)]}]))
        _, _, b, _, _ = self.s.train(train_body(m, [{"trajectories": [trajectory(1.0, alone), trajectory(0.0, alone)]}]))
        if self.dialect == "0.4":
            self.assertNotEqual(a, b)
        else:
            self.assertEqual(a, b)
        # an empty logprobs.content fails inside the stream (IndexError), as in ART
        g = group(1.0, 0.0)
        g["trajectories"][0]["messages_and_choices"][1]["logprobs"]["content"] = []
        status, _, lines, ok, raw = self.s.train(train_body(m, [g]))
        self.assertEqual((status, ok, raw), (200, False, b""))

    def test_other_routes(self):
        body = {"model": self.model, "s3_bucket": "b", "prefix": None, "verbose": False, "delete": False}
        for path in ("/_experimental_pull_from_s3", "/_experimental_push_to_s3"):
            self.assertEqual(self.s.post(path, body)[:2], (200, None))
        self.assert_422("/_experimental_pull_from_s3", {"s3_bucket": "b"}, "model")
        if self.dialect == "0.4":
            status, value, _ = self.s.post("/_experimental_deploy", {"deploy_to": "together", "model": self.model})
            self.assertEqual(status, 500)
            self.assert_422("/_experimental_deploy", {"deploy_to": "nowhere", "model": self.model}, "deploy_to")
        self.assertEqual(self.s.call("GET", "/nope")[0], 404)
        self.assertEqual(self.s.call("GET", "/register")[0], 405)

    def test_inference_endpoint(self):
        ip = self.s.inference_port
        self.assertTrue(connect_refused(ip), "inference must not listen before prepare")
        url, key = self.prepare()
        self.assertEqual(url, f"http://0.0.0.0:{ip}/v1")
        self.assertEqual(key, "default")
        status, value, _ = self.s.call("GET", "/v1/models", port=ip)
        self.assertEqual(status, 401)
        status, value, _ = self.s.call("GET", "/v1/models", port=ip, headers={"Authorization": "Bearer wrong"})
        self.assertEqual(status, 401)
        status, value, _ = self.s.call("GET", "/v1/models", port=ip, headers={"Authorization": "Bearer default"})
        self.assertEqual(status, 200)
        ids = [d["id"] for d in value["data"]]
        served = self.name if self.dialect == "0.4" else f"{self.name}@0"
        self.assertEqual(ids, [BASE, served])
        status, value, _ = self.s.post(
            "/v1/chat/completions",
            {"model": served, "messages": [{"role": "user", "content": "hello there"}]},
            port=ip,
            headers={"Authorization": "Bearer default"},
        )
        self.assertEqual(status, 200, value)
        ch = value["choices"][0]
        self.assertTrue(ch["logprobs"]["content"][0]["token"].startswith("token_id:"))
        # the returned choice trains
        items = [{"role": "user", "content": "hello there"}, ch]
        g = {"trajectories": [trajectory(1.0, items), trajectory(0.0, items)]}
        status, _, lines, complete, _ = self.s.train(train_body(self.model, [g]))
        self.assertTrue(complete)
        self.assertEqual(len(lines), 2)
        status, value, _ = self.s.call("GET", "/v1/models", port=ip, headers={"Authorization": "Bearer default"})
        ids = [d["id"] for d in value["data"]]
        if self.dialect == "0.5":
            self.assertEqual(ids, [BASE, f"{self.name}@0", f"{self.name}@1"])
        else:
            self.assertEqual(ids, [BASE, self.name])
        # api key and host from config.server_args
        url, key = self.prepare({"server_args": {"api_key": "sekrit", "host": "10.1.2.3"}})
        self.assertEqual((url, key), (f"http://10.1.2.3:{ip}/v1", "sekrit"))
        self.assertEqual(self.s.call("GET", "/v1/models", port=ip, headers={"Authorization": "Bearer default"})[0], 401)
        self.assertEqual(self.s.call("GET", "/v1/models", port=ip, headers={"Authorization": "Bearer sekrit"})[0], 200)
        # /close kills "vLLM"
        self.assertEqual(self.s.post("/close")[0:2], (200, None))
        self.assertTrue(connect_refused(ip))

    # -- faults -------------------------------------------------------------
    def set_faults(self, spec):
        status, value, _ = self.s.post("/_test/faults", spec)
        self.assertEqual(status, 200, value)
        return value

    def test_fault_fail_and_delay(self):
        self.set_faults({"fail": {"/register": {"count": 2, "status": 503}, "/_get_step": {"status": 500, "body": {"detail": "boom"}}},
                         "delay": {"/healthcheck": 0.4}})
        self.assertEqual(self.s.post("/register", self.model)[0], 503)
        self.assertEqual(self.s.post("/register", self.model)[0], 503)
        self.assertEqual(self.s.post("/register", self.model)[0], 200)
        self.assertEqual(self.s.post("/_get_step", self.model)[:2], (500, {"detail": "boom"}))
        self.assertEqual(self.step(), 0)
        t = time.monotonic()
        self.assertEqual(self.s.call("GET", "/healthcheck")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.38)
        status, value, _ = self.s.post("/_test/faults", {"fail": {"/x": {"stauts": 1}}})
        self.assertEqual(status, 400)

    def test_fault_cut_stream(self):
        self.prepare()
        self.set_faults({"train": {"cut_after": 1}})
        status, headers, lines, complete, _ = self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        self.assertEqual(status, 200)
        self.assertFalse(complete)
        self.assertEqual(len(lines), 1)
        self.assertEqual(self.step(), 0)
        # count: only the next call is affected
        self.set_faults({"train": {"cut_after": 0, "count": 1}})
        _, _, lines, complete, raw = self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        self.assertEqual((lines, complete, raw), ([], False, b""))
        _, _, lines, complete, _ = self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        self.assertTrue(complete)
        self.assertEqual(len(lines), 2)
        self.assertEqual(self.step(), 1)

    def test_fault_stall(self):
        self.set_faults({"train": {"stall_after": 1, "stall_seconds": 1.0}})
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=30)
        conn.request("POST", "/_train_model", body=json.dumps(train_body(self.model, [group(1.0, 0.0)])),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        t = time.monotonic()
        first = resp.readline()
        second = resp.readline()
        elapsed = time.monotonic() - t
        rest = resp.read()
        conn.close()
        self.assertTrue(first and second)
        self.assertEqual(rest, b"")
        self.assertGreaterEqual(elapsed, 0.9)
        # stall forever: the client times out
        self.set_faults({"train": {"stall_after": 0}})
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=1.0)
        conn.request("POST", "/_train_model", body=json.dumps(train_body(self.model, [group(1.0, 0.0)])),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        with self.assertRaises(socket.timeout):
            resp.readline()
        conn.close()
        # a stall also ends when the faults are replaced
        self.set_faults({"train": {"stall_after": 1}})
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=30)
        conn.request("POST", "/_train_model", body=json.dumps(train_body(self.model, [group(1.0, 0.0)])),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        self.assertTrue(resp.readline())
        self.s.post("/_test/reset")
        self.assertTrue(resp.readline())
        self.assertEqual(resp.read(), b"")
        conn.close()

    def test_fault_refuse_inference(self):
        self.set_faults({"inference": {"refuse": True}})
        url, key = self.prepare()
        self.assertTrue(url.endswith(f":{self.s.inference_port}/v1"))
        self.assertTrue(connect_refused(self.s.inference_port))

    # -- record -------------------------------------------------------------
    def test_record(self):
        self.s.post("/register", self.model, headers={"X-Test": "1"})
        self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        status, recs, _ = self.s.call("GET", "/_test/requests")
        self.assertEqual(status, 200)
        self.assertEqual([r["path"] for r in recs], ["/register", "/_train_model"])
        reg, tr = recs
        self.assertEqual(reg["method"], "POST")
        self.assertEqual(reg["body"], self.model)
        self.assertEqual(reg["headers"]["x-test"], "1")
        self.assertEqual(reg["body_size"], len(json.dumps(self.model)))
        self.assertEqual(reg["status"], 200)
        self.assertEqual(tr["response_lines"], 2)
        self.assertTrue(tr["completed"])
        status, recs, _ = self.s.call("GET", "/_test/requests?path=/_train_model&body=0")
        self.assertEqual(len(recs), 1)
        self.assertNotIn("body", recs[0])
        with open(self.record) as f:
            lines = [json.loads(x) for x in f]
        self.assertIn(reg["seq"], [x["seq"] for x in lines])

    def test_restart_resumes(self):
        data = tempfile.TemporaryDirectory(prefix="art-resume-")
        try:
            s1 = Server(self.dialect, data_dir=data.name, args=["--api-key", "k1"])
            try:
                s1.post("/register", self.model)
                url, key = s1.post("/_prepare_backend_for_training", {"model": self.model, "config": None})[1]
                self.assertEqual(key, "k1")
                self.assertEqual(s1.train(train_body(self.model, [group(1.0, 0.0)]))[3], True)
                self.assertEqual(s1.post("/_get_step", self.model)[1], 1)
            finally:
                self.assertEqual(s1.stop()[0], 0)
            # same ports again, right away (as a fixture restart does)
            s2 = Server(self.dialect, data_dir=data.name,
                        args=["--port", str(s1.port), "--inference-port", str(s1.inference_port)])
            try:
                self.assertEqual((s2.port, s2.inference_port), (s1.port, s1.inference_port))
                self.assertEqual(s2.post("/_get_step", self.model)[1], 1)
                s2.train(train_body(self.model, [group(1.0, 0.0)]))
                self.assertEqual(s2.post("/_get_step", self.model)[1], 2)
            finally:
                s2.stop()
        finally:
            data.cleanup()


class Dialect04Tests(DialectTests, unittest.TestCase):
    dialect = "0.4"
    expected_routes = {
        "/healthcheck", "/close", "/register", "/_get_step", "/_delete_checkpoints",
        "/_prepare_backend_for_training", "/_log", "/_train_model",
        "/_experimental_pull_from_s3", "/_experimental_push_to_s3", "/_experimental_deploy",
    }

    def test_malformed_token_truncates(self):
        for token in ("hello", "token_id:abc"):
            with self.subTest(token=token):
                g = group(1.0, 0.0)
                g["trajectories"][1]["messages_and_choices"][1]["logprobs"]["content"][0]["token"] = token
                status, headers, lines, complete, raw = self.s.train(train_body(self.model, [g]))
                self.assertEqual(status, 200)
                self.assertFalse(complete)
                self.assertEqual(raw, b"")
        self.assertEqual(self.step(), 0)

    def test_log_and_delete_checkpoints(self):
        self.prepare()
        for _ in range(3):
            self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        self.assertEqual(self.step(), 3)
        cdir = os.path.join(self.mdir(), "checkpoints")
        self.assertEqual(sorted(os.listdir(cdir)), ["0000", "0001", "0002", "0003"])
        status, value, _ = self.s.post("/_delete_checkpoints?benchmark=val/reward&benchmark_smoothing=1.0", self.model)
        self.assertEqual((status, value), (200, None))
        self.assertEqual(sorted(os.listdir(cdir)), ["0003"])
        rec = self.s.call("GET", "/_test/requests?path=/_delete_checkpoints")[1][0]
        self.assertEqual(rec["query"], {"benchmark": "val/reward", "benchmark_smoothing": "1.0"})
        # query parameters are required
        self.assert_422("/_delete_checkpoints", self.model, "benchmark")
        # with val history the best step is kept too
        g = {"trajectories": [trajectory(0.9), trajectory(0.7)]}
        self.assertEqual(self.s.post("/_log", {"model": self.model, "trajectory_groups": [g], "split": "val"})[0], 200)
        self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        g = {"trajectories": [trajectory(0.1), trajectory(0.2)]}
        self.s.post("/_log", {"model": self.model, "trajectory_groups": [g], "split": "val"})
        self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        self.assertEqual(self.step(), 5)
        self.s.post("/_delete_checkpoints?benchmark=val/reward&benchmark_smoothing=1.0", self.model)
        self.assertEqual(sorted(os.listdir(cdir)), ["0003", "0005"])

    def test_0_5_routes_absent(self):
        self.assertEqual(self.s.post("/_delete_checkpoint_files", {"model": self.model, "steps_to_keep": []})[0], 404)


class Dialect05Tests(DialectTests, unittest.TestCase):
    dialect = "0.5"
    expected_routes = {
        "/healthcheck", "/close", "/register", "/_get_step", "/_delete_checkpoint_files",
        "/_prepare_backend_for_training", "/_train_model",
        "/_experimental_pull_from_s3", "/_experimental_push_to_s3",
    }

    def test_malformed_token_falls_back(self):
        # ART 0.5.x maps tokens that are not "token_id:N" through the tokenizer vocabulary
        g = group(1.0, 0.0)
        g["trajectories"][1]["messages_and_choices"][1]["logprobs"]["content"][0]["token"] = "hello"
        status, _, lines, complete, _ = self.s.train(train_body(self.model, [g]))
        self.assertTrue(complete)
        self.assertEqual(len(lines), 2)

    def test_delete_checkpoint_files(self):
        self.prepare()
        for _ in range(3):
            self.s.train(train_body(self.model, [group(1.0, 0.0)]))
        cdir = os.path.join(self.mdir(), "checkpoints")
        self.assertEqual(sorted(os.listdir(cdir)), ["0000", "0001", "0002", "0003"])
        status, _, _ = self.s.post("/_delete_checkpoint_files", {"model": self.model, "steps_to_keep": [1, 3]})
        self.assertEqual(status, 200)
        self.assertEqual(sorted(os.listdir(cdir)), ["0001", "0003"])
        self.assert_422("/_delete_checkpoint_files", {"model": self.model}, "steps_to_keep")

    def test_0_4_routes_absent(self):
        self.assertEqual(self.s.post("/_log", {"model": self.model, "trajectory_groups": []})[0], 404)
        self.assertEqual(self.s.post("/_delete_checkpoints?benchmark=a&benchmark_smoothing=1", self.model)[0], 404)


class Dialect05QuirksTests(unittest.TestCase):
    """--quirks all: the exact behaviour of the ART 0.5.16 release."""

    def test_release_defects(self):
        if interpreter("0.5") is None:
            self.skipTest("no interpreter for dialect 0.5")
        s = Server("0.5", args=["--quirks", "all"])
        try:
            m = model_body("q", "0.5")
            self.assertEqual(s.call("GET", "/openapi.json")[0], 500)
            status, value, _ = s.post("/_get_step", m)
            self.assertEqual(status, 422)
            self.assertEqual(value["detail"][0]["loc"], ["query", "model"])
            # a Choice arrives as a dict: KeyError('role') after the 200 header
            status, _, lines, complete, raw = s.train(train_body(m, [group(1.0, 0.0)]))
            self.assertEqual((status, complete, raw), (200, False, b""))
            self.assertIn("KeyError: 'role'", s.log())
        finally:
            s.stop()
            s.cleanup()


class ExitFaultTests(unittest.TestCase):
    def test_exit_mid_training(self):
        if interpreter("0.4") is None:
            self.skipTest("no interpreter for dialect 0.4")
        rec_dir = tempfile.TemporaryDirectory(prefix="art-rec-")
        self.addCleanup(rec_dir.cleanup)
        rec = os.path.join(rec_dir.name, "rec.jsonl")
        s = Server("0.4", args=["--faults", json.dumps({"train": {"exit_after": 1, "exit_code": 3}}),
                                "--record-file", rec])
        try:
            m = model_body("x", "0.4")
            status, _, lines, complete, _ = s.train(train_body(m, [group(1.0, 0.0)]))
            self.assertEqual((status, len(lines), complete), (200, 1, False))
            self.assertEqual(s.proc.wait(timeout=10), 3)
            with open(rec) as f:
                paths = [json.loads(x)["path"] for x in f]
            self.assertIn("/_train_model", paths)
        finally:
            s.stop()
            s.cleanup()


class BigBodyTests(unittest.TestCase):
    def test_large_body_recorded(self):
        dialect = "0.4" if interpreter("0.4") else "0.5"
        if interpreter(dialect) is None:
            self.skipTest("no interpreter")
        s = Server(dialect, args=["--record-body-cap", str(1 << 20)])
        try:
            m = model_body("big", dialect)
            big = "x" * (110 * 1024 * 1024)
            g = group(1.0, 0.0)
            g["trajectories"][0]["messages_and_choices"][0]["content"] = big
            body = json.dumps(train_body(m, [g])).encode()
            del big, g
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=120)
            conn.request("POST", "/_train_model", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            lines = resp.read().decode().splitlines()
            conn.close()
            self.assertEqual(resp.status, 200)
            self.assertEqual(len(lines), 2)
            status, recs, _ = s.call("GET", "/_test/requests")
            r = recs[-1]
            self.assertEqual(r["body_size"], len(body))
            self.assertTrue(r["body_truncated"])
            self.assertEqual(len(r["body"]), 1 << 20)
        finally:
            s.stop()
            s.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
