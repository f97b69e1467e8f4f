"""Configuration: errors name the option, env zero-config per provider, explicit beats env."""

from __future__ import annotations

from typing import Any

import pytest

import libmcpauth
from libmcpauth import Code, ConfigError
from libmcpauth.providers import to_config_key
from libmcpauth.testing import TestKey, jwks_of

from .conftest import ISSUER


def test_library_loads() -> None:
    assert libmcpauth.core_version() == "0.1.0"
    assert libmcpauth.library_path().endswith("libmcpauth.so.1")


def test_bundled_library_is_inside_the_package() -> None:
    import os

    import libmcpauth._ffi as ffi

    if os.environ.get("MCPAUTH_LIBRARY"):
        pytest.skip("MCPAUTH_LIBRARY set: testing a library outside the package")
    pkg_dir = os.path.dirname(os.path.abspath(ffi.__file__))
    assert libmcpauth.library_path() == os.path.join(pkg_dir, "_lib", "libmcpauth.so.1")


def test_config_key_translation() -> None:
    assert to_config_key("frontend_api_url") == "frontendApiUrl"
    assert to_config_key("auth_url") == "authURL"
    assert to_config_key("jwks_url") == "jwksUrl"
    assert to_config_key("user_info_endpoint") == "userInfoEndpoint"
    assert to_config_key("scopes_supported") == "scopesSupported"
    assert to_config_key("verify_jwt") == "verifyJwt"
    assert to_config_key("leeway_seconds") == "leewaySeconds"


def test_auth0_missing_domain_names_option_and_env() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.oauth_auth0_provider(audience="https://api")
    assert ei.value.code == Code.CONFIG
    assert "domain" in str(ei.value)
    assert "MCP_USE_OAUTH_AUTH0_DOMAIN" in str(ei.value)
    assert isinstance(ei.value, ValueError)


def test_auth0_missing_audience() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.oauth_auth0_provider(domain="tenant.auth0.com")
    assert "audience" in str(ei.value)
    assert "MCP_USE_OAUTH_AUTH0_AUDIENCE" in str(ei.value)


def test_unknown_option_is_refused() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.jwks_verifier(jwks_url="https://x.example.com/jwks", issuer=ISSUER, options={"bogusOption": 1})
    assert "bogusOption" in str(ei.value)


def test_option_of_another_provider_is_named() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.OAuthProvider({"provider": "auth0", "domain": "t.auth0.com", "audience": "a", "realm": "x"})
    assert "realm" in str(ei.value)
    assert "keycloak" in str(ei.value)


def test_unknown_provider() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.OAuthProvider({"provider": "nope"})
    assert "provider" in str(ei.value)


def test_http_url_refused_except_loopback() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.jwks_verifier(jwks_url="http://keys.example.com/jwks", issuer=ISSUER)
    assert "https" in str(ei.value)
    p = libmcpauth.jwks_verifier(jwks_url="http://127.0.0.1:9/jwks", issuer=ISSUER, audience="api")
    assert p.config["jwksUrl"] == "http://127.0.0.1:9/jwks"


def test_jwks_verifier_requires_issuer_and_keys() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.jwks_verifier(jwks_url="https://x.example.com/jwks")
    assert "issuer" in str(ei.value)
    with pytest.raises(ConfigError) as ei:
        libmcpauth.jwks_verifier(issuer=ISSUER)
    assert "jwks_url" in str(ei.value)


def test_short_hmac_secret_refused() -> None:
    with pytest.raises(ConfigError) as ei:
        libmcpauth.jwks_verifier(secret="short", issuer=ISSUER)
    assert "secret" in str(ei.value)


def test_resolved_config_hides_secrets() -> None:
    p = libmcpauth.jwks_verifier(secret="s" * 64, issuer=ISSUER, audience="api")
    cfg = p.config
    assert cfg["secret"] == "<set>"
    assert "s" * 64 not in repr(cfg)
    assert cfg["algorithms"] == ["HS256", "HS384", "HS512"]


def test_verify_jwt_false_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_ENV", "production")
    with pytest.raises(ConfigError) as ei:
        libmcpauth.oauth_auth0_provider(domain="t.auth0.com", audience="a", verify_jwt=False)
    assert "verify_jwt" in str(ei.value)


# ---- zero-config from MCP_USE_OAUTH_* ------------------------------------------------------


def test_auth0_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_AUTH0_DOMAIN", "tenant.us.auth0.com")
    monkeypatch.setenv("MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example.com")
    cfg = libmcpauth.oauth_auth0_provider().config
    assert cfg["provider"] == "auth0"
    assert cfg["issuer"] == "https://tenant.us.auth0.com/"
    assert cfg["jwksUrl"] == "https://tenant.us.auth0.com/.well-known/jwks.json"
    assert cfg["authorizationEndpoint"] == "https://tenant.us.auth0.com/authorize"
    assert cfg["tokenEndpoint"] == "https://tenant.us.auth0.com/oauth/token"
    assert cfg["audience"] == ["https://api.example.com"]
    assert cfg["scopesSupported"] == ["openid", "profile", "email", "offline_access"]


def test_explicit_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_AUTH0_DOMAIN", "env.auth0.com")
    monkeypatch.setenv("MCP_USE_OAUTH_AUTH0_AUDIENCE", "env-aud")
    cfg = libmcpauth.oauth_auth0_provider(domain="explicit.auth0.com").config
    assert cfg["issuer"] == "https://explicit.auth0.com/"
    assert cfg["audience"] == ["env-aud"]


def test_use_env_false_ignores_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_AUTH0_DOMAIN", "env.auth0.com")
    monkeypatch.setenv("MCP_USE_OAUTH_AUTH0_AUDIENCE", "env-aud")
    with pytest.raises(ConfigError):
        libmcpauth.oauth_auth0_provider(use_env=False)


def test_workos_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_URL", "https://mcp.example.com")
    monkeypatch.setenv("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "acme.authkit.app")
    cfg = libmcpauth.oauth_workos_provider().config
    assert cfg["issuer"] == "https://acme.authkit.app"
    assert cfg["jwksUrl"] == "https://acme.authkit.app/oauth2/jwks"
    assert cfg["audience"] is None


def test_supabase_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "abcdefgh")
    cfg = libmcpauth.oauth_supabase_provider().config
    assert cfg["issuer"] == "https://abcdefgh.supabase.co/auth/v1"
    assert cfg["jwksUrl"] == "https://abcdefgh.supabase.co/auth/v1/.well-known/jwks.json"
    assert cfg["audience"] == ["authenticated"]


def test_supabase_url_wins_and_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "abcdefgh")
    monkeypatch.setenv("MCP_USE_OAUTH_SUPABASE_URL", "https://db.example.com/")
    monkeypatch.setenv("MCP_USE_OAUTH_SUPABASE_JWT_SECRET", "x" * 40)
    cfg = libmcpauth.oauth_supabase_provider().config
    assert cfg["issuer"] == "https://db.example.com/auth/v1"
    assert cfg["secret"] == "<set>"
    assert "HS256" in cfg["algorithms"]


def test_keycloak_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL", "https://kc.example.com")
    monkeypatch.setenv("MCP_USE_OAUTH_KEYCLOAK_REALM", "demo")
    monkeypatch.setenv("MCP_USE_OAUTH_KEYCLOAK_AUDIENCE", "mcp-server")
    cfg = libmcpauth.oauth_keycloak_provider().config
    assert cfg["issuer"] == "https://kc.example.com/realms/demo"
    assert cfg["jwksUrl"] == "https://kc.example.com/realms/demo/protocol/openid-connect/certs"
    assert cfg["audience"] == ["mcp-server"]
    assert "client_credentials" in cfg["grantTypes"]


def test_keycloak_missing_realm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_USE_OAUTH_KEYCLOAK_SERVER_URL", "https://kc.example.com")
    with pytest.raises(ConfigError) as ei:
        libmcpauth.oauth_keycloak_provider()
    assert "realm" in str(ei.value) and "MCP_USE_OAUTH_KEYCLOAK_REALM" in str(ei.value)


def test_clerk_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_URL", "https://mcp.example.com")
    monkeypatch.setenv("MCP_USE_OAUTH_CLERK_FRONTEND_API_URL", "https://clerk.example.com/")
    cfg = libmcpauth.oauth_clerk_provider().config
    assert cfg["issuer"] == "https://clerk.example.com"
    assert cfg["jwksUrl"] == "https://clerk.example.com/.well-known/jwks.json"
    assert cfg["scopesSupported"] == ["profile", "email", "offline_access"]


def test_better_auth_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_URL", "https://mcp.example.com")
    monkeypatch.setenv("MCP_USE_OAUTH_BETTER_AUTH_URL", "https://app.example.com/api/auth")
    cfg = libmcpauth.oauth_better_auth_provider().config
    assert cfg["issuer"] == "https://app.example.com/api/auth"
    assert cfg["jwksUrl"] == "https://app.example.com/api/auth/jwks"


def test_better_auth_explicit_auth_url() -> None:
    cfg = libmcpauth.oauth_better_auth_provider(auth_url="https://ba.example.com", audience="api").config
    assert cfg["issuer"] == "https://ba.example.com"


def test_mcp_url_sets_base_url_and_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_URL", "https://srv.example.com")
    monkeypatch.setenv("MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "acme.authkit.app")
    cfg = libmcpauth.oauth_workos_provider().config
    assert cfg["baseUrl"] == "https://srv.example.com"
    assert cfg["resource"] == "https://srv.example.com/mcp"


def test_custom_provider_has_no_zero_config() -> None:
    with pytest.raises(TypeError):
        libmcpauth.oauth_custom_provider()  # type: ignore[call-arg]
    with pytest.raises(ConfigError) as ei:
        libmcpauth.oauth_custom_provider(issuer=ISSUER, auth_endpoint=ISSUER + "/authorize",
                                      token_endpoint=ISSUER + "/token")
    assert "jwks_url" in str(ei.value)


def test_custom_provider_with_jwks_url() -> None:
    p = libmcpauth.oauth_custom_provider(issuer=ISSUER, auth_endpoint=ISSUER + "/authorize",
                                      token_endpoint=ISSUER + "/token", jwks_url=ISSUER + "/jwks",
                                      user_info_endpoint=ISSUER + "/userinfo",
                                      scopes_supported=["openid", "mcp"], grant_types=["authorization_code"],
                                      audience="api")
    cfg = p.config
    assert cfg["authorizationEndpoint"] == ISSUER + "/authorize"
    assert cfg["userInfoEndpoint"] == ISSUER + "/userinfo"
    assert cfg["scopesSupported"] == ["openid", "mcp"]
    assert cfg["grantTypes"] == ["authorization_code"]


def test_preset_with_inline_keys(rsa_key: TestKey) -> None:
    p = libmcpauth.oauth_keycloak_provider(server_url="https://kc.example.com", realm="r", audience="api",
                                        options={"jwks": jwks_of(rsa_key)})
    cfg = p.config
    assert cfg["jwksUrl"] is None
    assert cfg["jwks"]["count"] == 1


def test_oauth_proxy_builds_the_proxy_key(rsa_key: TestKey) -> None:
    """The proxy config goes to the core under "proxy" (more in test_proxy.py)."""
    verifier = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer="https://accounts.google.com",
                                        base_url="https://mcp.example.com")
    p = libmcpauth.oauth_proxy(
        auth_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
        token_endpoint="https://oauth2.googleapis.com/token",
        issuer="https://accounts.google.com",
        client_id="cid",
        client_secret="csecret-value",
        scopes=["openid", "email"],
        sealing_secret="0123456789abcdef0123456789abcdef",
        verify_token=verifier,
        base_url="https://mcp.example.com",
    )
    assert p.options["proxy"]["clientId"] == "cid"
    assert p.config["proxy"]["clientSecret"] == "<set>"


def test_closed_provider_refuses_calls(rsa_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, audience="api")
    p.close()
    p.close()
    with pytest.raises(RuntimeError):
        p.verify("a.b.c")


def test_context_manager(rsa_key: TestKey) -> None:
    with libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, audience="api") as p:
        assert p.name == "jwks"
    assert "closed" in repr(p)


@pytest.mark.parametrize("make, keyword, core_key", [
    (lambda: libmcpauth.oauth_keycloak_provider(realm="r", use_env=False), "server_url", "serverUrl"),
    (lambda: libmcpauth.oauth_better_auth_provider(use_env=False), "auth_url", "authURL"),
    (lambda: libmcpauth.oauth_clerk_provider(frontend_api_url="ftp://clerk.example.com", use_env=False),
     "frontend_api_url", "frontendApiUrl"),
    (lambda: libmcpauth.oauth_supabase_provider(project_id="p", jwt_secret="short", use_env=False),
     "jwt_secret", "jwtSecret"),
    (lambda: libmcpauth.jwks_verifier(secret="s" * 40, issuer="https://i.example.com", mcp_path="nope",
                                      base_url="https://m.example.com", use_env=False), "mcp_path", "mcpPath"),
])
def test_config_errors_name_the_python_keyword(make: Any, keyword: str, core_key: str) -> None:
    with pytest.raises(ConfigError) as ei:
        make()
    assert f"'{keyword}'" in str(ei.value) and core_key not in str(ei.value), str(ei.value)


def test_config_errors_keep_keys_given_in_options() -> None:
    with pytest.raises(ConfigError, match="'mcpPath'"):
        libmcpauth.jwks_verifier(secret="s" * 40, issuer="https://i.example.com", base_url="https://m.example.com",
                                 options={"mcpPath": "nope"}, use_env=False)


@pytest.mark.parametrize("factory", [
    libmcpauth.oauth_auth0_provider, libmcpauth.oauth_better_auth_provider, libmcpauth.oauth_clerk_provider,
    libmcpauth.oauth_keycloak_provider, libmcpauth.oauth_supabase_provider, libmcpauth.oauth_workos_provider,
    libmcpauth.oauth_custom_provider, libmcpauth.jwks_verifier,
])
def test_factories_forward_every_keyword(factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every configuration keyword of a factory reaches the core under its key (``audience`` as
    a list); the factory's own parameters do not; ``options`` are added as they are."""
    import inspect

    from libmcpauth import providers

    seen: dict[str, Any] = {}

    def fake_create(config: dict[str, Any], names: Any, **kw: Any) -> Any:
        seen.update(config=config, names=names, kw=kw)
        return None

    monkeypatch.setattr(providers, "_create", fake_create)
    own = {"get_user_info", "verify_token", "options", "use_env", "prefetch"}
    params = [n for n in inspect.signature(factory).parameters if n not in own]
    args = {n: f"v-{n}" for n in params}
    factory(**args, options={"extraKey": 1}, use_env=False, prefetch=True)
    config = seen["config"]
    expected = {providers.to_config_key(n): ([v] if n == "audience" else v) for n, v in args.items()}
    assert {k: v for k, v in config.items() if k not in ("provider", "extraKey")} == expected
    assert config["extraKey"] == 1
    assert seen["kw"]["use_env"] is False and seen["kw"]["prefetch"] is True
    assert set(seen["names"].values()) == set(params)
