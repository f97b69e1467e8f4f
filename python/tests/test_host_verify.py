"""A host verify_token is trusted for the signature only: the core checks the claims it hands
back (mcpauth_route_complete): a foreign audience, a foreign issuer, an expired token are refused
on every integration route (middleware, verify/verify_async, the SDK's TokenVerifier, FastMCP),
and every refusal of the middleware is logged with its code and detail, never the token."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

import libmcpauth
from libmcpauth import AuthError, Code, McpAuthMiddleware

from .conftest import BASE_URL, ISSUER, RESOURCE

GOOD = {"sub": "host-user", "iss": ISSUER, "aud": RESOURCE, "exp": 4102444800, "scope": "mcp:read"}
BAD = {
    "foreign-aud": ({**GOOD, "aud": "https://other.example.com/mcp"}, Code.AUDIENCE_MISMATCH),
    "foreign-iss": ({**GOOD, "iss": "https://evil.example.com"}, Code.ISSUER_MISMATCH),
    "expired": ({**GOOD, "exp": 1}, Code.EXPIRED),
}


def _provider(is_async: bool = False) -> libmcpauth.OAuthProvider:
    def claims_for(token: str) -> dict[str, Any]:
        if token == "good":
            return GOOD
        if token in BAD:
            return BAD[token][0]
        raise ValueError(f"unknown token {token}")

    async def averify(token: str) -> dict[str, Any]:
        return claims_for(token)

    return libmcpauth.oauth_custom_provider(issuer=ISSUER, auth_endpoint=ISSUER + "/a", token_endpoint=ISSUER + "/t",
                                            verify_token=averify if is_async else claims_for, base_url=BASE_URL,
                                            use_env=False)


@pytest.mark.parametrize("bad", list(BAD))
def test_verify_checks_host_claims(bad: str) -> None:
    p = _provider()
    assert p.verify("good").user.user_id == "host-user"
    with pytest.raises(AuthError) as ei:
        p.verify(bad)
    assert ei.value.code == BAD[bad][1]


@pytest.mark.parametrize("bad", list(BAD))
async def test_verify_async_checks_host_claims(bad: str) -> None:
    p = _provider(is_async=True)
    assert (await p.verify_async("good")).user.user_id == "host-user"
    with pytest.raises(AuthError) as ei:
        await p.verify_async(bad)
    assert ei.value.code == BAD[bad][1]


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": libmcpauth.require_auth().user.user_id.encode()})


@pytest.mark.parametrize("is_async", [False, True])
async def test_middleware_checks_host_claims_and_logs(is_async: bool, caplog: pytest.LogCaptureFixture) -> None:
    app = McpAuthMiddleware(_ok, _provider(is_async))
    caplog.set_level(logging.INFO, logger="libmcpauth")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer good"}, json={})
        assert r.status_code == 200 and r.text == "host-user"
        for bad, (_, code) in BAD.items():
            caplog.clear()
            r = await c.post("/mcp", headers={"Authorization": f"Bearer {bad}"}, json={})
            assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"], bad
            recs = [rec.getMessage() for rec in caplog.records if rec.name == "libmcpauth"]
            assert len(recs) == 1 and libmcpauth.errors.code_name(code) in recs[0], recs
        caplog.clear()
        r = await c.post("/mcp", headers={"Authorization": "Bearer unknown-secret-token"}, json={})
        assert r.status_code == 401
        msg = " ".join(rec.getMessage() for rec in caplog.records)
        assert "MCPAUTH_E_TOKEN_INACTIVE" in msg and "ValueError" in msg
        assert "unknown-secret-token" not in msg  # the host's message quoted the token: scrubbed


async def test_middleware_logs_core_rejections(provider: libmcpauth.OAuthProvider,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """A token the core itself refuses (McpAuthMiddleware logged nothing before)."""
    from libmcpauth.testing import TestKey, claims

    tok = TestKey.rsa("rsa-1").mint(claims(issuer=ISSUER, audience=RESOURCE))  # an untrusted key
    caplog.set_level(logging.INFO, logger="libmcpauth")
    app = McpAuthMiddleware(_ok, provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        r = await c.post("/mcp", headers={"Authorization": f"Bearer {tok}"}, json={})
        assert r.status_code == 401
        r2 = await c.post("/mcp", json={})
        assert r2.status_code == 401
    msgs = [rec.getMessage() for rec in caplog.records if rec.name == "libmcpauth"]
    assert len(msgs) == 2, msgs
    assert "MCPAUTH_E_BAD_SIGNATURE" in msgs[0] and "POST /mcp" in msgs[0]
    assert "MCPAUTH_E_TOKEN_MISSING" in msgs[1]
    for m in msgs:
        assert tok not in m and tok.split(".")[2] not in m


async def test_token_verifier_checks_host_claims() -> None:
    pytest.importorskip("mcp")
    from libmcpauth.mcp_sdk import McpAuthTokenVerifier

    v = McpAuthTokenVerifier(_provider())
    assert (await v.verify_token("good")) is not None
    for bad in BAD:
        assert await v.verify_token(bad) is None, bad


async def test_fastmcp_provider_checks_host_claims() -> None:
    pytest.importorskip("fastmcp")
    from libmcpauth.fastmcp_auth import McpAuthFastMCPProvider

    fp = McpAuthFastMCPProvider(_provider(is_async=True))
    assert (await fp.verify_token("good")) is not None
    for bad in BAD:
        assert await fp.verify_token(bad) is None, bad
