"""Integration with FastMCP (PyPI ``fastmcp``): an ``AuthProvider`` backed by libmcpauth.

>>> from fastmcp import FastMCP
>>> mcp = FastMCP("demo", auth=McpAuthFastMCPProvider(oauth_keycloak_provider()))

The provider installs :class:`libmcpauth.McpAuthMiddleware` as its HTTP middleware: every request
goes through the C router first, so the metadata documents and the 401/403 challenges are
libmcpauth's (RFC 6750/9728 exact, with ``scope=``), and a good token becomes the SDK's
authenticated user (FastMCP's ``get_access_token()`` works) and :func:`libmcpauth.current_auth`.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from fastmcp.server.auth import AccessToken, AuthProvider
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._sdk import load as _load_sdk
from .asgi import McpAuthMiddleware, _set_current, request_dict
from .engine import OAuthProvider
from .errors import AuthError
from .mcp_sdk import to_access_token

__all__ = ["McpAuthFastMCPProvider"]

log = logging.getLogger("libmcpauth")

_PRM = "/.well-known/oauth-protected-resource"

# FastMCP 3 added AuthProvider(resource_base_url=...); 2.x (2.12-2.14) has only base_url
_HAS_RESOURCE_BASE_URL = "resource_base_url" in inspect.signature(AuthProvider.__init__).parameters


class McpAuthFastMCPProvider(AuthProvider):
    """A FastMCP ``AuthProvider`` whose verification, metadata and challenges are libmcpauth's.

    ``base_url`` defaults to the provider's ``baseUrl`` (``MCP_URL``). ``required_scopes``
    belong in the libmcpauth configuration (``required_scopes=`` of the factory): the C core
    answers 403 ``insufficient_scope`` itself.
    """

    def __init__(
        self,
        provider: OAuthProvider,
        *,
        base_url: str | None = None,
        resource_base_url: str | None = None,
        required_scopes: list[str] | None = None,
    ) -> None:
        cfg = provider.config
        kw: dict[str, Any] = dict(base_url=base_url or cfg.get("baseUrl"), required_scopes=required_scopes)
        if resource_base_url is not None:
            if not _HAS_RESOURCE_BASE_URL:
                # FastMCP 2.x has no separate resource origin: the resource is base_url + path
                raise TypeError("resource_base_url needs FastMCP 3 or later; with FastMCP 2.x the resource is "
                                "base_url + the MCP path")
            kw["resource_base_url"] = resource_base_url
        super().__init__(**kw)
        self.provider = provider
        _load_sdk()

    @property
    def scopes_supported(self) -> list[str]:
        return list(self.provider.config.get("scopesSupported") or self.required_scopes)

    async def verify_token(self, token: str) -> AccessToken | None:
        """FastMCP's AccessToken, or None for an invalid token (never raises for one)."""
        try:
            auth = await self.provider.verify_async(token)
        except AuthError as exc:
            log.info("libmcpauth: token rejected: %s (%s)", exc.code_name, exc.detail)
            return None
        _set_current(auth)
        result: AccessToken = to_access_token(auth, AccessToken)
        return result

    def set_mcp_path(self, mcp_path: str | None) -> None:
        super().set_mcp_path(mcp_path)
        mine = str(self.provider.config.get("mcpPath") or "/mcp").rstrip("/") or "/"
        if mcp_path and mcp_path.rstrip("/") != mine:
            log.warning("libmcpauth: FastMCP serves MCP at %s but the provider protects %s; set mcp_path=%r "
                        "on the provider", mcp_path, mine, mcp_path)

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        """Metadata routes answered by the C router (the middleware answers them first; these
        routes make FastMCP advertise ``resource_metadata`` in its own challenges)."""
        self.set_mcp_path(mcp_path)
        paths = [_PRM]
        if mcp_path and mcp_path.strip("/"):
            paths.append(_PRM + "/" + mcp_path.strip("/"))
        resource = self._get_resource_url(mcp_path)
        if resource is not None and resource.path and resource.path.strip("/"):
            p = _PRM + "/" + resource.path.strip("/")
            if p not in paths:
                paths.append(p)
        paths += ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
        return [Route(p, endpoint=self._route, methods=["GET", "OPTIONS"]) for p in paths]

    async def _route(self, request: Request) -> Response:
        d = await self.provider.route_async(request_dict(request.scope))
        if d.action != "respond":
            return Response(status_code=404)
        return Response(content=d.body, status_code=d.status, headers=dict(d.headers))

    def get_middleware(self) -> list[Any]:
        return [
            Middleware(McpAuthMiddleware, provider=self.provider, access_token_cls=AccessToken),
            Middleware(AuthContextMiddleware),
        ]
