"""The data the binding hands to Python code: UserInfo, AuthInfo (the seed's ``ctx.auth``),
VerifyResult and the router's Decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar

from .errors import AuthError

__all__ = ["UserInfo", "UserExtras", "AuthInfo", "VerifyResult", "Decision"]

_T = TypeVar("_T")


class UserExtras(TypedDict, total=False):
    """The provider-specific user fields the core's presets map (the seed's names). Each key is
    present only for the providers and tokens that have it: read them with
    ``user.extras.get("organization_id")``. Fields of a custom ``get_user_info`` are in the same
    mapping (read them with ``user.get("name")``)."""

    scopes: list[str]  # every preset but Supabase: the token's scopes again
    email_verified: bool  # Auth0, Keycloak, WorkOS, Clerk, Better Auth
    sid: str  # WorkOS, Better Auth: the session id
    azp: str  # Better Auth: the authorized party
    organization_id: str  # WorkOS: the token's org_id
    org_id: str  # Clerk
    org_role: str  # Clerk
    org_slug: str  # Clerk
    aal: str  # Supabase: the authenticator assurance level
    amr: list[Any]  # Supabase: authentication methods
    session_id: str  # Supabase

# C JSON key (camelCase, as in the seed) -> dataclass field
_USER_FIELDS: dict[str, str] = {
    "userId": "user_id",
    "email": "email",
    "name": "name",
    "username": "username",
    "nickname": "nickname",
    "picture": "picture",
    "roles": "roles",
    "permissions": "permissions",
}
_USER_FIELDS_REV = {v: k for k, v in _USER_FIELDS.items()}


_set = object.__setattr__


def _new(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of the frozen dataclass ``cls`` with ``fields`` (every field, in order) as
    its attributes, without the generated __init__ (which sets each field through
    ``object.__setattr__``: most of the cost of decoding an answer). Only for values already
    converted the way __init__ would leave them."""
    obj = cls.__new__(cls)
    _set(obj, "__dict__", fields)
    return obj


def _str_or_none(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else str(v)


def _str_list(v: Any) -> list[str]:
    if type(v) is list:  # the core's lists: kept as they are when every item is a str
        for x in v:
            if type(x) is not str:
                return [x for x in v if isinstance(x, str)]
        return v
    if v is None:
        return []
    if isinstance(v, str):
        return v.split()
    if isinstance(v, (list, tuple)):
        return [x for x in v if isinstance(x, str)]
    return []


@dataclass(frozen=True)
class UserInfo:
    """The authenticated user (the seed's ``ctx.auth.user``).

    Provider-specific fields (WorkOS ``organization_id``, Supabase ``aal``, ...) are in
    ``extras``, a typed mapping (:class:`UserExtras`): ``user.extras.get("organization_id")``.
    There are no dynamic attributes, so a type checker catches ``user.emial``. The repr leaves
    out personal data (email, names, picture, extras' values).
    """

    user_id: str
    email: str | None = None
    name: str | None = None
    username: str | None = None
    nickname: str | None = None
    picture: str | None = None
    roles: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    extras: UserExtras = field(default_factory=lambda: UserExtras())

    def __repr__(self) -> str:
        return (f"UserInfo(user_id={self.user_id!r}, roles={self.roles!r}, permissions={self.permissions!r}, "
                f"extras=<{', '.join(sorted(self.extras)) or 'none'}>)")

    def get(self, key: str, default: Any = None) -> Any:
        """A field by its snake_case or camelCase name, or an extra, or ``default``."""
        attr = _USER_FIELDS.get(key, key)
        if attr in _USER_FIELDS_REV:
            v = getattr(self, attr)
            return default if v is None else v
        extras: Mapping[str, Any] = self.extras
        return extras.get(key, default)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> UserInfo:
        """Builds a UserInfo from a mapping with camelCase (``userId``) or snake_case
        (``user_id``) keys; unknown keys become extras."""
        kw: dict[str, Any] = {"user_id": None, "email": None, "name": None, "username": None, "nickname": None,
                              "picture": None, "roles": None, "permissions": None, "extras": None}
        extras: dict[str, Any] = {}
        for k, v in data.items():
            attr = _USER_FIELDS.get(k)
            if attr is None and k in _USER_FIELDS_REV:
                attr = k
            if attr is None:
                if k == "extras" and isinstance(v, Mapping):
                    extras.update(v)
                else:
                    extras[k] = v
            elif attr == "roles" or attr == "permissions":
                kw[attr] = _str_list(v)
            else:
                kw[attr] = v if v is None or type(v) is str else str(v)
        if not kw["user_id"]:
            raise ValueError("UserInfo needs a non-empty userId / user_id")
        if kw["roles"] is None:
            kw["roles"] = []
        if kw["permissions"] is None:
            kw["permissions"] = []
        kw["extras"] = extras
        return _new(cls, kw)

    def to_dict(self, *, camel: bool = True) -> dict[str, Any]:
        """The user as a JSON-ready dict (camelCase like the seed, or snake_case)."""
        out: dict[str, Any] = {}
        for attr, ckey in _USER_FIELDS_REV.items():
            v = getattr(self, attr)
            if v is None:
                continue
            out[ckey if camel else attr] = list(v) if isinstance(v, list) else v
        for k, v in self.extras.items():
            out.setdefault(k, v)
        return out


@dataclass(frozen=True)
class AuthInfo:
    """The auth context of a request (the seed's ``ctx.auth``): the user, the raw bearer token,
    the scopes (from the ``scope`` claim), permissions, the verified payload and the RFC 8707
    resource the token was issued for. The repr leaves out the token and the payload."""

    user: UserInfo
    access_token: str | None = field(default=None, repr=False)
    scopes: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    payload: Mapping[str, Any] = field(default_factory=dict, repr=False)
    client_id: str | None = None
    expires_at: int | None = None
    resource: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, user: UserInfo | None = None) -> AuthInfo:
        """From the C auth result object (``{"user":{...},"accessToken",...}``)."""
        if user is None:
            u = data.get("user")
            if not isinstance(u, dict) and not isinstance(u, Mapping):
                raise ValueError("auth result without a user object")
            user = UserInfo.from_mapping(u)
        exp = data.get("expiresAt")
        payload = data.get("payload")
        if type(payload) is not dict and not isinstance(payload, Mapping):
            payload = {}
        # _str_or_none inlined: this runs once per verified token
        tok = data.get("accessToken")
        cid = data.get("clientId")
        res = data.get("resource")
        return _new(cls, {
            "user": user,
            "access_token": tok if tok is None or type(tok) is str else str(tok),
            "scopes": _str_list(data.get("scopes")),
            "permissions": _str_list(data.get("permissions")),
            "payload": payload,
            "client_id": (cid if cid is None or type(cid) is str else str(cid)) or None,
            "expires_at": int(exp) if type(exp) is int or type(exp) is float else None,
            "resource": res if res is None or type(res) is str else str(res),
        })

    def has_scope(self, *required: str) -> bool:
        """True when every scope in ``required`` is granted (as a scope or a permission)."""
        granted = set(self.scopes) | set(self.permissions)
        return all(s in granted for s in required)

    def has_any_scope(self, *required: str) -> bool:
        """True when at least one scope in ``required`` is granted."""
        granted = set(self.scopes) | set(self.permissions)
        return any(s in granted for s in required)

    def to_dict(self, *, camel: bool = True, include_token: bool = False) -> dict[str, Any]:
        """JSON-ready form; the bearer token is left out unless ``include_token``."""
        def k(c: str, s: str) -> str:
            return c if camel else s

        out: dict[str, Any] = {
            "user": self.user.to_dict(camel=camel),
            "scopes": list(self.scopes),
            "permissions": list(self.permissions),
            "payload": dict(self.payload),
        }
        if include_token and self.access_token is not None:
            out[k("accessToken", "access_token")] = self.access_token
        if self.client_id is not None:
            out[k("clientId", "client_id")] = self.client_id
        if self.expires_at is not None:
            out[k("expiresAt", "expires_at")] = self.expires_at
        if self.resource is not None:
            out["resource"] = self.resource
        return out


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a verification: ``auth`` on success, ``error`` otherwise.

    Truthy when the token was accepted. Never raised: invalid tokens are results.
    """

    auth: AuthInfo | None = None
    error: AuthError | None = None

    @property
    def ok(self) -> bool:
        return self.auth is not None

    def __bool__(self) -> bool:
        return self.auth is not None


@dataclass(frozen=True)
class Decision:
    """What the router decided for one HTTP request.

    ``action`` is ``"pass"`` (hand the request to the application; ``auth`` is set on a
    protected route with a good token) or ``"respond"`` (send ``status``, ``headers`` and
    ``body`` as they are; ``code`` and ``detail`` say why for an auth failure). From
    :meth:`OAuthProvider.route` also ``"need_body"`` (read at most ``max_bytes``, route again)
    and ``"host_verify"`` (verify ``token`` yourself, then ``route_complete``).
    """

    action: str
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    auth: AuthInfo | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    code: int | None = None
    detail: str | None = None
    max_bytes: int | None = None
    token: str | None = field(default=None, repr=False)

    @property
    def is_pass(self) -> bool:
        return self.action == "pass"
