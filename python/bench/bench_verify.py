#!/usr/bin/env python3
"""Verifications per second: libmcpauth (the C core through ctypes) vs PyJWT (its key preloaded:
``jwt.decode(token, key, algorithms, audience, issuer)``, the fastest way a user calls it) vs
joserfc (KeySet in memory), in the same process and run.

Every library checks the signature, exp, iss and aud of the same tokens:

- ``miss``: a different token on every call (libmcpauth also gets MCPAUTH_VERIFY_NO_CACHE, so
  each call is a full JWS verification);
- ``repeat``: the same token again and again (libmcpauth answers from its verified-token cache;
  the Python libraries have no such cache and verify each time).

libmcpauth fetches its keys once from a JWKS document served on 127.0.0.1; PyJWT and joserfc
get the same keys in memory, parsed once. The three libraries of a cell are measured in
interleaved slices (see rates()), so their ratios hold on a shared machine. Not a test: prints
a table with ratios and the load average.

    pip install ./python -r python/requirements-bench.txt
    python python/bench/bench_verify.py [--seconds 1.0] [--tokens 2000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import libmcpauth
from libmcpauth.testing import TestKey, jwks_of

ISSUER = "https://issuer.bench.example"
AUDIENCE = "https://mcp.bench.example/mcp"


def serve_jwks(doc: dict[str, Any]) -> tuple[str, ThreadingHTTPServer]:
    body = json.dumps(doc).encode()

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json", httpd


def rates(fns: list[Callable[[str], Any]], tokens: list[str], seconds: float, threads: int,
          rounds: int = 10) -> list[float]:
    """Calls per second of each fn over the tokens (cycled), about `seconds` each, measured in
    interleaved slices: `rounds` rounds, each giving every fn one slice of seconds/rounds (the
    order rotating from round to round), so that a change of load during the run weighs on
    every library alike. A fn's rate is its calls over its slices' total time. One thread: per
    second of the process's CPU time (the loop does no I/O: on an idle machine the same as wall
    time; on a shared one it leaves out waiting for a CPU). Several threads: wall time."""
    clock = time.process_time if threads == 1 else time.perf_counter
    n_tok = len(tokens)
    for fn in fns:  # warm-up
        for t in tokens[: min(50, n_tok)]:
            fn(t)
    calls = [0] * len(fns)
    spent = [0.0] * len(fns)
    pos = [0] * len(fns)
    ex = ThreadPoolExecutor(threads) if threads > 1 else None

    def worker(fn: Callable[[str], Any], offset: int, end: float) -> int:
        done = 0
        i = offset
        while True:
            for _ in range(64):
                fn(tokens[i % n_tok])
                i += 1
            done += 64
            if clock() >= end:
                return done

    try:
        for r in range(rounds):
            for k in range(len(fns)):
                j = (k + r) % len(fns)
                t0 = clock()
                end = t0 + seconds / rounds
                if ex is None:
                    done = worker(fns[j], pos[j], end)
                else:
                    done = sum(ex.map(lambda o: worker(fns[j], o, end),
                                      [pos[j] + w * (n_tok // threads) for w in range(threads)]))
                spent[j] += clock() - t0
                calls[j] += done
                pos[j] += done
    finally:
        if ex is not None:
            ex.shutdown()
    return [c / t for c, t in zip(calls, spent)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per cell (default 1.0)")
    ap.add_argument("--tokens", type=int, default=2000, help="distinct tokens per algorithm (default 2000)")
    ap.add_argument("--threads", type=int, default=1, help="threads calling verify (default 1)")
    args = ap.parse_args()

    import jwt as pyjwt
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import KeySet
    from joserfc.jwt import JWTClaimsRegistry

    keys = {"RS256": TestKey.rsa("rsa-bench"), "ES256": TestKey.ec("ec-bench")}
    doc = jwks_of(*keys.values())
    url, httpd = serve_jwks(doc)

    provider = libmcpauth.jwks_verifier(jwks_url=url, issuer=ISSUER, audience=AUDIENCE, prefetch=True,
                                     use_env=False)
    pyjwt_keys = {alg: pyjwt.PyJWK(key.public_jwk).key for alg, key in keys.items()}  # parsed once
    keyset = KeySet.import_key_set(doc)
    registry = JWTClaimsRegistry(iss={"essential": True, "value": ISSUER},
                                 aud={"essential": True, "value": AUDIENCE})

    now = int(time.time())

    def mint_all(key: TestKey, n: int) -> list[str]:
        return [key.mint({"iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{i}", "iat": now, "exp": now + 3600,
                          "scope": "mcp:read", "email": f"u{i}@example.com"}) for i in range(n)]

    print(f"libmcpauth {libmcpauth.__version__} (core {libmcpauth.core_version()}), PyJWT {pyjwt.__version__}, "
          f"joserfc {_version('joserfc')}, Python {platform.python_version()}, threads={args.threads}, "
          f"{args.seconds:.1f}s per cell, load average {_load()}")
    rows: list[tuple[str, str, float, float, float]] = []
    for alg, key in keys.items():
        distinct = mint_all(key, args.tokens)
        single = distinct[:1]

        def v_mcpauth_miss(t: str) -> Any:
            return provider.verify(t, no_cache=True)

        def v_mcpauth(t: str) -> Any:
            return provider.verify(t)

        def v_pyjwt(t: str, _key: Any = pyjwt_keys[alg], _algs: list[str] = [alg]) -> Any:  # noqa: B006
            return pyjwt.decode(t, _key, algorithms=_algs, audience=AUDIENCE, issuer=ISSUER)

        def v_joserfc(t: str, _alg: str = alg) -> Any:
            tok = jose_jwt.decode(t, keyset, algorithms=[_alg])
            registry.validate(tok.claims)
            return tok.claims

        # sanity: every library accepts the tokens and refuses a forged one
        for fn in (v_mcpauth_miss, v_pyjwt, v_joserfc):
            assert fn(distinct[0]) is not None
        forged = TestKey.rsa("rsa-bench").mint({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60})
        for fn in (v_mcpauth_miss, v_pyjwt, v_joserfc):
            try:
                fn(forged)
            except Exception:
                pass
            else:
                raise SystemExit(f"{fn.__name__} accepted a forged token")

        for scenario, toks, mfn in (("miss", distinct, v_mcpauth_miss), ("repeat", single, v_mcpauth)):
            m, p, j = rates([mfn, v_pyjwt, v_joserfc], toks, args.seconds, args.threads)
            rows.append((alg, scenario, m, p, j))

    httpd.shutdown()
    head = f"{'alg':<6} {'tokens':<7} {'libmcpauth/s':>11} {'PyJWT/s':>10} {'joserfc/s':>10} {'vs PyJWT':>9} {'vs joserfc':>11}"
    print(head)
    print("-" * len(head))
    for alg, sc, m, p, j in rows:
        print(f"{alg:<6} {sc:<7} {m:>11,.0f} {p:>10,.0f} {j:>10,.0f} {m / p:>8.1f}x {m / j:>10.1f}x")
    print(f"load average at the end: {_load()}")


def _load() -> str:
    """The 1/5/15-minute load averages (figures are comparable only at a similar load)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "?"


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
