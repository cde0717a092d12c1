#!/usr/bin/env python3
"""run_in_venv.py PYTHON SCRIPT [ARGS...]: runs SCRIPT with PYTHON (a virtual environment's interpreter),
or exits 77 (skipped) when that interpreter does not exist (tools/setup-nemo-venvs.sh not run, or it
could not build the venv: .venv/nat-customizer-unavailable.txt says why)."""
import os
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
python = sys.argv[1]
if not os.access(python, os.X_OK):
    note = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(python))), "nat-customizer-unavailable.txt")
    reason = open(note).read().strip() if os.path.exists(note) else "run tools/setup-nemo-venvs.sh"
    print("SKIP: no %s (%s)" % (python, reason))
    sys.exit(77)
os.execv(python, [python] + sys.argv[2:])
