"""libmcpauth: OAuth 2.1 for MCP servers, the Python binding of libmcpauth (a C core loaded with
ctypes).

Factories mirror the seed's providers (``oauth_auth0_provider()`` reads
``MCP_USE_OAUTH_AUTH0_*``, ...). A provider verifies bearer tokens (``verify``,
``verify_async``), answers the OAuth HTTP surface (``handle_request``) and plugs into ASGI
(:class:`McpAuthMiddleware`), the official SDK (:mod:`libmcpauth.mcp_sdk`) and FastMCP
(:mod:`libmcpauth.fastmcp_auth`). Inside handlers, :func:`current_auth` returns the
:class:`AuthInfo` (``.user.email``, ``.scopes``, ``.payload`` ...).
"""

from __future__ import annotations

from ._ffi import library_path
from .asgi import AuthRequired, McpAuthMiddleware, authenticated, current_auth, require_auth
from .engine import OAuthProvider
from .errors import AuthError, Code, ConfigError, McpAuthError
from .providers import (
    jwks_verifier,
    oauth_auth0_provider,
    oauth_better_auth_provider,
    oauth_clerk_provider,
    oauth_custom_provider,
    oauth_keycloak_provider,
    oauth_proxy,
    oauth_supabase_provider,
    oauth_workos_provider,
)
from .types import AuthInfo, Decision, UserInfo, VerifyResult

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "AuthInfo",
    "AuthRequired",
    "Code",
    "ConfigError",
    "Decision",
    "McpAuthError",
    "McpAuthMiddleware",
    "OAuthProvider",
    "UserInfo",
    "VerifyResult",
    "authenticated",
    "current_auth",
    "core_version",
    "jwks_verifier",
    "library_path",
    "oauth_auth0_provider",
    "oauth_better_auth_provider",
    "oauth_clerk_provider",
    "oauth_custom_provider",
    "oauth_keycloak_provider",
    "oauth_proxy",
    "oauth_supabase_provider",
    "oauth_workos_provider",
    "require_auth",
]


def core_version() -> str:
    """The version of the loaded C library."""
    from ._ffi import lib

    v = lib.mcpauth_version()
    return v.decode() if v else ""
