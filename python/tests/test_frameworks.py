"""Framework behaviour on every supported version (CI runs this file in one venv per line:
mcp 1.x with FastMCP 2.x and 3.x, mcp 2.x with FastMCP 4.x): fresh auth per request, imports
done once at construction, FastAPI/Starlette helpers."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import libmcpauth
from libmcpauth.testing import TestKey, claims, jwks_of

from .servers import free_port, sdk_http_app, sdk_httpx, sdk_server, serve

ISSUER = "https://idp.example.com"


def _whoami() -> dict[str, Any]:
    auth = libmcpauth.require_auth()
    return {"sub": auth.user.user_id, "scopes": list(auth.scopes), "jti": auth.payload.get("jti")}


def _sdk_middleware(provider: libmcpauth.OAuthProvider) -> Any:
    server = sdk_server("fresh-mw")
    server.tool(name="whoami")(_whoami)
    return libmcpauth.McpAuthMiddleware(sdk_http_app(server), provider)


def _sdk_verifier(provider: libmcpauth.OAuthProvider) -> Any:
    from libmcpauth.mcp_sdk import McpAuthTokenVerifier, auth_settings

    server = sdk_server("fresh-tv", token_verifier=McpAuthTokenVerifier(provider), auth=auth_settings(provider))
    server.tool(name="whoami")(_whoami)
    return sdk_http_app(server)


def _fastmcp(provider: libmcpauth.OAuthProvider) -> Any:
    pytest.importorskip("fastmcp")
    from fastmcp import FastMCP
    from fastmcp.server.dependencies import get_access_token

    from libmcpauth.fastmcp_auth import McpAuthFastMCPProvider

    mcp = FastMCP("fresh-fastmcp", auth=McpAuthFastMCPProvider(provider))

    @mcp.tool(name="whoami")
    def whoami() -> dict[str, Any]:
        out = _whoami()
        at = get_access_token()
        out["fastmcpScopes"] = list(at.scopes) if at else None
        return out

    return mcp.http_app(path="/mcp")


_APPS = {"sdk-middleware": _sdk_middleware, "sdk-verifier": _sdk_verifier, "fastmcp": _fastmcp}


@pytest.fixture(params=list(_APPS))
def served(request: pytest.FixtureRequest, rsa_key: TestKey) -> Iterator[tuple[str, TestKey]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=base)
    with serve(_APPS[request.param](provider), port):
        yield base + "/mcp", rsa_key


def _result(result: Any) -> Any:
    sc = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    assert sc is not None, result
    return sc.get("result", sc) if set(sc) == {"result"} else sc


async def test_token_switch_within_a_session_is_seen_by_tools(served: tuple[str, TestKey]) -> None:
    """A client that refreshes its token (more scopes) within one MCP session: every tool call
    sees the auth of its own request, not the one of `initialize`."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    url, key = served
    first = key.mint(claims(issuer=ISSUER, audience=url, subject="alice", scope="mcp:read", jti="t1"))
    second = key.mint(claims(issuer=ISSUER, audience=url, subject="alice", scope="mcp:read mcp:write", jti="t2"))
    async with sdk_httpx.AsyncClient(headers={"Authorization": f"Bearer {first}"},
                                     timeout=sdk_httpx.Timeout(20.0)) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                a = _result(await session.call_tool("whoami", {}))
                http.headers["Authorization"] = f"Bearer {second}"
                b = _result(await session.call_tool("whoami", {}))
                http.headers["Authorization"] = f"Bearer {first}"
                c = _result(await session.call_tool("whoami", {}))
    assert (a["jti"], a["scopes"]) == ("t1", ["mcp:read"])
    assert (b["jti"], b["scopes"]) == ("t2", ["mcp:read", "mcp:write"])
    assert (c["jti"], c["scopes"]) == ("t1", ["mcp:read"])
    if "fastmcpScopes" in b:
        assert b["fastmcpScopes"] == b["scopes"]


# ---- imports happen once, at construction -------------------------------------------------

class _ImportSpy:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.real = builtins.__import__

    def __call__(self, name: str, *a: Any, **kw: Any) -> Any:
        self.names.append(name)
        return self.real(name, *a, **kw)


async def _requests(app: Any, token: str) -> list[int]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://mcp.example.com") as c:
        codes = []
        for _ in range(3):
            codes.append((await c.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                       headers={"Authorization": f"Bearer {token}"})).status_code)
            codes.append((await c.get("/other")).status_code)
        return codes


async def _ok_app(scope: Any, receive: Any, send: Any) -> None:
    assert libmcpauth.current_auth() is not None or scope["path"] != "/mcp"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _mw_provider(rsa_key: TestKey) -> tuple[libmcpauth.OAuthProvider, str]:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url="https://mcp.example.com")
    tok = rsa_key.mint(claims(issuer=ISSUER, audience="https://mcp.example.com/mcp", subject="s"))
    return p, tok


async def test_no_import_on_the_request_path(rsa_key: TestKey, monkeypatch: pytest.MonkeyPatch) -> None:
    provider, tok = _mw_provider(rsa_key)
    app = libmcpauth.McpAuthMiddleware(_ok_app, provider)
    await _requests(app, tok)  # warm: lazy imports of httpx/anyio themselves are not ours
    spy = _ImportSpy()
    monkeypatch.setattr(builtins, "__import__", spy)
    codes = await _requests(app, tok)
    monkeypatch.undo()
    assert codes == [200] * 6
    ours = [n for n in spy.names if n.split(".")[0] in ("mcp", "starlette", "fastmcp") or "mcp_sdk" in n]
    assert ours == [], ours


async def test_without_mcp_no_failed_import_per_request(rsa_key: TestKey, monkeypatch: pytest.MonkeyPatch) -> None:
    from libmcpauth import _sdk

    for attr in ("AuthenticatedUser", "AuthCredentials", "AccessToken", "request_ctx"):
        monkeypatch.setattr(_sdk.sdk, attr, None)
    monkeypatch.setattr(_sdk.sdk, "loaded", False)
    for mod in [m for m in list(sys.modules) if m == "mcp" or m.startswith("mcp.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "mcp", None)  # `import mcp...` now fails, as if not installed
    provider, tok = _mw_provider(rsa_key)
    app = libmcpauth.McpAuthMiddleware(_ok_app, provider)
    spy = _ImportSpy()
    monkeypatch.setattr(builtins, "__import__", spy)
    codes = await _requests(app, tok)
    monkeypatch.setattr(builtins, "__import__", spy.real)
    assert codes == [200] * 6
    assert [n for n in spy.names if n.split(".")[0] == "mcp" or "mcp_sdk" in n] == []


# ---- Starlette / FastAPI ------------------------------------------------------------------

def _fastapi_app(provider: libmcpauth.OAuthProvider) -> Any:
    fastapi = pytest.importorskip("fastapi")
    api = fastapi.FastAPI()

    @api.get("/api/open")
    def open_route() -> dict[str, Any]:
        return {"user": libmcpauth.require_auth().user.user_id}

    @api.get("/api/me")
    def me(auth: libmcpauth.AuthInfo = fastapi.Depends(libmcpauth.authenticated)) -> dict[str, Any]:
        return {"user": auth.user.user_id, "scopes": list(auth.scopes)}

    return libmcpauth.McpAuthMiddleware(api, provider)


async def test_fastapi_require_auth_on_unprotected_route_is_401(rsa_key: TestKey) -> None:
    base = "https://mcp.example.com"
    provider = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=base,
                                        options={"protectedPaths": ["/mcp", "/api/me"]})
    app = _fastapi_app(provider)
    tok = rsa_key.mint(claims(issuer=ISSUER, audience=base + "/mcp", subject="bob", scope="mcp:read"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url=base) as c:
        r = await c.get("/api/open")
        assert r.status_code == 401, r.text
        www = r.headers["www-authenticate"]
        assert www.startswith("Bearer ") and "resource_metadata=" in www, www
        assert www == provider.challenge(libmcpauth.Code.TOKEN_MISSING)
        r = await c.get("/api/me")  # protected by the core: its own 401
        assert r.status_code == 401 and "resource_metadata=" in r.headers["www-authenticate"]
        r = await c.get("/api/me", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200 and r.json() == {"user": "bob", "scopes": ["mcp:read"]}
        r = await c.get("/api/me", headers={"Authorization": "Bearer garbage"})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_starlette_require_auth_is_401(rsa_key: TestKey) -> None:
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def open_route(request: Any) -> Any:
        return JSONResponse({"user": libmcpauth.require_auth().user.user_id})

    provider, _ = _mw_provider(rsa_key)
    app = libmcpauth.McpAuthMiddleware(Starlette(routes=[Route("/open", open_route)]), provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="https://mcp.example.com") as c:
        r = await c.get("/open")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == provider.challenge(libmcpauth.Code.TOKEN_MISSING)
    with pytest.raises(LookupError):  # outside any request: still a LookupError
        libmcpauth.require_auth()
