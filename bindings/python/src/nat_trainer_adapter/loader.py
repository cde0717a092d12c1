"""Finding and loading trainer adapter plugins.

A plugin is a shared object (``*.so``) exporting
``nat_trainer_adapter_abi_version`` and ``nat_trainer_adapter_plugin_info``;
its name is ``plugin_info()["name"]`` (the NAT ``_type`` it implements).
Plugins are looked up by name in this order:

1. the explicit directories given by the caller (``search_dirs``);
2. the package's own ``plugins`` directory (``nat_trainer_adapter/plugins``,
   where ``pip install`` of the wheel puts the plugins built with it);
3. ``NAT_TRAINER_ADAPTER_PATH`` (colon-separated), ignored when the process
   runs with elevated privileges (setuid/setgid, ``AT_SECURE``);
4. the installed plugin directory
   ``<prefix>/lib/<multiarch>/nat-trainer-adapter/plugins``; the
   ``installed_dir`` argument or the ``NAT_TRAINER_ADAPTER_PLUGIN_DIR``
   environment variable replaces the default candidates;
5. the build tree ``build/plugin`` of the source checkout this package lives
   in, when present.

Steps 3 to 5 are the nat-trainer host's order.

Loaded libraries are never unloaded: an adapter's background threads may run
until it is destroyed.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
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


def search_path(
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> List[Path]:
    """The ordered list of directories searched for plugins (see module doc)."""
    env = os.environ if environ is None else environ
    dirs: List[Path] = [Path(d) for d in (search_dirs or ())]
    own = package_plugin_dir()
    if own is not None:
        dirs.append(own)
    if not is_secure_execution():
        dirs += [Path(d) for d in env.get(PATH_ENV, "").split(os.pathsep) if d]
        override = installed_dir if installed_dir is not None else env.get(INSTALLED_DIR_ENV) or None
    else:
        override = installed_dir
    if override is not None:
        dirs.append(Path(override))
    else:
        dirs += default_installed_dirs()
    bt = build_tree_dir()
    if bt is not None:
        dirs.append(bt)
    seen = set()
    unique: List[Path] = []
    for d in dirs:
        key = os.path.abspath(d)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


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
            self.fns = _ffi.bind(lib)
        except AttributeError as e:
            raise PluginLoadError(f"plugin {self.path} lacks a function of ABI 1.0: {e}") from None
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
_not_plugins: set = set()
_lock = threading.Lock()


def _load_cached(path: PathLike) -> Plugin:
    real = os.path.realpath(os.fspath(path))
    with _lock:
        p = _cache.get(real)
        if p is None:
            p = Plugin(real)
            _cache[real] = p
        return p


def _candidates(d: Path) -> List[Path]:
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return []
    return [d / n for n in names if n.endswith(".so") and (d / n).is_file()]


def iter_plugins(
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> Iterator[Plugin]:
    """Every loadable plugin on the search path, in search order. Files that
    are not plugins (or not of ABI major 1) are skipped."""
    seen = set()
    for d in search_path(search_dirs, installed_dir, environ):
        for f in _candidates(d):
            real = os.path.realpath(f)
            if real in seen or real in _not_plugins:
                continue
            seen.add(real)
            try:
                yield _load_cached(real)
            except PluginLoadError:
                _not_plugins.add(real)


def find_plugin(
    name: str,
    search_dirs: Optional[Iterable[PathLike]] = None,
    installed_dir: Optional[PathLike] = None,
    environ: Optional[Dict[str, str]] = None,
) -> Plugin:
    """The first plugin on the search path whose name is ``name``."""
    dirs = search_path(search_dirs, installed_dir, environ)
    for p in iter_plugins(search_dirs, installed_dir, environ):
        if p.name == name:
            return p
    raise PluginNotFound(f"no trainer adapter plugin named {name!r} in: " + ", ".join(str(d) for d in dirs))


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
