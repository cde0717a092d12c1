#!/usr/bin/env python3
"""Self-test of the reference NeMo server (tests/nemo_server/server.py), through the real clients NAT uses:
the nemo-microservices SDK, huggingface_hub's HfApi and httpx. Runs in .venv/nat-customizer; exits 77
(skipped) when that venv is missing.

    test_server.py [--python PY]     (default: this interpreter)

Runtime: about 4 s (one server start, the clients imported once).
"""
import base64
import json
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import httpx
    from huggingface_hub import HfApi
    from nemo_microservices import NeMoMicroservices
except ImportError as e:  # not the venv of tools/setup-nemo-venvs.sh
    print("SKIP: %s (run tools/setup-nemo-venvs.sh)" % e)
    sys.exit(77)


class Server:
    def __init__(self, *extra):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", *extra],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.port = json.loads(line)["port"]
        self.url = "http://127.0.0.1:%d" % self.port
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def faults(self, **faults):
        self.http.post("/_test/faults", json=faults).raise_for_status()

    def state(self):
        return self.http.get("/_test/state").json()

    def reset(self):
        self.http.post("/_test/reset").raise_for_status()

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


JOB = dict(config="meta/llama-3.2-1b-instruct@v1.0.0+A100", dataset={"name": "d", "namespace": "ns"},
           hyperparameters={"training_type": "dpo", "finetuning_type": "all_weights", "epochs": 3, "batch_size": 4,
                            "learning_rate": 5e-05, "dpo": {"ref_policy_kl_penalty": 0.1}})


def sdk(s):
    return NeMoMicroservices(base_url=s.url, max_retries=0)


def test_namespaces(s):
    r = s.http.post("/v1/namespaces", json={"id": "ns", "description": "d"})
    check(r.status_code == 200 and r.json()["id"] == "ns", r.text)
    check(s.http.post("/v1/namespaces", json={"id": "ns"}).status_code == 409, "second namespace create not 409")
    r = s.http.post("/v1/datastore/namespaces", data={"namespace": "ns"})
    check(r.status_code == 201, r.text)
    check(s.http.post("/v1/datastore/namespaces", data={"namespace": "ns"}).status_code == 409, "not 409")
    check(s.http.get("/v1/namespaces").status_code == 200, "health GET")
    check(s.http.get("/v1/datastore/namespaces").status_code == 200, "health GET datastore")
    st = s.state()
    check(st["datastore_namespaces"] == ["ns"], st["datastore_namespaces"])
    check(st["namespaces"][0] == {"id": "ns", "description": "d"}, st["namespaces"])


def test_hf_upload(s):
    api = HfApi(endpoint=s.url + "/v1/hf", token="tok-1")
    url = api.create_repo("ns/data", repo_type="dataset", exist_ok=True)
    check(url.repo_id == "ns/data" and url.repo_type == "dataset", url)
    api.create_repo("ns/data", repo_type="dataset", exist_ok=True)  # 409 -> accepted by exist_ok
    content = '{"prompt": "h\\u00e9llo"}\n\xe9\u2713\U0001f600 \x00end'.encode("utf-8")
    api.upload_file(path_or_fileobj=content, path_in_repo="training/training_file.jsonl", repo_id="ns/data",
                    repo_type="dataset", commit_message="c")
    st = s.state()
    key = "ns/data/training/training_file.jsonl"
    check(base64.b64decode(st["files_b64"][key]) == content, "uploaded bytes differ")
    check(st["files"][key] == content.decode("utf-8"), "uploaded text differs")
    commits = [r for r in st["requests"] if r["path"].endswith("/commit/main")]
    check(len(commits) == 1 and commits[0]["authorization"] == "Bearer tok-1", commits)
    check(commits[0]["content_type"] == "application/x-ndjson", commits[0]["content_type"])


def test_files_dir(tmp):
    s = Server("--files-dir", tmp)
    try:
        api = HfApi(endpoint=s.url + "/v1/hf", token="t")
        api.create_repo("a/b", repo_type="dataset", exist_ok=True)
        api.upload_file(path_or_fileobj=b"x\ny", path_in_repo="validation/v.jsonl", repo_id="a/b",
                        repo_type="dataset")
        with open(os.path.join(tmp, "a", "b", "validation", "v.jsonl"), "rb") as f:
            check(f.read() == b"x\ny", "files dir content")
    finally:
        s.close()


def test_job_lifecycle(s):
    c = sdk(s)
    job = c.customization.jobs.create(**JOB)
    check(job.id == "cust-1" and job.output_model == "ns/dpo-model@cust-1", job)
    body = s.state()["jobs"]["cust-1"]["body"]
    check(body == json.loads(json.dumps(JOB)), body)
    seen = [(d.status, d.percentage_done, d.epochs_completed)
            for d in (c.customization.jobs.status(job.id) for _ in range(4))]
    check(seen == [("created", 0, None), ("running", 50, 1), ("completed", 100, 2), ("completed", 100, 2)], seen)
    check(s.state()["status_calls"] == 4, "status_calls")
    check(s.state()["requests"][0]["authorization"] is None, "SDK call carries no Authorization")


def test_job_machine(s):
    s.faults(job_machine={"pending": 1, "polls_per_epoch": 2})
    c = sdk(s)
    job = c.customization.jobs.create(**JOB)  # epochs 3 from the hyperparameters
    seen = [c.customization.jobs.status(job.id) for _ in range(10)]
    got = [(d.status, d.epochs_completed) for d in seen]
    check(got == [("created", None), ("pending", None), ("running", 0), ("running", 0), ("running", 1), ("running", 1),
                  ("running", 2), ("running", 2), ("completed", 3), ("completed", 3)], got)
    check(seen[4].percentage_done is not None and abs(seen[4].percentage_done - 100.0 / 3) < 1e-9, seen[4])
    s.reset()
    s.faults(job_machine={"pending": 0, "epochs": 2, "step_seconds": 0.2})
    job = c.customization.jobs.create(**JOB)
    check(c.customization.jobs.status(job.id).status == "created", "time machine start")
    time.sleep(0.7)
    check(c.customization.jobs.status(job.id).status == "completed", "time machine end")


def test_stall_fail_cancel(s):
    c = sdk(s)
    s.faults(job_stall=True)
    job = c.customization.jobs.create(**JOB)
    check([c.customization.jobs.status(job.id).status for _ in range(5)][-1] == "running", "stall")
    cancelled = c.customization.jobs.cancel(job.id)
    check(cancelled.status == "cancelled", cancelled)
    check(c.customization.jobs.status(job.id).status == "cancelled", "cancel")
    s.faults(job_fail=True)
    job = c.customization.jobs.create(**JOB)
    got = [(d.status, d.percentage_done) for d in (c.customization.jobs.status(job.id) for _ in range(4))]
    check(got[-1] == ("failed", 50) and got[-2] == ("failed", 50), got)


def test_http_faults(s):
    c = sdk(s)
    job = c.customization.jobs.create(**JOB)
    s.faults(status_errors=2, status_delay=0.3)
    t0 = time.monotonic()
    codes = [s.http.get("/v1/customization/jobs/%s/status" % job.id).status_code for _ in range(3)]
    check(codes == [500, 500, 200], codes)
    check(time.monotonic() - t0 >= 0.9, "status_delay")
    s.faults(route_errors=[{"method": "POST", "path": "/v1/hf/api/repos/create", "status": 503, "count": 1}])
    codes = [s.http.post("/v1/hf/api/repos/create", json={"name": "n", "organization": "o", "type": "dataset"})
             .status_code for _ in range(2)]
    check(codes == [503, 200], codes)
    s.faults(job_create_status=503)
    check(s.http.post("/v1/customization/jobs", json=JOB).status_code == 503, "job_create_status")
    s.faults(status_error_from=2)
    codes = [s.http.get("/v1/customization/jobs/%s/status" % job.id).status_code for _ in range(2)]
    check(codes[-1] == 500, codes)


def test_deployment(s):
    c = sdk(s)
    cfg = c.deployment.configs.create(name="cfg", namespace="ns", description="d", model="ns/m",
                                      nim_deployment={"image_name": "img", "image_tag": "latest", "gpu": 1})
    check(cfg.name == "cfg" and cfg.namespace == "ns", cfg)
    c.deployment.model_deployments.create(name="dep", namespace="ns", description="d", config="ns/cfg")
    got = [c.deployment.model_deployments.list().data[0].status_details.status for _ in range(3)]
    check(got == ["pending", "ready", "ready"], got)
    s.faults(deployment_never_ready=True)
    got = [c.deployment.model_deployments.list().data[0].status_details.status for _ in range(3)]
    check(got == ["pending"] * 3, got)


def test_reset_and_404(s):
    check(s.http.get("/v1/nothing").status_code == 404, "404")
    s.reset()
    st = s.state()
    check(st["requests"] == [] and st["files"] == {} and st["jobs"] == {} and st["faults"] == {}, st)


def main():
    import tempfile

    t0 = time.monotonic()
    tests = [test_namespaces, test_hf_upload, test_job_lifecycle, test_job_machine, test_stall_fail_cancel,
             test_http_faults, test_deployment, test_reset_and_404]
    failed = 0
    s = Server()
    try:
        for t in tests:
            s.reset()
            try:
                t(s)
                print("ok   %s" % t.__name__)
            except Exception:
                failed += 1
                print("FAIL %s\n%s" % (t.__name__, traceback.format_exc()))
        with tempfile.TemporaryDirectory() as tmp:
            try:
                test_files_dir(tmp)
                print("ok   test_files_dir")
            except Exception:
                failed += 1
                print("FAIL test_files_dir\n%s" % traceback.format_exc())
    finally:
        s.close()
    print("%d failed, %.1f s" % (failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
