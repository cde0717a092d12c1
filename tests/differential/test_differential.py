#!/usr/bin/env python3
"""Differential test: the plugin's conversion against NAT's own Python adapter.

    test_differential.py --plugin build/plugin/libnat_trainer_adapter_openpipe_art.so \
                         --nat-python .venv/nat/bin/python [--count N] [--seed S]

For every collection made by gen_collections.py it compares
- NAT: TrajectoryCollection.model_validate, then ARTTrainerAdapter.
  _construct_trajectory_groups (nat_reference.py, run once in the NAT venv
  on all collections), and the model_dump(mode="json") of the groups;
- ours: nat_trainer_adapter_convert() through ctypes, and the
  "trajectory_groups" of the /_train_model body it returns.

Outcome classes must agree:
  NAT groups                      <=> ours succeeds, trajectory_groups equal as JSON
                                      (null-valued keys dropped recursively,
                                      numbers compared numerically)
  NAT ValueError from _validate_episode_order
                                  <=> ours INVALID_ARGUMENT containing NAT's message
  NAT no groups                   <=> ours INVALID_ARGUMENT containing
                                      "No valid trajectory groups to submit."
  NAT model_validate error        <=> ours INVALID_ARGUMENT (containing "logprobs must be
                                      provided for assistant role." when NAT's does)
  NAT other exception (crash)     <=> ours INVALID_ARGUMENT

Cases tagged with a gen_collections.KNOWN_DIVERGENCES entry are run and
reported but not counted. Exit 0 when all compared cases agree, 1 otherwise,
77 (skip) when the NAT venv is not there.
"""

import argparse
import ctypes
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import gen_collections as gen  # noqa: E402

SKIP = 77
INVALID_ARGUMENT = 1
DEFAULT_CONFIG = '{"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":7623}}'
CODE_NAMES = {0: "OK", 1: "INVALID_ARGUMENT", 2: "NOT_FOUND", 3: "ALREADY_EXISTS", 4: "FAILED_PRECONDITION",
              5: "UNAVAILABLE", 6: "DEADLINE_EXCEEDED", 7: "CANCELLED", 8: "INTERNAL"}


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------


def drop_nulls(v):
    if isinstance(v, dict):
        return {k: drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [drop_nulls(x) for x in v]
    return v


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _num_equal(a, b):
    try:
        fa, fb = float(a), float(b)
    except OverflowError:
        return a == b
    if math.isnan(fa) and math.isnan(fb):
        return True
    return fa == fb


def first_difference(a, b, path="$"):
    """Returns (path, a_part, b_part) of the first difference, or None."""
    if _is_num(a) and _is_num(b):
        return None if _num_equal(a, b) else (path, a, b)
    if type(a) is not type(b):
        return (path, a, b)
    if isinstance(a, dict):
        for k in a:
            if k not in b:
                return (path + _key(k), a[k], "<missing>")
        for k in b:
            if k not in a:
                return (path + _key(k), "<missing>", b[k])
        for k in a:
            d = first_difference(a[k], b[k], path + _key(k))
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        if len(a) != len(b):
            return ("%s (length)" % path, len(a), len(b))
        return None
    return None if a == b else (path, a, b)


def shape_difference(a, b):
    """Different numbers of groups or of trajectories per group (a trajectory
    kept by one side and dropped by the other) are reported as such, rather
    than as the first field that differs after the lists fall out of step."""
    if not isinstance(b, list):
        return None
    ca = [len(g.get("trajectories", [])) if isinstance(g, dict) else None for g in a]
    cb = [len(g.get("trajectories", [])) if isinstance(g, dict) else None for g in b]
    if ca != cb:
        return ("$[*].trajectories (trajectories kept per group)", ca, cb)
    return None


def _key(k):
    return "." + k if k.isidentifier() else "[%s]" % json.dumps(k)


# --------------------------------------------------------------------------
# The plugin through ctypes
# --------------------------------------------------------------------------


class Plugin:
    def __init__(self, path, config_json):
        lib = ctypes.CDLL(path)
        self.lib = lib
        vp = ctypes.c_void_p
        lib.nat_trainer_adapter_abi_version.restype = ctypes.c_uint32
        lib.nat_trainer_adapter_abi_version.argtypes = []
        lib.nat_trainer_adapter_error_code.restype = ctypes.c_int32
        lib.nat_trainer_adapter_error_code.argtypes = [vp]
        lib.nat_trainer_adapter_error_message.restype = ctypes.c_char_p
        lib.nat_trainer_adapter_error_message.argtypes = [vp]
        lib.nat_trainer_adapter_error_free.restype = None
        lib.nat_trainer_adapter_error_free.argtypes = [vp]
        lib.nat_trainer_adapter_buffer_data.restype = vp
        lib.nat_trainer_adapter_buffer_data.argtypes = [vp]
        lib.nat_trainer_adapter_buffer_size.restype = ctypes.c_size_t
        lib.nat_trainer_adapter_buffer_size.argtypes = [vp]
        lib.nat_trainer_adapter_buffer_free.restype = None
        lib.nat_trainer_adapter_buffer_free.argtypes = [vp]
        lib.nat_trainer_adapter_create.restype = vp
        lib.nat_trainer_adapter_create.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(vp)]
        lib.nat_trainer_adapter_destroy.restype = None
        lib.nat_trainer_adapter_destroy.argtypes = [vp]
        lib.nat_trainer_adapter_convert.restype = vp
        lib.nat_trainer_adapter_convert.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(vp)]
        abi = lib.nat_trainer_adapter_abi_version()
        if abi >> 16 != 1:
            raise RuntimeError("plugin ABI major %d, expected 1" % (abi >> 16))
        cfg = config_json.encode("utf-8")
        handle = vp()
        err = lib.nat_trainer_adapter_create(cfg, len(cfg), ctypes.byref(handle))
        if err:
            code, msg = self._take_error(err)
            raise RuntimeError("nat_trainer_adapter_create failed: %s %s" % (CODE_NAMES.get(code, code), msg))
        self.handle = handle

    def _take_error(self, err):
        code = self.lib.nat_trainer_adapter_error_code(err)
        msg = (self.lib.nat_trainer_adapter_error_message(err) or b"").decode("utf-8", "replace")
        self.lib.nat_trainer_adapter_error_free(err)
        return code, msg

    def convert(self, text):
        """Returns ("ok", body_bytes) or ("error", code, message)."""
        data = text.encode("utf-8")
        out = ctypes.c_void_p()
        err = self.lib.nat_trainer_adapter_convert(self.handle, data, len(data), ctypes.byref(out))
        if err:
            code, msg = self._take_error(err)
            if out.value:
                self.lib.nat_trainer_adapter_buffer_free(out)
                return ("error", code, msg + " [BUG: out_body not NULL on error]")
            return ("error", code, msg)
        if not out.value:
            return ("error", -1, "BUG: convert returned no error and no buffer")
        try:
            size = self.lib.nat_trainer_adapter_buffer_size(out)
            ptr = self.lib.nat_trainer_adapter_buffer_data(out)
            body = ctypes.string_at(ptr, size)
        finally:
            self.lib.nat_trainer_adapter_buffer_free(out)
        return ("ok", body)

    def close(self):
        if self.handle:
            self.lib.nat_trainer_adapter_destroy(self.handle)
            self.handle = None


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def skip_reason(nat_python):
    venv = os.path.dirname(os.path.dirname(os.path.abspath(nat_python)))
    marker = os.path.join(os.path.dirname(venv), "nat-unavailable.txt")
    if os.path.isfile(marker):
        with open(marker, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    if not os.path.exists(nat_python):
        return "no NAT venv at %s; run tools/setup-nat-venv.sh" % venv
    if not os.path.isfile(os.path.join(venv, ".nat-requirements.sha256")):
        return "the NAT venv at %s is incomplete (no install stamp); rerun tools/setup-nat-venv.sh" % venv
    return None


def shorten(v, limit):
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, allow_nan=True)
    return s if len(s) <= limit else s[:limit] + "... (%d chars)" % len(s)


def jv(v, limit):
    """A JSON value as JSON text (strings quoted, so "-0.5" and -0.5 differ)."""
    return shorten(json.dumps(v, ensure_ascii=False, allow_nan=True), limit)


def describe_ours(ours):
    if ours[0] == "ok":
        return "OK body (%d bytes)" % len(ours[1])
    return "%s: %s" % (CODE_NAMES.get(ours[1], ours[1]), ours[2])


def describe_nat(nat):
    o = nat["outcome"]
    if o == "ok":
        return "ok: %d group(s), trajectories per group %s%s" % (
            len(nat["groups"]), [len(g["trajectories"]) for g in nat["groups"]],
            ("; dropped %d: %s" % (len(nat.get("dropped", [])), shorten(nat["dropped"], 300)))
            if nat.get("dropped") else "")
    return "%s%s: %s" % (o, (" (%s)" % nat["type"]) if nat.get("type") else "", shorten(nat.get("message", ""), 600))


def compare(case, nat, ours):
    """Returns None when they agree, else a dict describing the mismatch."""
    o = nat["outcome"]
    if o == "ok":
        if ours[0] != "ok":
            return {"why": "NAT converts, ours fails"}
        try:
            body = json.loads(ours[1].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return {"why": "our body is not JSON: %s" % e}
        if not isinstance(body, dict) or "trajectory_groups" not in body:
            return {"why": "our body has no trajectory_groups", "ours_body": shorten(ours[1].decode("utf-8", "replace"),
                                                                                    800)}
        a = drop_nulls(nat["groups"])
        b = drop_nulls(body["trajectory_groups"])
        d = shape_difference(a, b) or first_difference(a, b)
        if d:
            return {"why": "trajectory_groups differ", "path": d[0], "nat_value": d[1], "ours_value": d[2],
                    "nat_groups": a, "ours_groups": b}
        return None
    if ours[0] == "ok":
        return {"why": "NAT rejects (%s), ours converts" % o}
    code, msg = ours[1], ours[2]
    if code != INVALID_ARGUMENT:
        return {"why": "NAT %s, ours fails with %s instead of INVALID_ARGUMENT" % (o, CODE_NAMES.get(code, code))}
    if o == "order_error" and nat["message"] not in msg:
        return {"why": "our message lacks NAT's %r" % nat["message"]}
    if o == "no_groups" and gen.MSG_NO_GROUPS not in msg:
        return {"why": "our message lacks %r" % gen.MSG_NO_GROUPS}
    if o == "model_error" and gen.MSG_LOGPROBS in nat["message"] and gen.MSG_LOGPROBS not in msg:
        return {"why": "our message lacks NAT's %r" % gen.MSG_LOGPROBS}
    return None


def check_expectation(case, nat):
    """The generator's belief about NAT against NAT itself; None when right."""
    e = case["expect"]
    o = nat["outcome"]
    if e["outcome"] != o:
        return "expected %s, NAT gave %s" % (e["outcome"], describe_nat(nat))
    if o in ("order_error", "no_groups") and e.get("message") and e["message"] != nat.get("message"):
        return "expected message %r, NAT gave %r" % (e["message"], nat.get("message"))
    if o == "model_error" and e.get("message") and e["message"] not in nat.get("message", ""):
        return "expected a model error containing %r, NAT gave %s" % (e["message"], shorten(nat.get("message"), 300))
    if o == "crash" and e.get("type") and e["type"] != nat.get("type"):
        return "expected crash %s, NAT gave %s" % (e["type"], nat.get("type"))
    if o == "ok" and e.get("kept") is not None:
        got = [len(g["trajectories"]) for g in nat["groups"]]
        if got != e["kept"]:
            return "expected kept trajectories per group %s, NAT kept %s" % (e["kept"], got)
    return None


def print_failure(n, case, nat, ours, mm, limit):
    print("-" * 78)
    print("MISMATCH %d: %s  scenario=%s" % (n, case["id"], case["scenario"]))
    print("  why:  %s" % mm["why"])
    if "path" in mm:
        print("  first difference at %s" % mm["path"])
        print("    NAT:  %s" % jv(mm["nat_value"], 400))
        print("    ours: %s" % jv(mm["ours_value"], 400))
    print("  NAT:  %s" % describe_nat(nat))
    print("  ours: %s" % describe_ours(ours))
    print("  collection: %s" % shorten(case["text"], limit))
    if "nat_groups" in mm:
        print("  NAT groups (nulls dropped):  %s" % shorten(mm["nat_groups"], limit))
        print("  our groups (nulls dropped):  %s" % shorten(mm["ours_groups"], limit))
    if ours[0] == "ok" and "nat_groups" not in mm:
        print("  our body: %s" % shorten(ours[1].decode("utf-8", "replace"), limit))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Differential test of the plugin against NAT's ARTTrainerAdapter.")
    ap.add_argument("--plugin", help="path to libnat_trainer_adapter_openpipe_art.so")
    ap.add_argument("--nat-python", required=True, help="python of the NAT venv (.venv/nat/bin/python)")
    ap.add_argument("--count", type=int, default=0,
                    help="collections to generate (default: 3 per scenario, %d)" % (3 * len(gen.scenarios())))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("NAT_DIFF_SEED", "20250601")))
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="adapter config JSON for nat_trainer_adapter_create")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print in full")
    ap.add_argument("--limit", type=int, default=3000, help="characters of each JSON to print")
    ap.add_argument("--keep", help="directory to keep cases.jsonl / nat.jsonl / ours.jsonl in")
    ap.add_argument("--only", help="run only the scenarios containing this text")
    ap.add_argument("--nat-only", action="store_true",
                    help="run NAT only and check the generator's expectations (no plugin needed)")
    ap.add_argument("--strict-expectations", action="store_true",
                    help="fail when NAT's behaviour differs from what the generator expects")
    args = ap.parse_args(argv)

    reason = skip_reason(args.nat_python)
    if reason:
        print("SKIP: nvidia-nat-openpipe-art is not installed (%s)" % reason)
        return SKIP
    if args.nat_only:
        args.strict_expectations = True
    elif not args.plugin or not os.path.isfile(args.plugin):
        print("ERROR: plugin %s does not exist" % args.plugin)
        return 1

    count = args.count or 3 * len(gen.scenarios())
    t0 = time.time()
    cases = gen.generate(count, args.seed)
    if args.only:
        cases = [c for c in cases if args.only in c["scenario"]]
    by_id = {c["id"]: c for c in cases}

    tmp = args.keep or tempfile.mkdtemp(prefix="nat-diff-")
    os.makedirs(tmp, exist_ok=True)
    cases_path = os.path.join(tmp, "cases.jsonl")
    nat_path = os.path.join(tmp, "nat.jsonl")
    with open(cases_path, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=True) + "\n")

    t1 = time.time()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    proc = subprocess.run([args.nat_python, os.path.join(HERE, "nat_reference.py"), cases_path, nat_path],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=540)
    if proc.returncode != 0:
        print("ERROR: nat_reference.py failed with exit code %d" % proc.returncode)
        print(proc.stderr.decode("utf-8", "replace")[-4000:])
        return 1
    header = None
    nat = {}
    with open(nat_path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if "header" in d:
                header = d["header"]
            else:
                nat[d["id"]] = d
    t2 = time.time()

    ours = {}
    if args.nat_only:
        for c in cases:
            ours[c["id"]] = ("error", -1, "not run (--nat-only)")
    else:
        plugin = Plugin(args.plugin, args.config)
        try:
            for c in cases:
                ours[c["id"]] = plugin.convert(c["text"])
        finally:
            plugin.close()
    t3 = time.time()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.keep:
        with open(os.path.join(tmp, "ours.jsonl"), "w", encoding="utf-8") as f:
            for cid, o in ours.items():
                rec = {"id": cid, "ok": o[0] == "ok"}
                if o[0] == "ok":
                    rec["body"] = o[1].decode("utf-8", "replace")
                else:
                    rec.update(code=o[1], message=o[2])
                f.write(json.dumps(rec, ensure_ascii=True) + "\n")

    print("NAT reference: %s, adapter %s" % (json.dumps(header.get("versions")), header.get("adapter_mode")))
    if header.get("adapter_error"):
        print("  (adapter construction failed: %s; NAT's method was called unbound)" % header["adapter_error"])
    print("generated %d collections (seed %d) in %.1fs; NAT %.1fs; plugin %.1fs" % (
        len(cases), args.seed, t1 - t0, t2 - t1, t3 - t2))

    passed, failed, skipped = 0, 0, 0
    failures = []
    expectation_notes = []
    kd_report = {}
    outcome_counts = {}
    for c in cases:
        n = nat.get(c["id"])
        if n is None:
            failures.append((c, {"outcome": "missing"}, ours[c["id"]], {"why": "no NAT result"}))
            failed += 1
            continue
        outcome_counts[n["outcome"]] = outcome_counts.get(n["outcome"], 0) + 1
        note = check_expectation(c, n)
        if note:
            expectation_notes.append((c, note))
        if args.nat_only:
            continue
        mm = compare(c, n, ours[c["id"]])
        if c["kd"]:
            skipped += 1
            for tag in c["kd"]:
                r = kd_report.setdefault(tag, {"cases": 0, "agree": 0, "example": None})
                r["cases"] += 1
                if mm is None:
                    r["agree"] += 1
                elif r["example"] is None:
                    r["example"] = (c, n, ours[c["id"]], mm)
            continue
        if mm is None:
            passed += 1
        else:
            failed += 1
            failures.append((c, n, ours[c["id"]], mm))

    print("NAT outcomes: %s" % ", ".join("%s %d" % kv for kv in sorted(outcome_counts.items())))

    if expectation_notes:
        print()
        print("NOTE: %d case(s) where NAT did not do what gen_collections.py expects "
              "(the generator's model of NAT is off; the comparison above is still valid):" % len(expectation_notes))
        for c, note in expectation_notes[:15]:
            print("  %s %s: %s" % (c["id"], c["scenario"], note))

    if kd_report:
        print()
        print("Known divergences (run, not counted; see gen_collections.KNOWN_DIVERGENCES):")
        for tag, r in sorted(kd_report.items()):
            status = "plugin agrees with NAT" if r["agree"] == r["cases"] else (
                "plugin differs in %d of %d" % (r["cases"] - r["agree"], r["cases"]))
            print("  %-28s %3d case(s): %s -- %s" % (tag, r["cases"], status, gen.KNOWN_DIVERGENCES[tag]))
            if r["example"]:
                c, n, o, mm = r["example"]
                print("      e.g. %s %s: %s; NAT %s; ours %s%s" % (
                    c["id"], c["scenario"], mm["why"], shorten(describe_nat(n), 200), shorten(describe_ours(o), 200),
                    (" (at %s: NAT %s, ours %s)" % (mm["path"], jv(mm["nat_value"], 80),
                                                   jv(mm["ours_value"], 80))) if "path" in mm else ""))

    if failures:
        print()
        by_why = {}
        for c, n, o, mm in failures:
                by_why.setdefault(mm["why"].split(" (")[0][:70], []).append(c["id"])
        print("Mismatches by kind:")
        for why, ids in sorted(by_why.items(), key=lambda kv: -len(kv[1])):
            print("  %4d  %s  (%s%s)" % (len(ids), why, ", ".join(ids[:6]), ", ..." if len(ids) > 6 else ""))
        for i, (c, n, o, mm) in enumerate(failures[:args.show]):
            print_failure(i + 1, c, n, o, mm, args.limit)
        print("-" * 78)
        if not args.keep:
            print("(rerun with --keep DIR to keep every case and both outputs)")

    strict_fail = args.strict_expectations and expectation_notes
    if args.nat_only:
        print()
        print("%d passed, %d failed" % (len(cases) - len(expectation_notes), len(expectation_notes)))
        return 1 if strict_fail else 0
    print()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or strict_fail else 0


if __name__ == "__main__":
    sys.exit(main())
