#!/usr/bin/env python3
"""The Windows openpipe-art plugin under Wine against the reference ART
server (run natively): with libcurl-x64.dll beside the plugin, initialize
and the health check succeed; without it, initialize fails naming the DLLs
it looked for.

    wine_art_test.py ART_PYTHON SERVER_PY ART_INITIALIZE_EXE PLUGIN_DLL LIBCURL_DLL

Each case runs in a fresh folder holding the exe, the plugin DLL and (or
not) the libcurl DLL with the DLLs it imports, so nothing else is found. About 3 s once Wine's
prefix exists.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ART_PYTHON, SERVER_PY, EXE, PLUGIN, LIBCURL = sys.argv[1:6]
WINE = os.environ.get("MESON_EXE_WRAPPER", "wine")


def run_in_folder(port, with_curl, *extra):
    folder = tempfile.mkdtemp(prefix="nat-wine-")
    try:
        shutil.copy(EXE, folder)
        shutil.copy(PLUGIN, folder)
        if with_curl:  # with the DLLs it imports
            for name in os.listdir(os.path.dirname(LIBCURL)):
                if name.endswith(".dll"):
                    shutil.copy(os.path.join(os.path.dirname(LIBCURL), name), folder)
        env = dict(os.environ, WINEDEBUG="-all", WINEPATH="")
        exe = os.path.join(folder, os.path.basename(EXE))
        return subprocess.run([WINE, exe, str(port), *extra], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=120)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class WineArt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen([ART_PYTHON, SERVER_PY, "--dialect", "0.4", "--port", "0"],
                                      stdout=subprocess.PIPE, text=True)
        cls.port = json.loads(cls.server.stdout.readline())["control_port"]

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=30)

    def test_initialize_through_libcurl_dll(self):
        r = run_in_folder(self.port, True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("initialized; healthy=1", r.stdout)

    def test_missing_libcurl_is_a_clear_error(self):
        r = run_in_folder(self.port, False, "missing")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("libcurl-x64.dll could not be loaded: none of libcurl-x64.dll, libcurl.dll, "
                      "libcurl-4.dll beside the plugin or in the DLL search path", r.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
