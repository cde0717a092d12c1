"""Python bindings (ctypes) for NAT trainer adapter plugins.

The C ABI is ``include/nat/trainer_adapter.h``; this package wraps it without
any compiled code::

    from nat_trainer_adapter import Adapter

    with Adapter(config) as adapter:          # plugin found by config["_type"]
        adapter.initialize({})
        ref = adapter.submit(collection)
        for event in adapter.events(ref):
            print(event["type"])
        print(adapter.wait(ref).status)
"""

from ._ffi import ABI_MAJOR, ABI_MINOR, ABI_VERSION
from .adapter import Adapter
from .errors import (
    AdapterError,
    AlreadyExists,
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PluginLoadError,
    PluginNotFound,
    Unavailable,
)
from .loader import Plugin, find_plugin, iter_plugins, load_plugin, search_path
from .models import (
    DPOItem,
    EpisodeItem,
    EpisodeItemRole,
    OpenAIMessage,
    TrainingJobRef,
    TrainingJobStatus,
    TrainingStatus,
    TrainingStatusEnum,
    Trajectory,
    TrajectoryCollection,
)

__version__ = "1.0.0"

__all__ = [
    "ABI_MAJOR",
    "ABI_MINOR",
    "ABI_VERSION",
    "Adapter",
    "AdapterError",
    "AlreadyExists",
    "Cancelled",
    "DeadlineExceeded",
    "DPOItem",
    "EpisodeItem",
    "EpisodeItemRole",
    "FailedPrecondition",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "OpenAIMessage",
    "Plugin",
    "PluginLoadError",
    "PluginNotFound",
    "TrainingJobRef",
    "TrainingJobStatus",
    "TrainingStatus",
    "TrainingStatusEnum",
    "Trajectory",
    "TrajectoryCollection",
    "Unavailable",
    "find_plugin",
    "iter_plugins",
    "load_plugin",
    "search_path",
]
