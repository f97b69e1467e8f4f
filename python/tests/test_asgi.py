"""McpAuthMiddleware in-process (httpx ASGI transport): routing, challenges, contextvar."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import libmcpauth
from libmcpauth import McpAuthMiddleware, current_auth
from libmcpauth.testing import TestKey, jwks_of

from .conftest import BASE_URL, ISSUER, RESOURCE, good_claims


class EchoApp:
    """Records what reached it, answers with current_auth() and the body it read."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        auth = current_auth()
        self.calls.append({"path": scope["path"], "body": body, "auth": auth,
                           "state": (scope.get("state") or {}).get("mcpauth")})
        out = json.dumps({"user": auth.user.user_id if auth else None, "len": len(body)}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


async def test_unprotected_paths_pass_untouched(provider: libmcpauth.OAuthProvider) -> None:
    echo = EchoApp()
    async with client(McpAuthMiddleware(echo, provider)) as c:
        r = await c.post("/other", content=b"x" * 1000)
    assert r.status_code == 200
    assert r.json() == {"user": None, "len": 1000}
    assert echo.calls[0]["auth"] is None


async def test_missing_token_401_challenge(provider: libmcpauth.OAuthProvider) -> None:
    echo = EchoApp()
    async with client(McpAuthMiddleware(echo, provider)) as c:
        r = await c.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert r.status_code == 401
    www = r.headers["www-authenticate"]
    assert www.startswith("Bearer ")
    assert "error=" not in www
    assert f'resource_metadata="{BASE_URL}/.well-known/oauth-protected-resource/mcp"' in www
    assert echo.calls == []


async def test_bad_token_401_invalid_token(provider: libmcpauth.OAuthProvider, other_key: TestKey) -> None:
    echo = EchoApp()
    async with client(McpAuthMiddleware(echo, provider)) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer " + other_key.mint(good_claims())}, json={})
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
        assert r.json()["error"] == "invalid_token"
        r = await c.post("/mcp", headers={"Authorization": "Basic dXNlcjpwdw=="}, json={})
        assert r.status_code in (400, 401)
    assert echo.calls == []


async def test_good_token_reaches_app_with_auth(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    echo = EchoApp()
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x"}}).encode()
    async with client(McpAuthMiddleware(echo, provider)) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer " + rsa_key.mint(good_claims())}, content=body)
    assert r.status_code == 200
    assert r.json() == {"user": "user-42", "len": len(body)}
    call = echo.calls[0]
    assert call["body"] == body  # streamed through untouched
    assert call["state"] is call["auth"]
    assert current_auth() is None  # reset after the request


async def test_metadata_served_by_router(provider: libmcpauth.OAuthProvider) -> None:
    echo = EchoApp()
    async with client(McpAuthMiddleware(echo, provider)) as c:
        r = await c.get("/.well-known/oauth-protected-resource/mcp")
        assert r.status_code == 200
        assert r.json()["resource"] == RESOURCE
        assert r.json()["authorization_servers"] == [ISSUER]
        assert r.headers["access-control-allow-origin"] == "*"
        r = await c.options("/.well-known/oauth-protected-resource/mcp",
                            headers={"Origin": "https://app", "Access-Control-Request-Method": "GET"})
        assert r.status_code == 204
    assert echo.calls == []


async def test_required_scopes_403(rsa_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=BASE_URL, required_scopes=["mcp:admin"])
    async with client(McpAuthMiddleware(EchoApp(), p)) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer " + rsa_key.mint(good_claims())}, json={})
    assert r.status_code == 403
    www = r.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in www and 'scope="mcp:admin"' in www


async def test_method_route_scopes_read_the_body(rsa_key: TestKey) -> None:
    """routeScopes keyed by MCP method: the middleware gives the router the JSON-RPC body."""
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, base_url=BASE_URL,
                              options={"routeScopes": {"tools/call": ["mcp:tools"]}})
    echo = EchoApp()
    tok = rsa_key.mint(good_claims())  # scopes mcp:read mcp:write
    h = {"Authorization": "Bearer " + tok}
    async with client(McpAuthMiddleware(echo, p)) as c:
        r = await c.post("/mcp", headers=h, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert r.status_code == 200
        r = await c.post("/mcp", headers=h, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call"})
        assert r.status_code == 403
        assert 'scope="mcp:tools"' in r.headers["www-authenticate"]
        # a body over the core's limit (1 MiB) is not parsed: every method scope applies
        r = await c.post("/mcp", headers=h,
                         json={"jsonrpc": "2.0", "id": 3, "method": "tools/list", "pad": "x" * (1 << 20)})
        assert r.status_code == 403
        # GET (the SSE stream) and DELETE (end of session) carry no message: base scopes only
        assert (await c.get("/mcp", headers=h)).status_code == 200
        assert (await c.delete("/mcp", headers=h)).status_code == 200


async def test_custom_verify_token_in_middleware() -> None:
    def verify(token: str) -> dict[str, Any]:
        if token != "good":
            raise ValueError("nope")
        return {"sub": "cu", "scope": "s", "iss": ISSUER, "aud": RESOURCE, "exp": 4102444800}

    p = libmcpauth.oauth_custom_provider(issuer=ISSUER, auth_endpoint=ISSUER + "/a", token_endpoint=ISSUER + "/t",
                                      verify_token=verify, base_url=BASE_URL)
    echo = EchoApp()
    async with client(McpAuthMiddleware(echo, p)) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer good"}, json={})
        assert r.status_code == 200 and r.json()["user"] == "cu"
        r = await c.post("/mcp", headers={"Authorization": "Bearer bad"}, json={})
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
        r = await c.post("/mcp", json={})
        assert r.status_code == 401 and "error=" not in r.headers["www-authenticate"]
        r = await c.get("/.well-known/oauth-protected-resource/mcp")
        assert r.status_code == 200


async def test_custom_verify_token_enforces_route_scopes() -> None:
    def verify(token: str) -> dict[str, Any]:
        return {"sub": "cu", "scope": "basic admin" if token == "admin" else "basic", "iss": ISSUER, "aud": RESOURCE,
                "exp": 4102444800}

    p = libmcpauth.oauth_custom_provider(issuer=ISSUER, auth_endpoint=ISSUER + "/a", token_endpoint=ISSUER + "/t",
                                      verify_token=verify, base_url=BASE_URL,
                                      options={"routeScopes": {"/mcp/admin": ["admin"]}})
    async with client(McpAuthMiddleware(EchoApp(), p)) as c:
        r = await c.post("/mcp", headers={"Authorization": "Bearer user"}, json={})
        assert r.status_code == 200
        r = await c.post("/mcp/admin", headers={"Authorization": "Bearer user"}, json={})
        assert r.status_code == 403
        www = r.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in www and 'scope="admin"' in www
        r = await c.post("/mcp/admin", headers={"Authorization": "Bearer admin"}, json={})
        assert r.status_code == 200 and r.json()["user"] == "cu"


async def test_lifespan_passthrough(provider: libmcpauth.OAuthProvider) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await McpAuthMiddleware(app, provider)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


async def test_websocket_refused_without_token(provider: libmcpauth.OAuthProvider) -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    scope = {"type": "websocket", "path": "/mcp", "headers": [], "query_string": b""}
    await McpAuthMiddleware(app, provider)(scope, None, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_sdk_user_set_for_session_binding(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    pytest.importorskip("mcp")
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

    auth = provider.verify(rsa_key.mint(good_claims(client_id="cl")))
    scope: dict[str, Any] = {"type": "http", "state": {"x": 1}}
    McpAuthMiddleware(EchoApp(), provider)._attach(scope, auth)
    assert isinstance(scope["user"], AuthenticatedUser)
    assert scope["user"].access_token.client_id == "cl"
    assert scope["user"].access_token.subject == "user-42"
    assert scope["state"] == {"x": 1, "mcpauth": auth}
    assert list(scope["auth"].scopes) == ["mcp:read", "mcp:write"]


def test_request_json_is_the_request_dict_encoded() -> None:
    """The middleware encodes the router's request straight from the scope's bytes; it must be
    the very document json.dumps(request_dict(scope)) gives, for any header bytes."""
    import random

    from libmcpauth.asgi import request_dict, request_json

    rng = random.Random(7)
    alphabet = [bytes([i]) for i in range(256)]
    for i in range(3000):
        headers = []
        for _ in range(rng.randint(0, 6)):
            name = rng.choice([b"authorization", b"Host", b"x-a", b"x-a", b'we"ird', b"c\\d"])
            if rng.random() < 0.5:
                value = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            else:
                value = b"Bearer " + bytes(rng.choice(b"abcXYZ019-_.") for _ in range(rng.randint(0, 60)))
            headers.append((name, value))
        scope = {"type": "websocket" if i % 50 == 0 else "http", "method": rng.choice(["GET", "POST", 'P"T']),
                 "path": rng.choice(["/mcp", "/a\\b", "/é", '/"q"', "/\x01"]), "headers": headers,
                 "query_string": b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))}
        if rng.random() < 0.3:  # the common case: unique lower-case names, printable values
            scope["headers"] = [(n, v) for n, v in {h[0].lower(): h[1] for h in headers}.items()
                                if b'"' not in n + v and b"\\" not in n + v and all(32 <= c < 127 for c in n + v)]
        client = rng.choice([None, ("10.0.0.7", 5000), ["::1", 1], ("testclient", 50000), ('"x"\\', 1),
                             ("é", 2), ("", 3), ("a" * 257, 4), ("a" * 256, 5), (None, 6), ()])
        if client is not None:
            scope["client"] = client
        expected = json.dumps(request_dict(scope), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        assert request_json(scope) == expected, scope
        assert json.loads(request_json(scope)) == request_dict(scope)


def test_request_json_carries_the_peer() -> None:
    """The client's address (the ASGI scope's client) is the request's peer, as in the Node and
    Go bindings; none when the server gives no client or one the core would refuse (> 256 bytes)."""
    from libmcpauth.asgi import request_dict, request_json

    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/mcp", "headers": [(b"host", b"h")],
                             "client": ("192.0.2.7", 4711)}
    assert json.loads(request_json(scope))["peer"] == "192.0.2.7"
    assert request_dict(scope)["peer"] == "192.0.2.7"
    for client in (None, ("a" * 257, 1), (None, 1)):
        scope["client"] = client
        assert "peer" not in json.loads(request_json(scope))
        assert "peer" not in request_dict(scope)


async def test_forwarded_host_is_honoured_only_from_a_trusted_peer(rsa_key: TestKey) -> None:
    """trustedProxies: X-Forwarded-Host/-Proto choose the resource only when the request's peer
    (the ASGI client address the middleware passes) is a trusted proxy."""
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, use_env=False,
                                 options={"trustHostHeader": True, "trustedProxies": ["10.0.0.0/24"],
                                          "allowedHosts": ["mcp.internal", "a.example"]})
    tok = rsa_key.mint(good_claims(audience="http://a.example/mcp"))
    fwd = {"X-Forwarded-Host": "a.example", "X-Forwarded-Proto": "http"}
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    results = {}
    for peer in ("10.0.0.7", "10.0.1.7"):
        echo = EchoApp()
        transport = httpx.ASGITransport(app=McpAuthMiddleware(echo, p), client=(peer, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="https://mcp.internal") as c:
            r = await c.post("/mcp", headers={"Authorization": "Bearer " + tok, **fwd}, json=ping)
            m = await c.get("/.well-known/oauth-protected-resource/mcp", headers=fwd)
        results[peer] = (r.status_code, m.json()["resource"], len(echo.calls))
    assert results["10.0.0.7"] == (200, "http://a.example/mcp", 1)  # the trusted proxy's forwarded host
    assert results["10.0.1.7"] == (401, "https://mcp.internal/mcp", 0)  # ignored from anyone else
