"""ctypes declarations of the C ABI in ``include/nat/trainer_adapter.h``.

FUNCTIONS is the single table of every function of the header: name, result
type and argument types. ``bind()`` sets ``argtypes``/``restype`` from it on a
loaded library. ``bindings/check_declarations.py`` imports this module and
compares the table with the header, so keep one entry per header function and
keep the order of the header.

MINORS gives the 1.x minor each function arrived in (the header's
NAT_TRAINER_ADAPTER_FUNCTIONS list). ``bind()`` binds what the plugin's ABI
version promises, every function of a minor up to the plugin's (capped at
ABI_MINOR), and requires all of those: a 1.0 plugin has no resubmit and no
spooled (None), a 1.1 plugin lacking one is refused. Nothing is probed.
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, c_char, c_char_p, c_double, c_int32, c_size_t, c_uint32, c_void_p

ABI_MAJOR = 1
ABI_MINOR = 1
ABI_VERSION = (ABI_MAJOR << 16) | ABI_MINOR

# nat_trainer_adapter_code
OK = 0
INVALID_ARGUMENT = 1
NOT_FOUND = 2
ALREADY_EXISTS = 3
FAILED_PRECONDITION = 4
UNAVAILABLE = 5
DEADLINE_EXCEEDED = 6
CANCELLED = 7
INTERNAL = 8

CODES = {
    "NAT_TRAINER_ADAPTER_OK": OK,
    "NAT_TRAINER_ADAPTER_INVALID_ARGUMENT": INVALID_ARGUMENT,
    "NAT_TRAINER_ADAPTER_NOT_FOUND": NOT_FOUND,
    "NAT_TRAINER_ADAPTER_ALREADY_EXISTS": ALREADY_EXISTS,
    "NAT_TRAINER_ADAPTER_FAILED_PRECONDITION": FAILED_PRECONDITION,
    "NAT_TRAINER_ADAPTER_UNAVAILABLE": UNAVAILABLE,
    "NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED": DEADLINE_EXCEEDED,
    "NAT_TRAINER_ADAPTER_CANCELLED": CANCELLED,
    "NAT_TRAINER_ADAPTER_INTERNAL": INTERNAL,
}


class AdapterHandle(c_void_p):
    """nat_trainer_adapter * (opaque)."""


class ErrorPtr(c_void_p):
    """nat_trainer_adapter_error * (opaque)."""


class BufferPtr(c_void_p):
    """nat_trainer_adapter_buffer * (opaque)."""


# C type names of the ctypes types used below, for check_declarations.py.
# const is not expressible in ctypes, so the check ignores it for Python.
C_TYPE_NAMES = {
    c_uint32: "uint32_t",
    c_int32: "int32_t",
    c_size_t: "size_t",
    c_double: "double",
    c_char_p: "char*",
    POINTER(c_char): "char*",
    POINTER(c_int32): "int32_t*",
    AdapterHandle: "nat_trainer_adapter*",
    ErrorPtr: "nat_trainer_adapter_error*",
    BufferPtr: "nat_trainer_adapter_buffer*",
    POINTER(AdapterHandle): "nat_trainer_adapter**",
    POINTER(BufferPtr): "nat_trainer_adapter_buffer**",
    None: "void",
}

_JSON = (c_char_p, c_size_t)  # const char *json, size_t len

FUNCTIONS = (
    ("nat_trainer_adapter_abi_version", c_uint32, ()),
    ("nat_trainer_adapter_plugin_info", c_char_p, ()),
    ("nat_trainer_adapter_error_code", c_int32, (ErrorPtr,)),
    ("nat_trainer_adapter_error_message", c_char_p, (ErrorPtr,)),
    ("nat_trainer_adapter_error_free", None, (ErrorPtr,)),
    ("nat_trainer_adapter_buffer_data", POINTER(c_char), (BufferPtr,)),
    ("nat_trainer_adapter_buffer_size", c_size_t, (BufferPtr,)),
    ("nat_trainer_adapter_buffer_free", None, (BufferPtr,)),
    ("nat_trainer_adapter_create", ErrorPtr, _JSON + (POINTER(AdapterHandle),)),
    ("nat_trainer_adapter_destroy", None, (AdapterHandle,)),
    ("nat_trainer_adapter_initialize", ErrorPtr, (AdapterHandle,) + _JSON),
    ("nat_trainer_adapter_is_healthy", ErrorPtr, (AdapterHandle, POINTER(c_int32))),
    ("nat_trainer_adapter_submit", ErrorPtr, (AdapterHandle,) + _JSON + (POINTER(BufferPtr),)),
    ("nat_trainer_adapter_status", ErrorPtr, (AdapterHandle,) + _JSON + (POINTER(BufferPtr),)),
    (
        "nat_trainer_adapter_wait_until_complete",
        ErrorPtr,
        (AdapterHandle,) + _JSON + (c_double, c_double, POINTER(BufferPtr)),
    ),
    ("nat_trainer_adapter_cancel", ErrorPtr, (AdapterHandle,) + _JSON),
    ("nat_trainer_adapter_jobs", ErrorPtr, (AdapterHandle, POINTER(BufferPtr))),
    (
        "nat_trainer_adapter_next_event",
        ErrorPtr,
        (AdapterHandle,) + _JSON + (c_double, POINTER(BufferPtr)),
    ),
    ("nat_trainer_adapter_log_progress", ErrorPtr, (AdapterHandle,) + _JSON + _JSON + (c_char_p,)),
    ("nat_trainer_adapter_convert", ErrorPtr, (AdapterHandle,) + _JSON + (POINTER(BufferPtr),)),
    ("nat_trainer_adapter_resubmit", ErrorPtr, (AdapterHandle, c_char_p, c_size_t, POINTER(BufferPtr))),
    ("nat_trainer_adapter_spooled", ErrorPtr, (AdapterHandle, c_char_p, c_size_t, POINTER(BufferPtr))),
)

# The functions added after ABI 1.0, with their minor; every other is 1.0.
MINORS = {"nat_trainer_adapter_resubmit": 1, "nat_trainer_adapter_spooled": 1}

BOOTSTRAP = ("nat_trainer_adapter_abi_version", "nat_trainer_adapter_plugin_info")
PREFIX = "nat_trainer_adapter_"


class MissingFunction(AttributeError):
    """A function the plugin's ABI version promises is not exported."""


class Functions:
    """The bound functions of one loaded plugin, as attributes without the
    ``nat_trainer_adapter_`` prefix (``fns.create``, ``fns.error_free``...).
    A function of a later minor than the plugin's ABI version is None."""

    def __init__(self, lib: ctypes.CDLL, names=None, abi_version: int = ABI_VERSION):
        usable_minor = min(abi_version & 0xFFFF, ABI_MINOR)
        for name, restype, argtypes in FUNCTIONS:
            if names is not None and name not in names:
                continue
            minor = MINORS.get(name, 0)
            if minor > usable_minor:
                setattr(self, name[len(PREFIX):], None)
                continue
            try:
                fn = getattr(lib, name)
            except AttributeError:
                raise MissingFunction(
                    "ABI %d.%d function %s is missing" % (abi_version >> 16, abi_version & 0xFFFF, name)
                ) from None
            fn.restype = restype
            fn.argtypes = list(argtypes)
            setattr(self, name[len(PREFIX):], fn)


def bind(lib: ctypes.CDLL, names=None, abi_version: int = ABI_VERSION) -> Functions:
    """Sets argtypes/restype on the functions the ABI version promises (or on
    ``names`` among them)."""
    return Functions(lib, names, abi_version)
