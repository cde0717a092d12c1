#!/usr/bin/env python3
"""Runs a measuring script's main() and adds the CPU time it took.

    python_cpu.py SCRIPT ARGS...

SCRIPT (e.g. the shared python_baseline.py, which times itself in wall-clock
seconds only) is loaded without running its `__main__` block, so its imports
are not counted; then its main() runs with sys.argv = [SCRIPT, ARGS...] between
two time.process_time() readings. Prints the script's own output, then one line:

    cpu_s=.. wall_s=..

On a shared machine, CPU time compares with the native plugin's thread CPU
time where wall-clock seconds would also count the waits for a CPU.
"""
import runpy
import sys
import time


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    script = argv[1]
    namespace = runpy.run_path(script, run_name="__nat_bench_target__")
    if "main" not in namespace:
        print("python_cpu: %s has no main()" % script, file=sys.stderr)
        return 2
    sys.argv = argv[1:]
    c0 = time.process_time()
    w0 = time.perf_counter()
    rc = namespace["main"]()
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    sys.stdout.flush()
    print("cpu_s=%.3f wall_s=%.3f" % (cpu, wall), flush=True)
    return rc or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
