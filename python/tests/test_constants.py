"""The binding's codes and flags are checked against the loaded library at load
(mcpauth_constants): a divergence is an ImportError, not a silent wrong answer."""

from __future__ import annotations

import copy
import ctypes
import json

import pytest

import libmcpauth
from libmcpauth import _ffi
from libmcpauth.errors import Code


def _lib_constants() -> dict:
    out = ctypes.c_void_p()
    assert _ffi.lib.mcpauth_constants(ctypes.byref(out)) == 0
    try:
        return json.loads(ctypes.string_at(out.value).decode())
    finally:
        _ffi.lib.mcpauth_free(out)


def test_binding_matches_the_library() -> None:
    consts = _lib_constants()
    _ffi.check_constants(consts)  # the same check runs when the library is loaded
    assert consts["codes"]["MCPAUTH_E_EXPIRED"] == Code.EXPIRED
    assert consts["flags"]["MCPAUTH_ROUTE_WITH_TOKEN"] == _ffi.ROUTE_WITH_TOKEN
    assert consts["version"] == libmcpauth.core_version()


@pytest.mark.parametrize("mutate", [
    lambda c: c["codes"].__setitem__("MCPAUTH_E_EXPIRED", 99),          # renumbered
    lambda c: c["codes"].__setitem__("MCPAUTH_E_SOMETHING_NEW", 50),     # a code Python lacks
    lambda c: c["codes"].pop("MCPAUTH_E_UPSTREAM"),                      # a code the library lacks
    lambda c: c["flags"].__setitem__("MCPAUTH_VERIFY_NO_CACHE", 8),      # a flag changed
    lambda c: c["flags"].__setitem__("MCPAUTH_ROUTE_NEW_FLAG", 4),       # a flag Python lacks
])
def test_any_divergence_fails(mutate) -> None:  # type: ignore[no-untyped-def]
    consts = copy.deepcopy(_lib_constants())
    mutate(consts)
    with pytest.raises(ImportError, match="disagree"):
        _ffi.check_constants(consts)
