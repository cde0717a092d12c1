"""Checks tests/unit/config_lax_table.json against pydantic.

The table lists JSON values and what a field of NAT's config models (pydantic
v2, lax mode, as NAT validates the dicts PyYAML loads) makes of each: float,
int and bool fields. The unit test config_lax_test.cpp checks the plugins'
config parsing against the same table. This script asks pydantic itself:

  config_lax_table_check.py [--python PY] [--write]

--python names the interpreter with pydantic (NAT's virtual environment); the
check is skipped (exit 77) when it does not exist. --write regenerates the
expected values from pydantic instead of checking them.
"""
import json
import math
import os
import subprocess
import sys

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config_lax_table.json")


def verdict(adapter, value):
    try:
        out = adapter.validate_python(value)
    except Exception:  # pydantic.ValidationError
        return "refused"
    if isinstance(out, float) and (math.isinf(out) or math.isnan(out)):
        return repr(out)  # 'inf', '-inf', 'nan': JSON cannot hold them
    return out


def main():
    args = sys.argv[1:]
    python = None
    if "--python" in args:
        python = args[args.index("--python") + 1]
    write = "--write" in args
    if python and os.path.realpath(python) != os.path.realpath(sys.executable):
        if not os.path.exists(python):
            print(f"skipped: no interpreter at {python}")
            return 77
        rest = [a for a in args if a != "--python" and a != python]
        return subprocess.call([python, os.path.abspath(__file__), *rest])
    try:
        import pydantic
        from pydantic import TypeAdapter
    except ImportError:
        print("skipped: pydantic is not installed for " + sys.executable)
        return 77
    adapters = {"float": TypeAdapter(float), "int": TypeAdapter(int), "bool": TypeAdapter(bool)}
    with open(TABLE) as f:
        table = json.load(f)
    mismatches = 0
    for kind, rows in table["agrees"].items():
        for row in rows:
            got = verdict(adapters[kind], row["in"])
            if write:
                row["out"] = got
            elif got != row["out"] or type(got) is not type(row["out"]):
                mismatches += 1
                print(f"{kind} {row['in']!r}: table says {row['out']!r}, pydantic {pydantic.VERSION} gives {got!r}")
    # Inputs pydantic accepts and the plugins refuse (stricter corners).
    for kind, rows in table["stricter"].items():
        for row in rows:
            if verdict(adapters[kind], row["in"]) == "refused":
                mismatches += 1
                print(f"{kind} {row['in']!r}: listed as stricter than pydantic, but pydantic refuses it too")
    if write:
        with open(TABLE, "w") as f:
            json.dump(table, f, indent=1, ensure_ascii=True)
            f.write("\n")
        print(f"written with pydantic {pydantic.VERSION}")
        return 0
    count = sum(len(r) for r in table["agrees"].values()) + sum(len(r) for r in table["stricter"].values())
    print(f"{count} rows checked against pydantic {pydantic.VERSION}: {mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
