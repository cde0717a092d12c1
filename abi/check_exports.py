#!/usr/bin/env python3
"""Checks that a plugin exports exactly the allow-listed symbols (nm -D)."""
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: check_exports.py ALLOWLIST PLUGIN.so...", file=sys.stderr)
        return 2
    allowed = set()
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                allowed.add(line)
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
                print(f"  exported but not in the allow-list: {name}")
            for name in missing:
                print(f"  in the allow-list but not exported: {name}")
        else:
            print(f"ok   {so}: {len(exported)} symbols")
    print(f"{len(sys.argv) - 2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
