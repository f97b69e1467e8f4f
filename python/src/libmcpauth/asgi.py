"""ASGI integration: McpAuthMiddleware puts the libmcpauth router in front of any ASGI app
(the official SDK's streamable HTTP app, FastMCP, Starlette, FastAPI ...).

For every HTTP request the C router decides:

- ``respond``: metadata documents (``/.well-known/oauth-protected-resource``, ...), 401/403
  challenges with the exact ``WWW-Authenticate`` header, proxy endpoints: sent as they are;
- ``pass`` with auth: the token was good: the AuthInfo is made available to the handlers
  through :func:`current_auth` (a contextvar), ``scope["state"]["mcpauth"]`` and
  ``scope["mcpauth"]``; ``scope["user"]``/``scope["auth"]`` are set in the Starlette/MCP SDK
  form when those packages are installed (the SDK then binds sessions to the credential);
- ``pass``: not an auth route: the app gets the request untouched.

Request bodies are never read for protected paths: ``/mcp`` traffic streams through as it is.
Only POSTs to the OAuth proxy endpoints (when the provider is an :func:`oauth_proxy`) are read,
up to ``max_body_bytes``, and replayed to the app if the router passes them on.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from ._sdk import load as _load_sdk
from ._sdk import auth_of_access_token, sdk, to_access_token
from .engine import OAuthProvider
from .errors import AuthError, Code, ConfigError, strerror
from .types import AuthInfo, Decision

__all__ = ["AuthRequired", "McpAuthMiddleware", "auth_of_scope", "authenticated", "current_auth", "require_auth",
           "request_dict"]

log = logging.getLogger("libmcpauth")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_current: contextvars.ContextVar[AuthInfo | None] = contextvars.ContextVar("mcpauth_current_auth", default=None)
# the provider of the McpAuthMiddleware handling the request (protected or not): require_auth()
# renders its challenge
_provider: contextvars.ContextVar[OAuthProvider | None] = contextvars.ContextVar("libmcpauth_provider",
                                                                                 default=None)


def current_auth() -> AuthInfo | None:
    """The AuthInfo of the request being handled (inside tool/resource/prompt handlers), or
    None outside an authenticated request.

    Inside an MCP tool it is the auth of the HTTP request that carried this very JSON-RPC
    message: a client that switches tokens within a session (after a refresh) is seen with its
    new token. mcp 1.x runs tools in the session's task, whose context is the one of
    ``initialize``; there the request's own auth is read from the SDK's request context."""
    rc = sdk.request_ctx
    if rc is not None:
        ctx = rc.get(None)
        if ctx is not None:
            auth = auth_of_scope(getattr(getattr(ctx, "request", None), "scope", None))
            if auth is not None:
                return auth
    return _current.get()


try:  # Starlette (and FastAPI) answer an HTTPException with its status and headers
    from starlette.exceptions import HTTPException as _HTTPException
    from starlette.requests import Request as _Request
except ImportError:  # pragma: no cover - starlette is not installed
    _HTTPException = None  # type: ignore[assignment,misc]
    _Request = None  # type: ignore[assignment,misc]

_AUTH_REQUIRED_BASES: tuple[type, ...] = (LookupError,) if _HTTPException is None else (_HTTPException, LookupError)


class AuthRequired(*_AUTH_REQUIRED_BASES):  # type: ignore[misc]
    """No authenticated request in this context: raised by :func:`require_auth` and
    :func:`authenticated`. A ``LookupError``; with Starlette installed also an
    ``HTTPException``, so Starlette and FastAPI answer ``401`` with the core's challenge in
    ``WWW-Authenticate`` (``.headers``) instead of a 500."""

    def __init__(self, challenge: str, status_code: int = 401) -> None:
        self.challenge = challenge
        self.status_code = status_code
        self.www_authenticate = challenge
        message = "authentication required"
        if _HTTPException is not None:
            _HTTPException.__init__(self, status_code=status_code, detail=message,
                                    headers={"WWW-Authenticate": challenge})
        else:  # pragma: no cover
            LookupError.__init__(self, message)
            self.headers = {"WWW-Authenticate": challenge}

    def __str__(self) -> str:
        return "no authenticated request in this context"


def _auth_required() -> AuthRequired:
    provider = _provider.get()
    www = "Bearer"
    if provider is not None:
        try:
            www = provider.challenge(Code.TOKEN_MISSING)  # the core renders it (resource_metadata)
        except Exception:  # pragma: no cover - a closed provider
            log.exception("libmcpauth: could not render the challenge")
    return AuthRequired(www)


def require_auth() -> AuthInfo:
    """Like :func:`current_auth` but raises :class:`AuthRequired` when there is none (a
    ``LookupError``; in Starlette/FastAPI a 401 with the core's ``WWW-Authenticate``)."""
    auth = current_auth()
    if auth is None:
        raise _auth_required()
    return auth


async def authenticated(request: Any) -> AuthInfo:
    """A FastAPI dependency: ``auth: AuthInfo = Depends(libmcpauth.authenticated)``.

    Returns the AuthInfo of the request (McpAuthMiddleware verified it, through the core, on a
    protected path: list API routes in ``protected_paths``/``routeScopes`` of the provider), or
    answers 401 with the core's challenge when the request has none."""
    auth = auth_of_scope(getattr(request, "scope", None)) or current_auth()
    if auth is None:
        raise _auth_required()
    return auth


if _Request is not None:  # FastAPI reads the parameter's type from the signature
    import inspect as _inspect

    authenticated.__signature__ = _inspect.Signature(  # type: ignore[attr-defined]
        [_inspect.Parameter("request", _inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_Request)],
        return_annotation=AuthInfo)


def auth_of_scope(scope: Any) -> AuthInfo | None:
    """The AuthInfo that McpAuthMiddleware or McpAuthTokenVerifier attached to an ASGI scope
    (``scope["mcpauth"]``, or the SDK's authenticated user made from an AuthInfo)."""
    if not isinstance(scope, MutableMapping):
        return None
    auth = scope.get("mcpauth")
    if isinstance(auth, AuthInfo):
        return auth
    auth = auth_of_access_token(getattr(scope.get("user"), "access_token", None))
    return auth if isinstance(auth, AuthInfo) else None


def _set_current(auth: AuthInfo) -> contextvars.Token[AuthInfo | None]:
    return _current.set(auth)


def request_dict(scope: Scope, body: str = "") -> dict[str, Any]:
    """The router's request JSON for an ASGI scope (header names lower-case, repeated headers
    joined with ", ")."""
    headers: dict[str, str] = {}
    for k, v in scope.get("headers") or []:
        name = k.decode("latin-1").lower()
        value = v.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    method = "GET" if scope.get("type") == "websocket" else str(scope.get("method", "GET"))
    req: dict[str, Any] = {
        "method": method,
        "path": scope.get("path") or "/",
        "query": (scope.get("query_string") or b"").decode("latin-1"),
        "headers": headers,
        "body": body,
    }
    return req


def _attach(scope: Scope, auth: AuthInfo, access_token_cls: Any = None) -> None:
    state = scope.get("state")
    scope["state"] = {**(state if isinstance(state, dict) else {}), "mcpauth": auth}
    scope["mcpauth"] = auth
    user_cls, creds_cls = sdk.AuthenticatedUser, sdk.AuthCredentials
    if user_cls is not None and creds_cls is not None and not isinstance(scope.get("user"), user_cls):
        scope["user"] = user_cls(to_access_token(auth, access_token_cls))
        scope["auth"] = creds_cls(list(auth.scopes))


class McpAuthMiddleware:
    """Protects an ASGI app with libmcpauth.

    >>> app = McpAuthMiddleware(mcp_server.streamable_http_app(), oauth_auth0_provider())
    """

    def __init__(self, app: ASGIApp, provider: OAuthProvider, *, max_body_bytes: int = 65536,
                 max_mcp_body_bytes: int = 4 << 20, access_token_cls: Any = None) -> None:
        self.app = app
        _load_sdk()  # once, here: never an import on the event loop per request
        self.access_token_cls = access_token_cls
        self.provider = provider
        self.max_body_bytes = max_body_bytes
        cfg: dict[str, Any] = {}
        try:
            cfg = provider.config
        except Exception:  # pragma: no cover - a core without mcpauth_engine_config output
            cfg = {}
        if not cfg.get("resource") and not cfg.get("trustHostHeader"):
            raise ConfigError(
                Code.CONFIG,
                "McpAuthMiddleware: the provider has no resource URL: pass base_url= (the public origin, "
                "e.g. https://mcp.example.com) or resource= to the provider factory, or set MCP_URL",
            )
        self._has_proxy = "proxy" in cfg or "proxy" in provider.options
        mcp_path = str(cfg.get("mcpPath") or provider.options.get("mcpPath") or "/mcp").rstrip("/")
        self._protected = [str(p).rstrip("/").lower() for p in (cfg.get("protectedPaths") or [mcp_path])]
        route_scopes = cfg.get("routeScopes") or {}
        # routeScopes keyed by MCP method (tools/call ...) need the JSON-RPC body of /mcp POSTs
        self._method_scopes = isinstance(route_scopes, dict) and any(
            not str(k).startswith("/") for k in route_scopes)
        self.max_mcp_body_bytes = max_mcp_body_bytes

    def _is_protected(self, path: str) -> bool:
        p = path.rstrip("/").lower()
        return any(p == pp or p.startswith(pp + "/") for pp in self._protected)

    def _wants_body(self, scope: Scope) -> bool:
        """Only the OAuth proxy endpoints need the body (form/JSON parameters)."""
        if not self._has_proxy or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return False
        last = str(scope.get("path") or "").rstrip("/").rsplit("/", 1)[-1]
        return last in ("register", "token", "authorize", "revoke")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        body = ""
        method_unknown = self._method_scopes
        if kind == "http" and self._wants_body(scope):
            raw, complete = await _read_body(receive, self.max_body_bytes)
            if not complete:
                await _send_json(send, 413, {"error": "invalid_request", "error_description": "request body too large"})
                return
            body = raw.decode("utf-8", errors="replace")
            receive = _replay(raw, receive)
        elif (kind == "http" and self._method_scopes and scope.get("method") == "POST"
              and self._is_protected(str(scope.get("path") or ""))):
            # the router reads the JSON-RPC method(s) from the body; a body over the limit is
            # replayed untouched and every method-keyed scope applies (fail closed)
            raw, complete = await _read_body(receive, self.max_mcp_body_bytes)
            receive = _replay(raw, receive, more=not complete)
            if complete:
                body = raw.decode("utf-8", errors="replace")
                method_unknown = False

        req = request_dict(scope, body)
        if method_unknown and not body:
            req["mcpMethod"] = None
        if self.provider.verify_token_fn is not None:
            decision = await self._decide_custom(req)
        else:
            decision = await self.provider.handle_request_async(req)

        if decision.action == "respond":
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _send_decision(send, decision)
            return
        ptoken = _provider.set(self.provider)
        try:
            if decision.auth is not None:
                _attach(scope, decision.auth, self.access_token_cls)
                token = _set_current(decision.auth)
                try:
                    await self.app(scope, receive, send)
                finally:
                    _current.reset(token)
            else:
                await self.app(scope, receive, send)
        finally:
            _provider.reset(ptoken)

    async def _decide_custom(self, req: dict[str, Any]) -> Decision:
        """A custom provider with a Python ``verify_token``: the router decides routing and
        challenges (asked without credentials), the host function verifies the token."""
        headers = dict(req["headers"])
        authz = headers.pop("authorization", None)
        d = await self.provider.handle_request_async({**req, "headers": headers})
        if d.action != "respond" or d.status != 401 or authz is None:
            return d
        scheme, _, token = authz.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            return self._challenge_decision(AuthError(Code.MALFORMED_HEADER))
        try:
            auth = await self.provider.verify_async(token)
        except AuthError as exc:
            log.info("libmcpauth: token rejected: %s", exc.detail)
            return self._challenge_decision(exc)
        # The scopes this request needs (server-wide and routeScopes, by path or MCP method)
        # are the ones the core's no-credentials challenge asked for: enforce them here too.
        needed = _challenge_scopes(d.headers)
        if needed and not auth.has_scope(*needed):
            return self._challenge_decision(AuthError(Code.INSUFFICIENT_SCOPE), " ".join(needed))
        return Decision(action="pass", auth=auth)

    def _challenge_decision(self, exc: AuthError, scope: str | None = None) -> Decision:
        try:
            www = self.provider.challenge(exc.code, scope=scope)
        except Exception:  # pragma: no cover - core without challenge support
            www = f'Bearer error="{exc.oauth_error or "invalid_token"}"'
        body = json.dumps({"error": exc.oauth_error or "invalid_token", "error_description": strerror(exc.code)})
        return Decision(
            action="respond",
            status=exc.http_status,
            headers=[("WWW-Authenticate", www), ("Content-Type", "application/json")],
            body=body,
        )


_SCOPE_PARAM = re.compile(r'(?:^|[\s,])scope="([^"\\]*)"')


def _challenge_scopes(headers: Sequence[tuple[str, str]]) -> list[str]:
    """The scope tokens of a Bearer challenge's ``scope`` parameter (RFC 6750 section 3; scope
    tokens contain neither quote nor backslash)."""
    for name, value in headers:
        if name.lower() == "www-authenticate":
            m = _SCOPE_PARAM.search(value)
            if m:
                return m.group(1).split()
    return []


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Reads the request body up to ``limit`` bytes: (bytes read, whether it is complete)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg.get("type") == "http.disconnect":
            return b"".join(chunks), True
        chunk = msg.get("body", b"") or b""
        size += len(chunk)
        chunks.append(chunk)
        if not msg.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(raw: bytes, receive: Receive, *, more: bool = False) -> Receive:
    """A receive() that first returns the bytes already read (then the rest, if ``more``)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": more}
        return await receive()

    return replay


async def _send_decision(send: Send, d: Decision) -> None:
    body = d.body.encode("utf-8")
    headers = [(k.lower().encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in d.headers]
    if not any(k == b"content-length" for k, _ in headers):
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": d.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, status: int, obj: Any) -> None:
    body = json.dumps(obj).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
