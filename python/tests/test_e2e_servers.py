"""End to end, on the wire: real MCP servers (official SDK MCPServer behind McpAuthMiddleware,
MCPServer with McpAuthTokenVerifier, fastmcp.FastMCP with McpAuthFastMCPProvider) served by
uvicorn on 127.0.0.1, called by the SDK's streamable HTTP client with locally minted tokens
checked against an inline JWKS. The same scenarios against a real OpenID provider are in
test_e2e_idp.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import libmcpauth
from libmcpauth.testing import TestKey, claims, jwks_of

from .servers import call_tool, free_port, sdk_http_app, sdk_server, serve

pytestmark = pytest.mark.e2e

ISSUER = "https://idp.example.com"


def profile() -> dict[str, Any]:
    auth = libmcpauth.require_auth()
    return {"userId": auth.user.user_id, "email": auth.user.email, "name": auth.user.name,
            "scopes": auth.scopes}


def sdk_app(provider: libmcpauth.OAuthProvider) -> Any:
    server = sdk_server("e2e-sdk")

    @server.tool(name="get-profile", description="the authenticated user's profile")
    def get_profile() -> dict[str, Any]:
        return profile()

    return libmcpauth.McpAuthMiddleware(sdk_http_app(server), provider)


def sdk_verifier_app(provider: libmcpauth.OAuthProvider, resource: str) -> Any:
    from libmcpauth.mcp_sdk import McpAuthTokenVerifier, auth_settings

    server = sdk_server("e2e-sdk-verifier", token_verifier=McpAuthTokenVerifier(provider),
                       auth=auth_settings(provider, resource_server_url=resource))

    @server.tool(name="get-profile")
    def get_profile() -> dict[str, Any]:
        return profile()

    return sdk_http_app(server)


def fastmcp_app(provider: libmcpauth.OAuthProvider) -> Any:
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token

    from libmcpauth.fastmcp_auth import McpAuthFastMCPProvider

    mcp = FastMCP("e2e-fastmcp", auth=McpAuthFastMCPProvider(provider))

    @mcp.tool(name="get-profile")
    def get_profile() -> dict[str, Any]:
        p = profile()
        at = get_access_token()  # FastMCP's own accessor sees the same principal
        p["fastmcpSubject"] = at.subject if at else None
        return p

    return mcp.http_app(path="/mcp")


class Env:
    def __init__(self, key: TestKey, base: str, provider: libmcpauth.OAuthProvider) -> None:
        self.key = key
        self.base = base
        self.resource = base + "/mcp"
        self.provider = provider

    def token(self, **kw: Any) -> str:
        c: dict[str, Any] = dict(issuer=ISSUER, audience=self.resource, subject="alice", scope="mcp:read",
                                 email="alice@example.com", name="Alice")
        c.update(kw)
        return self.key.mint(claims(**c))


@pytest.fixture(params=["sdk-middleware", "sdk-verifier", "fastmcp"])
def env(request: pytest.FixtureRequest, rsa_key: TestKey) -> Iterator[Env]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=base,
                                     options={"scopesSupported": ["mcp:read", "mcp:admin"]})
    if request.param == "sdk-middleware":
        app = sdk_app(provider)
    elif request.param == "sdk-verifier":
        app = sdk_verifier_app(provider, base + "/mcp")
    else:
        pytest.importorskip("fastmcp")
        app = fastmcp_app(provider)
    with serve(app, port):
        yield Env(rsa_key, base, provider)


async def test_get_profile_returns_mapped_user(env: Env) -> None:
    out = await call_tool(env.resource, env.token(), "get-profile")
    assert out["userId"] == "alice"
    assert out["email"] == "alice@example.com"
    assert out["name"] == "Alice"
    assert out["scopes"] == ["mcp:read"]
    if "fastmcpSubject" in out:
        assert out["fastmcpSubject"] == "alice"


async def test_two_users_get_their_own_profile(env: Env) -> None:
    a = await call_tool(env.resource, env.token(subject="u-a", email="a@x"), "get-profile")
    b = await call_tool(env.resource, env.token(subject="u-b", email="b@x"), "get-profile")
    assert (a["userId"], a["email"]) == ("u-a", "a@x")
    assert (b["userId"], b["email"]) == ("u-b", "b@x")


def _init_body() -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "wire", "version": "0"}}}


_MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def test_wire_401_without_token(env: Env) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.post(env.resource, json=_init_body(), headers=_MCP_HEADERS)
    assert r.status_code == 401
    www = r.headers["www-authenticate"]
    assert www.startswith("Bearer ")
    assert "resource_metadata=" in www


async def test_wire_401_bad_and_foreign_tokens(env: Env) -> None:
    foreign = env.token(audience="http://127.0.0.1:1/other-mcp")  # issued for another resource
    forged = TestKey.rsa("rsa-1").mint(claims(issuer=ISSUER, audience=env.resource))
    expired = env.token(ttl=-3600)
    async with httpx.AsyncClient() as c:
        for tok in (foreign, forged, expired, "garbage"):
            r = await c.post(env.resource, json=_init_body(),
                             headers={**_MCP_HEADERS, "Authorization": f"Bearer {tok}"})
            assert r.status_code == 401, (tok[:20], r.status_code, r.text)
            assert 'error="invalid_token"' in r.headers["www-authenticate"]
    with pytest.raises(Exception):
        await call_tool(env.resource, foreign, "get-profile")


async def test_wire_prm_document(env: Env) -> None:
    async with httpx.AsyncClient() as c:
        r = await c.get(env.base + "/.well-known/oauth-protected-resource/mcp")
    assert r.status_code == 200
    doc = r.json()
    assert doc["resource"].rstrip("/") == env.resource
    assert [s.rstrip("/") for s in doc["authorization_servers"]] == [ISSUER]


async def test_wire_403_insufficient_scope(rsa_key: TestKey) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=base,
                                     required_scopes=["mcp:admin"])
    e = Env(rsa_key, base, provider)
    with serve(sdk_app(provider), port):
        async with httpx.AsyncClient() as c:
            r = await c.post(e.resource, json=_init_body(),
                             headers={**_MCP_HEADERS, "Authorization": f"Bearer {e.token()}"})
            assert r.status_code == 403
            www = r.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in www
            assert 'scope="mcp:admin"' in www
            assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in www
        out = await call_tool(e.resource, e.token(scope="mcp:admin"), "get-profile")
        assert out["userId"] == "alice"


async def test_fastmcp_challenges_are_libmcpauth(rsa_key: TestKey) -> None:
    """With FastMCP, the 401 without credentials carries no error code (RFC 6750 3.1)."""
    pytest.importorskip("fastmcp")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=base)
    with serve(fastmcp_app(provider), port):
        async with httpx.AsyncClient() as c:
            r = await c.post(base + "/mcp", json=_init_body(), headers=_MCP_HEADERS)
    assert r.status_code == 401
    assert "error=" not in r.headers["www-authenticate"]
    # answered by the C router, not FastMCP's RequireAuthMiddleware (empty body, no CORS expose)
    assert r.headers["access-control-expose-headers"] == "WWW-Authenticate"
    assert "error" not in r.json()  # RFC 6750 3.1: no credentials, no error code
    assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in r.headers["www-authenticate"]
