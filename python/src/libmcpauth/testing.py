"""Helpers for tests and development: mint tokens with the C core (``mcpauth_mint``, through
libjwt), decode without verifying, and generate key pairs with their public JWKs.

Never use these with untrusted input in production. Key generation needs the
``cryptography`` package.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from ctypes import byref
from dataclasses import dataclass, field
from typing import Any

from . import _ffi
from ._ffi import lib, out_ptr, take_string
from .errors import McpAuthError

__all__ = ["mint", "decode_unverified", "TestKey", "jwks_of", "claims"]


def mint(
    claims: Mapping[str, Any],
    *,
    key: str | bytes,
    alg: str = "RS256",
    kid: str | None = None,
    header: Mapping[str, Any] | None = None,
) -> str:
    """Signs ``claims`` into a compact JWS with the C core (HS*, RS*, ES*). ``key`` is a PEM
    private key or an HMAC secret."""
    req: dict[str, Any] = {
        "alg": alg,
        "key": key.decode() if isinstance(key, bytes) else key,
        "claims": dict(claims),
    }
    if kid is not None:
        req["kid"] = kid
    if header:
        req["header"] = dict(header)
    data = json.dumps(req).encode()
    tok = out_ptr()
    detail = out_ptr()
    try:
        rc = lib.mcpauth_mint(data, len(data), byref(tok), byref(detail))
        text = take_string(tok)
        msg = take_string(detail)
    finally:
        _ffi.free(tok)
        _ffi.free(detail)
    if rc != 0 or text is None:
        raise McpAuthError(rc, msg)
    return text


def decode_unverified(token: str | bytes) -> dict[str, Any]:
    """``{"verified": false, "header": {...}, "payload": {...}}`` WITHOUT any verification."""
    tb = token.encode() if isinstance(token, str) else token
    out = out_ptr()
    detail = out_ptr()
    try:
        rc = lib.mcpauth_decode_unverified(tb, len(tb), byref(out), byref(detail))
        text = take_string(out)
        msg = take_string(detail)
    finally:
        _ffi.free(out)
        _ffi.free(detail)
    if rc != 0:
        raise McpAuthError(rc, msg)
    result: dict[str, Any] = json.loads(text or "{}")
    return result


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64_fixed(n: int, size: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()


@dataclass
class TestKey:
    """A signing key pair: ``private_pem`` for :func:`mint`, ``public_jwk`` for a JWKS."""

    __test__ = False  # not a pytest test class

    alg: str
    kid: str
    private_pem: str
    public_pem: str
    public_jwk: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def rsa(cls, kid: str = "rsa-1", alg: str = "RS256", bits: int = 2048) -> TestKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pub = k.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": alg, "n": _b64(pub.n), "e": _b64(pub.e)}
        return cls(alg, kid, _pem_private(k, serialization), _pem_public(k, serialization), jwk)

    @classmethod
    def ec(cls, kid: str = "ec-1", alg: str = "ES256") -> TestKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        curve, crv, size = {
            "ES256": (ec.SECP256R1(), "P-256", 32),
            "ES384": (ec.SECP384R1(), "P-384", 48),
            "ES512": (ec.SECP521R1(), "P-521", 66),
        }[alg]
        k = ec.generate_private_key(curve)
        pub = k.public_key().public_numbers()
        jwk = {"kty": "EC", "kid": kid, "use": "sig", "alg": alg, "crv": crv,
               "x": _b64_fixed(pub.x, size), "y": _b64_fixed(pub.y, size)}
        return cls(alg, kid, _pem_private(k, serialization), _pem_public(k, serialization), jwk)

    def mint(self, claims: Mapping[str, Any], *, header: Mapping[str, Any] | None = None,
             kid: str | None = None) -> str:
        """Signs ``claims`` with this key (``kid`` in the header unless overridden)."""
        return mint(claims, key=self.private_pem, alg=self.alg, kid=kid or self.kid, header=header)


def _pem_private(k: Any, serialization: Any) -> str:
    return str(k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode())


def _pem_public(k: Any, serialization: Any) -> str:
    return str(k.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode())


def jwks_of(*keys: TestKey) -> dict[str, Any]:
    """A JWK set document with the public keys."""
    return {"keys": [dict(k.public_jwk) for k in keys]}


def claims(
    *,
    issuer: str,
    audience: str | list[str] | None = None,
    subject: str = "user-1",
    scope: str | None = None,
    ttl: int = 300,
    now: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A typical access-token claims set (iat/exp around now)."""
    t = int(time.time()) if now is None else now
    c: dict[str, Any] = {"iss": issuer, "sub": subject, "iat": t, "exp": t + ttl}
    if audience is not None:
        c["aud"] = audience
    if scope is not None:
        c["scope"] = scope
    c.update(extra)
    return c
