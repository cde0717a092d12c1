#!/usr/bin/env python3
"""Differential test: the NeMo Customizer plugin against NAT's own NeMoCustomizerTrainerAdapter, both
driven against the reference NeMo server (tests/nemo_server/server.py).

    test_nemo_differential.py --host build/host/nat-trainer \\
        --plugin build/plugin/libnat_trainer_adapter_nemo_customizer.so \\
        --venv-python .venv/nat-customizer/bin/python [--keep DIR]

For every collection of gen_dpo_collections.py:
- NAT: nat_customizer_reference.py (in the venv: initialize, submit, wait_until_complete), one process for
  all cases, the server reset before each;
- ours (the server given the case's faults, as for NAT): `nat-trainer run --plugin-dir <plugin dir> --config <adapter config JSON> --trajectories <case> --wait`
  against the same server, reset before each.
Then, per case:
- NAT's submit raised ValueError("No DPO items found in trajectories")
      <=> ours exits non-zero, NAT's message on stderr, and nothing was uploaded or created;
- otherwise both runs end (completed, or failed under a case's server faults: NAT's wait_until_complete
  raises then, its status() gives the final status; nat-trainer exits 1) and: the committed files are byte-identical (the first differing byte is named);
  the job-creation bodies, the dataset registrations and the namespace bodies are JSON-equal; the requests
  (method, path, Content-Type, Authorization) in NAT's order are the same, leaving out the plugin's health
  check GETs and the status polls (their number depends on timing); the final status (status, progress)
  is the same, the TrainingJobRef JSON-equal, the final status's run_id, backend, status, progress and
  message equal, and NAT's status metadata keys present in the plugin's with NAT's values.
Cases in gen_dpo_collections.KNOWN_DIVERGENCES are run and reported, not counted.
Exit 0 when all agree, 1 otherwise, 77 (skip) when the plugin is not built or the venv is missing.
Runtime: about 8 s.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from gen_dpo_collections import KNOWN_DIVERGENCES  # noqa: E402

SERVER = os.path.join(os.path.dirname(HERE), "nemo_server", "server.py")
SKIP = 77
BASE_CONFIG = {"hf_token": "hf-secret-token", "namespace": "nat-ns",
               "customization_config": "meta/llama-3.2-1b-instruct@v1.0.0+A100", "poll_interval_seconds": 0.02}
# The plugin's own requests NAT does not send (its health check); status polls are compared apart.
PLUGIN_ONLY = {("GET", "/v1/namespaces"), ("GET", "/v1/datastore/namespaces")}


def post(url, path, body=b""):
    import urllib.request

    req = urllib.request.Request(url + path, data=body, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def get(url, path):
    import urllib.request

    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.loads(r.read())


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def describe_bytes_difference(name, nat, ours):
    i = first_difference(nat, ours)
    return "%s: %d bytes (NAT) vs %d (plugin); first difference at byte %d: NAT %r, plugin %r" % (
        name, len(nat), len(ours), i, nat[max(0, i - 20):i + 40], ours[max(0, i - 20):i + 40])


def requests_compared(state):
    out = []
    for r in state["requests"]:
        path = r["path"].split("?")[0]
        if (r["method"], path) in PLUGIN_ONLY or path.endswith("/status"):
            continue
        out.append([r["method"], r["path"], (r["content_type"] or "").split(";")[0], r["authorization"]])
    return out


def compare_case(case, nat, ours_state, ours_rc, ours_out, ours_err):
    """A list of mismatch descriptions (empty: they agree)."""
    cid = case["id"]
    bad = []
    if nat["outcome"] == "submit_error":
        if ours_rc == 0:
            bad.append("%s: NAT's submit raised %s, the plugin's run succeeded" % (cid, nat["error"]))
        elif nat["error"]["message"] not in ours_err:
            bad.append("%s: NAT's message %r not in the plugin's stderr: %r" % (cid, nat["error"]["message"],
                                                                                  ours_err[-500:]))
        if ours_state["files_b64"] or ours_state["jobs"]:
            bad.append("%s: the plugin uploaded files or created a job for a collection NAT refuses" % cid)
        return bad
    if nat["outcome"] == "wait_error" and nat["status"] and nat["status"]["status"] in ("failed", "canceled"):
        # NAT's wait_until_complete raises for a failed job; nat-trainer prints the status and exits 1.
        if (nat["status"].get("message") or "") not in nat["error"]["message"]:
            bad.append("%s: NAT's error %r does not quote its status" % (cid, nat["error"]["message"]))
    elif nat["outcome"] != "ok":
        return ["%s: NAT's run did not end with a status: %s %s" % (cid, nat["outcome"], nat.get("error"))]
    want_rc = 0 if nat["status"]["status"] == "completed" else 1  # nat-trainer run: 1 for failed/canceled
    if ours_rc != want_rc:
        return ["%s: the plugin's run exited %d (NAT's job ended %s): %s" % (cid, ours_rc, nat["status"]["status"],
                                                                          ours_err[-1000:])]
    nat_state = nat["server"]
    nat_files, our_files = nat_state["files_b64"], ours_state["files_b64"]
    if sorted(nat_files) != sorted(our_files):
        bad.append("%s: files differ: NAT %s, plugin %s" % (cid, sorted(nat_files), sorted(our_files)))
    for name in sorted(set(nat_files) & set(our_files)):
        a, b = base64.b64decode(nat_files[name]), base64.b64decode(our_files[name])
        if a != b:
            bad.append("%s: %s" % (cid, describe_bytes_difference(name, a, b)))
    nat_jobs = [j["body"] for j in nat_state["jobs"].values()]
    our_jobs = [j["body"] for j in ours_state["jobs"].values()]
    if nat_jobs != our_jobs:
        bad.append("%s: job-creation bodies differ:\n  NAT    %s\n  plugin %s" % (cid, json.dumps(nat_jobs),
                                                                                 json.dumps(our_jobs)))
    for key in ("datasets", "namespaces", "datastore_namespaces"):
        if nat_state[key] != ours_state[key]:
            bad.append("%s: %s differ:\n  NAT    %s\n  plugin %s" % (cid, key, json.dumps(nat_state[key]),
                                                                    json.dumps(ours_state[key])))
    a, b = requests_compared(nat_state), requests_compared(ours_state)
    if a != b:
        bad.append("%s: requests differ (method, path, content type, authorization):\n  NAT    %s\n  plugin %s" %
                   (cid, json.dumps(a), json.dumps(b)))
    try:  # the TrainingJobRef first, then the final TrainingJobStatus
        lines = ours_out.strip().splitlines()
        ref, status = json.loads(lines[0]), json.loads(lines[-1])
    except (ValueError, IndexError):
        bad.append("%s: the plugin's output is not the ref and the status as JSON: %r" % (cid, ours_out[-500:]))
        return bad
    if ref != nat["ref"]:
        bad.append("%s: TrainingJobRef: NAT %s, plugin %s" % (cid, json.dumps(nat["ref"]), json.dumps(ref)))
    for key in ("run_id", "backend", "status", "progress", "message"):
        if status.get(key) != nat["status"].get(key):
            bad.append("%s: final status %s: NAT %r, plugin %r" % (cid, key, nat["status"].get(key),
                                                                  status.get(key)))
    # The plugin's status metadata adds keys of its own; NAT's keys must be there with NAT's values.
    for key, value in (nat["status"].get("metadata") or {}).items():
        if (status.get("metadata") or {}).get(key) != value:
            bad.append("%s: final status metadata %s: NAT %r, plugin %r" % (cid, key, value,
                                                                           (status.get("metadata") or {}).get(key)))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--venv-python", required=True)
    ap.add_argument("--keep", help="write NAT's and the plugin's results to this directory")
    args = ap.parse_args()
    if not os.access(args.venv_python, os.X_OK):
        print("SKIP: no %s (run tools/setup-nemo-venvs.sh)" % args.venv_python)
        return SKIP
    if not os.path.exists(args.plugin):
        print("SKIP: the NeMo Customizer plugin is not built (%s)" % args.plugin)
        return SKIP
    if not os.access(args.host, os.X_OK):
        print("FAIL: no nat-trainer at %s" % args.host)
        return 1
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="nemo-differential-")
    server = subprocess.Popen([args.venv_python, SERVER, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        url = "http://127.0.0.1:%d" % json.loads(server.stdout.readline())["port"]
        cases_dir = os.path.join(tmp, "cases")
        subprocess.run([sys.executable, "-B", os.path.join(HERE, "gen_dpo_collections.py"), cases_dir], check=True)
        with open(os.path.join(cases_dir, "cases.json"), encoding="utf-8") as f:
            cases = json.load(f)
        base = os.path.join(tmp, "config.json")
        with open(base, "w", encoding="utf-8") as f:
            json.dump(BASE_CONFIG, f)
        nat_out = os.path.join(tmp, "nat.json")
        subprocess.run([args.venv_python, "-B", os.path.join(HERE, "nat_customizer_reference.py"), "--url", url,
                        "--config", base, "--cases", cases_dir, "--out", nat_out], check=True)
        with open(nat_out, encoding="utf-8") as f:
            nat_results = json.load(f)
        plugin_dir = os.path.dirname(os.path.abspath(args.plugin))
        env = dict(os.environ, NAT_TRAINER_ADAPTER_PATH="")
        mismatches, ours_all = [], {}
        for case in cases:
            cfg = {"_type": "nemo_customizer_trainer_adapter", **BASE_CONFIG, "entity_host": url,
                   "datastore_host": url, **case["config"], "native": {"spool": False}}
            cfg_path = os.path.join(tmp, "config-%s.json" % case["id"])
            with open(cfg_path, "w", encoding="utf-8") as f:
                json.dump(cfg, f)
            post(url, "/_test/reset")
            if case.get("faults"):
                post(url, "/_test/faults", json.dumps(case["faults"]).encode())
            proc = subprocess.run([args.host, "run", "--plugin-dir", plugin_dir, "--config", cfg_path,
                                   "--trajectories", os.path.join(cases_dir, case["id"] + ".json"), "--wait",
                                   "--timeout", "60"], capture_output=True, text=True, env=env, timeout=120)
            state = get(url, "/_test/state")
            ours_all[case["id"]] = {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
                                    "server": state}
            bad = compare_case(case, nat_results[case["id"]], state, proc.returncode, proc.stdout, proc.stderr)
            known = KNOWN_DIVERGENCES.get(case["id"])
            if known and bad:
                print("KNOWN %s (%s):\n  %s" % (case["id"], known, "\n  ".join(bad)))
            elif known:
                print("ok   %s (now agrees: remove it from KNOWN_DIVERGENCES)" % case["id"])
            else:
                print("%s %s" % ("ok  " if not bad else "FAIL", case["id"]))
                mismatches += bad
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            shutil.copy(nat_out, os.path.join(args.keep, "nat.json"))
            with open(os.path.join(args.keep, "plugin.json"), "w", encoding="utf-8") as f:
                json.dump(ours_all, f, indent=1, sort_keys=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    for m in mismatches:
        print("MISMATCH " + m)
    print("%d cases, %d mismatches, %.1f s" % (len(cases), len(mismatches), time.monotonic() - t0))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
