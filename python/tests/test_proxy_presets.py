"""oauth_proxy(preset=..., client_id=..., client_secret=...) with no verifier argument: the
preset brings the verification of the upstream tokens. End to end per preset, against a local
stand-in of that provider's endpoints (authorize, token, and GitHub's /user, Google's
tokeninfo, Okta's JWKS): the SDK's OAuth client registers at the proxy, consents, signs in
upstream, and calls get-profile with the upstream token, which the core verifies the preset's
way."""

from __future__ import annotations

import base64
import importlib.util
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

import libmcpauth
from libmcpauth.testing import TestKey, claims, jwks_of

from .servers import free_port, serve

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "preset-client", "preset-secret-value"


class StandIn:
    """The endpoints of GitHub, Google or Okta that the proxy and the preset's verification
    call, on http://127.0.0.1:<port>. It signs in a fixed user at once."""

    def __init__(self, preset: str) -> None:
        self.preset = preset
        self.key = TestKey.rsa("okta-1")
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                u = urlparse(self.path)
                outer.calls.append("GET " + u.path)
                if u.path.endswith("authorize") or u.path.endswith("/auth"):
                    q = {k: v[0] for k, v in parse_qs(u.query).items()}
                    assert q["client_id"] == CLIENT_ID
                    code = secrets.token_urlsafe(16)
                    outer.codes[code] = q
                    loc = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                    self._send(302, None, {"Location": loc})
                elif u.path == "/user":  # GitHub: the token's user
                    tok = self.headers.get("Authorization", "").partition(" ")[2]
                    if tok not in outer.tokens:
                        self._send(401, {"message": "Bad credentials"})
                        return
                    self._send(200, {"id": 4242, "login": "octocat", "name": "The Octocat",
                                     "email": "octocat@example.com", "avatar_url": "https://a.example/o.png"})
                elif u.path.endswith("/v1/keys"):
                    self._send(200, jwks_of(outer.key))
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                u = urlparse(self.path)
                outer.calls.append("POST " + u.path)
                n = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
                if u.path == "/tokeninfo":  # Google: what the token is, and to whom it was issued
                    info = outer.tokens.get(form.get("access_token", ""))
                    if info is None:
                        self._send(400, {"error": "invalid_token"})
                        return
                    self._send(200, info)
                    return
                # the token endpoint; the client authenticates with the secret
                cid, csec = form.get("client_id"), form.get("client_secret")
                basic = self.headers.get("Authorization", "")
                if basic.startswith("Basic "):
                    cid, _, csec = base64.b64decode(basic[6:]).decode().partition(":")
                if (cid, csec) != (CLIENT_ID, CLIENT_SECRET) or form.get("code") not in outer.codes:
                    self._send(400, {"error": "invalid_grant"})
                    return
                q = outer.codes.pop(form["code"])
                self._send(200, outer.issue(q))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def issue(self, q: dict[str, str]) -> dict[str, Any]:
        now = int(time.time())
        if self.preset == "github":
            tok = "gho_" + secrets.token_urlsafe(24)
            self.tokens[tok] = {}
            return {"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email"}
        if self.preset == "google":
            tok = "ya29." + secrets.token_urlsafe(32)
            self.tokens[tok] = {"aud": CLIENT_ID, "azp": CLIENT_ID, "sub": "1090001", "scope": q.get("scope", ""),
                                "email": "gina@example.com", "email_verified": "true", "exp": str(now + 3599),
                                "expires_in": "3599", "access_type": "offline"}
            return {"access_token": tok, "token_type": "Bearer", "expires_in": 3599, "scope": q.get("scope", "")}
        tok = self.key.mint(claims(issuer=self.url + "/oauth2/default", audience=q.get("resource", ""),
                                   subject="00u1okta", scope="openid email profile mcp:read",
                                   email="otto@example.com", name="Otto Okta"))
        return {"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "openid email profile"}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _preset_provider(preset: str, up: StandIn, base: str) -> libmcpauth.OAuthProvider:
    """What the user writes, plus only the URLs of the stand-in in place of the real provider's."""
    common: dict[str, Any] = dict(preset=preset, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                  sealing_secret=secrets.token_urlsafe(48), base_url=base, use_env=False)
    if preset == "github":
        return libmcpauth.oauth_proxy(**common, auth_endpoint=up.url + "/login/oauth/authorize",
                                      token_endpoint=up.url + "/login/oauth/access_token",
                                      options={"userinfo": {"preset": "github", "url": up.url + "/user"}})
    if preset == "google":
        return libmcpauth.oauth_proxy(**common, auth_endpoint=up.url + "/o/oauth2/v2/auth",
                                      token_endpoint=up.url + "/token",
                                      options={"userinfo": {"preset": "google", "url": up.url + "/tokeninfo"}})
    return libmcpauth.oauth_proxy(**common, domain="dev-123.okta.com",
                                  auth_endpoint=up.url + "/oauth2/default/v1/authorize",
                                  token_endpoint=up.url + "/oauth2/default/v1/token",
                                  options={"issuer": up.url + "/oauth2/default",
                                           "jwksUrl": up.url + "/oauth2/default/v1/keys"})


def test_preset_alone_builds_a_provider() -> None:
    """As python/README.md shows it: no verifier argument, the preset's real endpoints."""
    for preset, extra in (("github", {}), ("google", {}), ("okta", {"domain": "dev-123.okta.com"})):
        p = libmcpauth.oauth_proxy(preset=preset, client_id="c", client_secret="s", sealing_secret="x" * 40,
                                   base_url="https://mcp.example.com", use_env=False, **extra)
        assert p.config["proxy"]["preset"] == preset
    with pytest.raises(TypeError, match="preset"):
        libmcpauth.oauth_proxy(client_id="c", client_secret="s", sealing_secret="x" * 40,
                               base_url="https://mcp.example.com", auth_endpoint="https://idp.example.com/a",
                               token_endpoint="https://idp.example.com/t", use_env=False)


@pytest.fixture(params=["github", "google", "okta"])
def stand_in(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    up = StandIn(request.param)
    yield up
    up.close()


async def test_preset_end_to_end(stand_in: StandIn) -> None:
    if not (REPO / "examples" / "python" / "client.py").is_file():
        pytest.skip("examples/python not found")
    server = _load("libmcpauth_demo_server", REPO / "examples" / "python" / "server.py")
    client = _load("libmcpauth_demo_client", REPO / "examples" / "python" / "client.py")
    port = free_port()
    base = f"http://localhost:{port}"
    provider = _preset_provider(stand_in.preset, stand_in, base)
    app = libmcpauth.McpAuthMiddleware(server.make_server().streamable_http_app(host="localhost"), provider)
    with serve(app, port):
        profile = await client.run(base + "/mcp")
    expected = {"github": ("4242", "octocat@example.com", "The Octocat"),
                "google": ("1090001", "gina@example.com", None),
                "okta": ("00u1okta", "otto@example.com", "Otto Okta")}[stand_in.preset]
    assert (profile["userId"], profile["email"], profile["name"]) == expected, profile
    verify_call = {"github": "GET /user", "google": "POST /tokeninfo", "okta": "GET /oauth2/default/v1/keys"}
    assert verify_call[stand_in.preset] in stand_in.calls, stand_in.calls
