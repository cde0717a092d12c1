#!/usr/bin/env python3
"""Reference NeMo Microservices server for the NeMo Customizer tests (FastAPI).

Serves, on ONE port of 127.0.0.1, what NAT's NeMoCustomizerTrainerAdapter
(nvidia-nat-nemo-customizer 1.9.0) and the native plugin call:

  Entity Store   POST /v1/namespaces (200 created, 409 exists), GET /v1/namespaces,
                 POST /v1/datasets
  Data Store     POST /v1/datastore/namespaces (form namespace=; 201 / 409),
                 GET /v1/datastore/namespaces,
                 Hugging Face API under /v1/hf: POST api/repos/create,
                 POST api/datasets/{ns}/{name}/preupload/{rev},
                 POST api/datasets/{ns}/{name}/commit/{rev} (NDJSON, base64 files)
  Customizer     POST /v1/customization/jobs, GET /v1/customization/jobs/{id},
                 GET .../{id}/status, POST .../{id}/cancel
  Deployment     POST /v1/deployment/configs, POST /v1/deployment/model-deployments,
                 GET /v1/deployment/model-deployments

Replies are built from (and validated against) the nemo-microservices SDK's
pydantic models (CustomizationJob, CustomizationStatusDetails, ModelDeployment,
...), so a reply the SDK could not read fails here first.

Start: python server.py [--port 0] [--files-dir DIR]; prints {"port": N} on one
stdout line once it listens.  Test routes (never recorded, never faulted):

  GET  /_test/state     {"requests": [...], "files": {repo/path: text},
                         "files_b64": {repo/path: base64 bytes}, "status_calls": N,
                         "jobs": {id: {"body": <job-creation body as received>, ...}},
                         "datasets": [bodies], "namespaces": [bodies],
                         "datastore_namespaces": [form values]}
  POST /_test/faults    JSON object; replaces the faults (see FAULTS below)
  POST /_test/reset     forget everything, faults included
  (/control/state, /control/requests, /control/files, /control/faults and
   /control/reset are the same routes under another prefix.)

Each recorded request: method, path (with query), content_type,
authorization (null when absent), headers (all, lower-case names), body
(UTF-8 text, invalid bytes replaced), body_b64 (exact bytes).

FAULTS (all optional):
  job_statuses: [[status, percentage_done, epochs_completed], ...]; each status
      request of a job answers the next, the last repeats
      (default: created 0 null, running 50 1, completed 100 2)
  job_machine: {"pending": P, "polls_per_epoch": K, "epochs": E, "step_seconds": S}
      instead of job_statuses: created, P x pending, then running with
      epochs_completed / percentage_done advancing one epoch every K status
      requests (or every S seconds when step_seconds is given), then
      completed 100 E.  E defaults to the job's hyperparameters.epochs.
  job_stall: true        the job stays "running" (no later step is reached)
  job_fail: true         the job's last step is "failed" instead of "completed"
  status_errors: N       the first N status requests answer HTTP 500
  status_error_from: K   from the Kth status request on (1-based) every one answers 500
  status_delay: S        each status request answers after S seconds
  job_create_status: C   POST /v1/customization/jobs answers HTTP C
  route_errors: [{"method": "POST", "path": REGEX, "status": C, "count": N}, ...]
      requests whose method and path (re.fullmatch, path without query) match
      answer HTTP C, the first N of them (count absent or null: all)
  deployment_statuses: statuses the deployment list reports, one per list
      request, the last repeating (default ["pending", "ready"])
  deployment_never_ready: true   the deployment list reports "pending" forever
  upload_mode: what preupload answers as uploadMode (default "regular")
"""
import argparse
import asyncio
import base64
import datetime
import json
import os
import re
import socket
import sys
import time
import urllib.parse

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nemo_microservices.types import Dataset, DeploymentConfig, Namespace
from nemo_microservices.types.customization import CustomizationJob, CustomizationStatusDetails
from nemo_microservices.types.deployment import ModelDeployment

STAMP = "2026-01-01T00:00:00Z"
DEFAULT_STATUSES = [["created", 0, None], ["running", 50, 1], ["completed", 100, 2]]

app = FastAPI()
STATE = {}
FILES_DIR = None


def reset(faults=None):
    STATE.clear()
    STATE.update(requests=[], files={}, files_b64={}, jobs={}, deployments=[], faults=faults or {},
                 status_calls=0, deployment_calls=0, namespaces=[], datastore_namespaces=[], repos=[],
                 datasets=[], deployment_configs=[], route_error_hits={})


def reply(status, body=None):
    return JSONResponse(status_code=status, content=body if body is not None else {})


def checked(model, data):
    """data, after checking that the SDK's model reads it."""
    model.model_validate(data)
    return data


def public_state():
    jobs = {k: {"body": v["body"], "polls": v["polls"], "cancelled": v["cancelled"]} for k, v in STATE["jobs"].items()}
    return {"requests": STATE["requests"], "files": STATE["files"], "files_b64": STATE["files_b64"],
            "status_calls": STATE["status_calls"], "jobs": jobs, "datasets": STATE["datasets"],
            "namespaces": STATE["namespaces"], "datastore_namespaces": STATE["datastore_namespaces"],
            "deployment_configs": STATE["deployment_configs"], "deployments": STATE["deployments"],
            "faults": STATE["faults"]}


@app.middleware("http")
async def record_and_fault(request: Request, call_next):
    path = request.url.path
    if path.startswith("/_test/") or path.startswith("/control/"):
        return await call_next(request)
    body = await request.body()
    query = request.url.query
    STATE["requests"].append({
        "method": request.method,
        "path": path + ("?" + query if query else ""),
        "content_type": request.headers.get("content-type"),
        "authorization": request.headers.get("authorization"),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": body.decode("utf-8", "replace"),
        "body_b64": base64.b64encode(body).decode("ascii"),
    })
    for i, rule in enumerate(STATE["faults"].get("route_errors", [])):
        if rule.get("method", request.method).upper() != request.method:
            continue
        if not re.fullmatch(rule.get("path", ".*"), path):
            continue
        hits = STATE["route_error_hits"].get(i, 0)
        count = rule.get("count")
        if count is not None and hits >= count:
            continue
        STATE["route_error_hits"][i] = hits + 1
        return reply(int(rule.get("status", 500)), {"detail": "injected error"})
    return await call_next(request)


# ---- test routes -------------------------------------------------------------------------------------------------
@app.get("/_test/state")
@app.get("/control/state")
async def get_state():
    return public_state()


@app.get("/control/requests")
async def get_requests():
    return STATE["requests"]


@app.get("/control/files")
async def get_files():
    return {"files": STATE["files"], "files_b64": STATE["files_b64"]}


@app.post("/_test/faults")
@app.post("/control/faults")
async def set_faults(request: Request):
    body = await request.body()
    STATE["faults"] = json.loads(body or b"{}")
    STATE["route_error_hits"] = {}
    return {}


@app.post("/_test/reset")
@app.post("/control/reset")
async def do_reset():
    reset()
    return {}


# ---- Entity Store ------------------------------------------------------------------------------------------------
@app.get("/v1/namespaces")
async def list_namespaces():
    return {"object": "list", "data": [checked(Namespace, {"id": n["id"]}) for n in STATE["namespaces"]]}


@app.post("/v1/namespaces")
async def create_namespace(request: Request):
    req = json.loads(await request.body())
    if any(n["id"] == req.get("id") for n in STATE["namespaces"]):
        return reply(409, {"detail": "Namespace already exists"})
    STATE["namespaces"].append(req)
    return checked(Namespace, {"id": req.get("id"), "description": req.get("description"),
                               "created_at": STAMP, "updated_at": STAMP})


@app.post("/v1/datasets")
async def create_dataset(request: Request):
    req = json.loads(await request.body())
    STATE["datasets"].append(req)
    return checked(Dataset, {**req, "id": "dataset-%d" % len(STATE["datasets"]), "created_at": STAMP,
                             "updated_at": STAMP})


# ---- Data Store ---------------------------------------------------------------------------------------------------
@app.get("/v1/datastore/namespaces")
async def list_datastore_namespaces():
    return {"namespaces": [{"namespace": n} for n in STATE["datastore_namespaces"]]}


@app.post("/v1/datastore/namespaces")
async def create_datastore_namespace(request: Request):
    form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
    ns = (form.get("namespace") or [""])[0]
    if ns in STATE["datastore_namespaces"]:
        return reply(409, {"detail": "namespace already exists"})
    STATE["datastore_namespaces"].append(ns)
    return reply(201, {"namespace": ns, "created_at": STAMP})


@app.post("/v1/hf/api/repos/create")
async def create_repo(request: Request):
    req = json.loads(await request.body())
    repo = (req["organization"] + "/" + req["name"]) if req.get("organization") else req["name"]
    kind = req.get("type") or "model"
    prefix = "" if kind == "model" else kind + "s/"
    url = "%s/v1/hf/%s%s" % (str(request.base_url).rstrip("/"), prefix, repo)
    if repo in STATE["repos"]:
        return reply(409, {"error": "You already created this %s repo" % kind, "url": url})
    STATE["repos"].append(repo)
    return {"url": url, "name": repo, "id": repo}


@app.post("/v1/hf/api/{kind}/{ns}/{name}/preupload/{revision}")
async def preupload(kind: str, ns: str, name: str, revision: str, request: Request):
    files = json.loads(await request.body()).get("files", [])
    mode = STATE["faults"].get("upload_mode", "regular")
    return {"files": [{"path": f["path"], "uploadMode": mode, "shouldIgnore": False} for f in files],
            "commitOid": "0" * 40}


@app.post("/v1/hf/api/{kind}/{ns}/{name}/commit/{revision}")
async def commit(kind: str, ns: str, name: str, revision: str, request: Request):
    repo = ns + "/" + name
    body = await request.body()
    for line in body.decode("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("key") != "file":
            continue
        value = item["value"]
        data = base64.b64decode(value["content"]) if value.get("encoding", "base64") == "base64" else \
            value["content"].encode("utf-8")
        key = repo + "/" + value["path"]
        STATE["files"][key] = data.decode("utf-8", "replace")
        STATE["files_b64"][key] = base64.b64encode(data).decode("ascii")
        if FILES_DIR:
            target = os.path.join(FILES_DIR, key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
    oid = "%040x" % (len(STATE["files"]) + 1)
    base = str(request.base_url).rstrip("/")
    return {"commitUrl": "%s/v1/hf/%s/%s/commit/%s" % (base, kind, repo, oid), "commitOid": oid,
            "success": True}


# ---- Customizer ---------------------------------------------------------------------------------------------------
def job_step(job):
    """The (status, percentage_done, epochs_completed) a status request answers now."""
    faults = STATE["faults"]
    machine = faults.get("job_machine")
    if machine is not None:
        epochs = machine.get("epochs")
        if epochs is None:
            epochs = int((job["body"].get("hyperparameters") or {}).get("epochs") or 1)
        pending = int(machine.get("pending", 1))
        per_epoch = max(1, int(machine.get("polls_per_epoch", 1)))
        if machine.get("step_seconds"):
            tick = int((time.monotonic() - job["created"]) / float(machine["step_seconds"]))
        else:
            tick = job["polls"]
        steps = [["created", 0, None]] + [["pending", 0, None]] * pending
        for e in range(epochs):
            steps += [["running", 100.0 * e / epochs, e]] * per_epoch
        steps.append(["completed", 100.0, epochs])
    else:
        steps = [list(s) for s in faults.get("job_statuses", DEFAULT_STATUSES)]
        tick = job["polls"]
    if faults.get("job_stall"):
        steps = [s for s in steps if s[0] not in ("completed", "failed", "cancelled")] or [["running", 0, 0]]
        if steps[-1][0] != "running":
            steps.append(["running", steps[-1][1], steps[-1][2]])
    elif faults.get("job_fail"):
        before = steps[-2] if len(steps) > 1 else ["running", 0, 0]
        steps = steps[:-1] + [["failed", before[1], before[2]]]
    return steps[min(tick, len(steps) - 1)]


def lookup_job(job_id):
    return STATE["jobs"].get(urllib.parse.unquote(job_id))


@app.post("/v1/customization/jobs")
async def create_job(request: Request):
    faults = STATE["faults"]
    if "job_create_status" in faults:
        return reply(int(faults["job_create_status"]), {"detail": "job creation refused"})
    req = json.loads(await request.body())
    job_id = "cust-%d" % (len(STATE["jobs"]) + 1)
    dataset = req.get("dataset") or {}
    ns = dataset.get("namespace", "default") if isinstance(dataset, dict) else "default"
    STATE["jobs"][job_id] = {"id": job_id, "body": req, "polls": 0, "cancelled": False, "created": time.monotonic(),
                             "last": ["created", 0, None]}
    out = dict(req)
    out.update(id=job_id, status="created", created_at=STAMP, updated_at=STAMP,
               output_model=ns + "/dpo-model@" + job_id)
    return checked(CustomizationJob, out)


def status_body(job, step):
    return checked(CustomizationStatusDetails, {
        "id": job["id"], "status": step[0], "percentage_done": step[1], "epochs_completed": step[2],
        "created_at": STAMP, "updated_at": STAMP})


@app.get("/v1/customization/jobs/{job_id}/status")
async def job_status(job_id: str):
    faults = STATE["faults"]
    job = lookup_job(job_id)
    if job is None:
        return reply(404, {"detail": "no such job"})
    STATE["status_calls"] += 1
    n = STATE["status_calls"]
    if faults.get("status_delay"):
        await asyncio.sleep(float(faults["status_delay"]))
    if n <= int(faults.get("status_errors", 0)) or n >= int(faults.get("status_error_from", 1 << 30)):
        return reply(500, {"detail": "status backend unavailable"})
    if job["cancelled"]:
        return status_body(job, ["cancelled", job["last"][1], job["last"][2]])
    step = job_step(job)
    job["polls"] += 1
    job["last"] = step
    return status_body(job, step)


@app.get("/v1/customization/jobs/{job_id}")
async def get_job(job_id: str):
    job = lookup_job(job_id)
    if job is None:
        return reply(404, {"detail": "no such job"})
    out = dict(job["body"])
    out.update(id=job["id"], status="cancelled" if job["cancelled"] else job["last"][0])
    return checked(CustomizationJob, out)


@app.post("/v1/customization/jobs/{job_id}/cancel")
async def cancel_job(job_id: str):
    job = lookup_job(job_id)
    if job is None:
        return reply(404, {"detail": "no such job"})
    job["cancelled"] = True
    out = dict(job["body"])
    out.update(id=job["id"], status="cancelled", created_at=STAMP, updated_at=STAMP)
    return checked(CustomizationJob, out)


# ---- Deployment ---------------------------------------------------------------------------------------------------
@app.post("/v1/deployment/configs")
async def create_deployment_config(request: Request):
    req = json.loads(await request.body())
    STATE["deployment_configs"].append(req)
    return checked(DeploymentConfig, {**req, "created_at": STAMP, "updated_at": STAMP})


@app.post("/v1/deployment/model-deployments")
async def create_model_deployment(request: Request):
    req = json.loads(await request.body())
    STATE["deployments"].append(req)
    return checked(ModelDeployment, {**req, "status_details": {"status": "pending"},
                                     "url": "http://127.0.0.1/nim/" + str(req.get("name"))})


@app.get("/v1/deployment/model-deployments")
async def list_model_deployments():
    faults = STATE["faults"]
    statuses = ["pending"] if faults.get("deployment_never_ready") else \
        faults.get("deployment_statuses", ["pending", "ready"])
    status = statuses[min(STATE["deployment_calls"], len(statuses) - 1)]
    STATE["deployment_calls"] += 1
    data = [checked(ModelDeployment, {"name": d.get("name"), "namespace": d.get("namespace"),
                                      "config": d.get("config"), "url": "http://127.0.0.1/nim/" + str(d.get("name")),
                                      "status_details": {"status": status, "description": "deployment " + status}})
            for d in STATE["deployments"]]
    return {"object": "list", "data": data}


@app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
async def not_found(rest: str):
    return reply(404, {"detail": "not found: /" + rest})


def main():
    global FILES_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--files-dir", default=None, help="also write every committed file under DIR/<ns>/<name>/")
    args = parser.parse_args()
    FILES_DIR = args.files_dir
    reset()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
