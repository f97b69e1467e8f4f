#!/usr/bin/env python3
"""Writes vectors.json: configurations, tokens and the outcome every binding must report.

The expected outcomes are written here by hand from the contract (docs/api.md, the attack
catalogue); the tokens are signed independently of libmcpauth, with the Python `cryptography`
package and the test keys in keys/. Tokens expire in 2100, except the one that must be expired.
Run it only to change the vectors (the output is committed):  python3 generate.py
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

HERE = Path(__file__).resolve().parent
ISS = "https://issuer.conformance.test"
AUD = "https://mcp.conformance.test/mcp"
KC_ISS = "https://kc.conformance.test/realms/demo"
FAR = 4102444800  # 2100-01-01
HS_SECRET = "conformance-hmac-secret-0123456789abcdef"


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n: int, size: int | None = None) -> str:
    size = size or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(size, "big"))


def load(name: str):
    return serialization.load_pem_private_key((HERE / "keys" / name).read_bytes(), None)


RSA = load("rs256.pem")
EC = load("es256.pem")
RSA_PUB_PEM = RSA.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

rn = RSA.public_key().public_numbers()
RSA_JWK = {"kty": "RSA", "kid": "rs-1", "alg": "RS256", "use": "sig", "n": uint(rn.n), "e": uint(rn.e)}
en = EC.public_key().public_numbers()
EC_JWK = {"kty": "EC", "kid": "es-1", "alg": "ES256", "use": "sig", "crv": "P-256",
          "x": uint(en.x, 32), "y": uint(en.y, 32)}


def seg(obj: object | str) -> str:
    raw = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return b64u(raw.encode())


def sign(header: dict | str, payload: dict | str, alg: str | None = None, key: bytes | None = None) -> str:
    h = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    alg = alg or json.loads(h)["alg"]
    inp = (seg(h) + "." + seg(payload)).encode()
    if alg == "RS256":
        sig = RSA.sign(inp, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = utils.decode_dss_signature(EC.sign(inp, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "HS256":
        sig = hmac.new(key or HS_SECRET.encode(), inp, hashlib.sha256).digest()
    else:
        sig = b""
    return inp.decode() + "." + b64u(sig)


def claims(**over: object) -> dict:
    c: dict = {"iss": ISS, "aud": AUD, "sub": "user-1", "email": "ada@example.com",
               "name": "Ada Lovelace", "scope": "mcp:read", "scp": ["mcp:write"],
               "client_id": "client-1", "iat": 1700000000, "exp": FAR}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


RS = {"alg": "RS256", "typ": "JWT", "kid": "rs-1"}
configs = {
    "rs": {"provider": "jwks", "issuer": ISS, "audience": AUD, "algorithms": ["RS256"],
           "jwks": {"keys": [RSA_JWK]}},
    "rs_admin": {"provider": "jwks", "issuer": ISS, "audience": AUD, "algorithms": ["RS256"],
                 "jwks": {"keys": [RSA_JWK]}, "requiredScopes": ["admin"]},
    "keycloak": {"provider": "keycloak", "serverUrl": "https://kc.conformance.test", "realm": "demo",
                 "audience": "account", "jwks": {"keys": [EC_JWK]}},
    "hs": {"provider": "jwks", "issuer": ISS, "audience": AUD, "secret": HS_SECRET,
           "algorithms": ["HS256"]},
    "claims_map": {"provider": "jwks", "issuer": ISS, "audience": AUD, "algorithms": ["RS256"],
                   "jwks": {"keys": [RSA_JWK]},
                   "claims": {"email": "mail", "roles": "groups", "name": "profile.display"}},
}

user1 = {"userId": "user-1", "email": "ada@example.com", "name": "Ada Lovelace"}
INVALID = "invalid_token"
cases = [
    {"name": "valid RS256, scope string and scp array merged", "config": "rs",
     "token": sign(RS, claims()),
     "expect": {"valid": True, "user": user1, "scopes": ["mcp:read", "mcp:write"],
                "clientId": "client-1", "expiresAt": FAR}},
    {"name": "expired", "config": "rs", "token": sign(RS, claims(exp=1000000000)),
     "expect": {"valid": False, "code": "MCPAUTH_E_EXPIRED", "error": INVALID}},
    {"name": "not yet valid (nbf in 2099)", "config": "rs", "token": sign(RS, claims(nbf=4070908800)),
     "expect": {"valid": False, "code": "MCPAUTH_E_NOT_YET_VALID", "error": INVALID}},
    {"name": "exp missing", "config": "rs", "token": sign(RS, claims(exp=None)),
     "expect": {"valid": False, "code": "MCPAUTH_E_CLAIM_INVALID", "error": INVALID}},
    {"name": "exp as a string", "config": "rs", "token": sign(RS, claims(exp=str(FAR))),
     "expect": {"valid": False, "code": "MCPAUTH_E_CLAIM_INVALID", "error": INVALID}},
    {"name": "token for another resource", "config": "rs",
     "token": sign(RS, claims(aud="https://other.example/mcp")),
     "expect": {"valid": False, "code": "MCPAUTH_E_AUDIENCE_MISMATCH", "error": INVALID}},
    {"name": "issuer with a suffix (no prefix match)", "config": "rs",
     "token": sign(RS, claims(iss=ISS + ".evil")),
     "expect": {"valid": False, "code": "MCPAUTH_E_ISSUER_MISMATCH", "error": INVALID}},
    {"name": "payload changed after signing", "config": "rs",
     "token": (lambda t: t.split(".")[0] + "." + seg(claims(sub="admin")) + "." + t.split(".")[2])(
         sign(RS, claims())),
     "expect": {"valid": False, "code": "MCPAUTH_E_BAD_SIGNATURE", "error": INVALID}},
    {"name": "alg none", "config": "rs",
     "token": seg({"alg": "none", "typ": "JWT"}) + "." + seg(claims()) + ".",
     "expect": {"valid": False, "code": "MCPAUTH_E_ALG_NOT_ALLOWED", "error": INVALID}},
    {"name": "HS256 MACed with the RSA public key (algorithm confusion)", "config": "rs",
     "token": sign({"alg": "HS256", "typ": "JWT", "kid": "rs-1"}, claims(), key=RSA_PUB_PEM.encode()),
     "expect": {"valid": False, "code": "MCPAUTH_E_ALG_NOT_ALLOWED", "error": INVALID}},
    {"name": "unknown kid", "config": "rs", "token": sign({**RS, "kid": "../../etc/passwd"}, claims()),
     "expect": {"valid": False, "code": "MCPAUTH_E_KEY_NOT_FOUND", "error": INVALID}},
    {"name": "crit header", "config": "rs", "token": sign({**RS, "crit": ["exp"]}, claims()),
     "expect": {"valid": False, "code": "MCPAUTH_E_TOKEN_HEADER", "error": INVALID}},
    {"name": "embedded jwk header", "config": "rs", "token": sign({**RS, "jwk": RSA_JWK}, claims()),
     "expect": {"valid": False, "code": "MCPAUTH_E_TOKEN_HEADER", "error": INVALID}},
    {"name": "duplicate key in the payload", "config": "rs",
     "token": sign(RS, '{"iss":"%s","aud":"%s","sub":"user-1","sub":"admin","exp":%d}' % (ISS, AUD, FAR)),
     "expect": {"valid": False, "code": "MCPAUTH_E_TOKEN_MALFORMED", "error": INVALID}},
    {"name": "two segments", "config": "rs", "token": "eyJhbGciOiJSUzI1NiJ9.e30",
     "expect": {"valid": False, "code": "MCPAUTH_E_TOKEN_MALFORMED", "error": INVALID}},
    {"name": "padded base64url", "config": "rs",
     "token": (lambda t: t.split(".")[0] + "=." + ".".join(t.split(".")[1:]))(sign(RS, claims())),
     "expect": {"valid": False, "code": "MCPAUTH_E_TOKEN_MALFORMED", "error": INVALID}},
    {"name": "required scope missing", "config": "rs_admin", "token": sign(RS, claims()),
     "expect": {"valid": False, "code": "MCPAUTH_E_INSUFFICIENT_SCOPE", "error": "insufficient_scope"}},
    {"name": "required scope present", "config": "rs_admin",
     "token": sign(RS, claims(scope="mcp:read admin")),
     "expect": {"valid": True, "user": user1, "scopes": ["mcp:read", "admin", "mcp:write"]}},
    {"name": "keycloak ES256: realm roles and resource:role permissions", "config": "keycloak",
     "token": sign({"alg": "ES256", "typ": "JWT", "kid": "es-1"}, {
         "iss": KC_ISS, "aud": "account", "sub": "kc-user", "preferred_username": "ada",
         "email": "ada@example.com",
         "exp": FAR, "scope": "openid profile",
         "realm_access": {"roles": ["admin", "user"]},
         "resource_access": {"billing": {"roles": ["read"]}}}),
     "expect": {"valid": True, "user": {"userId": "kc-user", "username": "ada", "email": "ada@example.com",
                                        "roles": ["admin", "user"], "permissions": ["billing:read"]},
                "scopes": ["openid", "profile"]}},
    {"name": "HS256 with the configured secret", "config": "hs",
     "token": sign({"alg": "HS256", "typ": "JWT"}, claims()),
     "expect": {"valid": True, "user": user1}},
    {"name": "HS256 with another secret", "config": "hs",
     "token": sign({"alg": "HS256", "typ": "JWT"}, claims(), key=b"another-secret-0123456789abcdef-xyz"),
     "expect": {"valid": False, "code": "MCPAUTH_E_BAD_SIGNATURE", "error": INVALID}},
    {"name": "declarative claim map with a dotted path", "config": "claims_map",
     "token": sign(RS, {"iss": ISS, "aud": AUD, "sub": "u9", "mail": "nine@example.com", "groups": ["staff"],
                        "profile": {"display": "Nine"}, "exp": FAR}),
     "expect": {"valid": True, "user": {"userId": "u9", "email": "nine@example.com", "name": "Nine",
                                        "roles": ["staff"]}}},
]

out = {"comment": "Generated by generate.py; every binding runs these and must agree.",
       "configs": configs, "cases": cases}
(HERE / "vectors.json").write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(cases)} cases, {len(configs)} configs")
