#!/usr/bin/env python3
"""A NeMo Microservices stand-in for the NeMo Customizer plugin's tests
(python3 standard library only): the Entity Store, Customizer and deployment
routes NAT's adapter calls, and the Data Store's namespaces route and
Hugging Face API (repos/create, preupload, NDJSON commit), on one port.

Prints {"port": N} on stdout once it listens on 127.0.0.1 (port 0: any).
Test routes: GET /_test/state (every request recorded, the committed files
as text), POST /_test/faults (JSON, replaces the faults), POST /_test/reset.

Faults (all optional):
  job_statuses: list of [status, percentage_done, epochs_completed]; each
    status request of a job answers the next one, the last one repeats
    (default: created, running 50 1, completed 100 2)
  status_errors: the first N status requests answer HTTP 500
  status_error_from: from the Kth status request on (1-based), every one
    answers HTTP 500
  job_create_status: HTTP status of POST /v1/customization/jobs (an error)
  deployment_statuses: list of statuses the deployment list reports, one per
    list request, the last repeating (default: ["pending", "ready"])
  upload_mode: what preupload answers (default "regular")
"""
import argparse
import base64
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {}


def reset(faults=None):
    STATE.clear()
    STATE.update(requests=[], files={}, jobs={}, deployments=[], faults=faults or {}, status_calls=0,
                 deployment_calls=0, namespaces=set(), datastore_namespaces=set(), repos=set())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, body):
        if self.path.startswith("/_test/"):
            return
        STATE["requests"].append({
            "method": self.command,
            "path": self.path,
            "content_type": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization"),
            "body": body.decode("utf-8", "replace"),
        })

    def do_GET(self):
        with LOCK:
            self.record(b"")
            self.route_get()

    def do_POST(self):
        body = self.read_body()
        with LOCK:
            self.record(body)
            self.route_post(body)

    def route_get(self):
        path = urllib.parse.urlsplit(self.path).path
        faults = STATE["faults"]
        if path == "/_test/state":
            return self.reply(200, {"requests": STATE["requests"], "files": STATE["files"],
                                    "status_calls": STATE["status_calls"]})
        if path in ("/v1/namespaces", "/v1/datastore/namespaces"):
            return self.reply(200, {"data": []})
        m = re.fullmatch(r"/v1/customization/jobs/([^/]+)/status", path)
        if m:
            job = STATE["jobs"].get(urllib.parse.unquote(m.group(1)))
            if job is None:
                return self.reply(404, {"detail": "no such job"})
            STATE["status_calls"] += 1
            n = STATE["status_calls"]
            if n <= faults.get("status_errors", 0) or n >= faults.get("status_error_from", 1 << 30):
                return self.reply(500, {"detail": "status backend unavailable"})
            if job["cancelled"]:
                return self.reply(200, {"status": "cancelled", "percentage_done": job["last"][1],
                                        "epochs_completed": job["last"][2]})
            steps = faults.get("job_statuses", [["created", 0, None], ["running", 50, 1], ["completed", 100, 2]])
            step = steps[min(job["polls"], len(steps) - 1)]
            job["polls"] += 1
            job["last"] = step
            return self.reply(200, {"id": job["id"], "status": step[0], "percentage_done": step[1],
                                    "epochs_completed": step[2], "created_at": "2026-01-01T00:00:00",
                                    "updated_at": "2026-01-01T00:00:00"})
        if path == "/v1/deployment/model-deployments":
            statuses = faults.get("deployment_statuses", ["pending", "ready"])
            data = []
            for d in STATE["deployments"]:
                status = statuses[min(STATE["deployment_calls"], len(statuses) - 1)]
                data.append({"name": d["name"], "namespace": d["namespace"],
                             "status_details": {"status": status, "description": "deployment " + status}})
            STATE["deployment_calls"] += 1
            return self.reply(200, {"data": data, "object": "list"})
        return self.reply(404, {"detail": "not found: " + path})

    def route_post(self, body):
        path = urllib.parse.urlsplit(self.path).path
        faults = STATE["faults"]
        if path == "/_test/reset":
            reset()
            return self.reply(200, {})
        if path == "/_test/faults":
            STATE["faults"] = json.loads(body or b"{}")
            return self.reply(200, {})
        if path == "/v1/namespaces":
            ns = json.loads(body)["id"]
            if ns in STATE["namespaces"]:
                return self.reply(409, {"detail": "exists"})
            STATE["namespaces"].add(ns)
            return self.reply(201, {"id": ns})
        if path == "/v1/datastore/namespaces":
            ns = urllib.parse.parse_qs(body.decode())["namespace"][0]
            if ns in STATE["datastore_namespaces"]:
                return self.reply(409, {"detail": "exists"})
            STATE["datastore_namespaces"].add(ns)
            return self.reply(201, {"namespace": ns})
        if path == "/v1/hf/api/repos/create":
            req = json.loads(body)
            repo = req["organization"] + "/" + req["name"]
            if repo in STATE["repos"]:
                return self.reply(409, {"error": "exists"})
            STATE["repos"].add(repo)
            return self.reply(200, {"url": "http://127.0.0.1/datasets/" + repo})
        if path == "/v1/datasets":
            return self.reply(200, json.loads(body))
        m = re.fullmatch(r"/v1/hf/api/datasets/([^/]+)/([^/]+)/preupload/main", path)
        if m:
            files = json.loads(body)["files"]
            mode = faults.get("upload_mode", "regular")
            return self.reply(200, {"files": [{"path": f["path"], "uploadMode": mode, "shouldIgnore": False}
                                              for f in files]})
        m = re.fullmatch(r"/v1/hf/api/datasets/([^/]+)/([^/]+)/commit/main", path)
        if m:
            repo = m.group(1) + "/" + m.group(2)
            for line in body.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    value = item["value"]
                    STATE["files"][repo + "/" + value["path"]] = base64.b64decode(value["content"]).decode()
            return self.reply(200, {"commitUrl": "http://127.0.0.1/" + repo + "/commit/1", "commitOid": "c0ffee"})
        if path == "/v1/customization/jobs":
            if "job_create_status" in faults:
                return self.reply(faults["job_create_status"], {"detail": "job creation refused"})
            req = json.loads(body)
            job_id = "cust-%d" % (len(STATE["jobs"]) + 1)
            STATE["jobs"][job_id] = {"id": job_id, "polls": 0, "cancelled": False, "last": ["created", 0, None]}
            return self.reply(200, {"id": job_id, "status": "created", "config": req["config"],
                                    "output_model": req["dataset"]["namespace"] + "/dpo-model@" + job_id})
        m = re.fullmatch(r"/v1/customization/jobs/([^/]+)/cancel", path)
        if m:
            job = STATE["jobs"].get(urllib.parse.unquote(m.group(1)))
            if job is None:
                return self.reply(404, {"detail": "no such job"})
            job["cancelled"] = True
            return self.reply(200, {"id": job["id"], "status": "cancelled"})
        if path == "/v1/deployment/configs":
            req = json.loads(body)
            return self.reply(200, {"name": req["name"], "namespace": req["namespace"]})
        if path == "/v1/deployment/model-deployments":
            req = json.loads(body)
            STATE["deployments"].append(req)
            return self.reply(200, req)
        return self.reply(404, {"detail": "not found: " + path})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    reset()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
