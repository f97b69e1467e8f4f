"""oauth_proxy: the seed's oauthProxy options become the C core's "proxy" object (paired with a
jwks_verifier, the seed's ``oauthProxy + jwksVerifier``), the core serves the proxy routes, and
the whole flow works with the official SDK's OAuth client against a real OpenID provider whose
dynamic registration is disabled (the demo: examples/python/server.py and client.py)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

import libmcpauth
from libmcpauth import ConfigError
from libmcpauth.testing import TestKey, jwks_of

UP = "https://idp.example.com"
BASE = "https://mcp.example.com"
SEAL = "s" * 40
REDIRECT = "http://127.0.0.1:7777/callback"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCPAUTH_SEALING_SECRET", raising=False)


@pytest.fixture
def verifier(rsa_key: TestKey) -> libmcpauth.OAuthProvider:
    return libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=UP, required_scopes=["mcp:read"], base_url=BASE)


def _proxy(verifier: Any, **kw: Any) -> libmcpauth.OAuthProvider:
    args: dict[str, Any] = dict(auth_endpoint=UP + "/authorize", token_endpoint=UP + "/oauth/token", issuer=UP,
                                client_id="cid", client_secret="csecret-value", sealing_secret=SEAL,
                                verify_token=verifier, base_url=BASE)
    args.update(kw)
    return libmcpauth.oauth_proxy(**args)


def test_seed_options_translate_to_the_proxy_object(verifier: libmcpauth.OAuthProvider) -> None:
    p = _proxy(verifier, scopes=["openid", "email"], grant_types=["authorization_code"],
               extra_authorize_params={"prompt": "consent", "access_type": "offline"},
               previous_secrets=["p" * 32], token_endpoint_auth_method="client_secret_basic", consent=False,
               server_name="Demo", forward_resource=False, allowed_redirect_uris=["http://127.0.0.1:*/callback"],
               code_ttl_seconds=60, state_ttl_seconds=120, client_ttl_seconds=3600, consent_ttl_seconds=600,
               proxy_options={"clientMetadataCacheSeconds": 90})
    assert p.options["proxy"] == {
        "authEndpoint": UP + "/authorize", "tokenEndpoint": UP + "/oauth/token", "issuer": UP,
        "clientId": "cid", "clientSecret": "csecret-value", "tokenEndpointAuthMethod": "client_secret_basic",
        "scopes": ["openid", "email"], "grantTypes": ["authorization_code"],
        "extraAuthorizeParams": {"prompt": "consent", "access_type": "offline"},
        "sealingSecret": SEAL, "previousSecrets": ["p" * 32], "allowedRedirectUris": ["http://127.0.0.1:*/callback"],
        "consent": False, "serverName": "Demo", "forwardResource": False, "codeTtlSeconds": 60,
        "stateTtlSeconds": 120, "clientTtlSeconds": 3600, "consentTtlSeconds": 600,
        "clientMetadataCacheSeconds": 90,
    }
    resolved = p.config["proxy"]
    assert resolved["clientId"] == "cid"
    assert resolved["clientSecret"] == "<set>" and resolved["sealingSecret"] == "<set>"
    assert "csecret-value" not in json.dumps(p.config) and SEAL not in json.dumps(p.config)


def test_left_out_options_are_not_sent(verifier: libmcpauth.OAuthProvider) -> None:
    p = _proxy(verifier, client_secret=None)
    assert p.options["proxy"] == {"authEndpoint": UP + "/authorize", "tokenEndpoint": UP + "/oauth/token",
                                  "issuer": UP, "clientId": "cid", "sealingSecret": SEAL}


def test_the_verifier_config_is_the_rest_of_the_engine(verifier: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    p = _proxy(verifier, mcp_path="/mcp")
    o = p.options
    assert o["provider"] == "jwks" and o["issuer"] == UP and o["requiredScopes"] == ["mcp:read"]
    assert o["baseUrl"] == BASE and o["mcpPath"] == "/mcp"
    # the engine verifies upstream tokens with the verifier's keys
    tok = rsa_key.mint({"iss": UP, "sub": "u1", "aud": BASE + "/mcp", "scope": "mcp:read", "exp": 4102444800})
    assert p.verify(tok).user.user_id == "u1"
    assert "proxy" not in verifier.options  # the verifier itself is left alone


def test_callable_verifier(rsa_key: TestKey) -> None:
    def verify(token: str) -> dict[str, Any]:
        return {"sub": "from-callable", "iss": UP, "aud": BASE + "/mcp", "exp": 4102444800}

    p = _proxy(verify)
    assert p.options["provider"] == "custom" and p.options["issuer"] == UP
    assert p.options["hostVerifies"] is True and "secret" not in p.options
    assert p.config["hostVerifies"] is True
    assert p.options["proxy"]["clientId"] == "cid"
    assert p.verify("opaque-upstream-token").user.user_id == "from-callable"
    with pytest.raises(TypeError):
        _proxy(42)


def test_sealing_secret_from_env_or_refused(verifier: libmcpauth.OAuthProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="'sealing_secret'"):
        _proxy(verifier, sealing_secret=None)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        _proxy(verifier, sealing_secret="short")
    monkeypatch.setenv("MCPAUTH_SEALING_SECRET", "e" * 32)
    assert _proxy(verifier, sealing_secret=None).config["proxy"]["clientId"] == "cid"


def test_config_errors_name_the_option(verifier: libmcpauth.OAuthProvider) -> None:
    with pytest.raises(ConfigError, match="'auth_endpoint'"):
        _proxy(verifier, auth_endpoint=None, token_endpoint=None, issuer=None)
    with pytest.raises(ConfigError, match="'grant_types'"):
        _proxy(verifier, grant_types=["implicit"])
    with pytest.raises(ConfigError, match="proxy.bogus"):
        _proxy(verifier, proxy_options={"bogus": 1})
    with pytest.raises(ConfigError, match="https"):
        _proxy(verifier, auth_endpoint="http://idp.example.com/authorize")


def test_preset_fills_the_endpoints(verifier: libmcpauth.OAuthProvider) -> None:
    p = _proxy(verifier, auth_endpoint=None, token_endpoint=None, issuer=None, preset="google")
    assert p.options["proxy"]["preset"] == "google"
    meta = p.authorization_server_metadata()
    assert meta["issuer"] == BASE and meta["registration_endpoint"] == BASE + "/register"


# ---- the routes, in process -------------------------------------------------------------------


def _headers(d: libmcpauth.Decision) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in d.headers:
        out.setdefault(k.lower(), []).append(v)
    return out


def _cookie(set_cookie: str) -> tuple[str, str]:
    name, _, value = set_cookie.split(";", 1)[0].partition("=")
    return name, value


def test_register_consent_and_upstream_redirect_in_process(verifier: libmcpauth.OAuthProvider) -> None:
    p = _proxy(verifier, scopes=["openid", "mcp:read"])
    prm = p.protected_resource_metadata()
    assert prm["authorization_servers"] == [BASE] and prm["resource"] == BASE + "/mcp"
    meta = p.authorization_server_metadata()
    assert meta["authorization_endpoint"] == BASE + "/authorize" and meta["token_endpoint"] == BASE + "/token"

    d = p.handle_request({"method": "POST", "path": "/register", "headers": {"content-type": "application/json"},
                          "body": json.dumps({"client_name": "t", "redirect_uris": [REDIRECT]})})
    assert (d.action, d.status) == ("respond", 201), d.body
    reg = json.loads(d.body or "{}")
    assert reg["token_endpoint_auth_method"] == "none" and "client_secret" not in reg
    assert "csecret-value" not in (d.body or "")

    verifier_s = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier_s.encode()).digest()).rstrip(b"=").decode()
    q = {"response_type": "code", "client_id": reg["client_id"], "redirect_uri": REDIRECT, "state": "st-1",
         "code_challenge": challenge, "code_challenge_method": "S256", "scope": "mcp:read",
         "resource": BASE + "/mcp"}
    d = p.handle_request({"method": "GET", "path": "/authorize", "query": urlencode(q), "headers": {}})
    assert d.status == 200 and 'id="consent-form"' in (d.body or "")
    h = _headers(d)
    csrf = dict(_cookie(c) for c in h["set-cookie"])
    assert "__Host-mcpauth-csrf" in csrf
    form = dict(
        (name, value) for name, value in
        ((f.split('name="', 1)[1].split('"', 1)[0], f.split('value="', 1)[1].split('"', 1)[0])
         for f in (d.body or "").split("<input")[1:]))
    body = urlencode({**form, "decision": "approve"})
    post = {"method": "POST", "path": "/authorize", "body": body,
            "headers": {"content-type": "application/x-www-form-urlencoded",
                        "cookie": f"__Host-mcpauth-csrf={csrf['__Host-mcpauth-csrf']}"}}
    d = p.handle_request(post)
    assert d.status in (302, 303), d.body
    loc = urlparse(_headers(d)["location"][0])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == UP + "/authorize"
    up = {k: v[0] for k, v in parse_qs(loc.query).items()}
    assert up["client_id"] == "cid" and up["redirect_uri"] == BASE + "/oauth/callback"
    assert up["code_challenge_method"] == "S256" and up["code_challenge"] != challenge  # the proxy's own
    assert up["resource"] == BASE + "/mcp" and up["state"] != "st-1"
    assert "client_secret" not in up
    # without the CSRF cookie (a cross-site POST), the form is refused
    d = p.handle_request({**post, "headers": {"content-type": "application/x-www-form-urlencoded"}})
    assert d.status == 403


# ---- the demo, end to end --------------------------------------------------------------------


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def demo_idp() -> Iterator[tuple[Any, int, str]]:
    from .test_e2e_idp import _idp_available

    why = _idp_available()
    if why:
        pytest.skip(why)
    if not (REPO / "examples" / "python" / "client.py").is_file():
        pytest.skip("examples/python not found")
    import subprocess

    from .servers import free_port

    port = free_port()
    base = f"http://localhost:{port}"
    proc = subprocess.Popen(
        ["node", str(REPO / "tests" / "idp" / "idp.mjs"), "--mcp-url", base + "/mcp",
         "--redirect-uri", base + "/oauth/callback", "--client-id", "proxy-client",
         "--client-secret", "proxy-secret"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"idp.mjs did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield json.loads(line), port, base
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # waits and closes the pipes


async def test_demo_flow_through_the_proxy(demo_idp: tuple[Any, int, str]) -> None:
    """The SDK client registers at the proxy (the IdP refuses registration), consents, signs in
    upstream, gets the IdP's token through the proxy and calls get-profile."""
    import httpx

    from .servers import serve

    info, port, base = demo_idp
    server = _load("mcpauth_demo_server", REPO / "examples" / "python" / "server.py")
    client = _load("mcpauth_demo_client", REPO / "examples" / "python" / "client.py")
    r = httpx.post(info["issuer"] + "/reg", json={"redirect_uris": ["http://127.0.0.1/cb"]})
    assert r.status_code in (400, 404)  # dynamic registration is disabled upstream
    idp = server.discover(info["issuer"])
    app = server.build_app(base, idp, "proxy-client", "proxy-secret", secrets.token_urlsafe(48))
    with serve(app, port):
        profile = await client.run(base + "/mcp")
    assert profile == {"userId": "test-user", "email": "test@example.com", "name": "Test User",
                       "scopes": ["mcp:read"]}
