"""ASGI integration: McpAuthMiddleware puts the libmcpauth router in front of any ASGI app
(the official SDK's streamable HTTP app, FastMCP, Starlette, FastAPI ...).

For every HTTP request the C router decides (``mcpauth_route``), and the middleware carries
the decision out:

- ``respond``: metadata documents (``/.well-known/oauth-protected-resource``, ...), 401/403
  challenges with the exact ``WWW-Authenticate`` header, proxy endpoints: sent as they are;
- ``pass`` with auth: the token was good: the AuthInfo is made available to the handlers
  through :func:`current_auth` (a contextvar), ``scope["state"]["mcpauth"]`` and
  ``scope["mcpauth"]``; ``scope["user"]``/``scope["auth"]`` are set in the Starlette/MCP SDK
  form when those packages are installed (the SDK then binds sessions to the credential);
- ``pass``: not an auth route: the app gets the request untouched;
- ``need_body``: the core needs the body (method-keyed ``routeScopes``, the OAuth proxy's
  forms): it is read up to the core's limit, replayed to the app, and the core decides again;
- ``host_verify``: the provider's own ``verify_token`` checks the token, and the core checks
  its claims (``mcpauth_route_complete``).
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._sdk import load as _load_sdk
from ._sdk import auth_of_access_token, sdk, to_access_token
from . import _ffi
from .engine import OAuthProvider, run_blocking
from .engine import _json_bytes
from .errors import Code, ConfigError, code_name, strerror
from .types import AuthInfo, Decision

__all__ = ["AuthRequired", "McpAuthMiddleware", "auth_of_scope", "authenticated", "current_auth", "require_auth",
           "request_dict"]

log = logging.getLogger("libmcpauth")

# the middleware's mcpauth_route flags (route_async's defaults: the AuthInfo keeps the token)
_ROUTE = _ffi.ROUTE_WITH_TOKEN
_ROUTE_NONBLOCK = _ffi.ROUTE_WITH_TOKEN | _ffi.ROUTE_NONBLOCK
_WOULD_BLOCK = int(Code.WOULD_BLOCK)

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


# the core refuses a longer "peer" (docs/api.md)
_PEER_MAX = 256


def _peer(scope: Scope) -> str | None:
    """The client's address (the host of the scope's ``client``), for the core's trusted-proxy
    rules; None when the server gives none (or one longer than the core accepts)."""
    client = scope.get("client")
    if not client:
        return None
    try:
        host = client[0]
    except (TypeError, IndexError, KeyError):
        return None
    if type(host) is not str or not host:
        return None
    if not host.isascii():
        try:
            size = len(host.encode("utf-8"))
        except UnicodeEncodeError:
            return None
    else:
        size = len(host)
    return host if size <= _PEER_MAX else None


def request_dict(scope: Scope, body: str | None = None) -> dict[str, Any]:
    """The router's request JSON for an ASGI scope (header names lower-case, repeated headers
    joined with ", ", the client's address as ``peer``); ``body`` only when it was read."""
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
    }
    peer = _peer(scope)
    if peer is not None:
        req["peer"] = peer
    if body is not None:
        req["body"] = body
    return req


# bytes that JSON must escape, and non-ASCII (those go through json, as latin-1 text)
_UNSAFE = bytes(range(0x20)) + b'"\\' + bytes(range(0x7F, 0x100))
# the same without the quote and non-ASCII (checked apart: count, isascii)
_CTRL = bytes(range(0x20)) + b"\\\x7f"
_ENC_STR = json.JSONEncoder(ensure_ascii=False).encode


def _jstr(b: bytes) -> bytes:
    """A JSON string of latin-1 bytes: printable ASCII without quote or backslash as it is
    (the common case: no copy through Python's encoder), anything else through json."""
    if len(b.translate(None, _UNSAFE)) == len(b):
        return b'"' + b + b'"'
    return _ENC_STR(b.decode("latin-1")).encode("utf-8")


# JSON strings of the methods, paths and peers seen lately (they repeat): bounded, cleared when full
_TEXTS: dict[str, bytes] = {}
_TEXTS_MAX = 512


def _jtext(s: str) -> bytes:
    b = _TEXTS.get(s)
    if b is None:
        b = _ENC_STR(s).encode("utf-8")
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[s] = b
    return b


def _headers_json(raw: Any) -> bytes:
    """The headers object: names lower-case, repeated names joined with ", ". The common case
    (names unique and lower-case, every byte printable ASCII without quote or backslash) is
    one join and three checks over the joined bytes; anything else goes header by header."""
    if type(raw) is not list and type(raw) is not tuple:
        raw = list(raw)
    n = len(raw)
    if n == 0:
        return b"{}"
    body = b'","'.join([k + b'":"' + v for k, v in raw])
    # 4n-2 quotes are the separators': any more is a quote in a name or value
    if body.count(b'"') == 4 * n - 2 and body.isascii() and len(body.translate(None, _CTRL)) == len(body):
        names = {k for k, _ in raw}
        if len(names) == n:
            joined = b"\x00".join(names)
            if joined.lower() == joined:
                return b'{"' + body + b'"}'
    seen: dict[bytes, bytes] = {}
    for k, v in raw:
        name = k.lower()
        prev = seen.get(name)
        seen[name] = v if prev is None else prev + b", " + v
    return b"{" + b",".join([_jstr(name) + b":" + _jstr(value) for name, value in seen.items()]) + b"}"


def request_json(scope: Scope) -> bytes:
    """The router's request JSON for an ASGI scope, encoded straight from the scope's bytes;
    the same document as ``json.dumps(request_dict(scope))`` (header names lower-case,
    repeated headers joined with ", ", the client's address as ``peer``)."""
    method = "GET" if scope.get("type") == "websocket" else str(scope.get("method", "GET"))
    query = scope.get("query_string")
    parts = [b'{"method":', _jtext(method), b',"path":', _jtext(scope.get("path") or "/"),
             b',"query":', _jstr(query) if query else b'""',
             b',"headers":', _headers_json(scope.get("headers") or ())]
    peer = _peer(scope)
    if peer is not None:
        parts.append(b',"peer":')
        parts.append(_jtext(peer))
    parts.append(b"}")
    return b"".join(parts)


class McpAuthMiddleware:
    """Protects an ASGI app with libmcpauth: the core's router decides every request.

    >>> app = McpAuthMiddleware(mcp_server.streamable_http_app(), oauth_auth0_provider())

    The middleware only carries out what ``mcpauth_route`` decides: it reads the body when the
    core asks for it (``need_body``: method-keyed ``routeScopes``, the OAuth proxy's forms; at
    most the core's ``maxBytes``, replayed to the app), runs the provider's own
    ``verify_token`` when the core asks for it (``host_verify``) and hands its answer back
    (``mcpauth_route_complete``: the core checks the claims), then passes the request on or
    sends the core's response. Every refusal is logged on the ``libmcpauth`` logger (INFO)
    with its code and the core's detail, never the token.
    """

    def __init__(self, app: ASGIApp, provider: OAuthProvider, *, access_token_cls: Any = None) -> None:
        self.app = app
        _load_sdk()  # once, here: never an import on the event loop per request
        self.access_token_cls = access_token_cls
        self.provider = provider
        cfg: dict[str, Any] = provider.config
        if not cfg.get("resource") and not cfg.get("trustHostHeader"):
            raise ConfigError(
                Code.CONFIG,
                "McpAuthMiddleware: the provider has no resource URL: pass base_url= (the public origin, "
                "e.g. https://mcp.example.com) or resource= to the provider factory, or set MCP_URL",
            )
        # AuthInfo -> (the SDK's authenticated user, credentials), for repeated tokens
        self._users: dict[int, tuple[AuthInfo, Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        provider = self.provider
        data = request_json(scope)
        # the core's router, first without blocking (keys cached: the usual case); in a worker
        # thread only when it needs network I/O
        rc, out, detail = provider._route_raw(data, _ROUTE_NONBLOCK)
        if rc == _WOULD_BLOCK:
            rc, out, detail = await run_blocking(provider._route_raw, data, _ROUTE)
        d = provider._route_decision(rc, out, detail)
        req: dict[str, Any] | None = None
        if d.action == "need_body" and kind == "http":
            req = request_dict(scope)
            raw, complete = await _read_body(receive, d.max_bytes or 0)
            receive = _replay(raw, receive, more=not complete)
            if complete:
                req["body"] = raw.decode("utf-8", errors="replace")
            else:
                req["bodyTruncated"] = True
            data = _json_bytes(req)
            d = await provider.route_async(data)
        if d.action == "host_verify":
            result = await provider.host_verify_result(d.token or "")
            d = await provider.route_complete_async(data, result)

        if d.action == "pass":
            auth = d.auth
            ptoken = _provider.set(provider)
            try:
                if auth is not None:
                    self._attach(scope, auth)
                    token = _current.set(auth)
                    try:
                        await self.app(scope, receive, send)
                    finally:
                        _current.reset(token)
                else:
                    await self.app(scope, receive, send)
            finally:
                _provider.reset(ptoken)
            return
        if d.action != "respond":  # fail closed on a decision this binding does not know
            log.error("libmcpauth: unexpected router decision %r for %s %s", d.action, scope.get("method"),
                      scope.get("path"))
            d = Decision(action="respond", status=500, headers=[("Content-Type", "application/json")],
                         body='{"error":"server_error"}')
        elif d.code is not None:
            log.info("libmcpauth: %s %s refused: %d %s: %s", scope.get("method", "GET"), scope.get("path"),
                     d.status, code_name(d.code), d.detail or strerror(d.code))
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_decision(send, d)

    def _attach(self, scope: Scope, auth: AuthInfo) -> None:
        state = scope.get("state")
        scope["state"] = {**(state if isinstance(state, dict) else {}), "mcpauth": auth}
        scope["mcpauth"] = auth
        user_cls = sdk.AuthenticatedUser
        if user_cls is None or sdk.AuthCredentials is None or isinstance(scope.get("user"), user_cls):
            return
        hit = self._users.get(id(auth))
        if hit is None or hit[0] is not auth:
            hit = (auth, user_cls(to_access_token(auth, self.access_token_cls)),
                   sdk.AuthCredentials(list(auth.scopes)))
            if len(self._users) >= 1024:
                self._users.clear()
            self._users[id(auth)] = hit
        scope["user"] = hit[1]
        scope["auth"] = hit[2]


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
