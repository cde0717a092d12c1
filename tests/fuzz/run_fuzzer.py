#!/usr/bin/env python3
"""Runs one libFuzzer harness as a meson test (tests/fuzz/meson.build).

  run_fuzzer.py --replay ...   the checked-in reproducers, one by one, then the
                               seed corpus (-runs=0): every input must run clean
  run_fuzzer.py ...            fuzzes for FUZZ_SECONDS (default 45) from the
                               seed corpus and the work corpus kept in the
                               build directory between runs

Environment: FUZZ_SECONDS (0: no fuzzing, the test skips unless FUZZ_ARGS sets
-runs=N), FUZZ_ARGS (extra libFuzzer flags, e.g. "-seed=1"), ASAN_OPTIONS and
UBSAN_OPTIONS (defaults below unless set). The whole libFuzzer log goes to
<work-dir>/<mode>.log, crash inputs to <work-dir>/artifacts/; the test prints
a summary line and, on a failure, the first report.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPORT = re.compile(r"runtime error|==ERROR: (Address|Leak)Sanitizer|invariant failed|converter threw|"
                    r"terminate called|ERROR: libFuzzer: (timeout|out-of-memory)")


def first_report(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if REPORT.search(line):
            return "\n".join("    " + re.sub(r"\(BuildId: [0-9a-f]+\)", "", x) for x in lines[i:i + 7])
    return "    (no sanitizer report; last lines)\n" + "\n".join("    " + x for x in lines[-5:])


def run(cmd, log: Path, timeout=None) -> int:
    with log.open("w") as out:
        try:
            return subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return -9


def files_in(folder: Path):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fuzzer", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--max-len", required=True)
    ap.add_argument("--dict", required=True)
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--reproducers", required=True, type=Path)
    ap.add_argument("--work-dir", required=True, type=Path)
    ap.add_argument("--replay", action="store_true")
    a = ap.parse_args()

    os.environ.setdefault("ASAN_OPTIONS",
                          "halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1")
    os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    artifacts = a.work_dir / "artifacts"
    work_corpus = a.work_dir / "corpus"
    artifacts.mkdir(parents=True, exist_ok=True)
    work_corpus.mkdir(parents=True, exist_ok=True)
    common = [a.fuzzer, f"-max_len={a.max_len}", "-timeout=10", "-rss_limit_mb=2048", f"-dict={a.dict}",
              f"-artifact_prefix={artifacts}/"]
    extra = shlex.split(os.environ.get("FUZZ_ARGS", ""))

    if a.replay:
        # Reproducers of bugs found before (the notes beside them are not inputs).
        inputs = [p for p in files_in(a.reproducers) if p.suffix != ".md"]
        failed = 0
        for i, f in enumerate(inputs):
            log = a.work_dir / f"reproducer-{f.name}.log"
            if run(common + [str(f)], log) != 0:
                failed += 1
                print(f"{a.name}: reproducer {f} fails (log {log}):\n{first_report(log)}")
        log = a.work_dir / "replay.log"
        rc = run(common + ["-runs=0", str(a.corpus)], log)
        if rc != 0:
            print(f"{a.name}: the seed corpus {a.corpus} fails (exit {rc}, log {log}):\n{first_report(log)}")
        print(f"{a.name}: reproducers {len(inputs) - failed}/{len(inputs)} ok, "
              f"seed corpus ({len(files_in(a.corpus))} inputs) {'ok' if rc == 0 else 'FAILED'}")
        return 1 if failed or rc != 0 else 0

    seconds = os.environ.get("FUZZ_SECONDS", "45")
    if not seconds.isdigit():
        print(f"FUZZ_SECONDS must be a whole number, got '{seconds}'")
        return 1
    seconds = int(seconds)
    if seconds > 0:
        limit, guard = [f"-max_total_time={seconds}"], seconds + 300
    elif any(x.startswith("-runs=") for x in extra):
        limit, guard = [], None
    else:
        print("FUZZ_SECONDS=0: no fuzzing")
        return 77
    log = a.work_dir / "fuzz.log"
    before_artifacts = len(files_in(artifacts))
    before_corpus = len(files_in(work_corpus))
    start = time.monotonic()
    rc = run(common + limit + ["-print_final_stats=1"] + extra + [str(work_corpus), str(a.corpus)], log, guard)
    took = time.monotonic() - start
    text = log.read_text(errors="replace")
    execs = sum(int(x) for x in re.findall(r"^stat::number_of_executed_units:\s*(\d+)", text, re.M))
    if not execs:
        execs = int((re.findall(r"^#(\d+)", text, re.M) or ["0"])[-1])
    corpus = (re.findall(r" corp: (\d+)/", text) or ["?"])[-1]
    crashes = len(files_in(artifacts)) - before_artifacts
    print(f"{a.name}: {execs} execs in {took:.0f} s, {crashes} crash input(s), corpus {corpus} "
          f"({len(files_in(work_corpus)) - before_corpus} files added), log {log}")
    if rc != 0:
        why = "killed: over the time limit" if rc == -9 else f"exit {rc}"
        print(f"{a.name}: FAILED ({why}); inputs in {artifacts}\n{first_report(log)}")
        for line in text.splitlines():
            if "Test unit written" in line:
                print("    " + line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
