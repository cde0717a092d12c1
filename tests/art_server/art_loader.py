"""Load ART's own code (models, errors and the ``art run`` route table).

``import art`` executes ``art/__init__.py``, which imports litellm, weave and
the whole OpenAI SDK: about 1 s for 0.4.11 and 7-10 s for 0.5.16 on the CI
machine, too slow for a server that test fixtures start many times.  The
default "light" import therefore registers ``art`` as a bare namespace
package (its ``__init__.py`` is not executed) and imports only
the modules ``art/cli.py`` needs: ``art.cli``, ``art.model``, ``art.trajectories``,
``art.types``, ``art.dev``, ``art.errors``.  ``litellm`` is replaced by a stub
module (ART's models only use it inside a Parquet logging helper that is never
called here).  ``--full-art-import`` does a normal ``import art`` instead.

``art.local`` (the GPU backend: torch, unsloth, vLLM) is replaced by a module
whose ``LocalBackend`` returns the simulated backend, and ``uvicorn.run`` is
intercepted while ART's ``art.cli.run()`` builds its FastAPI app, so the
routes, their parameters and the OpenAPI document are ART's own.
"""

import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import io
import os
import sys
import types
from contextlib import redirect_stdout
from typing import Any

SUPPORTED = {"0.4": "0.4.11", "0.5": "0.5.16"}


class ArtUnavailable(RuntimeError):
    pass


def _stub_package(name: str, path: str) -> None:
    mod = types.ModuleType(name)
    mod.__path__ = [path]
    mod.__package__ = name
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [path]
    mod.__spec__ = spec
    mod.__file__ = os.path.join(path, "__init__.py")
    sys.modules[name] = mod


def _stub_litellm() -> None:
    if "litellm" in sys.modules:
        return
    for name in ("litellm", "litellm.types", "litellm.types.utils"):
        mod = types.ModuleType(name)
        mod.__path__ = []
        sys.modules[name] = mod

    class Choices:  # referenced by art.utils.trajectory_logging (isinstance only)
        pass

    sys.modules["litellm.types.utils"].Choices = Choices


def _lazy_module(name: str) -> None:
    """Register ``name`` with the standard library's LazyLoader (loaded on first use)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)


class ArtNamespace:
    """The pieces of ART the server uses."""

    version: str
    dialect: str
    cli: Any
    errors: Any
    dev: Any
    Model: Any
    TrainableModel: Any
    TrajectoryGroup: Any
    Trajectory: Any
    History: Any
    TrainConfig: Any
    Choice: Any
    local_module: Any


def load(dialect: str, full_import: bool = False) -> ArtNamespace:
    try:
        version = importlib.metadata.version("openpipe-art")
    except importlib.metadata.PackageNotFoundError as e:
        raise ArtUnavailable(
            "openpipe-art is not installed in this interpreter "
            f"({sys.executable}); run tools/setup-venvs.sh and use .venv/art-{dialect}/bin/python"
        ) from e
    if not version.startswith(dialect + "."):
        raise ArtUnavailable(
            f"dialect {dialect} needs openpipe-art {SUPPORTED[dialect]}, but {version} is installed "
            f"in {sys.executable}"
        )
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("WEAVE_DISABLED", "true")
    os.environ.setdefault("WANDB_MODE", "disabled")
    os.environ.pop("WANDB_API_KEY", None)

    spec = importlib.util.find_spec("art")
    if spec is None or spec.origin is None:
        raise ArtUnavailable("cannot locate the art package")
    pkgdir = os.path.dirname(spec.origin)

    if full_import:
        importlib.import_module("art")
    elif "art" not in sys.modules:
        _stub_package("art", pkgdir)
        _stub_litellm()
        # art.model imports polars at module level but uses it only in methods
        # that the server never calls.
        _lazy_module("polars")

    # The GPU backend is replaced by the simulation.
    local = types.ModuleType("art.local")
    local.LocalBackend = None
    sys.modules["art.local"] = local
    sys.modules["art"].local = local

    ns = ArtNamespace()
    ns.version = version
    ns.dialect = dialect
    ns.local_module = local
    with redirect_stdout(io.StringIO()):
        ns.dev = importlib.import_module("art.dev")
        ns.errors = importlib.import_module("art.errors")
        types_mod = importlib.import_module("art.types")
        traj = importlib.import_module("art.trajectories")
        # art.utils first, as art/__init__.py does (art.model <-> art.utils cycle).
        importlib.import_module("art.utils")
        model = importlib.import_module("art.model")
        ns.cli = importlib.import_module("art.cli")
    ns.Model = model.Model
    ns.TrainableModel = model.TrainableModel
    ns.TrajectoryGroup = traj.TrajectoryGroup
    ns.Trajectory = traj.Trajectory
    ns.History = traj.History
    ns.TrainConfig = types_mod.TrainConfig
    from openai.types.chat.chat_completion import Choice

    ns.Choice = Choice
    return ns


def use_strict_message_union(ns: ArtNamespace) -> None:
    """Undo ``Message = Annotated[ChatCompletionMessageParam, SkipValidation]`` (0.5.x).

    ART 0.5.4+ wraps ``Message`` in ``SkipValidation``, so in the union
    ``Message | Choice`` every dict is accepted as a message and a ``Choice``
    sent over HTTP arrives as a plain dict (and ART's tokenizer then fails with
    ``KeyError: 'role'``).  This defines subclasses of ART's ``History``,
    ``Trajectory`` and ``TrajectoryGroup`` whose ``messages_and_choices`` is
    ``list[ChatCompletionMessageParam | Choice]`` (as in 0.4.x and 0.5.0-0.5.3)
    and makes ``art.trajectories.TrajectoryGroup`` point at them.  All other
    fields and their validation stay ART's.
    """
    from openai.types.chat.chat_completion import Choice
    from openai.types.chat.chat_completion_message_param import ChatCompletionMessageParam

    traj_mod = sys.modules["art.trajectories"]
    MOC = list[ChatCompletionMessageParam | Choice]

    base_h, base_t, base_g = ns.History, ns.Trajectory, ns.TrajectoryGroup

    History = type("History", (base_h,), {"__annotations__": {"messages_and_choices": MOC}, "__module__": traj_mod.__name__})
    Trajectory = type(
        "Trajectory",
        (base_t,),
        {
            "__annotations__": {"messages_and_choices": MOC, "additional_histories": list[History]},
            "messages_and_choices": [],
            "additional_histories": [],
            "__module__": traj_mod.__name__,
        },
    )
    TrajectoryGroup = type(
        "TrajectoryGroup",
        (base_g,),
        {"__annotations__": {"trajectories": list[Trajectory]}, "__module__": traj_mod.__name__},
    )
    traj_mod.TrajectoryGroup = TrajectoryGroup
    ns.History, ns.Trajectory, ns.TrajectoryGroup = History, Trajectory, TrajectoryGroup


def signature_mismatches(ns: ArtNamespace, backend: Any) -> list:
    """Compare the simulated backend's route methods with ART's ``LocalBackend`` source.

    Returns human-readable differences of parameter names and annotations (as
    source text) for the methods that ``cli.py`` registers directly.
    """
    import ast
    import inspect

    path = os.path.join(sys.modules["art"].__path__[0], "local", "backend.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    real: dict = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "LocalBackend":
            for fn in node.body:
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    real[fn.name] = [
                        (a.arg, ast.unparse(a.annotation) if a.annotation is not None else None)
                        for a in fn.args.args[1:]
                    ]
    out = []
    for name in ("close", "register", "_get_step", "_delete_checkpoints"):
        ours = getattr(type(backend), name, None)
        if ours is None:
            if name in real and name == "_delete_checkpoints" and ns.dialect == "0.4":
                out.append(f"{name}: missing")
            continue
        sig = inspect.signature(ours)
        mine = []
        for p in list(sig.parameters.values())[1:]:
            ann = p.annotation
            if ann is inspect.Parameter.empty:
                ann = None
            elif not isinstance(ann, str):
                ann = getattr(ann, "__name__", str(ann))
            mine.append((p.name, ann))
        theirs = real.get(name)
        if theirs is None:
            out.append(f"{name}: not a LocalBackend method in this ART version")
            continue
        # ART 0.5.9+ annotates with the alias AnyTrainableModel = "TrainableModel[Any, Any]";
        # the stand-in uses TrainableModel (or the alias string with --quirks get-step-query).
        norm = lambda a: {"AnyTrainableModel": "TrainableModel", "TrainableModel[Any, Any]": "TrainableModel",
                          "AnyModel": "Model"}.get(a, a)
        if [(n, norm(a)) for n, a in mine] != [(n, norm(a)) for n, a in theirs]:
            out.append(f"{name}: ours {mine} != ART {theirs}")
    return out


def local_backend_docstrings(ns: ArtNamespace) -> dict:
    """Docstrings of ART's real ``LocalBackend`` methods, read from its source.

    FastAPI puts an endpoint's docstring into the OpenAPI ``description``; the
    routes that ``cli.py`` registers straight from backend methods therefore
    need ART's docstrings.  The source is parsed, not imported (it needs torch).
    """
    import ast

    path = os.path.join(sys.modules["art"].__path__[0], "local", "backend.py")
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except OSError:
        return {}
    docs: dict = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "LocalBackend":
            for fn in node.body:
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    docs[fn.name] = ast.get_docstring(fn, clean=False)
    return docs


def build_app(ns: ArtNamespace, backend: Any) -> Any:
    """Run ART's ``art.cli.run()`` with the simulated backend and capture its app."""
    import uvicorn

    def factory(*args: Any, **kwargs: Any) -> Any:
        return backend

    ns.local_module.LocalBackend = factory
    if hasattr(ns.cli, "LocalBackend"):
        ns.cli.LocalBackend = factory  # 0.4.x imports it at module level
    if hasattr(ns.cli, "TrajectoryGroup"):
        ns.cli.TrajectoryGroup = ns.TrajectoryGroup
    captured: dict = {}
    orig_run = uvicorn.run

    def fake_run(app: Any, *args: Any, **kwargs: Any) -> None:
        captured["app"] = app
        captured["kwargs"] = kwargs

    uvicorn.run = fake_run
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            # port 0: ART's "is the port in use" probe connects to localhost:0,
            # which is refused, so it goes on to build the app.
            ns.cli.run(host="127.0.0.1", port=0)
    finally:
        uvicorn.run = orig_run
    if "app" not in captured:
        raise RuntimeError("art.cli.run() did not build an app: " + out.getvalue().strip())
    return captured["app"]
