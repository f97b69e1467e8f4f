"""Shared fixtures: signing keys, a local JWKS server, providers on inline keys."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import libmcpauth
from libmcpauth.testing import TestKey, claims, jwks_of

ISSUER = "https://issuer.example.com"
BASE_URL = "https://mcp.example.com"
RESOURCE = BASE_URL + "/mcp"

_ENV_PREFIXES = ("MCP_USE_OAUTH_", "MCP_URL", "BETTER_AUTH_")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees MCP_USE_OAUTH_* / MCP_URL from the outer environment."""
    import os

    for k in list(os.environ):
        if k.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="session")
def rsa_key() -> TestKey:
    return TestKey.rsa("rsa-1")


@pytest.fixture(scope="session")
def ec_key() -> TestKey:
    return TestKey.ec("ec-1")


@pytest.fixture(scope="session")
def other_key() -> TestKey:
    """A key that no provider trusts (same kid as rsa_key)."""
    return TestKey.rsa("rsa-1")


@pytest.fixture
def provider(rsa_key: TestKey, ec_key: TestKey) -> Iterator[libmcpauth.OAuthProvider]:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key, ec_key), issuer=ISSUER, base_url=BASE_URL, use_env=False)
    yield p
    p.close()


def good_claims(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(issuer=ISSUER, audience=RESOURCE, subject="user-42", scope="mcp:read mcp:write",
                                email="ada@example.com", name="Ada Lovelace")
    base.update(kw)
    return claims(**base)


class JwksServer:
    """A JWKS document on http://127.0.0.1:<port>/jwks.json, with a hit counter."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.hits = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with outer.lock:
                    outer.hits += 1
                body = json.dumps(outer.doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server(rsa_key: TestKey, ec_key: TestKey) -> Iterator[JwksServer]:
    s = JwksServer(jwks_of(rsa_key, ec_key))
    yield s
    s.close()
