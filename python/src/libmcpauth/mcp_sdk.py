"""Integration with the official MCP Python SDK (PyPI ``mcp``).

>>> from mcp.server.mcpserver import MCPServer          # mcp 2.x (mcp 1.x: mcp.server.fastmcp.FastMCP)
>>> provider = oauth_auth0_provider()
>>> server = MCPServer("demo", token_verifier=McpAuthTokenVerifier(provider),
...                    auth=auth_settings(provider, resource_server_url="https://h/mcp"))

``McpAuthTokenVerifier.verify_token`` never raises for a bad token: it returns None, which the
SDK turns into a 401. It also sets :func:`libmcpauth.current_auth` for the rest of the request.
"""

from __future__ import annotations

import logging
from typing import Any

from ._sdk import load as _load_sdk
from ._sdk import to_access_token
from .asgi import _set_current
from .engine import OAuthProvider
from .errors import AuthError

__all__ = ["McpAuthTokenVerifier", "auth_settings", "to_access_token"]

log = logging.getLogger("libmcpauth")


class McpAuthTokenVerifier:
    """The SDK's ``TokenVerifier`` protocol, backed by a libmcpauth provider."""

    def __init__(self, provider: OAuthProvider) -> None:
        self.provider = provider
        _load_sdk()

    async def verify_token(self, token: str) -> Any:
        """Returns the SDK ``AccessToken`` or None (never raises for an invalid token)."""
        try:
            auth = await self.provider.verify_async(token)
        except AuthError as exc:
            log.info("libmcpauth: token rejected: %s (%s)", exc.code_name, exc.detail)
            return None
        _set_current(auth)
        return to_access_token(auth)


def auth_settings(
    provider: OAuthProvider,
    *,
    resource_server_url: str | None = None,
    required_scopes: list[str] | None = None,
    issuer_url: str | None = None,
    **kwargs: Any,
) -> Any:
    """The SDK's ``AuthSettings`` for ``provider``.

    ``issuer_url`` defaults to the provider's issuer (its authorization server);
    ``resource_server_url`` to the provider's resource (``resource``, or ``baseUrl`` +
    ``mcpPath``), which the provider must have: libmcpauth checks the RFC 8707 binding itself,
    so ``validate_token_resource`` defaults to False when the SDK has that option. Other keyword
    arguments go to AuthSettings.
    """
    from mcp.server.auth.settings import AuthSettings

    cfg = provider.config
    issuer = issuer_url or cfg.get("issuer")
    if not issuer:
        raise ValueError("auth_settings: the provider has no issuer; pass issuer_url=")
    bound = cfg.get("resource")
    if not bound:
        # the C core checks the RFC 8707 binding (aud / resource claim) against its resource:
        # without one, tokens issued for other resources would be accepted
        raise ValueError("auth_settings: the provider is not bound to a resource URL: pass resource= or "
                         "base_url= to the provider factory (or set MCP_URL)")
    if resource_server_url is None:
        resource_server_url = str(bound)
    elif str(resource_server_url).rstrip("/") != str(bound).rstrip("/"):
        raise ValueError(f"auth_settings: resource_server_url {resource_server_url!r} is not the provider's "
                         f"resource {bound!r}")
    kw: dict[str, Any] = dict(issuer_url=issuer, resource_server_url=resource_server_url,
                              required_scopes=required_scopes)
    if "validate_token_resource" in AuthSettings.model_fields and "validate_token_resource" not in kwargs:
        kw["validate_token_resource"] = False
    kw.update(kwargs)
    return AuthSettings(**kw)
