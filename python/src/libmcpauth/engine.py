"""OAuthProvider: one libmcpauth engine (an immutable, thread-safe verifier + HTTP router)."""

from __future__ import annotations

import asyncio
import inspect
import json
import json.scanner
import logging
from collections.abc import Awaitable, Callable, Mapping
from ctypes import byref, c_void_p
from typing import Any, TypeVar, Union

from . import _ffi
from ._ffi import lib, out_ptr, take_string
from .errors import AuthError, Code, ConfigError, McpAuthError
from .types import AuthInfo, Decision, UserInfo, VerifyResult

__all__ = ["OAuthProvider", "GetUserInfo", "VerifyToken", "run_blocking"]

log = logging.getLogger("libmcpauth")

#: ``get_user_info(payload)`` -> a UserInfo or a mapping (``userId``/``user_id``, ``email``, ...)
GetUserInfo = Callable[[Mapping[str, Any]], Union[UserInfo, Mapping[str, Any]]]
#: ``verify_token(token)`` -> the verified claims (or ``{"payload": claims}``), may be async;
#: raise to reject the token.
VerifyToken = Callable[[str], Union[Mapping[str, Any], Awaitable[Mapping[str, Any]]]]

T = TypeVar("T")


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """Runs a blocking call in a worker thread (anyio's thread pool when running under anyio,
    else asyncio.to_thread). ctypes releases the GIL during the foreign call."""
    try:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(fn, *args)
    except ImportError:  # pragma: no cover - anyio is almost always present
        return await asyncio.to_thread(fn, *args)


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # built once


def _json_bytes(obj: Any) -> bytes:
    return _ENCODE(obj).encode("utf-8", errors="surrogateescape")


# the C scanner behind json.loads
_DECODER = json.JSONDecoder()
_SCAN: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]


def _loads(raw: bytes | str | None) -> Any:
    """json.loads for the core's answers (compact UTF-8 JSON): the scanner json.loads uses,
    without its encoding detection and whitespace matching; anything else goes to json.loads."""
    if raw is None:
        return {}
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        obj, end = _SCAN(text, 0)
        if end == len(text):
            return obj
    except (StopIteration, ValueError):
        pass
    return json.loads(text)


_TOKEN_HEAD = b'{"accessToken":"'
_TOKEN_AT = len(_TOKEN_HEAD)


def _loads_auth(raw: bytes, tb: bytes) -> Any:
    """An auth result of mcpauth_verify for the token ``tb``. The core writes the token first,
    as it was given; when the text goes on with the very bytes of ``tb`` and a closing quote,
    and ``tb`` is ASCII without quote or backslash, that JSON string holds no escape (any
    character the core escapes would appear there as a backslash, which ``tb`` lacks): it is
    ``tb``. Then the rest is parsed without it and ``accessToken`` set from ``tb``, so the JSON
    scanner does not copy the token character by character (the Node binding does the same).
    Anything else is parsed whole."""
    n = len(tb)
    end = _TOKEN_AT + n
    if (raw.startswith(tb, _TOKEN_AT) and raw.startswith(_TOKEN_HEAD) and raw[end:end + 2] == b'",'
            and tb.isascii() and tb.find(b'"') < 0 and tb.find(b"\\") < 0):  # find: `in` tries an int first
        data = _loads("{" + raw[end + 2:].decode("utf-8", errors="replace"))
        if type(data) is dict and "accessToken" not in data:
            data["accessToken"] = tb.decode("ascii")
            return data
    return _loads(raw)


class _Memo:
    """The Python objects made from the core's answers, by the answer's text. The latest entry
    is always kept; the others from a text's second sighting on: a repeated token's answer is
    decoded at most twice and then never again, while tokens seen once each (cache misses)
    cost neither memory nor the garbage collector's time. Bounded: cleared when full. The key
    is only a shortcut: an entry is used only when the core's text for this very call equals
    the text it was made from."""

    __slots__ = ("_map", "_seen", "_last")

    def __init__(self) -> None:
        self._map: dict[Any, tuple[bytes | str, Any]] = {}
        self._seen: set[int] = set()  # hashes of keys seen once (ints: no GC tracking)
        self._last: tuple[Any, bytes | str, Any] | None = None

    def get(self, key: Any, text: bytes | str) -> Any:
        hit = self._map.get(key)
        if hit is not None and hit[0] == text:
            return hit[1]
        last = self._last
        if last is not None and last[1] == text and last[0] == key:
            self._store(key, text, last[2])
            return last[2]
        return None

    def put(self, key: Any, text: bytes | str, value: Any) -> None:
        self._last = (key, text, value)
        h = hash(key)
        if h in self._seen:
            self._store(key, text, value)
            return
        if len(self._seen) >= _SEEN_MAX:
            self._seen.clear()
        self._seen.add(h)

    def _store(self, key: Any, text: bytes | str, value: Any) -> None:
        if len(self._map) >= _MEMO_MAX:
            self._map.clear()
        self._map[key] = (text, value)

    def __len__(self) -> int:
        return len(self._map)


class _Engine:
    """The C engine of a provider. Freed when the last reference to this object goes: the
    provider's (dropped by ``close()``) or that of a call in flight (a local variable during
    the foreign call), so ``close()`` never frees an engine a thread is still using, without a
    lock on every call."""

    __slots__ = ("ptr",)

    def __init__(self, ptr: int) -> None:
        self.ptr = ptr

    def __del__(self) -> None:
        ptr, self.ptr = self.ptr, 0
        if ptr:
            try:
                lib.mcpauth_engine_free(ptr)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass


def _token_bytes(token: str | bytes) -> bytes:
    if isinstance(token, bytes):
        return token
    if not isinstance(token, str):
        raise TypeError("token must be str or bytes")
    if token.isascii():  # a JWT: the encoder's fast path
        return token.encode()
    return token.encode("utf-8", errors="surrogateescape")


def _unwrap_claims(result: Any) -> Mapping[str, Any]:
    """verify_token may return the claims, or the seed's ``{"payload": claims}`` shape."""
    if isinstance(result, Mapping):
        p = result.get("payload")
        if isinstance(p, Mapping) and set(result.keys()) <= {"payload", "protectedHeader", "header"}:
            return p
        return result
    raise TypeError("verify_token must return a mapping of claims (or {'payload': claims})")


# Answers whose Python objects are kept (see _Memo), and texts remembered as seen once.
_MEMO_MAX = 1024
_SEEN_MAX = 4096


class OAuthProvider:
    """A configured libmcpauth engine. Create it with the factories (``oauth_auth0_provider``,
    ``jwks_verifier``, ...) or directly from a configuration mapping in the C core's keys
    (camelCase, see docs/config.md).

    The object is immutable and safe to share between threads and event loops. Construction
    validates the configuration and raises :class:`ConfigError` naming the bad option.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        use_env: bool = True,
        prefetch: bool = False,
        get_user_info: GetUserInfo | None = None,
        verify_token: VerifyToken | None = None,
    ) -> None:
        self._engine: _Engine | None = None
        self._closed = False
        self._options: dict[str, Any] = dict(config)
        self._memo = _Memo()  # AuthInfo by the token, checked against the core's text
        self._decisions = _Memo()  # pass decisions by the core's text
        self._host_path: str | None = None
        self.get_user_info: GetUserInfo | None = get_user_info
        self.verify_token_fn: VerifyToken | None = verify_token
        flags = (0 if use_env else _ffi.ENGINE_NO_ENV) | (_ffi.ENGINE_PREFETCH if prefetch else 0)
        data = _json_bytes(self._options)
        handle = c_void_p()
        detail = out_ptr()
        try:
            rc = lib.mcpauth_engine_new(data, len(data), flags, byref(handle), byref(detail))
            msg = take_string(detail)
        finally:
            _ffi.free(detail)
        if rc != 0:
            if rc == Code.CONFIG:
                raise ConfigError(rc, msg)
            raise McpAuthError(rc, msg)
        self._engine = _Engine(handle.value or 0)
        self._hot = _ffi.hot()
        self._resolved: dict[str, Any] | None = None

    # ---- lifetime ---------------------------------------------------------------------

    def _eng(self) -> _Engine:
        """The engine, for one call: the caller keeps the object in a local variable for the
        duration of the foreign call, so a concurrent close() cannot free it under the call."""
        eng = self._engine
        if eng is None:
            raise RuntimeError("this OAuthProvider is closed")
        return eng

    @property
    def _handle(self) -> int | None:
        """The engine's address (None once closed)."""
        eng = self._engine
        return eng.ptr if eng is not None else None

    def close(self) -> None:
        """Frees the engine (deferred until calls in progress have returned)."""
        self._closed = True
        self._engine = None  # the engine is freed with the last reference (see _Engine)

    def __enter__(self) -> OAuthProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- configuration ----------------------------------------------------------------

    @property
    def options(self) -> dict[str, Any]:
        """The configuration given to the C core (camelCase keys)."""
        return dict(self._options)

    @property
    def config(self) -> dict[str, Any]:
        """The resolved configuration (after presets and env), without secrets."""
        if self._resolved is None:
            self._resolved = self._call_json(lambda h, out: lib.mcpauth_engine_config(h, out))
        return dict(self._resolved)

    @property
    def name(self) -> str:
        """The provider preset (``auth0``, ``keycloak``, ``jwks``, ``custom`` ...)."""
        return str(self.config.get("provider") or self._options.get("provider") or "")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<OAuthProvider {self._options.get('provider', '?')} {state}>"

    # ---- low-level calls --------------------------------------------------------------

    def _call_json(self, fn: Callable[[int, Any], int]) -> dict[str, Any]:
        out = out_ptr()
        eng = self._eng()
        try:
            rc = fn(eng.ptr, byref(out))
            text = take_string(out)
        finally:
            _ffi.free(out)
        if rc != 0:
            raise _error(rc, None)
        doc: dict[str, Any] = json.loads(text or "{}")
        return doc

    def _verify_raw(self, token: bytes, flags: int) -> tuple[int, bytes | None, str | None]:
        """mcpauth_verify: (code, the auth result's raw UTF-8 bytes, the failure's detail)."""
        eng = self._eng()
        s = _ffi.slot()
        try:
            rc: int = self._hot.verify(eng.ptr, token, len(token), flags, s.out, s.detail)
        finally:
            raw, det = s.take()
        return rc, raw, None if det is None else det.decode("utf-8", errors="replace")

    def _map_raw(self, claims: Mapping[str, Any], token: bytes | None) -> tuple[int, str | None, str | None]:
        data = _json_bytes(dict(claims))
        auth = out_ptr()
        detail = out_ptr()
        eng = self._eng()
        try:
            rc = lib.mcpauth_map_claims(
                eng.ptr, data, len(data), token, len(token) if token is not None else 0, byref(auth), byref(detail)
            )
            return rc, take_string(auth), take_string(detail)
        finally:
            _ffi.free(auth)
            _ffi.free(detail)

    def _request_raw(self, data: bytes, flags: int) -> tuple[int, str | None]:
        out = out_ptr()
        eng = self._eng()
        try:
            rc = lib.mcpauth_handle_request(eng.ptr, data, len(data), flags, byref(out))
            return rc, take_string(out)
        finally:
            _ffi.free(out)

    def _route_raw(self, data: bytes, flags: int) -> tuple[int, bytes | None, str | None]:
        """mcpauth_route: (code, the decision's raw UTF-8 bytes, the detail)."""
        eng = self._eng()
        s = _ffi.slot()
        try:
            rc: int = self._hot.route(eng.ptr, data, len(data), flags, s.out, s.detail)
        finally:
            out, det = s.take()
        return rc, out, None if det is None else det.decode("utf-8", errors="replace")

    def _route_complete_raw(self, data: bytes, result: bytes, flags: int) -> tuple[int, bytes | None, str | None]:
        eng = self._eng()
        s = _ffi.slot()
        try:
            rc: int = self._hot.route_complete(eng.ptr, data, len(data), result, len(result), flags, s.out,
                                               s.detail)
        finally:
            out, det = s.take()
        return rc, out, None if det is None else det.decode("utf-8", errors="replace")

    # ---- results ----------------------------------------------------------------------

    def _auth_from_json(self, text: str | bytes | None, key: Any = None) -> AuthInfo:
        # The core answers a repeated token from its verified-token cache with the very same
        # text; its translation into an AuthInfo (JSON + dataclasses, most of the cost of a
        # call) is memoized (see _Memo), found by ``key`` (the token as the caller gave it:
        # its hash is usually cached) and used only when the core's text for this call is the
        # one it was made from. The decision itself is always the core's: this runs only after
        # the core accepted the token, on this call. AuthInfo objects are frozen; they may be
        # shared by requests that present the same token.
        if text is None:
            text = b"{}"
        if key is None:
            key = text
        if self.get_user_info is None:
            hit = self._memo.get(key, text)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
            info = self._auth_from_obj(_loads(text))
            self._memo.put(key, text, info)
            return info
        return self._auth_from_obj(_loads(text))

    def _auth_from_obj(self, data: Mapping[str, Any]) -> AuthInfo:
        user: UserInfo | None = None
        if self.get_user_info is not None:
            payload = data.get("payload")
            got = self.get_user_info(payload if isinstance(payload, dict) else {})
            if inspect.isawaitable(got):
                raise TypeError("get_user_info returned an awaitable: use a plain function")
            user = got if isinstance(got, UserInfo) else UserInfo.from_mapping(got)
        return AuthInfo.from_json(data, user=user)

    # ---- verification -----------------------------------------------------------------

    def verify(self, token: str | bytes, *, no_cache: bool = False) -> AuthInfo:
        """Verifies a bearer token (without the ``Bearer `` prefix) and returns the auth info.

        Blocks when keys must be fetched. Raises :class:`AuthError` for a token that is not
        accepted (``.oauth_error`` / ``.http_status`` say what to answer).
        """
        tb = token if type(token) is bytes else _token_bytes(token)
        if self.verify_token_fn is not None:
            req = self._host_request(tb)
            if req is None:
                claims = self._custom_claims_sync(tb)
                return self.map_claims(claims, tb)
            result = self.host_verify_result_sync(tb.decode("utf-8", errors="surrogateescape"))
            return self._auth_of_route(self._route_decision(
                *self._route_complete_raw(req, _json_bytes(result), _ffi.ROUTE_WITH_TOKEN)))
        rc, auth, detail = self._verify_raw(tb, _ffi.VERIFY_NO_CACHE if no_cache else 0)
        if rc != 0:
            raise _error(rc, detail)
        return self._auth_of_verify(auth, tb, token, no_cache)

    def _auth_of_verify(self, auth: bytes | None, tb: bytes, token: str | bytes, no_cache: bool) -> AuthInfo:
        """The AuthInfo of a token the core accepted: from the memo when the core's text is one
        already translated, else parsed (see _loads_auth). With ``no_cache`` (the caller asked
        for a verification that no cache answers) the memo is neither read nor filled."""
        if self.get_user_info is not None or auth is None:
            return self._auth_from_json(auth, token)
        if no_cache:
            return AuthInfo.from_json(_loads_auth(auth, tb))
        hit = self._memo.get(token, auth)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        info = AuthInfo.from_json(_loads_auth(auth, tb))
        self._memo.put(token, auth, info)
        return info

    def try_verify(self, token: str | bytes, *, no_cache: bool = False) -> VerifyResult:
        """Like :meth:`verify`, but returns a :class:`VerifyResult` instead of raising."""
        try:
            return VerifyResult(auth=self.verify(token, no_cache=no_cache))
        except AuthError as exc:
            return VerifyResult(error=exc)

    async def verify_async(self, token: str | bytes, *, no_cache: bool = False) -> AuthInfo:
        """Verifies without blocking the event loop: the core is first called in non-blocking
        mode (signature check with cached keys, in this thread); only when it needs network I/O
        (MCPAUTH_E_WOULD_BLOCK) is the blocking call run in a worker thread."""
        tb = _token_bytes(token)
        if self.verify_token_fn is not None:
            req = self._host_request(tb)
            if req is None:
                try:
                    got = self.verify_token_fn(tb.decode("utf-8", errors="surrogateescape"))
                    if inspect.isawaitable(got):
                        got = await got
                except Exception as exc:
                    raise _custom_rejection(exc) from None
                return self.map_claims(_unwrap_claims(got), tb)
            result = await self.host_verify_result(tb.decode("utf-8", errors="surrogateescape"))
            return self._auth_of_route(await self.route_complete_async(req, result))
        flags = _ffi.VERIFY_NO_CACHE if no_cache else 0
        rc, auth, detail = self._verify_raw(tb, flags | _ffi.VERIFY_NONBLOCK)
        if rc == Code.WOULD_BLOCK:
            rc, auth, detail = await run_blocking(self._verify_raw, tb, flags)
        if rc != 0:
            raise _error(rc, detail)
        return self._auth_of_verify(auth, tb, token, no_cache)

    async def try_verify_async(self, token: str | bytes, *, no_cache: bool = False) -> VerifyResult:
        """Like :meth:`verify_async`, but returns a :class:`VerifyResult`."""
        try:
            return VerifyResult(auth=await self.verify_async(token, no_cache=no_cache))
        except AuthError as exc:
            return VerifyResult(error=exc)

    def _host_request(self, tb: bytes) -> bytes | None:
        """For a provider whose tokens the host verifies: the request that makes the core's
        router check the host's claims (``mcpauth_route_complete``: exp/nbf/iat, iss, audience,
        resource binding, required scopes) for ``verify()``: a GET of the protected path with
        the token. None when the engine cannot route (no resource URL): then only
        ``mcpauth_map_claims`` runs."""
        path = self._host_path
        if path is None:
            cfg = self.config
            if not cfg.get("resource"):
                return None
            paths = cfg.get("protectedPaths") or [cfg.get("mcpPath") or "/mcp"]
            path = self._host_path = str(paths[0])
        tok = tb.decode("utf-8", errors="surrogateescape")
        return _json_bytes({"method": "GET", "path": path, "headers": {"authorization": "Bearer " + tok}})

    def _auth_of_route(self, d: Decision) -> AuthInfo:
        if d.auth is not None:
            return d.auth
        if d.code is not None:
            raise _error(d.code, d.detail)
        raise McpAuthError(Code.INTERNAL, f"the router answered {d.action} {d.status} to a verification")

    def _custom_claims_sync(self, tb: bytes) -> Mapping[str, Any]:
        assert self.verify_token_fn is not None
        try:
            got = self.verify_token_fn(tb.decode("utf-8", errors="surrogateescape"))
        except Exception as exc:
            raise _custom_rejection(exc) from None
        if inspect.isawaitable(got):
            close = getattr(got, "close", None)
            if close is not None:
                close()
            raise TypeError("verify_token is async: use verify_async()")
        return _unwrap_claims(got)

    def map_claims(self, claims: Mapping[str, Any], token: str | bytes | None = None) -> AuthInfo:
        """Maps claims that the host verified itself to an AuthInfo, with the provider's
        mapping, claim map and required scopes applied (``mcpauth_map_claims``)."""
        tb = _token_bytes(token) if token is not None else None
        rc, auth, detail = self._map_raw(claims, tb)
        if rc != 0:
            raise _error(rc, detail)
        return self._auth_from_json(auth)

    # ---- HTTP surface -----------------------------------------------------------------

    def handle_request(self, request: Mapping[str, Any], *, nonblock: bool = False) -> Decision:
        """Runs the C router for one HTTP request (see mcpauth_handle_request):
        ``{"method","path","query","headers":{lower-case names},"body","mcpMethod"}``.

        With ``nonblock``, raises :class:`AuthError` with code WOULD_BLOCK when the decision
        needs network I/O."""
        data = _json_bytes(dict(request))
        rc, out = self._request_raw(data, _ffi.REQUEST_NONBLOCK if nonblock else 0)
        if rc != 0:
            raise _error(rc, None)
        return self._decision(out)

    async def handle_request_async(self, request: Mapping[str, Any]) -> Decision:
        """:meth:`handle_request` without blocking the event loop (non-blocking first, then a
        worker thread only when network I/O is needed)."""
        data = _json_bytes(dict(request))
        rc, out = self._request_raw(data, _ffi.REQUEST_NONBLOCK)
        if rc == Code.WOULD_BLOCK:
            rc, out = await run_blocking(self._request_raw, data, 0)
        if rc != 0:
            raise _error(rc, None)
        return self._decision(out)

    # ---- the router, second form (mcpauth_route / mcpauth_route_complete) -------------

    def route(self, request: Mapping[str, Any], *, with_token: bool = True) -> Decision:
        """One step of the core's router (``mcpauth_route``): ``pass``, ``respond``,
        ``need_body`` (call again with ``"body"``, or ``"bodyTruncated": True``) or
        ``host_verify`` (verify ``decision.token`` with your own verifier, then
        :meth:`route_complete`). Blocks when keys must be fetched."""
        return self._route_decision(*self._route_raw(_json_bytes(dict(request)), self._route_flags(with_token)))

    async def route_async(self, request: Mapping[str, Any] | bytes, *, with_token: bool = True) -> Decision:
        """:meth:`route` without blocking the event loop (non-blocking first, a worker thread
        only when the core needs network I/O)."""
        data = request if isinstance(request, bytes) else _json_bytes(dict(request))
        flags = self._route_flags(with_token)
        rc, out, detail = self._route_raw(data, flags | _ffi.ROUTE_NONBLOCK)
        if rc == Code.WOULD_BLOCK:
            rc, out, detail = await run_blocking(self._route_raw, data, flags)
        return self._route_decision(rc, out, detail)

    def route_complete(self, request: Mapping[str, Any], result: Mapping[str, Any], *,
                       with_token: bool = True) -> Decision:
        """Completes a ``host_verify`` decision with the host verifier's answer
        (``{"claims": {...}}`` or ``{"error": ..., "detail": ..., "code": ...}``): the core applies
        its claim checks (exp/nbf/iat, iss, audience, resource binding, scopes) and decides."""
        return self._route_decision(*self._route_complete_raw(
            _json_bytes(dict(request)), _json_bytes(dict(result)), self._route_flags(with_token)))

    async def route_complete_async(self, request: Mapping[str, Any] | bytes, result: Mapping[str, Any], *,
                                   with_token: bool = True) -> Decision:
        data = request if isinstance(request, bytes) else _json_bytes(dict(request))
        res = _json_bytes(dict(result))
        flags = self._route_flags(with_token)
        rc, out, detail = self._route_complete_raw(data, res, flags | _ffi.ROUTE_NONBLOCK)
        if rc == Code.WOULD_BLOCK:
            rc, out, detail = await run_blocking(self._route_complete_raw, data, res, flags)
        return self._route_decision(rc, out, detail)

    @staticmethod
    def _route_flags(with_token: bool) -> int:
        return _ffi.ROUTE_WITH_TOKEN if with_token else 0

    def _route_decision(self, rc: int, text: bytes | None, detail: str | None) -> Decision:
        if rc != 0:
            raise _error(rc, detail)
        if text is None:  # pragma: no cover - the core always answers with rc 0
            raise McpAuthError(Code.INTERNAL, "mcpauth_route gave no decision")
        if self.get_user_info is None:
            hit = self._decisions.get(text, text)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
        d = self._decision(text, detail)
        # pass decisions are memoized by their text (a repeated token gives the very same
        # text); other decisions carry per-request data (tokens, challenges)
        if d.action == "pass" and self.get_user_info is None:
            self._decisions.put(text, text, d)
        return d

    async def host_verify_result(self, token: str) -> dict[str, Any]:
        """Runs the host's ``verify_token`` on ``token`` (sync or async) and returns its answer in
        the form :meth:`route_complete` takes. The detail of a refusal never contains the token."""
        fn = self.verify_token_fn
        if fn is None:
            return {"error": "invalid_token", "detail": "no verify_token on this provider",
                    "code": int(Code.TOKEN_INACTIVE)}
        try:
            got = fn(token)
            if inspect.isawaitable(got):
                got = await got
            return {"claims": dict(_unwrap_claims(got))}
        except Exception as exc:  # the host refused the token (or failed)
            return _refusal(exc, token)

    def host_verify_result_sync(self, token: str) -> dict[str, Any]:
        fn = self.verify_token_fn
        if fn is None:
            return {"error": "invalid_token", "detail": "no verify_token on this provider",
                    "code": int(Code.TOKEN_INACTIVE)}
        try:
            got = fn(token)
            if inspect.isawaitable(got):
                close = getattr(got, "close", None)
                if close is not None:
                    close()
                raise TypeError("verify_token is async: use verify_async()")
            return {"claims": dict(_unwrap_claims(got))}
        except TypeError as exc:
            if "verify_token is async" in str(exc):
                raise
            return _refusal(exc, token)
        except Exception as exc:
            return _refusal(exc, token)

    def _decision(self, text: str | bytes | None, detail: str | None = None) -> Decision:
        d = _loads(text)
        action = str(d.get("action", ""))
        headers = [(str(h[0]), str(h[1])) for h in d.get("headers", []) or [] if isinstance(h, list) and len(h) == 2]
        auth = self._auth_from_obj(d["auth"]) if isinstance(d.get("auth"), Mapping) else None
        code = d.get("code")
        return Decision(
            action=action,
            status=int(d.get("status", 200)),
            headers=headers,
            body=str(d.get("body", "") or ""),
            auth=auth,
            raw=d,
            code=int(code) if type(code) is int else None,
            detail=detail,
            max_bytes=int(d["maxBytes"]) if type(d.get("maxBytes")) is int else None,
            token=str(d["token"]) if isinstance(d.get("token"), str) else None,
        )

    def protected_resource_metadata(self) -> dict[str, Any]:
        """The RFC 9728 protected resource metadata document of the MCP resource."""
        return self._call_json(lambda h, out: lib.mcpauth_protected_resource_metadata(h, out))

    def authorization_server_metadata(self, *, nonblock: bool = False) -> dict[str, Any]:
        """RFC 8414 authorization server metadata (mirrored from upstream or synthesized)."""
        flags = _ffi.REQUEST_NONBLOCK if nonblock else 0
        return self._call_json(lambda h, out: lib.mcpauth_authorization_server_metadata(h, flags, out))

    def challenge(self, code: int = Code.TOKEN_MISSING, *, scope: str | None = None,
                  description: str | None = None) -> str:
        """The ``WWW-Authenticate`` value for a failure ``code``."""
        out = out_ptr()
        sc = scope.encode() if scope is not None else None
        ds = description.encode() if description is not None else None
        eng = self._eng()
        try:
            rc = lib.mcpauth_challenge(eng.ptr, int(code), sc, ds, byref(out))
            text = take_string(out)
        finally:
            _ffi.free(out)
        if rc != 0:
            raise _error(rc, None)
        return text or ""


def _error(rc: int, detail: str | None) -> McpAuthError:
    if rc == Code.CONFIG:
        return ConfigError(rc, detail)
    if rc in (Code.INVALID_ARGUMENT, Code.NOMEM, Code.INTERNAL):
        return McpAuthError(rc, detail)
    return AuthError(rc, detail)


_HOST_CODES = frozenset(range(11, 23)) | {30, 41, 42}


def _refusal(exc: Exception, token: str) -> dict[str, Any]:
    """A host verifier's exception as mcpauth_route_complete's refusal (no token in it)."""
    code = int(exc.code) if isinstance(exc, AuthError) and int(exc.code) in _HOST_CODES else int(Code.TOKEN_INACTIVE)
    text = exc.detail if isinstance(exc, AuthError) else f"verify_token rejected the token ({type(exc).__name__}: {exc})"
    if token:
        text = text.replace(token, "<token>")
    return {"error": "invalid_token", "detail": text[:1000], "code": code}


def _custom_rejection(exc: Exception) -> AuthError:
    if isinstance(exc, AuthError):
        return exc
    return AuthError(Code.BAD_SIGNATURE, f"verify_token rejected the token ({type(exc).__name__}: {exc})")
