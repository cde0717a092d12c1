import pytest

import nat_trainer_adapter as nta
from nat_trainer_adapter import _ffi
from nat_trainer_adapter.errors import ERRORS_BY_CODE, error_from_code


@pytest.mark.parametrize("code,cls", [
    (1, nta.InvalidArgument), (2, nta.NotFound), (3, nta.AlreadyExists), (4, nta.FailedPrecondition),
    (5, nta.Unavailable), (6, nta.DeadlineExceeded), (7, nta.Cancelled), (8, nta.Internal),
])
def test_codes(code, cls):
    e = error_from_code(code, "msg")
    assert type(e) is cls and isinstance(e, nta.AdapterError)
    assert e.code == code and e.message == "msg" and str(e) == "msg"
    assert cls("x").code == code


def test_unknown_code_is_internal_with_raw_code():
    e = error_from_code(99, "future")
    assert isinstance(e, nta.Internal) and e.code == 99


def test_python_base_classes():
    assert isinstance(nta.InvalidArgument("x"), ValueError)
    assert isinstance(nta.NotFound("x"), LookupError)
    assert issubclass(nta.PluginNotFound, nta.NotFound)
    assert issubclass(nta.PluginLoadError, nta.FailedPrecondition)


def test_every_code_has_a_class():
    assert set(ERRORS_BY_CODE) == set(_ffi.CODES.values()) - {0}
