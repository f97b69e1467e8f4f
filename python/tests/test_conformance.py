"""The binding conformance vectors (bindings/conformance/vectors.json) through the Python
binding: the same outcomes as the C API (tests/c/check_conformance.c) and every other binding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import libmcpauth

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "bindings" / "conformance" / "vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    provider = libmcpauth.OAuthProvider(VECTORS["configs"][case["config"]], use_env=False)
    expect = case["expect"]
    result = provider.try_verify(case["token"])
    if expect["valid"]:
        assert result.auth is not None, result.error
        auth = result.auth.to_dict(camel=True)
        for key, value in expect.get("user", {}).items():
            assert auth["user"].get(key) == value, key
        if "scopes" in expect:
            assert sorted(result.auth.scopes) == sorted(expect["scopes"])
        for key in ("clientId", "expiresAt"):
            if key in expect:
                assert auth[key] == expect[key], key
    else:
        assert result.auth is None
        assert result.error is not None
        assert result.error.code == libmcpauth.Code[expect["code"].removeprefix("MCPAUTH_E_")]
        assert result.error.oauth_error == expect["error"]
