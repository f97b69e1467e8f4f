"""Verification through the binding: results, errors as values, async, custom hooks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import libmcpauth
from libmcpauth import AuthError, AuthInfo, Code, UserInfo
from libmcpauth.testing import TestKey, claims, decode_unverified, jwks_of, mint

from .conftest import BASE_URL, ISSUER, RESOURCE, JwksServer, good_claims


def test_good_token_gives_auth_info(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    tok = rsa_key.mint(good_claims(client_id="client-7", picture="https://img/ada.png"))
    auth = provider.verify(tok)
    assert isinstance(auth, AuthInfo)
    assert auth.user.user_id == "user-42"
    assert auth.user.email == "ada@example.com"
    assert auth.user.name == "Ada Lovelace"
    assert auth.user.picture == "https://img/ada.png"
    assert auth.scopes == ["mcp:read", "mcp:write"]
    assert auth.access_token == tok
    assert auth.payload["sub"] == "user-42"
    assert auth.client_id == "client-7"
    assert auth.expires_at == auth.payload["exp"]
    assert auth.resource == RESOURCE
    assert auth.has_scope("mcp:read")
    assert not auth.has_scope("mcp:read", "admin")
    assert auth.has_any_scope("admin", "mcp:write")
    assert tok not in repr(auth)  # the bearer token never shows in reprs / logs


def test_es256_token(provider: libmcpauth.OAuthProvider, ec_key: TestKey) -> None:
    auth = provider.verify(ec_key.mint(good_claims()))
    assert auth.user.user_id == "user-42"


def test_bytes_token(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    assert provider.verify(rsa_key.mint(good_claims()).encode()).user.user_id == "user-42"


@pytest.mark.parametrize(
    "make,code",
    [
        (lambda k: k.mint(good_claims(ttl=-600)), Code.EXPIRED),
        (lambda k: k.mint(good_claims(now=int(time.time()) + 3600)), Code.NOT_YET_VALID),
        (lambda k: k.mint(good_claims(issuer="https://evil.example.com")), Code.ISSUER_MISMATCH),
        (lambda k: k.mint(good_claims(audience="https://other.example.com/mcp")), Code.AUDIENCE_MISMATCH),
        (lambda k: k.mint(good_claims(), kid="unknown-kid"), Code.KEY_NOT_FOUND),
        (lambda k: "not-a-jwt", Code.TOKEN_MALFORMED),
        (lambda k: "", Code.TOKEN_MISSING),
    ],
    ids=["expired", "nbf-future", "issuer", "audience", "kid", "malformed", "empty"],
)
def test_rejections_are_results(provider: libmcpauth.OAuthProvider, rsa_key: TestKey, make: Any, code: Code) -> None:
    tok = make(rsa_key)
    with pytest.raises(AuthError) as ei:
        provider.verify(tok)
    assert ei.value.code == code, ei.value
    assert ei.value.http_status == 401
    if code == Code.TOKEN_MISSING:  # RFC 6750 3.1: no credentials, no error code
        assert ei.value.oauth_error is None
    else:
        assert ei.value.oauth_error in ("invalid_token", "invalid_request")
    res = provider.try_verify(tok)
    assert not res and not res.ok and res.auth is None
    assert res.error is not None and res.error.code == code


def test_bad_signature(provider: libmcpauth.OAuthProvider, other_key: TestKey) -> None:
    with pytest.raises(AuthError) as ei:
        provider.verify(other_key.mint(good_claims()))
    assert ei.value.code == Code.BAD_SIGNATURE
    assert ei.value.oauth_error == "invalid_token"
    assert ei.value.code_name == "MCPAUTH_E_BAD_SIGNATURE"


def test_tampered_payload(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    import base64
    import json

    h, p, s = rsa_key.mint(good_claims()).split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=="))
    payload["sub"] = "admin"
    p2 = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthError) as ei:
        provider.verify(f"{h}.{p2}.{s}")
    assert ei.value.code == Code.BAD_SIGNATURE


def test_alg_none_refused(provider: libmcpauth.OAuthProvider) -> None:
    import base64
    import json

    def b64(o: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()

    tok = b64({"alg": "none", "typ": "JWT"}) + "." + b64(good_claims()) + "."
    with pytest.raises(AuthError) as ei:
        provider.verify(tok)
    assert ei.value.code in (Code.ALG_NOT_ALLOWED, Code.TOKEN_MALFORMED)


def test_hs256_with_public_key_confusion_refused(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    tok = mint(good_claims(), key=rsa_key.public_pem, alg="HS256", kid="rsa-1")
    with pytest.raises(AuthError) as ei:
        provider.verify(tok)
    assert ei.value.code in (Code.ALG_NOT_ALLOWED, Code.KEY_NOT_FOUND)


def test_required_scopes_give_403(rsa_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, required_scopes=["mcp:admin"],
                              options={"allowAnyAudience": True})
    with pytest.raises(AuthError) as ei:
        p.verify(rsa_key.mint(good_claims(audience=None)))
    assert ei.value.code == Code.INSUFFICIENT_SCOPE
    assert ei.value.http_status == 403
    assert ei.value.oauth_error == "insufficient_scope"
    assert p.verify(rsa_key.mint(good_claims(audience=None, scope="mcp:admin"))).scopes == ["mcp:admin"]


def test_hmac_secret(rsa_key: TestKey) -> None:
    secret = "k" * 48
    p = libmcpauth.jwks_verifier(secret=secret, issuer=ISSUER, options={"allowAnyAudience": True})
    tok = mint(claims(issuer=ISSUER, subject="svc"), key=secret, alg="HS256")
    assert p.verify(tok).user.user_id == "svc"
    with pytest.raises(AuthError):
        p.verify(mint(claims(issuer=ISSUER), key="z" * 48, alg="HS256"))


def test_no_cache_flag(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    tok = rsa_key.mint(good_claims())
    a = provider.verify(tok)
    b = provider.verify(tok, no_cache=True)
    assert a == b


async def test_verify_async(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    auth = await provider.verify_async(rsa_key.mint(good_claims()))
    assert auth.user.email == "ada@example.com"
    with pytest.raises(AuthError):
        await provider.verify_async("x.y.z")
    res = await provider.try_verify_async(rsa_key.mint(good_claims(ttl=-600)))
    assert res.error is not None and res.error.code == Code.EXPIRED


async def test_verify_async_remote_jwks_would_block(jwks_server: JwksServer, rsa_key: TestKey) -> None:
    """First verification needs the JWKS: the non-blocking call says WOULD_BLOCK and the
    binding finishes in a worker thread; the second is served from the cache in-loop."""
    p = libmcpauth.jwks_verifier(jwks_url=jwks_server.url, issuer=ISSUER, options={"allowAnyAudience": True})
    tok = rsa_key.mint(claims(issuer=ISSUER, subject="u1"))
    from libmcpauth import _ffi

    rc, _, _ = p._verify_raw(tok.encode(), _ffi.VERIFY_NONBLOCK)
    assert rc == Code.WOULD_BLOCK
    assert jwks_server.hits == 0
    auth = await p.verify_async(tok)
    assert auth.user.user_id == "u1"
    assert jwks_server.hits == 1
    tok2 = rsa_key.mint(claims(issuer=ISSUER, subject="u2"))
    rc, _, _ = p._verify_raw(tok2.encode(), _ffi.VERIFY_NONBLOCK)
    assert rc == 0
    assert (await p.verify_async(tok2)).user.user_id == "u2"
    assert jwks_server.hits == 1


def test_blocking_verify_with_remote_jwks(jwks_server: JwksServer, ec_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks_url=jwks_server.url, issuer=ISSUER, prefetch=True, options={"allowAnyAudience": True})
    assert jwks_server.hits == 1
    assert p.verify(ec_key.mint(claims(issuer=ISSUER))).user.user_id == "user-1"
    assert jwks_server.hits == 1


def test_keys_unavailable_is_503() -> None:
    p = libmcpauth.jwks_verifier(jwks_url="http://127.0.0.1:9/jwks.json", issuer=ISSUER,
                              options={"httpTimeoutMs": 500, "httpConnectTimeoutMs": 500, "allowAnyAudience": True})
    key = TestKey.ec("k")
    with pytest.raises(AuthError) as ei:
        p.verify(key.mint(claims(issuer=ISSUER)))
    assert ei.value.code == Code.KEYS_UNAVAILABLE
    assert ei.value.http_status == 503


# ---- get_user_info / custom verify_token / map_claims ------------------------------------------


def test_get_user_info_mapping(rsa_key: TestKey) -> None:
    def gui(payload: Any) -> dict[str, Any]:
        return {"userId": payload["sub"], "email": payload.get("mail"), "roles": payload.get("groups", []),
                "department": payload.get("dept")}

    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, get_user_info=gui, options={"allowAnyAudience": True})
    auth = p.verify(rsa_key.mint(claims(issuer=ISSUER, subject="u9", mail="u9@corp", groups=["a", "b"], dept="R&D")))
    assert auth.user.user_id == "u9"
    assert auth.user.email == "u9@corp"
    assert auth.user.roles == ["a", "b"]
    assert auth.user.get("department") == "R&D"
    assert auth.user.extras == {"department": "R&D"}


def test_get_user_info_returning_userinfo(rsa_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER,
                              get_user_info=lambda pl: UserInfo(user_id="fixed", name=pl.get("name")),
                              options={"allowAnyAudience": True})
    auth = p.verify(rsa_key.mint(claims(issuer=ISSUER, name="N")))
    assert auth.user == UserInfo(user_id="fixed", name="N")


def _custom(verify_token: Any, **kw: Any) -> libmcpauth.OAuthProvider:
    kw.setdefault("options", {"allowAnyAudience": True})  # the host's tokens carry no aud here
    return libmcpauth.oauth_custom_provider(issuer=ISSUER, auth_endpoint=ISSUER + "/authorize",
                                         token_endpoint=ISSUER + "/token", verify_token=verify_token, **kw)


def test_custom_verify_token_then_c_mapping() -> None:
    seen: list[str] = []

    def verify(token: str) -> dict[str, Any]:
        seen.append(token)
        if token != "opaque-good":
            raise ValueError("unknown token")
        return {"payload": {"sub": "c1", "preferred_username": "cee", "avatar_url": "https://a/p.png",
                            "roles": ["r1"], "scope": "read write", "exp": int(time.time()) + 60}}

    p = _custom(verify)
    auth = p.verify("opaque-good")
    assert seen == ["opaque-good"]
    # the C core's "Custom (default)" mapping ran on the host-verified claims
    assert auth.user.user_id == "c1"
    assert auth.user.username == "cee"
    assert auth.user.picture == "https://a/p.png"
    assert auth.user.roles == ["r1"]
    assert auth.scopes == ["read", "write"]
    assert auth.access_token == "opaque-good"
    with pytest.raises(AuthError) as ei:
        p.verify("opaque-bad")
    assert ei.value.http_status == 401
    assert "unknown token" in ei.value.detail
    # the engine is host-verified (core option hostVerifies, no key source of its own): the
    # core's own verifier refuses every token with a configuration error (fails closed)
    cfg = p.config
    assert cfg["hostVerifies"] is True
    assert "secret" not in cfg and cfg["jwksUrl"] is None
    assert p.options["hostVerifies"] is True and "secret" not in p.options
    rc, auth, detail = p._verify_raw(mint(claims(issuer=ISSUER), key="q" * 48, alg="HS256").encode(), 0)
    assert rc == Code.CONFIG and auth is None
    assert detail == ("this engine verifies no tokens itself (hostVerifies): verify in the host and call "
                      "mcpauth_map_claims")


def test_custom_verify_token_with_own_key_source_is_not_host_verified() -> None:
    p = _custom(lambda t: {"sub": "x"}, jwks_url=ISSUER + "/jwks")
    assert p.config["hostVerifies"] is False
    assert p.config["jwksUrl"] == ISSUER + "/jwks"
    assert p.verify("anything").user.user_id == "x"  # verify_token still decides


def test_host_verifies_needs_the_custom_provider() -> None:
    with pytest.raises(libmcpauth.ConfigError, match="hostVerifies"):
        libmcpauth.OAuthProvider({"issuer": ISSUER, "hostVerifies": True}, use_env=False)
    p = libmcpauth.OAuthProvider({"provider": "custom", "issuer": ISSUER, "authEndpoint": ISSUER + "/a",
                               "tokenEndpoint": ISSUER + "/t", "hostVerifies": True, "baseUrl": BASE_URL},
                              use_env=False)
    # without verify_token, verify reaches the core, which refuses: a configuration error
    with pytest.raises(libmcpauth.ConfigError, match="hostVerifies"):
        p.verify("some-token")
    # the router answers the challenge, and refuses to verify a presented token
    d = p.handle_request({"method": "POST", "path": "/mcp", "headers": {}})
    assert d.status == 401
    with pytest.raises(libmcpauth.ConfigError):
        p.handle_request({"method": "POST", "path": "/mcp", "headers": {"authorization": "Bearer abc"}})
    assert p.map_claims({"sub": "m1"}).user.user_id == "m1"


async def test_custom_async_verify_token_and_required_scopes() -> None:
    async def verify(token: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"sub": "a1", "scope": "read"}

    p = _custom(verify, required_scopes=["read"])
    auth = await p.verify_async("tok")
    assert auth.user.user_id == "a1"
    with pytest.raises(TypeError):
        p.verify("tok")  # an async verify_token needs verify_async
    p2 = _custom(verify, required_scopes=["admin"])
    with pytest.raises(AuthError) as ei:
        await p2.verify_async("tok")
    assert ei.value.code == Code.INSUFFICIENT_SCOPE


def test_map_claims_keycloak(rsa_key: TestKey) -> None:
    p = libmcpauth.oauth_keycloak_provider(server_url="https://kc.example.com", realm="r", audience="account",
                                        options={"jwks": jwks_of(rsa_key)})
    auth = p.map_claims({"sub": "k1", "preferred_username": "kuser", "email": "k@x",
                         "realm_access": {"roles": ["admin"]},
                         "resource_access": {"api": {"roles": ["read"]}}, "scope": "openid"})
    assert auth.user.user_id == "k1"
    assert auth.user.username == "kuser"
    assert auth.user.roles == ["admin"]
    assert auth.user.permissions == ["api:read"]
    assert auth.access_token is None


def test_provider_mapping_through_verify_workos(rsa_key: TestKey) -> None:
    p = libmcpauth.oauth_workos_provider(subdomain="acme.authkit.app",
                                      options={"jwks": jwks_of(rsa_key), "allowAnyAudience": True})
    auth = p.verify(rsa_key.mint(claims(issuer="https://acme.authkit.app", subject="w1", org_id="org_9",
                                        sid="s1", permissions=["p1"])))
    assert auth.user.user_id == "w1"
    assert auth.user.extras.get("organization_id") == "org_9"
    assert "org_9" not in repr(auth.user)
    assert auth.user.get("organization_id") == "org_9"
    assert auth.user.permissions == ["p1"]


def test_decode_unverified_and_mint(rsa_key: TestKey) -> None:
    tok = rsa_key.mint({"sub": "x", "iss": ISSUER}, header={"x-test": "v"})
    d = decode_unverified(tok)
    assert d["verified"] is False
    assert d["header"]["kid"] == "rsa-1"
    assert d["header"]["alg"] == "RS256"
    assert d["header"]["x-test"] == "v"
    assert d["payload"] == {"sub": "x", "iss": ISSUER}
    with pytest.raises(libmcpauth.McpAuthError):
        decode_unverified("garbage")


def test_challenge_and_metadata(provider: libmcpauth.OAuthProvider) -> None:
    www = provider.challenge()
    assert www.startswith("Bearer ")
    assert "error=" not in www  # RFC 6750 3.1: no error code without credentials
    assert f'resource_metadata="{BASE_URL}/.well-known/oauth-protected-resource/mcp"' in www
    www = provider.challenge(Code.EXPIRED)
    assert 'error="invalid_token"' in www
    www = provider.challenge(Code.INSUFFICIENT_SCOPE, scope="mcp:admin")
    assert 'error="insufficient_scope"' in www and 'scope="mcp:admin"' in www
    prm = provider.protected_resource_metadata()
    assert prm["resource"] == RESOURCE
    assert prm["authorization_servers"] == [ISSUER]


def test_handle_request_decisions(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    d = provider.handle_request({"method": "GET", "path": "/health", "headers": {}})
    assert d.action == "pass" and d.auth is None
    d = provider.handle_request({"method": "POST", "path": "/mcp", "headers": {}})
    assert d.action == "respond" and d.status == 401
    www = dict((k.lower(), v) for k, v in d.headers)["www-authenticate"]
    assert "resource_metadata=" in www
    tok = rsa_key.mint(good_claims())
    d = provider.handle_request({"method": "POST", "path": "/mcp", "headers": {"authorization": f"Bearer {tok}"}})
    assert d.is_pass and d.auth is not None and d.auth.user.user_id == "user-42"
    d = provider.handle_request({"method": "GET", "path": "/.well-known/oauth-protected-resource/mcp"})
    assert d.action == "respond" and d.status == 200
    assert '"resource":"' + RESOURCE + '"' in d.body.replace(" ", "")


def test_userinfo_from_mapping_and_to_dict() -> None:
    u = UserInfo.from_mapping({"userId": "1", "email": "e", "roles": ["a"], "org": "o", "nickname": None})
    assert u.user_id == "1" and u.get("org") == "o" and u.nickname is None
    assert u.to_dict() == {"userId": "1", "email": "e", "roles": ["a"], "permissions": [], "org": "o"}
    assert u.to_dict(camel=False)["user_id"] == "1"
    assert UserInfo.from_mapping({"user_id": "2"}).user_id == "2"
    with pytest.raises(ValueError):
        UserInfo.from_mapping({"email": "no-id"})
    with pytest.raises(AttributeError):
        _ = u.does_not_exist
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(u)) == u
    assert copy.deepcopy(u) == u


def test_authinfo_to_dict(provider: libmcpauth.OAuthProvider, rsa_key: TestKey) -> None:
    tok = rsa_key.mint(good_claims())
    auth = provider.verify(tok)
    d = auth.to_dict()
    assert "accessToken" not in d
    assert d["user"]["userId"] == "user-42"
    assert auth.to_dict(include_token=True)["accessToken"] == tok
    assert auth.to_dict(camel=False)["expires_at"] == auth.expires_at


def test_repeated_token_translation_is_reused_but_the_core_still_decides() -> None:
    secret = "memo-secret-0123456789abcdef-0123456789"
    p = libmcpauth.jwks_verifier(secret=secret, issuer=ISSUER, options={"leewaySeconds": 0, "allowAnyAudience": True})
    tok = mint({"iss": ISSUER, "sub": "m", "exp": int(time.time()) + 2}, key=secret, alg="HS256")
    first = p.verify(tok)
    assert p.verify(tok) is first  # same core answer: the same (frozen) AuthInfo
    time.sleep(3.1)
    with pytest.raises(AuthError) as ei:  # expired: the core refuses, the memo cannot help
        p.verify(tok)
    assert ei.value.code == Code.EXPIRED
    # a get_user_info hook runs on every call: no reuse then
    calls: list[int] = []
    q = libmcpauth.jwks_verifier(secret=secret, issuer=ISSUER, options={"allowAnyAudience": True},
                              get_user_info=lambda pl: calls.append(1) or {"userId": "hooked"})
    tok2 = mint({"iss": ISSUER, "sub": "m", "exp": int(time.time()) + 600}, key=secret, alg="HS256")
    assert q.verify(tok2).user.user_id == "hooked" and q.verify(tok2).user.user_id == "hooked"
    assert len(calls) == 2


def test_decoded_dataclasses_equal_their_constructors() -> None:
    """AuthInfo.from_json and UserInfo.from_mapping build the frozen dataclasses without their
    __init__: every field set, equal to what the constructor gives, still frozen."""
    import dataclasses

    data = {"accessToken": "t", "user": {"userId": "u", "email": "e@x", "roles": ["r"], "org_id": "o"},
            "scopes": ["a", "b"], "permissions": ["p"], "clientId": "c", "expiresAt": 5, "resource": "https://r",
            "payload": {"sub": "u"}}
    auth = AuthInfo.from_json(data)
    user = UserInfo("u", email="e@x", roles=["r"], extras={"org_id": "o"})  # type: ignore[typeddict-unknown-key]
    assert auth.user == user and vars(auth.user) == vars(user)
    expected = AuthInfo(user, "t", ["a", "b"], ["p"], {"sub": "u"}, "c", 5, "https://r")
    assert auth == expected and vars(auth) == vars(expected)
    assert [f.name for f in dataclasses.fields(AuthInfo)] == list(vars(auth))
    assert [f.name for f in dataclasses.fields(UserInfo)] == list(vars(auth.user))
    assert dataclasses.replace(auth, scopes=[]).scopes == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        auth.scopes = []  # type: ignore[misc]
    bare = UserInfo.from_mapping({"user_id": "v"})
    assert vars(bare) == vars(UserInfo("v")) and bare.roles is not UserInfo.from_mapping({"userId": "v"}).roles
    with pytest.raises(ValueError):
        UserInfo.from_mapping({"email": "no-id@x"})


def test_memo_keeps_repeated_answers_not_one_offs(rsa_key: TestKey) -> None:
    """The AuthInfo memo: tokens verified once each leave nothing behind (no memory, no GC
    work); a repeated token is translated at most twice; an entry is used only for the very
    text it was made from."""
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, audience=RESOURCE)
    for i in range(50):
        p.verify(rsa_key.mint(good_claims(subject=f"one-off-{i}")), no_cache=True)
    assert len(p._memo) == 0
    a, b = rsa_key.mint(good_claims(subject="a")), rsa_key.mint(good_claims(subject="b"))
    first = [p.verify(a), p.verify(b)]
    second = [p.verify(a), p.verify(b)]
    third = [p.verify(a), p.verify(b)]
    assert third[0] is second[0] and third[1] is second[1] and first[0] == second[0]
    assert len(p._memo) == 2
    # no_cache: a verification no cache answers, the memo included (neither read nor filled)
    c = rsa_key.mint(good_claims(subject="c"))
    fresh = [p.verify(c, no_cache=True) for _ in range(3)] + [p.verify(a, no_cache=True)]
    assert fresh[0] == fresh[1] == fresh[2] and fresh[1] is not fresh[0] and fresh[2] is not fresh[1]
    assert fresh[3] == third[0] and fresh[3] is not third[0]
    assert len(p._memo) == 2
    # the key only finds the entry: another text under the same key is translated afresh
    text_a = p._verify_raw(a.encode(), 0)[1]
    assert text_a is not None
    other = text_a.replace(b'"sub":"a"', b'"sub":"z"')
    assert p._auth_from_json(other, a).payload["sub"] == "z"
    assert p.verify(a).payload["sub"] == "a"


def test_out_parameter_slots_are_per_call_when_busy() -> None:
    """The hot calls' out parameters are a thread's preallocated slot; a call made while that
    slot is in use (re-entered from Python code on the same thread) gets a fresh one."""
    import threading

    from libmcpauth import _ffi

    s1 = _ffi.slot()
    s2 = _ffi.slot()
    assert s1 is not s2 and s1.out != s2.out
    assert s2.take() == (None, None) and s1.take() == (None, None)
    assert _ffi.slot() is s1  # released: reused
    s1.take()
    seen: list[Any] = []
    t = threading.Thread(target=lambda: seen.append(_ffi.slot()))
    t.start()
    t.join()
    assert seen[0] is not s1  # another thread, another slot


def test_auth_result_parsed_without_the_token_is_the_same(rsa_key: TestKey) -> None:
    """verify() parses the core's answer without the token it just sent when the text starts
    with that very token; the result must be what parsing the whole text gives, and any other
    text is parsed whole."""
    import json

    from libmcpauth.engine import _loads, _loads_auth

    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, audience=RESOURCE)
    tok = rsa_key.mint(good_claims()).encode()
    text = p._verify_raw(tok, 0)[1]
    assert text is not None and text.startswith(b'{"accessToken":"' + tok + b'",')
    assert _loads_auth(text, tok) == _loads(text) == json.loads(text)
    assert p.verify(tok).access_token == tok.decode()
    cases = [
        (b'{"accessToken":"a\\"b","user":{"userId":"u"}}', b'a"b'),  # escaped in the text
        (b'{"accessToken":"a\\\\b","user":{"userId":"u"}}', b"a\\b"),
        (b'{"accessToken":"a\\nb","user":{"userId":"u"}}', b"a\nb"),
        (b'{"accessToken":"abc","user":{"userId":"u"}}', b"ab"),  # another token
        (b'{"accessToken":"ab","accessToken":"x","user":{}}', b"ab"),  # a second accessToken wins, as json
        (b'{"user":{"userId":"u"},"accessToken":"ab"}', b"ab"),  # not first
        (b'{"accessToken":"\xc3\xa9","user":{}}', "é".encode()),
    ]
    for raw, t in cases:
        assert _loads_auth(raw, t) == json.loads(raw), raw
