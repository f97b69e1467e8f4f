"""The SDK and FastMCP adapters, without servers."""

from __future__ import annotations

import pytest

import libmcpauth
from libmcpauth import ConfigError
from libmcpauth.testing import TestKey, jwks_of

from .conftest import BASE_URL, ISSUER, RESOURCE, good_claims

pytest.importorskip("mcp")


async def test_token_verifier_returns_access_token(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    from mcp.server.auth.provider import AccessToken

    from libmcpauth.mcp_sdk import McpAuthTokenVerifier

    v = McpAuthTokenVerifier(provider)
    tok = rsa_key.mint(good_claims(client_id="cl-1"))
    at = await v.verify_token(tok)
    assert isinstance(at, AccessToken)
    assert at.token == tok
    assert at.client_id == "cl-1"
    assert at.scopes == ["mcp:read", "mcp:write"]
    assert at.resource == RESOURCE
    assert isinstance(at.expires_at, int)
    if "subject" in AccessToken.model_fields:
        assert at.subject == "user-42"
        assert at.claims is not None and at.claims["email"] == "ada@example.com"
    assert libmcpauth.current_auth() is not None and libmcpauth.current_auth().user.user_id == "user-42"  # type: ignore[union-attr]


async def test_token_verifier_never_raises_for_bad_tokens(provider: libmcpauth.OAuthProvider,
                                                          other_key: TestKey) -> None:
    from libmcpauth.mcp_sdk import McpAuthTokenVerifier

    v = McpAuthTokenVerifier(provider)
    for tok in ("", "garbage", "a.b.c", other_key.mint(good_claims()), "x" * 100000):
        assert await v.verify_token(tok) is None


def test_client_id_falls_back_to_subject(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    from libmcpauth.mcp_sdk import to_access_token

    at = to_access_token(provider.verify(rsa_key.mint(good_claims())))
    assert at.client_id == "user-42"


def test_auth_settings(provider: libmcpauth.OAuthProvider) -> None:
    from libmcpauth.mcp_sdk import auth_settings

    s = auth_settings(provider, required_scopes=["mcp:read"])
    assert str(s.issuer_url).rstrip("/") == ISSUER
    assert str(s.resource_server_url).rstrip("/") == RESOURCE
    assert s.required_scopes == ["mcp:read"]
    with pytest.raises(ValueError, match="not the provider's resource"):
        auth_settings(provider, resource_server_url="https://elsewhere.example.com/mcp")


def test_auth_settings_needs_a_bound_resource(rsa_key: TestKey) -> None:
    from libmcpauth.mcp_sdk import auth_settings

    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, audience="api")
    with pytest.raises(ValueError, match="not bound to a resource"):
        auth_settings(p, resource_server_url=RESOURCE)


def test_middleware_needs_a_resource(rsa_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, audience="api")
    with pytest.raises(ConfigError, match="base_url"):
        libmcpauth.McpAuthMiddleware(lambda s, r, se: None, p)  # type: ignore[arg-type,return-value]


async def test_fastmcp_provider(provider: libmcpauth.OAuthProvider, rsa_key: TestKey, other_key: TestKey) -> None:
    pytest.importorskip("fastmcp")
    from fastmcp.server.auth import AccessToken, AuthProvider

    from libmcpauth.fastmcp_auth import McpAuthFastMCPProvider

    fp = McpAuthFastMCPProvider(provider)
    assert isinstance(fp, AuthProvider)
    assert str(fp.base_url).rstrip("/") == BASE_URL
    at = await fp.verify_token(rsa_key.mint(good_claims()))
    assert isinstance(at, AccessToken) and at.claims["sub"] == "user-42"
    assert await fp.verify_token(other_key.mint(good_claims())) is None
    paths = [r.path for r in fp.get_routes("/mcp")]
    assert "/.well-known/oauth-protected-resource/mcp" in paths
    assert "/.well-known/oauth-authorization-server" in paths
    assert str(fp._get_resource_url("/mcp")) == RESOURCE
