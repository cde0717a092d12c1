#!/usr/bin/env python3
"""Checks the bindings' declarations against the header's function list.

The one description of the ABI is NAT_TRAINER_ADAPTER_FUNCTIONS in
include/nat/trainer_adapter.h: X(minor, return type, name, parameters) per
function (the compiler checks it against the documented prototypes). This
compares with it

- Python (bindings/python/src/nat_trainer_adapter/_ffi.py, imported):
  FUNCTIONS in the list's order with the same types, MINORS, CODES, ABI;
- Rust (the c_abi! block of the -sys crate): the same functions and types,
  the 1.1 ones in its `optional` part, the codes and the ABI constants;
- Go (bindings/go): NTA_FUNCTIONS in the list's order and the 1.1 names of
  nta_since_minor (the cgo build itself static_asserts each shim typedef
  against the header), the codes of errors.go, ABIMajor.

    check_declarations.py [--header H] [--self-test]

--self-test also checks that edited copies of the header (a changed type, a
dropped function, an extra parameter, a changed code) are caught.
"""
import argparse
import importlib.util
import re
import sys
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
HEADER = HERE.parent / "include" / "nat" / "trainer_adapter.h"
PY_FFI = HERE / "python" / "src" / "nat_trainer_adapter" / "_ffi.py"
RUST = (HERE / "rust" / "nat-trainer-adapter-sys" / "src" / "lib.rs").read_text()
GO = {name: (HERE / "go" / name).read_text() for name in ("shim.h", "errors.go", "nattrainer.go")}
P = "nat_trainer_adapter_"


def c_type(text, named=False):
    """'const char *spool_dir' (named) -> 'const char*'."""
    tokens = re.findall(r"\w+|\*", text)[: -1 if named else None]
    return " ".join(t for t in tokens if t != "*") + "*" * tokens.count("*")


def parse_header(text):
    text = text.replace("\\\n", " ")
    body = text[text.index("#define NAT_TRAINER_ADAPTER_FUNCTIONS(X)"):].split("\n", 1)[0]
    funcs = {}
    for minor, ret, name, params in re.findall(r"X\((\d+),\s*([^,]+?),\s*(\w+),\s*\((.*?)\)\)", body):
        args = [] if params.strip() == "void" else [c_type(a, named=True) for a in params.split(",")]
        funcs[P + name] = (int(minor), c_type(ret), tuple(args))
    codes = {k: int(v) for k, v in re.findall(r"^\s*(NAT_TRAINER_ADAPTER_[A-Z_]+) = (\d+),", text, re.M)}
    abi = tuple(int(re.search(r"#define NAT_TRAINER_ADAPTER_ABI_%s (\d+)" % k, text).group(1)) for k in ("MAJOR", "MINOR"))
    return funcs, codes, abi


def rust_type(text):
    """'*mut *mut nat_trainer_adapter_buffer' -> 'nat_trainer_adapter_buffer**'."""
    quals = re.findall(r"\*\s*(mut|const)", text)
    base = re.sub(r"\*\s*(mut|const)\s*", "", text).strip()
    base = {"c_char": "char", "usize": "size_t", "f64": "double", "i32": "int32_t", "u32": "uint32_t", "": "void"}.get(base, base)
    return ("const " if quals and quals[-1] == "const" else "") + base + "*" * len(quals)


def check(header_text):
    funcs, codes, abi = parse_header(header_text)
    later = [n for n, f in funcs.items() if f[0] > 0]
    problems = []

    def same(binding, got, want):
        if got != want:
            problems.append(f"{binding}: {got!r}, the header {want!r}")

    spec = importlib.util.spec_from_file_location("_ffi_checked", PY_FFI)
    ffi = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ffi)
    same("python functions", [n for n, _, _ in ffi.FUNCTIONS], list(funcs))
    for name, restype, argtypes in ffi.FUNCTIONS:
        if name in funcs:
            no_const = lambda t: t.replace("const ", "")  # ctypes has no const
            same(f"python {name}", (ffi.C_TYPE_NAMES[restype], tuple(ffi.C_TYPE_NAMES[a] for a in argtypes)),
                 (no_const(funcs[name][1]), tuple(no_const(a) for a in funcs[name][2])))
    same("python MINORS", ffi.MINORS, {n: funcs[n][0] for n in later})
    same("python CODES", ffi.CODES, codes)
    same("python ABI", (ffi.ABI_MAJOR, ffi.ABI_MINOR), abi)

    block = RUST[RUST.index("c_abi! {"):]
    main, optional = block.split("optional {", 1)
    for part, names in ((main, [n for n in funcs if n not in later]), (optional, later)):
        got = {n: (rust_type(r or ""), tuple(rust_type(t) for t in re.findall(r"\w+\s*:\s*([^,]+?)\s*(?:,|$)", a.strip())))
               for n, a, r in re.findall(r"pub fn (\w+)\(([^)]*)\)\s*(?:->\s*([^;]+?))?\s*;", part)}
        same("rust functions" + (" (optional)" if part is optional else ""), list(got), names)
        for n in names:
            if n in got:
                same(f"rust {n}", got[n], funcs[n][1:])
    same("rust codes", {k: int(v) for k, v in re.findall(r"pub const (NAT_TRAINER_ADAPTER_[A-Z_]+): i32 = (\d+);", RUST)}, codes)
    same("rust ABI", tuple(int(re.search(r"ABI_%s: u32 = (\d+);" % k, RUST).group(1)) for k in ("MAJOR", "MINOR")), abi)

    shim = GO["shim.h"].replace("\\\n", " ")
    same("go NTA_FUNCTIONS", [P + n for n in re.findall(r"X\((\w+)\)", re.search(r"#define NTA_FUNCTIONS\(X\)(.*)", shim).group(1))], list(funcs))
    since = re.search(r"static unsigned nta_since_minor\(const char \*name\) \{(.*?)\n\}", GO["shim.h"], re.S).group(1)
    same("go 1.1 functions", re.findall(r'"(nat_trainer_adapter_\w+)"', since), later)
    go_codes = {"NAT_TRAINER_ADAPTER_" + re.sub(r"(?<=[a-z])(?=[A-Z])", "_", k).upper(): int(v)
                for k, v in re.findall(r"^\s*Code(\w+)\s+Code\s*=\s*(\d+)", GO["errors.go"], re.M)}
    same("go codes", go_codes, codes)
    same("go ABIMajor", int(re.search(r"const ABIMajor = (\d+)", GO["nattrainer.go"]).group(1)), abi[0])
    return problems


def self_test(text):
    edits = {
        "type changed": ("(const char *config_json, size_t config_len, nat_trainer_adapter **out_adapter))",
                         "(const char *config_json, uint32_t config_len, nat_trainer_adapter **out_adapter))"),
        "function dropped": ("X(1, nat_trainer_adapter_error *, spooled,", "X(1, nat_trainer_adapter_error *, spooled_gone,"),
        "parameter added": ("(nat_trainer_adapter * adapter, int32_t *out_healthy)",
                            "(nat_trainer_adapter * adapter, int32_t *out_healthy, double x)"),
        "code changed": ("NAT_TRAINER_ADAPTER_INTERNAL = 8,", "NAT_TRAINER_ADAPTER_INTERNAL = 9,"),
    }
    failures = []
    for what, (old, new) in edits.items():
        if old not in text:
            failures.append(f"self-test: the header has no {old!r} to edit")
            continue
        found = check(text.replace(old, new))
        for binding in ("python", "rust", "go"):
            # go: its cgo build static_asserts each shim's type against the header
            if binding != "go" or what not in ("type changed", "parameter added"):
                if not any(p.startswith(binding) for p in found):
                    failures.append(f"self-test: {what}: not caught for {binding}")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--header", default=str(HEADER))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    text = Path(args.header).read_text(encoding="utf-8")
    problems = check(text) + (self_test(text) if args.self_test else [])
    for p in problems:
        print("MISMATCH:", p)
    funcs = parse_header(text)[0]
    print(f"{'FAILED' if problems else 'ok'}: {len(funcs)} functions, python, rust and go checked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
