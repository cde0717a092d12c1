#!/usr/bin/env python3
"""Checks that a plugin exports exactly the functions of the header's list
(NAT_TRAINER_ADAPTER_FUNCTIONS in include/nat/trainer_adapter.h), and nothing
else (nm -D --defined-only; for a Windows DLL, --pe: the export table that
x86_64-w64-mingw32-objdump -p prints).

    check_exports.py HEADER PLUGIN.so...
    check_exports.py --pe [--objdump PROGRAM] HEADER PLUGIN.dll...
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


def elf_exports(so):
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
    return exported


def pe_exports(dll, objdump):
    """The names of the DLL's export table ("[Ordinal/Name Pointer] Table")."""
    out = subprocess.run([objdump, "-p", dll], check=True, capture_output=True, text=True).stdout
    exported = set()
    in_table = False
    for line in out.splitlines():
        if line.startswith("[Ordinal/Name Pointer] Table"):
            in_table = True
            continue
        if in_table:
            m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s*$", line)
            if not m:
                break
            exported.add(m.group(1))
    return exported


def main() -> int:
    args = sys.argv[1:]
    pe = objdump = None
    if args[:1] == ["--pe"]:
        pe, args = True, args[1:]
        objdump = "x86_64-w64-mingw32-objdump"
        if args[:1] == ["--objdump"] and len(args) > 1:
            objdump, args = args[1], args[2:]
    if len(args) < 2:
        print("usage: check_exports.py [--pe [--objdump PROGRAM]] HEADER PLUGIN...", file=sys.stderr)
        return 2
    allowed = header_functions(args[0])
    failed = 0
    for so in args[1:]:
        exported = pe_exports(so, objdump) if pe else elf_exports(so)
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
    print(f"{len(args) - 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
