"""What a type checker and a log reader see: mypy --strict catches attribute typos on the
user (provider extras are a typed mapping, not dynamic attributes), and reprs keep personal
data out."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import libmcpauth
from libmcpauth.testing import TestKey, claims, jwks_of

_GOOD = """
import libmcpauth

def describe(auth: libmcpauth.AuthInfo) -> str:
    user = auth.user
    org: str | None = user.extras.get("organization_id")
    return f"{user.user_id} {user.email} {org} {auth.scopes}"
"""


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    f = tmp_path / "user_code.py"
    f.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / ".mypy"), str(f)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_mypy_strict_accepts_the_documented_fields(tmp_path: Path) -> None:
    r = _mypy(tmp_path, _GOOD)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_catches_a_typo_on_the_user(tmp_path: Path) -> None:
    r = _mypy(tmp_path, _GOOD.replace("{user.email}", "{user.emial}"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert '"UserInfo" has no attribute "emial"' in r.stdout, r.stdout


def test_mypy_strict_catches_an_unknown_extra_key(tmp_path: Path) -> None:
    r = _mypy(tmp_path, _GOOD.replace('"organization_id"', '"organisation_id"'))
    assert r.returncode == 1 and "user_code.py:6: error" in r.stdout, r.stdout


def test_missing_extra_is_none_not_attribute_error(rsa_key: TestKey) -> None:
    p = libmcpauth.oauth_workos_provider(subdomain="acme.authkit.app",
                                         options={"jwks": jwks_of(rsa_key), "allowAnyAudience": True},
                                         use_env=False)
    auth = p.verify(rsa_key.mint(claims(issuer="https://acme.authkit.app", subject="w1")))
    assert auth.user.extras.get("organization_id") is None
    with pytest.raises(AttributeError):
        auth.user.organization_id  # type: ignore[attr-defined]  # noqa: B018


def test_reprs_keep_personal_data_out(rsa_key: TestKey) -> None:
    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer="https://i.example.com",
                                 base_url="https://mcp.example.com", use_env=False)
    tok = rsa_key.mint(claims(issuer="https://i.example.com", audience="https://mcp.example.com/mcp",
                              subject="u-1", email="ada@example.com", name="Ada Lovelace", scope="mcp:read",
                              phone="+44 1234"))
    auth = p.verify(tok)
    text = repr(auth) + str(auth) + repr(auth.user)
    for secret in ("ada@example.com", "Ada Lovelace", "+44 1234", tok, tok.split(".")[1]):
        assert secret not in text, (secret, text)
    assert "u-1" in text and "mcp:read" in text
    assert auth.user.email == "ada@example.com" and auth.payload["phone"] == "+44 1234"
