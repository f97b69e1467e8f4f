"""End to end with a real OpenID provider (tests/idp/idp.mjs: npm oidc-provider issuing RS256
JWT access tokens for the MCP resource, RFC 8707).

- the official SDK's OAuth client runs the whole flow against an MCPServer protected by
  McpAuthMiddleware: 401 challenge -> protected resource metadata -> authorization server
  metadata -> authorization code + PKCE (the IdP logs in and consents automatically) -> token
  for the resource -> the `get-profile` tool returns the mapped user;
- the same IdP token works with FastMCP + McpAuthFastMCPProvider;
- a token the IdP issued for another resource is refused (401 invalid_token).

Skipped when node or oidc-provider (tests/http/node_modules) is missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx
import pytest

import libmcpauth

from .servers import call_tool, free_port, serve
from .test_e2e_servers import _MCP_HEADERS, _init_body, fastmcp_app, sdk_app

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
IDP = REPO / "tests" / "idp" / "idp.mjs"
OTHER_RESOURCE = "http://127.0.0.1:1/other-mcp"
REDIRECT = "http://127.0.0.1:9999/callback"
_START_TIMEOUT = 60.0  # seconds for idp.mjs to print its JSON line


def _idp_available() -> str | None:
    if not IDP.is_file():
        return "tests/idp/idp.mjs not found"
    if shutil.which("node") is None:
        return "node not installed"
    mods = [os.environ.get("IDP_NODE_MODULES", ""), str(REPO / "tests" / "http" / "node_modules"),
            str(REPO / "tests" / "idp" / "node_modules")]
    if not any(m and (Path(m) / "oidc-provider").is_dir() for m in mods):
        return "oidc-provider not installed (npm install in tests/http)"
    return None


class Idp:
    def __init__(self, mcp_url: str) -> None:
        self.proc = subprocess.Popen(
            ["node", str(IDP), "--mcp-url", mcp_url, "--resource", OTHER_RESOURCE, "--redirect-uri", REDIRECT],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        # bounded: a provider that never prints its line must not hang the suite
        ready, _, _ = select.select([self.proc.stdout], [], [], _START_TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            self.proc.wait()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            why = "exited" if ready else f"printed nothing within {_START_TIMEOUT:.0f} s"
            raise RuntimeError(f"idp.mjs did not start ({why}): {err[-2000:]}")
        self.info: dict[str, Any] = json.loads(line)
        self.issuer: str = self.info["issuer"]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait()

    def token(self, resource: str, scope: str = "openid mcp:read") -> str:
        """Authorization code + PKCE by hand (cookies kept, redirects followed until the
        client's redirect URI), then the code is exchanged for a JWT for `resource`."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(8)
        params = {"client_id": self.info["client_id"], "response_type": "code", "redirect_uri": REDIRECT,
                  "scope": scope, "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                  "resource": resource}
        url = self.info["authorization_endpoint"] + "?" + urlencode(params)
        with httpx.Client(follow_redirects=False, timeout=10) as c:
            for _ in range(10):
                if url.startswith(REDIRECT):
                    break
                r = c.get(url)
                assert r.status_code in (302, 303), (r.status_code, r.text[:300])
                url = urljoin(url, r.headers["location"])
            q = parse_qs(urlparse(url).query)
            assert q.get("state") == [state], q
            r = c.post(self.info["token_endpoint"], data={
                "grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": REDIRECT,
                "code_verifier": verifier, "client_id": self.info["client_id"],
                "client_secret": self.info["client_secret"], "resource": resource})
            assert r.status_code == 200, r.text
            return str(r.json()["access_token"])


@pytest.fixture
def idp_env() -> Iterator[tuple[Idp, int, str]]:
    why = _idp_available()
    if why:
        pytest.skip(why)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    idp = Idp(base + "/mcp")
    try:
        yield idp, port, base
    finally:
        idp.close()


def _provider(idp: Idp, base: str) -> libmcpauth.OAuthProvider:
    return libmcpauth.oauth_custom_provider(
        issuer=idp.issuer, auth_endpoint=idp.info["authorization_endpoint"],
        token_endpoint=idp.info["token_endpoint"], jwks_url=idp.info["jwks_uri"], base_url=base,
        scopes_supported=["openid", "mcp:read", "mcp:write"])


async def test_sdk_oauth_client_full_flow(idp_env: tuple[Idp, int, str]) -> None:
    from .servers import sdk_httpx as httpx2
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

    idp, port, base = idp_env
    provider = _provider(idp, base)

    class Storage:
        def __init__(self) -> None:
            self.tokens: OAuthToken | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return OAuthClientInformationFull(
                client_id=idp.info["client_id"], client_secret=idp.info["client_secret"],
                redirect_uris=[REDIRECT], grant_types=["authorization_code", "refresh_token"],
                response_types=["code"], token_endpoint_auth_method="client_secret_post")

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            pass

    landed: dict[str, str] = {}

    async def redirect_handler(auth_url: str) -> None:
        # the "browser": follow the IdP's redirects (automatic login and consent)
        url = auth_url
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as c:
            for _ in range(10):
                if url.startswith(REDIRECT):
                    break
                r = await c.get(url)
                assert r.status_code in (302, 303), (r.status_code, r.text[:300])
                url = urljoin(url, r.headers["location"])
        landed["url"] = url

    async def callback_handler() -> AuthorizationCodeResult:
        q = parse_qs(urlparse(landed["url"]).query)
        return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0],
                                       iss=q.get("iss", [None])[0])

    storage = Storage()
    oauth = OAuthClientProvider(
        server_url=base + "/mcp",
        client_metadata=OAuthClientMetadata(redirect_uris=[REDIRECT], client_name="e2e",
                                            grant_types=["authorization_code", "refresh_token"],
                                            response_types=["code"], scope="mcp:read",
                                            token_endpoint_auth_method="client_secret_post"),
        storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler)

    with serve(sdk_app(provider), port):
        async with httpx2.AsyncClient(auth=oauth, timeout=httpx2.Timeout(20.0)) as http:
            async with streamable_http_client(base + "/mcp", http_client=http) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    result = await session.call_tool("get-profile", {})
    sc = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    assert sc is not None, result
    assert sc["userId"] == "test-user"
    assert sc["email"] == "test@example.com"
    assert sc["name"] == "Test User"
    assert "mcp:read" in sc["scopes"]
    assert storage.tokens is not None
    claims = libmcpauth.testing.decode_unverified(storage.tokens.access_token)["payload"]
    assert claims["aud"] == base + "/mcp" and claims["iss"] == idp.issuer


async def test_idp_tokens_with_fastmcp_and_foreign_resource(idp_env: tuple[Idp, int, str]) -> None:
    idp, port, base = idp_env
    provider = _provider(idp, base)
    good = idp.token(base + "/mcp")
    foreign = idp.token(OTHER_RESOURCE)
    assert libmcpauth.testing.decode_unverified(foreign)["payload"]["aud"] == OTHER_RESOURCE
    with serve(fastmcp_app(provider), port):
        out = await call_tool(base + "/mcp", good, "get-profile")
        assert out["userId"] == "test-user" and out["email"] == "test@example.com"
        assert out["fastmcpSubject"] == "test-user"
        async with httpx.AsyncClient() as c:
            r = await c.post(base + "/mcp", json=_init_body(),
                             headers={**_MCP_HEADERS, "Authorization": f"Bearer {foreign}"})
            assert r.status_code == 401
            assert 'error="invalid_token"' in r.headers["www-authenticate"]
            r = await c.post(base + "/mcp", json=_init_body(), headers=_MCP_HEADERS)
            assert r.status_code == 401 and "error=" not in r.headers["www-authenticate"]
            # authorization server metadata: mirrored from the IdP by the C router
            r = await c.get(base + "/.well-known/oauth-authorization-server")
            assert r.status_code == 200, r.text
            assert r.json()["issuer"] == idp.issuer
    # the binding API directly: same decisions
    assert provider.verify(good).user.user_id == "test-user"
    res = provider.try_verify(foreign)
    assert res.error is not None and res.error.code == libmcpauth.Code.AUDIENCE_MISMATCH
    time.sleep(0)  # keep the IdP alive until here
