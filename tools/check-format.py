#!/usr/bin/env python3
"""The project's C and C++ style (.clang-format at the root) over every tracked source file.

  tools/check-format.py [--clang-format PROGRAM]          fails listing the files clang-format would change
  tools/check-format.py [--clang-format PROGRAM] --fix    reformats them in place

The files: `git ls-files` of *.c, *.h, *.cpp, *.hpp, *.cc, except fuzz inputs. clang-format must be
version 14 (Debian 12's clang-format-14, tools/setup-system.sh): other versions format differently.
Without a git checkout (a source archive) there is nothing to list and the check skips (exit 77).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

PATTERNS = ["*.c", "*.h", "*.cpp", "*.hpp", "*.cc"]
EXCLUDED = ("tests/fuzz/corpus/", "tests/fuzz/reproducers/")
VERSION = 14


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clang-format", default="")
    ap.add_argument("--fix", action="store_true")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    program = a.clang_format or shutil.which(f"clang-format-{VERSION}") or shutil.which("clang-format")
    if not program:
        print(f"clang-format-{VERSION} not found (Debian 12: apt-get install clang-format-{VERSION})")
        return 1
    version = subprocess.run([program, "--version"], capture_output=True, text=True).stdout
    if not re.search(rf"version {VERSION}\.", version):
        print(f"{program} is not clang-format {VERSION}: {version.strip()}")
        return 1
    listed = subprocess.run(["git", "-C", root, "ls-files", "-z", "--"] + PATTERNS, capture_output=True)
    if listed.returncode != 0:
        print("not a git checkout: no list of tracked files, nothing checked")
        return 77
    files = [f for f in listed.stdout.decode().split("\0") if f and not f.startswith(EXCLUDED)]
    files = [f for f in files if os.path.isfile(os.path.join(root, f))]  # deleted but not yet committed
    mode = ["-i"] if a.fix else ["--dry-run", "--Werror"]
    failing = []
    for start in range(0, len(files), 50):
        batch = files[start:start + 50]
        run = subprocess.run([program, "--style=file"] + mode + batch, cwd=root, capture_output=True, text=True)
        if run.returncode != 0:
            named = sorted({m.group(1) for m in re.finditer(r"^(\S+?):\d+:\d+: (?:error|warning)", run.stderr, re.M)})
            failing += named or batch
            if not named:
                print(run.stderr)
    if a.fix:
        print(f"reformatted {len(files)} files" + (f"; clang-format failed on: {failing}" if failing else ""))
        return 1 if failing else 0
    if failing:
        print(f"{len(failing)} of {len(files)} files are not formatted as .clang-format says:")
        print("\n".join("  " + f for f in failing))
        print("reformat them with: tools/check-format.py --fix (then review the diff)")
        return 1
    print(f"{len(files)} files formatted as .clang-format says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
