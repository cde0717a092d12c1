"""Python exceptions for the error codes of the C ABI."""

from __future__ import annotations

from typing import Dict, Type

from . import _ffi


class AdapterError(Exception):
    """An error returned by a trainer adapter plugin.

    ``code`` is the raw nat_trainer_adapter_code (an int), ``message`` the
    plugin's message. Codes unknown to this binding (added in a later 1.x)
    raise :class:`Internal` with the raw code kept in ``code``, as the header
    asks callers to treat them.
    """

    default_code = _ffi.INTERNAL

    def __init__(self, message: str = "", code: "int | None" = None):
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else int(code)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class InvalidArgument(AdapterError, ValueError):
    """NAT_TRAINER_ADAPTER_INVALID_ARGUMENT: malformed input or a broken rule."""

    default_code = _ffi.INVALID_ARGUMENT


class NotFound(AdapterError, LookupError):
    """NAT_TRAINER_ADAPTER_NOT_FOUND: a job reference names no known job."""

    default_code = _ffi.NOT_FOUND


class AlreadyExists(AdapterError):
    """NAT_TRAINER_ADAPTER_ALREADY_EXISTS: a job with this run_id is still active."""

    default_code = _ffi.ALREADY_EXISTS


class FailedPrecondition(AdapterError):
    """NAT_TRAINER_ADAPTER_FAILED_PRECONDITION: not valid in the current state."""

    default_code = _ffi.FAILED_PRECONDITION


class Unavailable(AdapterError):
    """NAT_TRAINER_ADAPTER_UNAVAILABLE: the backend cannot be reached or failed."""

    default_code = _ffi.UNAVAILABLE


class DeadlineExceeded(AdapterError):
    """NAT_TRAINER_ADAPTER_DEADLINE_EXCEEDED: a wait ran out of time."""

    default_code = _ffi.DEADLINE_EXCEEDED


class Cancelled(AdapterError):
    """NAT_TRAINER_ADAPTER_CANCELLED: the operation was cancelled."""

    default_code = _ffi.CANCELLED


class Internal(AdapterError):
    """NAT_TRAINER_ADAPTER_INTERNAL (and any unknown code): a bug or unexpected failure."""

    default_code = _ffi.INTERNAL


class PluginNotFound(NotFound):
    """No plugin with the requested name (or at the requested path) was found."""


class PluginLoadError(FailedPrecondition):
    """A file could not be loaded as a plugin: dlopen failed, a symbol is
    missing, or its ABI major version differs from this binding's."""


ERRORS_BY_CODE: Dict[int, Type[AdapterError]] = {
    _ffi.INVALID_ARGUMENT: InvalidArgument,
    _ffi.NOT_FOUND: NotFound,
    _ffi.ALREADY_EXISTS: AlreadyExists,
    _ffi.FAILED_PRECONDITION: FailedPrecondition,
    _ffi.UNAVAILABLE: Unavailable,
    _ffi.DEADLINE_EXCEEDED: DeadlineExceeded,
    _ffi.CANCELLED: Cancelled,
    _ffi.INTERNAL: Internal,
}


def error_from_code(code: int, message: str) -> AdapterError:
    """The exception for a C error code; unknown codes give Internal."""
    cls = ERRORS_BY_CODE.get(int(code), Internal)
    return cls(message, code)
