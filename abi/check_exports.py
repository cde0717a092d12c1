#!/usr/bin/env python3
"""Checks that a plugin exports exactly the functions of the header's list
(NAT_TRAINER_ADAPTER_FUNCTIONS in include/nat/trainer_adapter.h), and nothing
else (nm -D --defined-only).

    check_exports.py HEADER PLUGIN.so...
"""
import re
import subprocess
import sys


def header_functions(path):
    """The names of the X(minor, return type, name, parameters) entries."""
    text = open(path, encoding="utf-8").read()
    body = text[text.index("#define NAT_TRAINER_ADAPTER_FUNCTIONS(X)"):]
    body = body[: body.index("\n\n")]
    return {"nat_trainer_adapter_" + m for m in re.findall(r"X\(\s*\d+\s*,[^,]+,\s*(\w+)\s*,", body)}


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: check_exports.py HEADER PLUGIN.so...", file=sys.stderr)
        return 2
    allowed = header_functions(sys.argv[1])
    failed = 0
    for so in sys.argv[2:]:
        out = subprocess.run(["nm", "-D", "--defined-only", so], check=True, capture_output=True, text=True).stdout
        exported = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            kind, name = parts[1], parts[2].split("@")[0]
            if kind == "A":  # the version node itself, NAT_TRAINER_ADAPTER_1
                continue
            exported.add(name)
        extra = sorted(exported - allowed)
        missing = sorted(allowed - exported)
        if extra or missing:
            failed += 1
            print(f"FAIL {so}")
            for name in extra:
                print(f"  exported but not in the header's function list: {name}")
            for name in missing:
                print(f"  in the header's function list but not exported: {name}")
        else:
            print(f"ok   {so}: {len(exported)} symbols")
    print(f"{len(sys.argv) - 2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
