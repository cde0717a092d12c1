"""Finding and loading trainer adapter plugins.

A plugin is a shared object (``*.so``) exporting
``nat_trainer_adapter_abi_version`` and ``nat_trainer_adapter_plugin_info``;
its name is ``plugin_info()["name"]`` (the NAT ``_type`` it implements).
The search follows the nat-trainer host's policy (README, "Plugin
discovery"). Plugins are looked up by name in this order, the first plugin
of a name winning:

1. the explicit directories given by the caller (``search_dirs``; the
   host's ``--plugin-dir``);
2. ``NAT_TRAINER_ADAPTER_PATH`` (colon-separated), ignored when the process
   runs with elevated privileges (setuid/setgid, ``AT_SECURE``);
3. the installed plugin directories: the package's own ``plugins``
   directory (``nat_trainer_adapter/plugins``, where ``pip install`` of the
   wheel puts the plugins built with it), then
   ``<prefix>/lib/<multiarch>/nat-trainer-adapter/plugins``; the
   ``installed_dir`` argument or the ``NAT_TRAINER_ADAPTER_PLUGIN_DIR``
   environment variable replaces the latter's default candidates;
4. the build tree ``build/plugin`` of the source checkout this package lives
   in, when present.

In each directory the files whose name ends in ``.so`` are tried in name
order; a file reached twice (through a symlink or a repeated directory) is
tried once. Refused, as by the host, with the reason in the
:class:`PluginNotFound` message: a directory, or a plugin file, writable by
group or others (whoever can write it runs code in every process that
searches there); a directory given explicitly or in the environment that
cannot be read; a file that is not a regular file or does not load.

Loaded libraries are never unloaded: an adapter's background threads may run
until it is destroyed.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import stat
import struct
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _ffi
from .errors import PluginLoadError, PluginNotFound

PATH_ENV = "NAT_TRAINER_ADAPTER_PATH"
INSTALLED_DIR_ENV = "NAT_TRAINER_ADAPTER_PLUGIN_DIR"
PLUGIN_SUBDIR = os.path.join("nat-trainer-adapter", "plugins")

PathLike = Union[str, "os.PathLike[str]"]

_AT_SECURE = 23


def is_secure_execution() -> bool:
    """True when the process runs with elevated privileges (AT_SECURE, or a
    real uid/gid that differs from the effective one)."""
    try:
        with open("/proc/self/auxv", "rb") as f:
            data = f.read()
        word = struct.calcsize("L")
        for i in range(0, len(data) - 2 * word + 1, 2 * word):
            key, value = struct.unpack_from("LL", data, i)
            if key == _AT_SECURE:
                return value != 0
            if key == 0:
                break
    except OSError:
        pass
    if hasattr(os, "geteuid"):
        return os.getuid() != os.geteuid() or os.getgid() != os.getegid()
    return False


def _multiarch() -> str:
    arch = getattr(sys.implementation, "_multiarch", None)
    if arch:
        return arch
    machine = platform.machine()
    return {
        "x86_64": "x86_64-linux-gnu",
        "amd64": "x86_64-linux-gnu",
        "aarch64": "aarch64-linux-gnu",
        "arm64": "aarch64-linux-gnu",
        "ppc64le": "powerpc64le-linux-gnu",
        "s390x": "s390x-linux-gnu",
        "riscv64": "riscv64-linux-gnu",
    }.get(machine, f"{machine}-linux-gnu")


def default_installed_dirs() -> List[Path]:
    """Candidates for the installed plugin directory, most specific first."""
    prefixes: List[str] = []
    for p in (sys.prefix, "/usr/local", "/usr"):
        if p not in prefixes:
            prefixes.append(p)
    out: List[Path] = []
    for p in prefixes:
        out.append(Path(p) / "lib" / _multiarch() / PLUGIN_SUBDIR)
        out.append(Path(p) / "lib" / PLUGIN_SUBDIR)
    return out


def package_plugin_dir() -> Optional[Path]:
    """``plugins`` next to this module (the wheel's plugins), if present."""
    d = Path(__file__).resolve().parent / "plugins"
    return d if d.is_dir() else None


def build_tree_dir() -> Optional[Path]:
    """``build/plugin`` of the source checkout containing this package, if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "include" / "nat" / "trainer_adapter.h").is_file():
            d = parent / "build" / "plugin"
            return d if d.is_dir() else None
    return None


def _search_dirs(
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> List[Tuple[Path, str]]:
    """The search path with each directory's origin, as the host labels it."""
    env = os.environ if environ is None else environ
    dirs: List[Tuple[Path, str]] = [(Path(d), "search_dirs") for d in (search_dirs or ())]
    if not is_secure_execution():
        dirs += [(Path(d), PATH_ENV) for d in env.get(PATH_ENV, "").split(os.pathsep) if d]
        override = installed_dir if installed_dir is not None else env.get(INSTALLED_DIR_ENV) or None
    else:
        override = installed_dir
    own = package_plugin_dir()
    if own is not None:
        dirs.append((own, "installed"))
    if override is not None:
        dirs.append((Path(override), "installed"))
    else:
        dirs += [(d, "installed") for d in default_installed_dirs()]
    bt = build_tree_dir()
    if bt is not None:
        dirs.append((bt, "build tree"))
    seen = set()
    unique: List[Tuple[Path, str]] = []
    for d, origin in dirs:
        key = os.path.abspath(d)
        if key not in seen:
            seen.add(key)
            unique.append((d, origin))
    return unique


def search_path(
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> List[Path]:
    """The ordered list of directories searched for plugins (see module doc)."""
    return [d for d, _ in _search_dirs(search_dirs, installed_dir, environ)]


class Plugin:
    """A loaded trainer adapter plugin (one shared object).

    Use :func:`load_plugin` rather than the constructor: it caches plugins by
    real path so each file is loaded once.
    """

    def __init__(self, path: PathLike):
        self.path = os.path.abspath(os.fspath(path))
        try:
            lib = ctypes.CDLL(self.path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            raise PluginLoadError(f"cannot load plugin {self.path}: {e}") from None
        try:
            boot = _ffi.bind(lib, _ffi.BOOTSTRAP)
        except AttributeError:
            raise PluginLoadError(
                f"{self.path} is not a trainer adapter plugin: it does not export "
                "nat_trainer_adapter_abi_version and nat_trainer_adapter_plugin_info"
            ) from None
        # The ABI major version is checked before anything else is called.
        self.abi_version: int = int(boot.abi_version())
        major, minor = self.abi_version >> 16, self.abi_version & 0xFFFF
        if major != _ffi.ABI_MAJOR:
            raise PluginLoadError(
                f"plugin {self.path} implements ABI {major}.{minor}, this binding needs ABI {_ffi.ABI_MAJOR}.x"
            )
        raw = boot.plugin_info() or b"{}"
        try:
            self.info: Dict[str, Any] = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise PluginLoadError(f"plugin {self.path}: plugin_info is not JSON: {e}") from None
        try:
            self.fns = _ffi.bind(lib, abi_version=self.abi_version)
        except AttributeError as e:
            raise PluginLoadError(f"plugin {self.path} lacks a function its ABI version promises: {e}") from None
        self._lib = lib

    @property
    def name(self) -> str:
        """The NAT ``_type`` the plugin implements."""
        return str(self.info.get("name", ""))

    @property
    def backend(self) -> str:
        return str(self.info.get("backend", ""))

    @property
    def version(self) -> str:
        return str(self.info.get("version", ""))

    @property
    def abi(self) -> Tuple[int, int]:
        return self.abi_version >> 16, self.abi_version & 0xFFFF

    def create(self, config: Any) -> "Adapter":
        """Creates an adapter from its config (dict, JSON str or bytes)."""
        from .adapter import Adapter

        return Adapter(config, plugin=self)

    def __repr__(self) -> str:
        return f"Plugin(name={self.name!r}, version={self.version!r}, path={self.path!r})"


_cache: Dict[str, Plugin] = {}
_not_plugins: Dict[str, str] = {}
_lock = threading.Lock()


def _load_cached(path: PathLike) -> Plugin:
    real = os.path.realpath(os.fspath(path))
    with _lock:
        p = _cache.get(real)
        if p is None:
            p = Plugin(real)
            _cache[real] = p
        return p


def _writable_by_others(mode: int) -> bool:
    return bool(mode & (stat.S_IWGRP | stat.S_IWOTH))


def _scan(d: Path, origin: str, seen: set) -> Iterator[Union[Plugin, Tuple[Path, str]]]:
    """The plugins of one directory, and (path, reason) for what is refused."""
    try:
        st = os.stat(d)
    except OSError as e:
        # A missing default directory is normal; a directory asked for is not.
        if not isinstance(e, FileNotFoundError) or origin in ("search_dirs", PATH_ENV):
            yield d, f"plugin directory ({origin}) cannot be read: {e.strerror}"
        return
    if not stat.S_ISDIR(st.st_mode):
        yield d, f"plugin directory ({origin}) is not a directory"
        return
    if _writable_by_others(st.st_mode):
        yield d, (f"plugin directory is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
                  "none of its plugins are loaded")
        return
    try:
        names = sorted(os.listdir(d))
    except OSError as e:
        yield d, f"cannot list plugin directory: {e.strerror}"
        return
    for name in names:
        f = d / name
        if f.suffix != ".so":
            continue
        real = os.path.realpath(f)
        if real in seen:
            continue
        seen.add(real)
        try:
            fst = os.stat(real)
        except OSError as e:
            yield f, f"cannot stat: {e.strerror}"
            continue
        if not stat.S_ISREG(fst.st_mode):
            yield f, "not a regular file"
            continue
        if _writable_by_others(fst.st_mode):
            yield f, f"plugin file is writable by group or others (mode {stat.S_IMODE(fst.st_mode):04o}); not loaded"
            continue
        reason = _not_plugins.get(real)
        if reason is None:
            try:
                yield _load_cached(real)
                continue
            except PluginLoadError as e:
                reason = _not_plugins[real] = str(e)
        yield f, reason


def _discover(
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> Iterator[Union[Plugin, Tuple[Path, str]]]:
    seen: set = set()
    for d, origin in _search_dirs(search_dirs, installed_dir, environ):
        yield from _scan(d, origin, seen)


def iter_plugins(
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> Iterator[Plugin]:
    """Every loadable plugin on the search path, in search order. What is
    refused (see the module doc) is skipped."""
    for found in _discover(search_dirs, installed_dir, environ):
        if isinstance(found, Plugin):
            yield found


def find_plugin(
    name: str,
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> Plugin:
    """The first plugin on the search path whose name is ``name``. The
    :class:`PluginNotFound` raised otherwise names every refused directory
    and file with the reason."""
    refused: List[str] = []
    for found in _discover(search_dirs, installed_dir, environ):
        if not isinstance(found, Plugin):
            refused.append(f"\n  refused {found[0]}: {found[1]}")
        elif found.name == name:
            return found
    dirs = search_path(search_dirs, installed_dir, environ)
    raise PluginNotFound(
        f"no trainer adapter plugin named {name!r} in: " + ", ".join(str(d) for d in dirs) + "".join(refused)
    )


def _looks_like_path(s: str) -> bool:
    return os.sep in s or s.endswith(".so") or ".so." in s


def load_plugin(
    name_or_path: Union[PathLike, Plugin],
    search_dirs: Optional[Sequence[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
) -> Plugin:
    """Loads a plugin by file path (anything with a ``/`` or ending in
    ``.so``) or finds it by name on the search path."""
    if isinstance(name_or_path, Plugin):
        return name_or_path
    s = os.fspath(name_or_path)
    if _looks_like_path(s):
        if not os.path.exists(s):
            raise PluginNotFound(f"plugin file {s} does not exist")
        return _load_cached(s)
    return find_plugin(s, search_dirs, installed_dir)
