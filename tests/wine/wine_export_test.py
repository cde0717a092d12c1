#!/usr/bin/env python3
"""The jsonl_export plugin DLL under Wine writes its datasets: a collection
submitted twice gives two completed jobs and two .jsonl files (the second
never replaces the first), no .partial left, each dataset one JSON object
per line. About 1 s.

    wine_export_test.py EXPORT_FILES_EXE PLUGIN_DLL CORPUS_FILE
"""
import json
import os
import subprocess
import sys
import tempfile

EXE, PLUGIN_DLL, CORPUS_FILE = sys.argv[1:4]
WINE = os.environ.get("MESON_EXE_WRAPPER", "wine")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        collection = os.path.join(tmp, "collection.json")
        with open(CORPUS_FILE, "rb") as src, open(collection, "wb") as dst:
            dst.write(src.read()[1:])  # the fuzzer's option byte
        out_dir = os.path.join(tmp, "datasets")
        r = subprocess.run([WINE, EXE, out_dir, collection], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, WINEDEBUG="-all",
                                    WINEPATH=os.path.dirname(os.path.abspath(PLUGIN_DLL))))
        print(r.stdout, r.stderr)
        if r.returncode != 0:
            return 1
        statuses = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        if len(statuses) != 2 or any(s.get("status") != "completed" for s in statuses):
            print("FAIL: expected two completed jobs")
            return 1
        names = sorted(os.listdir(out_dir))
        print("files:", names)
        if len(names) != 2 or not all(n.endswith(".jsonl") for n in names):
            print("FAIL: expected two .jsonl datasets and nothing else")
            return 1
        for n in names:
            lines = open(os.path.join(out_dir, n), "rb").read().splitlines()
            if not lines or not all(isinstance(json.loads(line), dict) for line in lines):
                print(f"FAIL: {n} is not one JSON object per line")
                return 1
        print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
