"""Error codes and exceptions of the binding (codes mirror ``enum mcpauth_code``)."""

from __future__ import annotations

import enum

from ._ffi import lib

__all__ = [
    "Code",
    "McpAuthError",
    "ConfigError",
    "AuthError",
    "strerror",
    "code_name",
    "oauth_error",
    "http_status",
]


class Code(enum.IntEnum):
    """The stable numbered codes of libmcpauth (never renumbered)."""

    OK = 0
    INVALID_ARGUMENT = 1
    NOMEM = 2
    CONFIG = 3
    INTERNAL = 4
    TOKEN_MISSING = 10
    TOKEN_TOO_LARGE = 11
    TOKEN_MALFORMED = 12
    TOKEN_HEADER = 13
    ALG_NOT_ALLOWED = 14
    KEY_NOT_FOUND = 15
    BAD_SIGNATURE = 16
    EXPIRED = 17
    NOT_YET_VALID = 18
    ISSUER_MISMATCH = 19
    AUDIENCE_MISMATCH = 20
    CLAIM_INVALID = 21
    TOKEN_INACTIVE = 22
    MALFORMED_HEADER = 23
    INSUFFICIENT_SCOPE = 30
    WOULD_BLOCK = 40
    KEYS_UNAVAILABLE = 41
    UPSTREAM = 42
    TOKEN_IN_QUERY = 43


def _code(code: int) -> Code | int:
    try:
        return Code(code)
    except ValueError:
        return code


def strerror(code: int) -> str:
    """A static English description of ``code``."""
    s = lib.mcpauth_strerror(int(code))
    return s.decode() if s else "unknown error code"


def code_name(code: int) -> str:
    """The symbolic C name of ``code``, e.g. ``MCPAUTH_E_EXPIRED``."""
    s = lib.mcpauth_code_name(int(code))
    return s.decode() if s else "UNKNOWN"


def oauth_error(code: int) -> str | None:
    """The OAuth error string for ``code`` (``invalid_token``, ``insufficient_scope`` ...)."""
    s = lib.mcpauth_oauth_error(int(code))
    return s.decode() if s else None


def http_status(code: int) -> int:
    """The HTTP status a server answers with for ``code``."""
    return int(lib.mcpauth_http_status(int(code)))


class McpAuthError(Exception):
    """Base class: a libmcpauth failure with its stable ``code`` and a log-only ``detail``."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        self.code: Code | int = _code(code)
        self.detail: str = detail or strerror(code)
        super().__init__(self.detail)

    @property
    def code_name(self) -> str:
        return code_name(self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code_name}, {self.detail!r})"


class ConfigError(McpAuthError, ValueError):
    """The configuration is wrong. The message names the option (and its env variable).

    Raised by the provider factories at construction time, like the seed's factories that throw
    when a required value is missing.
    """

    def __init__(self, code: int = Code.CONFIG, detail: str | None = None) -> None:
        super().__init__(code, detail)


class AuthError(McpAuthError):
    """A request is not authorized: the token is missing, invalid, lacks a scope, or the keys
    could not be obtained.

    ``oauth_error`` and ``http_status`` are what a server answers (``invalid_token``/401,
    ``insufficient_scope``/403, ``temporarily_unavailable``/503 ...). ``detail`` is for logs
    only: clients should see ``oauth_error`` alone.
    """

    @property
    def oauth_error(self) -> str | None:
        return oauth_error(self.code)

    @property
    def http_status(self) -> int:
        return http_status(self.code)
