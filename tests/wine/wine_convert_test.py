#!/usr/bin/env python3
"""convert on Windows equals convert on Linux: convert_files.c, built for
Windows against the openpipe-art DLL and run under Wine, and built here
with the system C compiler against the Linux build's plugin (LINUX_PLUGIN,
or $NAT_LINUX_ART_PLUGIN, default build/plugin/ in the source tree; skipped (77) when it is missing),
convert the fuzz corpus's collections (tests/fuzz/corpus/collection, without
the fuzzer's option byte); both outputs (converted bytes or
error code and message per file) must be equal byte for byte. About 2 s.

    wine_convert_test.py CONVERT_FILES_EXE PLUGIN_DLL SOURCE_C INCLUDE_DIR CORPUS_DIR [LINUX_PLUGIN]
"""
import filecmp
import os
import subprocess
import sys
import tempfile

EXE, PLUGIN_DLL, SOURCE, INCLUDE, CORPUS = sys.argv[1:6]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(SOURCE))))
LINUX_PLUGIN = sys.argv[6] if len(sys.argv) > 6 else os.environ.get(
    "NAT_LINUX_ART_PLUGIN", os.path.join(ROOT, "build", "plugin", "libnat_trainer_adapter_openpipe_art.so"))
WINE = os.environ.get("MESON_EXE_WRAPPER", "wine")


def main():
    if not os.path.exists(LINUX_PLUGIN):
        print(f"skipped: no Linux plugin at {LINUX_PLUGIN}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        # A fuzz corpus file is one option byte, then the collection.
        files = []
        for name in sorted(os.listdir(CORPUS)):
            files.append(os.path.join(tmp, name))
            with open(os.path.join(CORPUS, name), "rb") as src, open(files[-1], "wb") as dst:
                dst.write(src.read()[1:])
        native = os.path.join(tmp, "convert_files")
        # meson puts MinGW-w64's binutils first in PATH for the cross build.
        path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if "mingw32" not in p)
        subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", "-I", INCLUDE, SOURCE, LINUX_PLUGIN,
                        "-Wl,-rpath," + os.path.dirname(LINUX_PLUGIN), "-o", native], check=True,
                       env=dict(os.environ, PATH=path))
        linux_out, windows_out = os.path.join(tmp, "linux.out"), os.path.join(tmp, "windows.out")
        subprocess.run([native, linux_out, *files], check=True)
        subprocess.run([WINE, EXE, windows_out, *files], check=True, env=dict(os.environ, WINEDEBUG="-all", WINEPATH=os.path.dirname(os.path.abspath(PLUGIN_DLL))))
        if not filecmp.cmp(linux_out, windows_out, shallow=False):
            a, b = open(linux_out, "rb").read(), open(windows_out, "rb").read()
            at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            print(f"FAIL: outputs differ at byte {at} (Linux {len(a)} bytes, Windows {len(b)} bytes)")
            print("Linux:  ", a[max(0, at - 80):at + 80])
            print("Windows:", b[max(0, at - 80):at + 80])
            return 1
        print(f"ok: {len(files)} collections, {os.path.getsize(linux_out)} bytes equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
