#!/usr/bin/env python3
"""Checks that every binding declares the C ABI exactly as the header does.

It parses the function prototypes, the error codes and the ABI version of
include/nat/trainer_adapter.h, then

- the Python ctypes table (bindings/python/src/nat_trainer_adapter/_ffi.py,
  imported by path: FUNCTIONS, CODES, ABI_MAJOR/ABI_MINOR),
- the Rust extern block (the c_abi! invocation in
  bindings/rust/nat-trainer-adapter-sys/src/lib.rs) and its constants,
- the Go cgo shims (the nta_*_fn typedefs, the NTA_FUNCTIONS list and the
  static nta_* call shims of bindings/go/shim.h) and the codes of errors.go,

and compares names, argument counts and one normalized type per argument and
result. const-qualification is compared for Rust and Go; ctypes cannot
express it, so it is ignored for Python. Any missing, extra or different
declaration fails the check (exit 1).

    check_declarations.py [--header H] [--self-test]

--self-test also verifies that mutated copies of the header (a changed type,
a dropped function, an extra argument, a new function, a changed code) are
caught for every binding.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # it imports _ffi.py from the source tree

import argparse
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HEADER = REPO / "include" / "nat" / "trainer_adapter.h"
PY_FFI = HERE / "python" / "src" / "nat_trainer_adapter" / "_ffi.py"
RUST_SYS = HERE / "rust" / "nat-trainer-adapter-sys" / "src" / "lib.rs"
GO_SHIM = HERE / "go" / "shim.h"
GO_ERRORS = HERE / "go" / "errors.go"

PREFIX = "nat_trainer_adapter_"
BASE_TYPES = {
    "void", "char", "int32_t", "uint32_t", "size_t", "double",
    "nat_trainer_adapter", "nat_trainer_adapter_error", "nat_trainer_adapter_buffer",
}


class CheckError(Exception):
    pass


@dataclass(frozen=True)
class CType:
    """A C type: base type, const on the base, and per pointer level (inner
    to outer) whether that pointer itself is const."""

    base: str
    base_const: bool = False
    levels: Tuple[bool, ...] = ()

    def strip_const(self) -> "CType":
        return CType(self.base, False, tuple(False for _ in self.levels))

    def __str__(self) -> str:
        s = ("const " if self.base_const else "") + self.base
        for c in self.levels:
            s += "*" + (" const" if c else "")
        return s


@dataclass(frozen=True)
class Func:
    name: str
    result: CType
    args: Tuple[CType, ...]

    def __str__(self) -> str:
        return f"{self.result} {self.name}({', '.join(map(str, self.args)) or 'void'})"


def parse_c_type(text: str, allow_name: bool = True) -> CType:
    """Parses `const char *config_json`, `nat_trainer_adapter **out`,
    `uint32_t`... into a CType (the parameter name is dropped)."""
    tokens = re.findall(r"\*|[A-Za-z_][A-Za-z0-9_]*", text)
    base: Optional[str] = None
    base_const = False
    levels: List[bool] = []
    name_seen = False
    for tok in tokens:
        if tok == "const":
            if levels:
                levels[-1] = True
            else:
                base_const = True
        elif tok == "*":
            if base is None or name_seen:
                raise CheckError(f"cannot parse type {text!r}")
            levels.append(False)
        elif tok in ("struct", "enum"):
            continue
        elif base is None:
            if tok not in BASE_TYPES:
                raise CheckError(f"unknown C type {tok!r} in {text!r}; teach check_declarations.py about it")
            base = tok
        elif allow_name and not name_seen:
            name_seen = True
        else:
            raise CheckError(f"cannot parse type {text!r}")
    if base is None:
        raise CheckError(f"no type in {text!r}")
    return CType(base, base_const, tuple(levels))


def split_args(text: str) -> List[str]:
    text = text.strip()
    if text in ("", "void"):
        return []
    return [a.strip() for a in text.split(",")]


# -- header -----------------------------------------------------------------


def strip_c_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def strip_preprocessor(text: str) -> str:
    text = re.sub(r"\\\n", " ", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def parse_header(text: str):
    raw = strip_c_comments(text)
    code = strip_preprocessor(raw)
    funcs: Dict[str, Func] = {}
    decls = re.findall(r"NAT_TRAINER_ADAPTER_API\b([^;{}]*);", code)
    if not decls:
        raise CheckError("no NAT_TRAINER_ADAPTER_API declarations found in the header")
    for decl in decls:
        m = re.fullmatch(r"\s*(.*?)\b(" + PREFIX + r"\w+)\s*\((.*)\)\s*", decl, flags=re.S)
        if not m:
            raise CheckError(f"cannot parse header declaration: {' '.join(decl.split())}")
        result, name, args = m.groups()
        if name in funcs:
            raise CheckError(f"{name} declared twice in the header")
        funcs[name] = Func(name, parse_c_type(result, allow_name=False), tuple(parse_c_type(a) for a in split_args(args)))
    enum = re.search(r"typedef\s+enum\s+nat_trainer_adapter_code\s*\{(.*?)\}", code, flags=re.S)
    if not enum:
        raise CheckError("enum nat_trainer_adapter_code not found in the header")
    codes = {}
    for name, value in re.findall(r"(NAT_TRAINER_ADAPTER_\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)", enum.group(1)):
        if name.endswith("_FORCE32"):
            continue
        codes[name] = int(value, 0)
    defines = dict(re.findall(r"#\s*define\s+(NAT_TRAINER_ADAPTER_ABI_(?:MAJOR|MINOR))\s+(\d+)", raw))
    abi = (int(defines["NAT_TRAINER_ADAPTER_ABI_MAJOR"]), int(defines["NAT_TRAINER_ADAPTER_ABI_MINOR"]))
    return funcs, codes, abi


# -- bindings ----------------------------------------------------------------


def parse_python(path: Path):
    spec = importlib.util.spec_from_file_location("_nat_ffi_under_check", path)
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    names = mod.C_TYPE_NAMES

    def ctype(t) -> CType:
        if t not in names:
            raise CheckError(f"python: no C name for ctypes type {t!r} (add it to C_TYPE_NAMES)")
        return parse_c_type(names[t], allow_name=False)

    funcs: Dict[str, Func] = {}
    for name, restype, argtypes in mod.FUNCTIONS:
        if name in funcs:
            raise CheckError(f"python: {name} listed twice")
        funcs[name] = Func(name, ctype(restype), tuple(ctype(a) for a in argtypes))
    return funcs, dict(mod.CODES), (mod.ABI_MAJOR, mod.ABI_MINOR)


RUST_TYPES = {"u32": "uint32_t", "i32": "int32_t", "usize": "size_t", "f64": "double", "c_char": "char",
              "c_void": "void"}


def parse_rust_type(text: str) -> CType:
    t = " ".join(text.split())
    for prefix, const in (("*const ", True), ("*mut ", False)):
        if t.startswith(prefix):
            inner = parse_rust_type(t[len(prefix):])
            if const:
                if inner.levels:
                    inner = CType(inner.base, inner.base_const, inner.levels[:-1] + (True,))
                else:
                    inner = CType(inner.base, True, ())
            return CType(inner.base, inner.base_const, inner.levels + (False,))
    t = t.split("::")[-1]
    base = RUST_TYPES.get(t, t)
    if base not in BASE_TYPES:
        raise CheckError(f"rust: unknown type {text!r}")
    return CType(base)


def parse_rust(text: str):
    text = re.sub(r"//[^\n]*", " ", text)
    m = re.search(r"^c_abi!\s*\{(.*?)^\}", text, flags=re.S | re.M)
    if not m:
        raise CheckError("rust: the c_abi! { ... } block was not found")
    funcs: Dict[str, Func] = {}
    for name, args, result in re.findall(r"pub\s+fn\s+(\w+)\s*\(([^)]*)\)\s*(?:->\s*([^;]+))?;", m.group(1)):
        arg_types = []
        for a in split_args(args.rstrip().rstrip(",")):
            if ":" not in a:
                raise CheckError(f"rust: {name}: cannot parse argument {a!r}")
            arg_types.append(parse_rust_type(a.split(":", 1)[1]))
        if name in funcs:
            raise CheckError(f"rust: {name} declared twice")
        funcs[name] = Func(name, parse_rust_type(result) if result.strip() else CType("void"), tuple(arg_types))
    codes = {n: int(v) for n, v in re.findall(r"pub\s+const\s+(NAT_TRAINER_ADAPTER_\w+)\s*:\s*i32\s*=\s*(\d+)\s*;", text)}
    consts = dict(re.findall(r"pub\s+const\s+(NAT_TRAINER_ADAPTER_ABI_(?:MAJOR|MINOR))\s*:\s*u32\s*=\s*(\d+)\s*;", text))
    abi = (int(consts.get("NAT_TRAINER_ADAPTER_ABI_MAJOR", -1)), int(consts.get("NAT_TRAINER_ADAPTER_ABI_MINOR", -1)))
    return funcs, codes, abi


def camel_to_upper_snake(s: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s).upper()


def parse_go(shim_text: str, errors_text: str):
    code = strip_c_comments(shim_text)
    funcs: Dict[str, Func] = {}
    for result, short, args in re.findall(r"typedef\s+([^;()]*?)\(\s*\*\s*nta_(\w+)_fn\s*\)\s*\(([^)]*)\)\s*;", code):
        name = PREFIX + short
        if name in funcs:
            raise CheckError(f"go: typedef nta_{short}_fn declared twice")
        funcs[name] = Func(name, parse_c_type(result, allow_name=False), tuple(parse_c_type(a) for a in split_args(args)))
    # Every typedef must be resolved (NTA_FUNCTIONS) and reachable from Go
    # through a static shim taking the same arguments after the api pointer.
    lst = re.search(r"#define\s+NTA_FUNCTIONS\(X\)(.*?)(?:\n\s*\n|\n#)", code, flags=re.S)
    listed = set(PREFIX + n for n in re.findall(r"X\((\w+)\)", lst.group(1))) if lst else set()
    problems = []
    for name in sorted(set(funcs) ^ listed):
        problems.append(f"go: {name} is {'not ' if name in funcs else ''}in NTA_FUNCTIONS "
                        f"but {'has a' if name in funcs else 'has no'} nta_*_fn typedef")
    shims = {}
    for result, short, args in re.findall(r"static\s+([^;(){}]*?)\bnta_(\w+)\s*\(\s*const\s+nta_api\s*\*\s*\w+\s*,?([^)]*)\)\s*\{", code):
        shims[PREFIX + short] = Func(PREFIX + short, parse_c_type(result, allow_name=False),
                                     tuple(parse_c_type(a) for a in split_args(args)))
    for name, f in funcs.items():
        s = shims.get(name)
        if s is None:
            problems.append(f"go: no static shim nta_{name[len(PREFIX):]}(const nta_api *api, ...) for {name}")
        elif s != f:
            problems.append(f"go: shim for {name} is `{s}`, its typedef `{f}`")
    codes = {}
    for go_name, value in re.findall(r"^\s*Code(\w+)\s+Code\s*=\s*(\d+)", errors_text, flags=re.M):
        codes["NAT_TRAINER_ADAPTER_" + camel_to_upper_snake(go_name)] = int(value)
    m = re.search(r"const\s+ABIMajor\s*=\s*(\d+)", (GO_SHIM.parent / "nattrainer.go").read_text())
    abi_major = int(m.group(1)) if m else -1
    return funcs, codes, abi_major, problems


# -- comparison --------------------------------------------------------------


def compare(binding: str, header: Dict[str, Func], bound: Dict[str, Func], consts: bool) -> List[str]:
    problems = []
    for name in header:
        if name not in bound:
            problems.append(f"{binding}: {name} is missing (header: {header[name]})")
    for name in bound:
        if name not in header:
            problems.append(f"{binding}: {name} is not in the header")
    for name, h in header.items():
        b = bound.get(name)
        if b is None:
            continue
        hh, bb = (h, b) if consts else (
            Func(name, h.result.strip_const(), tuple(a.strip_const() for a in h.args)),
            Func(name, b.result.strip_const(), tuple(a.strip_const() for a in b.args)))
        if len(hh.args) != len(bb.args):
            problems.append(f"{binding}: {name} takes {len(bb.args)} arguments, the header {len(hh.args)}")
            continue
        if hh.result != bb.result:
            problems.append(f"{binding}: {name} returns `{bb.result}`, the header `{hh.result}`")
        for i, (x, y) in enumerate(zip(hh.args, bb.args)):
            if x != y:
                problems.append(f"{binding}: {name} argument {i + 1} is `{y}`, the header `{x}`")
    return problems


def compare_codes(binding: str, header: Dict[str, int], bound: Dict[str, int], allow_ok_missing=False) -> List[str]:
    problems = []
    for name, value in header.items():
        if name not in bound:
            if not (allow_ok_missing and value == 0):
                problems.append(f"{binding}: error code {name} = {value} is missing")
        elif bound[name] != value:
            problems.append(f"{binding}: error code {name} is {bound[name]}, the header {value}")
    for name in bound:
        if name not in header:
            problems.append(f"{binding}: error code {name} is not in the header")
    return problems


def check(header_text: str, py_path: Path = PY_FFI, rust_text: Optional[str] = None,
          go_shim: Optional[str] = None, go_errors: Optional[str] = None, verbose: bool = True) -> List[str]:
    funcs, codes, abi = parse_header(header_text)
    problems: List[str] = []

    py_funcs, py_codes, py_abi = parse_python(py_path)
    problems += compare("python", funcs, py_funcs, consts=False)
    problems += compare_codes("python", codes, py_codes)
    if py_abi != abi:
        problems.append(f"python: ABI {py_abi}, the header {abi}")

    rs_funcs, rs_codes, rs_abi = parse_rust(RUST_SYS.read_text() if rust_text is None else rust_text)
    problems += compare("rust", funcs, rs_funcs, consts=True)
    problems += compare_codes("rust", codes, rs_codes)
    if rs_abi != abi:
        problems.append(f"rust: ABI {rs_abi}, the header {abi}")

    go_funcs, go_codes, go_major, go_problems = parse_go(GO_SHIM.read_text() if go_shim is None else go_shim,
                                                         GO_ERRORS.read_text() if go_errors is None else go_errors)
    problems += go_problems
    problems += compare("go", funcs, go_funcs, consts=True)
    problems += compare_codes("go", codes, go_codes)
    if go_major != abi[0]:
        problems.append(f"go: ABIMajor {go_major}, the header {abi[0]}")

    if verbose:
        print(f"header: {len(funcs)} functions, {len(codes)} error codes, ABI {abi[0]}.{abi[1]}")
        for binding, n in (("python", len(py_funcs)), ("rust", len(rs_funcs)), ("go", len(go_funcs))):
            print(f"{binding}: {n} functions declared")
    return problems


def self_test(header_text: str) -> List[str]:
    """Mutations of the header that every binding must be caught on."""
    failures = []
    mutations = {
        "changed argument type": ("size_t config_len", "int32_t config_len"),
        "changed result type": ("NAT_TRAINER_ADAPTER_API size_t nat_trainer_adapter_buffer_size",
                                "NAT_TRAINER_ADAPTER_API uint32_t nat_trainer_adapter_buffer_size"),
        "dropped const": ("const nat_trainer_adapter_error *error);\n\n/* Releases an error",
                          "nat_trainer_adapter_error *error);\n\n/* Releases an error"),
        "extra argument": ("double timeout_s,\n    nat_trainer_adapter_buffer **out_event_or_null",
                           "double timeout_s, int32_t flags,\n    nat_trainer_adapter_buffer **out_event_or_null"),
        "renamed function": ("nat_trainer_adapter_jobs(", "nat_trainer_adapter_list_jobs("),
        "new function": ("#ifdef __cplusplus\n} /* extern \"C\" */",
                         "NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_new_thing(void);\n"
                         "#ifdef __cplusplus\n} /* extern \"C\" */"),
        "changed error code": ("NAT_TRAINER_ADAPTER_INTERNAL = 8", "NAT_TRAINER_ADAPTER_INTERNAL = 9"),
    }
    for what, (old, new) in mutations.items():
        if old not in header_text:
            failures.append(f"self-test: the header no longer contains the text mutated for '{what}': {old!r}")
            continue
        problems = check(header_text.replace(old, new, 1), verbose=False)
        need_const = what == "dropped const"
        for binding in (("rust", "go") if need_const else ("python", "rust", "go")):
            if not any(p.startswith(binding + ":") for p in problems):
                failures.append(f"self-test: '{what}' was not caught for {binding}")
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--header", type=Path, default=HEADER)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    text = args.header.read_text()
    try:
        problems = check(text)
        if args.self_test:
            problems += self_test(text)
    except CheckError as e:
        problems = [str(e)]
    for p in problems:
        print("MISMATCH:", p)
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        return 1
    print("OK: every binding matches", args.header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
