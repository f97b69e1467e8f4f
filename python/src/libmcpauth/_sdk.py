"""The optional frameworks (the official ``mcp`` SDK, Starlette), imported once.

:func:`load` runs when an integration is constructed (``McpAuthMiddleware``,
``McpAuthTokenVerifier``, the FastMCP provider): never per request, so the first request does
not stall the event loop on an import and, without ``mcp`` installed, no request pays for a
failed import. What is not installed stays ``None``.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["load", "sdk"]


class _Sdk:
    def __init__(self) -> None:
        self.loaded = False
        self.lock = threading.Lock()
        #: mcp.server.auth.middleware.bearer_auth.AuthenticatedUser
        self.AuthenticatedUser: Any = None
        #: starlette.authentication.AuthCredentials
        self.AuthCredentials: Any = None
        #: mcp.server.auth.provider.AccessToken
        self.AccessToken: Any = None
        #: mcp 1.x: the contextvar holding the RequestContext of the JSON-RPC message being
        #: handled (its .request is that message's HTTP request)
        self.request_ctx: Any = None


sdk = _Sdk()


def load() -> _Sdk:
    """Imports what is installed, once per process (later calls return at once)."""
    if sdk.loaded:
        return sdk
    with sdk.lock:
        if sdk.loaded:
            return sdk
        try:
            from starlette.authentication import AuthCredentials

            sdk.AuthCredentials = AuthCredentials
        except ImportError:
            pass
        try:
            from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
            from mcp.server.auth.provider import AccessToken

            sdk.AuthenticatedUser = AuthenticatedUser
            sdk.AccessToken = AccessToken
        except ImportError:
            pass
        try:  # mcp 1.x only (2.x handles each message in its request's own context)
            from mcp.server.lowlevel.server import request_ctx

            sdk.request_ctx = request_ctx
        except ImportError:
            pass
        sdk.loaded = True
    return sdk


_PRIVATE_KEY = "_libmcpauth_auth"


def to_access_token(auth: Any, cls: Any = None, **extra: Any) -> Any:
    """Converts an AuthInfo into the SDK's ``AccessToken`` (or ``cls``, e.g. FastMCP's),
    filling only the fields the installed SDK has (``subject``/``claims`` since mcp 1.28).
    The AuthInfo rides along (a pydantic private attribute, never serialized), so
    :func:`libmcpauth.current_auth` finds the very AuthInfo of the request from the SDK's
    authenticated user."""
    if cls is None:
        cls = load().AccessToken
        if cls is None:
            raise RuntimeError("the mcp package is not installed")
    fields = getattr(cls, "model_fields", None) or {}
    values: dict[str, Any] = {
        "token": auth.access_token or "",
        "client_id": auth.client_id or auth.user.user_id or "",
        "scopes": list(auth.scopes),
        "expires_at": auth.expires_at,
        "resource": auth.resource,
        "subject": auth.user.user_id,
        "claims": dict(auth.payload),
    }
    values.update(extra)
    kw = {k: v for k, v in values.items() if k in fields or not fields}
    at = cls(**kw)
    try:
        private = getattr(at, "__pydantic_private__", None)
        object.__setattr__(at, "__pydantic_private__", {**(private or {}), _PRIVATE_KEY: auth})
    except (AttributeError, TypeError):  # pragma: no cover - not a pydantic v2 model
        pass
    return at


def auth_of_access_token(at: Any) -> Any:
    """The AuthInfo an access token made by :func:`to_access_token` carries, else None."""
    private = getattr(at, "__pydantic_private__", None)
    if isinstance(private, dict):
        return private.get(_PRIVATE_KEY)
    return None
