"""Provider factories mirroring the seed's ``oauth*Provider`` / ``oauthProxy`` /
``jwksVerifier``, with the options in snake_case.

Each factory translates its keyword arguments to the C core's configuration keys (camelCase)
and creates an engine at once, so a wrong or missing option raises :class:`ConfigError` here.
Options left out are read by the C core from the provider's ``MCP_USE_OAUTH_*`` environment
variables (zero-config), unless ``use_env=False``; explicit arguments always win.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Union

from .engine import GetUserInfo, OAuthProvider, VerifyToken
from .errors import ConfigError

__all__ = [
    "oauth_auth0_provider",
    "oauth_better_auth_provider",
    "oauth_clerk_provider",
    "oauth_keycloak_provider",
    "oauth_supabase_provider",
    "oauth_workos_provider",
    "oauth_custom_provider",
    "oauth_proxy",
    "jwks_verifier",
    "to_config_key",
]

StrList = Union[str, Sequence[str]]

# snake_case keyword -> C configuration key, where plain camelCase conversion is not it
_SPECIAL_KEYS = {
    "auth_url": "authURL",
    "jwks": "jwks",
}


def to_config_key(name: str) -> str:
    """``frontend_api_url`` -> ``frontendApiUrl``; ``auth_url`` -> ``authURL``."""
    if name in _SPECIAL_KEYS:
        return _SPECIAL_KEYS[name]
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_QUOTED = re.compile(r"'([A-Za-z][A-Za-z0-9_.]*)'")


def _create(config: dict[str, Any], names: Mapping[str, str], **kw: Any) -> OAuthProvider:
    """OAuthProvider(config), with the core's configuration errors naming the Python keyword
    the user typed (``'server_url'``) instead of the core's key (``'serverUrl'``)."""
    try:
        return OAuthProvider(config, **kw)
    except ConfigError as exc:
        detail = _QUOTED.sub(lambda m: "'" + names.get(m.group(1), m.group(1)) + "'", exc.detail)
        raise ConfigError(exc.code, detail) from None


def _names(kwargs: Mapping[str, Any], options: Mapping[str, Any] | None, prefix: str = "") -> dict[str, str]:
    """core key -> keyword, for the factory's keywords (not for keys given in ``options``)."""
    given = set(options or ())
    return {prefix + to_config_key(k): k for k in kwargs if to_config_key(k) not in given}


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items()}
    return value


def _build(
    provider: str,
    kwargs: Mapping[str, Any],
    *,
    options: Mapping[str, Any] | None,
    use_env: bool,
    prefetch: bool,
    get_user_info: GetUserInfo | None = None,
    verify_token: VerifyToken | None = None,
) -> OAuthProvider:
    config: dict[str, Any] = {"provider": provider}
    for k, v in kwargs.items():
        if v is None:
            continue
        config[to_config_key(k)] = _norm(v)
    if options:
        for k, v in options.items():
            config[str(k)] = _norm(v)
    return _create(config, _names(kwargs, options), use_env=use_env, prefetch=prefetch,
                   get_user_info=get_user_info, verify_token=verify_token)


_KEY_SOURCES = ("jwksUrl", "jwks", "publicKey", "secret")


def _host_verified(config: dict[str, Any]) -> dict[str, Any]:
    """The host's ``verify_token`` verifies the tokens; the C core only maps claims
    (``mcpauth_map_claims``). Without a key source of its own the engine is created with the
    core's ``hostVerifies`` option: it needs no keys, and the core verifies no token (its verify
    call and its router, for a request that carries a token, answer with a configuration
    error). :meth:`OAuthProvider.verify` calls ``verify_token`` instead, and the ASGI middleware
    asks the router without the token, then verifies it with ``verify_token``."""
    if any(k in config for k in _KEY_SOURCES) or "hostVerifies" in config:
        return config
    return {**config, "hostVerifies": True}


def _list(v: StrList | None) -> list[str] | None:
    if v is None:
        return None
    return [v] if isinstance(v, str) else list(v)


# a factory's parameters that are not configuration keys
_FACTORY_ONLY = frozenset({"get_user_info", "verify_token", "options", "use_env", "prefetch"})


def _config_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    """A factory's configuration keywords from its parameters (``locals()``, taken before any
    other local variable exists): every parameter but the factory's own (``options``,
    ``get_user_info``, ...); ``audience`` given as one string becomes a list."""
    kw = {k: v for k, v in params.items() if k not in _FACTORY_ONLY}
    if "audience" in kw:
        kw["audience"] = _list(kw["audience"])
    return kw


def _preset(provider: str, params: Mapping[str, Any]) -> OAuthProvider:
    """The engine of a factory that only translates its keywords (see _config_kwargs)."""
    return _build(provider, _config_kwargs(params), options=params["options"], use_env=params["use_env"],
                  prefetch=params["prefetch"], get_user_info=params["get_user_info"])


def oauth_auth0_provider(
    *,
    domain: str | None = None,
    audience: StrList | None = None,
    verify_jwt: bool | None = None,
    scopes_supported: Sequence[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """Auth0 (env: MCP_USE_OAUTH_AUTH0_DOMAIN, MCP_USE_OAUTH_AUTH0_AUDIENCE)."""
    return _preset("auth0", locals())


def oauth_better_auth_provider(
    *,
    auth_url: str | None = None,
    verify_jwt: bool | None = None,
    scopes_supported: Sequence[str] | None = None,
    audience: StrList | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """Better Auth (env: MCP_USE_OAUTH_BETTER_AUTH_URL)."""
    return _preset("betterauth", locals())


def oauth_clerk_provider(
    *,
    frontend_api_url: str | None = None,
    audience: StrList | None = None,
    verify_jwt: bool | None = None,
    scopes_supported: Sequence[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """Clerk (env: MCP_USE_OAUTH_CLERK_FRONTEND_API_URL)."""
    return _preset("clerk", locals())


def oauth_keycloak_provider(
    *,
    server_url: str | None = None,
    realm: str | None = None,
    audience: StrList | None = None,
    verify_jwt: bool | None = None,
    scopes_supported: Sequence[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """Keycloak (env: MCP_USE_OAUTH_KEYCLOAK_SERVER_URL, _REALM, _AUDIENCE)."""
    return _preset("keycloak", locals())


def oauth_supabase_provider(
    *,
    project_id: str | None = None,
    supabase_url: str | None = None,
    jwt_secret: str | None = None,
    verify_jwt: bool | None = None,
    scopes_supported: Sequence[str] | None = None,
    audience: StrList | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """Supabase (env: MCP_USE_OAUTH_SUPABASE_PROJECT_ID, _URL, _JWT_SECRET)."""
    return _preset("supabase", locals())


def oauth_workos_provider(
    *,
    subdomain: str | None = None,
    verify_jwt: bool | None = None,
    scopes_supported: Sequence[str] | None = None,
    audience: StrList | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """WorkOS AuthKit (env: MCP_USE_OAUTH_WORKOS_SUBDOMAIN)."""
    return _preset("workos", locals())


def oauth_custom_provider(
    *,
    issuer: str,
    auth_endpoint: str,
    token_endpoint: str,
    verify_token: VerifyToken | None = None,
    jwks_url: str | None = None,
    user_info_endpoint: str | None = None,
    audience: StrList | None = None,
    scopes_supported: Sequence[str] | None = None,
    grant_types: Sequence[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    required_scopes: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """Any DCR-capable authorization server. No zero-config: every endpoint is explicit.

    ``verify_token(token)`` returns the verified claims (or ``{"payload": claims}``; it may be
    async) or raises; the C core's claim mapping (``get_user_info`` defaults, claim map,
    required scopes) still runs on them. Without ``verify_token``, the C core verifies the JWT
    against ``jwks_url``.
    """
    kw = _config_kwargs(locals())
    opts = dict(options or {})
    if verify_token is not None and jwks_url is None:
        opts = _host_verified(opts)
    return _build("custom", kw, options=opts, use_env=use_env, prefetch=prefetch, get_user_info=get_user_info,
                  verify_token=verify_token)


def jwks_verifier(
    *,
    jwks_url: str | None = None,
    issuer: str | None = None,
    audience: StrList | None = None,
    jwks: Mapping[str, Any] | None = None,
    public_key: str | None = None,
    secret: str | None = None,
    algorithms: Sequence[str] | None = None,
    leeway_seconds: int | None = None,
    required_scopes: Sequence[str] | None = None,
    resource: str | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    claims: Mapping[str, str] | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
    prefetch: bool = False,
) -> OAuthProvider:
    """A plain JWT verifier: remote JWKS (``jwks_url``), an inline JWK set (``jwks``), a PEM
    ``public_key`` or an HMAC ``secret``; ``issuer`` is checked exactly.

    Use it alone, or as the ``verify_token`` of :func:`oauth_proxy` (the seed's
    ``jwksVerifier``)."""
    return _preset("jwks", locals())


def oauth_proxy(
    *,
    client_id: str,
    verify_token: OAuthProvider | VerifyToken | None = None,
    auth_endpoint: str | None = None,
    token_endpoint: str | None = None,
    issuer: str | None = None,
    client_secret: str | None = None,
    scopes: Sequence[str] | None = None,
    grant_types: Sequence[str] | None = None,
    extra_authorize_params: Mapping[str, str] | None = None,
    sealing_secret: str | None = None,
    previous_secrets: Sequence[str] | None = None,
    token_endpoint_auth_method: str | None = None,
    preset: str | None = None,
    domain: str | None = None,
    tenant: str | None = None,
    allowed_redirect_uris: Sequence[str] | None = None,
    consent: bool | None = None,
    server_name: str | None = None,
    forward_resource: bool | None = None,
    code_ttl_seconds: int | None = None,
    state_ttl_seconds: int | None = None,
    client_ttl_seconds: int | None = None,
    consent_ttl_seconds: int | None = None,
    proxy_options: Mapping[str, Any] | None = None,
    base_url: str | None = None,
    mcp_path: str | None = None,
    get_user_info: GetUserInfo | None = None,
    options: Mapping[str, Any] | None = None,
    use_env: bool = True,
) -> OAuthProvider:
    """OAuth proxy for providers without DCR (Google, GitHub, Okta, Azure AD ...): the server
    holds pre-registered client credentials and is the authorization server MCP clients see.
    The C core serves ``/register``, ``/authorize`` (with a consent page), ``/oauth/callback``
    and ``/token`` at the root of ``base_url``; register ``<base_url>/oauth/callback`` as the
    redirect URI of the upstream client.

    The seed's ``oauthProxy`` options (``auth_endpoint``, ``token_endpoint``, ``issuer``,
    ``client_id``, ``client_secret``, ``scopes``, ``grant_types``, ``extra_authorize_params``)
    and the core's own (``sealing_secret`` -- at least 32 bytes, else env
    ``MCPAUTH_SEALING_SECRET`` --, ``preset`` with ``domain``/``tenant``, ``consent``, TTLs ...)
    become the core's ``"proxy"`` object; ``proxy_options`` adds any other key of it
    (camelCase, see docs/proxy.md). With a ``preset`` the endpoints and issuer may be left out.

    ``verify_token`` checks the upstream tokens that come back: a :func:`jwks_verifier` (its
    configuration becomes the rest of the engine's, the seed's ``oauthProxy + jwksVerifier``)
    or a callable returning the claims. With a ``preset`` it may be left out: the preset brings
    its own verification (``github``: the token is checked at GitHub's ``/user``; ``google``:
    at Google's ``tokeninfo``, issued to ``client_id``; ``okta``/``azure``: JWTs against the
    tenant's JWKS and issuer). ``options`` adds core keys, e.g. ``{"audience": [...]}``.
    """
    kw: dict[str, Any] = dict(
        preset=preset, domain=domain, tenant=tenant, auth_endpoint=auth_endpoint, token_endpoint=token_endpoint,
        issuer=issuer, client_id=client_id, client_secret=client_secret,
        token_endpoint_auth_method=token_endpoint_auth_method, scopes=scopes, grant_types=grant_types,
        extra_authorize_params=extra_authorize_params, sealing_secret=sealing_secret,
        previous_secrets=previous_secrets, allowed_redirect_uris=allowed_redirect_uris, consent=consent,
        server_name=server_name, forward_resource=forward_resource, code_ttl_seconds=code_ttl_seconds,
        state_ttl_seconds=state_ttl_seconds, client_ttl_seconds=client_ttl_seconds,
        consent_ttl_seconds=consent_ttl_seconds,
    )
    proxy: dict[str, Any] = {to_config_key(k): _norm(v) for k, v in kw.items() if v is not None}
    if proxy_options:
        proxy.update({str(k): _norm(v) for k, v in proxy_options.items()})

    fn: VerifyToken | None
    host_verifies = False
    if verify_token is None:
        if preset is None:
            raise TypeError("oauth_proxy: pass verify_token= (a jwks_verifier(...) or a callable), or a preset= "
                            "(github, google, okta, azure) that brings its own token verification")
        # the core's preset catalogue verifies the upstream tokens (userinfo / tokeninfo for
        # GitHub and Google's opaque tokens, the tenant's JWKS for Okta and Azure)
        config: dict[str, Any] = {"provider": "jwks"}
        fn = None
    elif isinstance(verify_token, OAuthProvider):
        config = verify_token.options
        fn = verify_token.verify_token_fn
        if get_user_info is None:
            get_user_info = verify_token.get_user_info
    elif callable(verify_token):
        config = {"provider": "custom"}
        for key, value in (("issuer", issuer), ("authEndpoint", auth_endpoint), ("tokenEndpoint", token_endpoint)):
            if value is not None:
                config[key] = value
        host_verifies = True
        fn = verify_token
    else:
        raise TypeError("verify_token must be a jwks_verifier(...) or a callable")
    config["proxy"] = proxy
    if base_url is not None:
        config["baseUrl"] = base_url
    if mcp_path is not None:
        config["mcpPath"] = mcp_path
    if options:
        config.update({str(k): _norm(v) for k, v in options.items()})
    if host_verifies:
        config = _host_verified(config)
    names = {**_names(kw, proxy_options, "proxy."), **_names({"base_url": base_url, "mcp_path": mcp_path}, options)}
    return _create(config, names, use_env=use_env, get_user_info=get_user_info, verify_token=fn)
