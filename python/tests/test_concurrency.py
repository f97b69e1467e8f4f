"""Many threads and many asyncio tasks verifying at once on one provider: every result is the
right one (good tokens map to their own user, bad ones fail with their own code)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import libmcpauth
from libmcpauth import AuthError, Code
from libmcpauth.testing import TestKey, claims

from .conftest import ISSUER, JwksServer, good_claims

N_USERS = 40


def _tokens(rsa_key: TestKey, ec_key: TestKey, other_key: TestKey) -> list[tuple[str, str | None, int]]:
    """(token, expected user or None, expected code)."""
    out: list[tuple[str, str | None, int]] = []
    for i in range(N_USERS):
        key = rsa_key if i % 2 else ec_key
        out.append((key.mint(good_claims(subject=f"user-{i}")), f"user-{i}", 0))
    for i in range(N_USERS // 4):
        out.append((rsa_key.mint(good_claims(subject=f"old-{i}", ttl=-600)), None, Code.EXPIRED))
        out.append((other_key.mint(good_claims(subject=f"forged-{i}")), None, Code.BAD_SIGNATURE))
    return out


def _check(p: libmcpauth.OAuthProvider, tok: str, user: str | None, code: int, no_cache: bool = False) -> None:
    res = p.try_verify(tok, no_cache=no_cache)
    if user is None:
        assert res.error is not None and res.error.code == code, res
    else:
        assert res.auth is not None and res.auth.user.user_id == user, res


@pytest.mark.parametrize("no_cache", [False, True])
def test_threads(provider: libmcpauth.OAuthProvider, rsa_key: TestKey, ec_key: TestKey, other_key: TestKey,
                 no_cache: bool) -> None:
    toks = _tokens(rsa_key, ec_key, other_key)
    work = toks * 8
    with ThreadPoolExecutor(max_workers=16) as ex:
        list(ex.map(lambda t: _check(provider, t[0], t[1], t[2], no_cache), work))


def test_threads_start_together(provider: libmcpauth.OAuthProvider, rsa_key: TestKey, ec_key: TestKey,
                                other_key: TestKey) -> None:
    toks = _tokens(rsa_key, ec_key, other_key)
    barrier = threading.Barrier(12)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        barrier.wait()
        try:
            for j in range(len(toks)):
                t = toks[(j + k) % len(toks)]
                _check(provider, *t)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


async def test_asyncio_tasks(provider: libmcpauth.OAuthProvider, rsa_key: TestKey, ec_key: TestKey,
                             other_key: TestKey) -> None:
    toks = _tokens(rsa_key, ec_key, other_key) * 5

    async def one(tok: str, user: str | None, code: int) -> None:
        res = await provider.try_verify_async(tok)
        if user is None:
            assert res.error is not None and res.error.code == code
        else:
            assert res.auth is not None and res.auth.user.user_id == user

    await asyncio.gather(*(one(*t) for t in toks))


async def test_asyncio_tasks_cold_remote_jwks(jwks_server: JwksServer, rsa_key: TestKey, ec_key: TestKey) -> None:
    """Hundreds of tasks hit a cold JWKS cache at once: each would-block call goes to a worker
    thread, the core fetches the set once, every result is right."""
    p = libmcpauth.jwks_verifier(jwks_url=jwks_server.url, issuer=ISSUER, options={"allowAnyAudience": True})
    toks = [((rsa_key if i % 2 else ec_key).mint(claims(issuer=ISSUER, subject=f"u{i}")), f"u{i}") for i in range(200)]

    async def one(tok: str, user: str) -> None:
        assert (await p.verify_async(tok)).user.user_id == user

    await asyncio.gather(*(one(t, u) for t, u in toks))
    assert 1 <= jwks_server.hits <= 2


def test_threads_and_event_loops_together(provider: libmcpauth.OAuthProvider, rsa_key: TestKey, ec_key: TestKey,
                                          other_key: TestKey) -> None:
    """Several threads, each with its own event loop running many tasks."""
    toks = _tokens(rsa_key, ec_key, other_key)

    def loop_worker() -> None:
        async def main() -> None:
            async def one(tok: str, user: str | None, code: int) -> None:
                try:
                    auth = await provider.verify_async(tok)
                    assert auth.user.user_id == user
                except AuthError as exc:
                    assert user is None and exc.code == code

            await asyncio.gather(*(one(*t) for t in toks * 2))

        asyncio.run(main())

    with ThreadPoolExecutor(max_workers=4) as ex:
        for f in [ex.submit(loop_worker) for _ in range(4)]:
            f.result()


def test_close_waits_for_calls_in_flight(rsa_key: TestKey) -> None:
    from libmcpauth.testing import jwks_of

    p = libmcpauth.jwks_verifier(jwks=jwks_of(rsa_key), issuer=ISSUER, options={"allowAnyAudience": True})
    tok = rsa_key.mint(good_claims(audience=None))
    stop = threading.Event()
    failures: list[BaseException] = []

    def hammer() -> None:
        while not stop.is_set():
            try:
                p.verify(tok)
            except RuntimeError:
                return  # closed: refused cleanly
            except BaseException as exc:  # pragma: no cover
                failures.append(exc)
                return

    ts = [threading.Thread(target=hammer) for _ in range(4)]
    for t in ts:
        t.start()
    p.close()
    stop.set()
    for t in ts:
        t.join()
    assert not failures
