#!/usr/bin/env python3
"""The ASGI middleware's cost per request: the same minimal ASGI app called bare and behind
McpAuthMiddleware, in the same process and run (no network: the app is awaited directly, so the
difference is what the middleware adds: the request JSON, the core's router with the token
check, the decision, the SDK user and contextvars).

Scenarios: a protected POST /mcp with a repeated valid token (the core's verified-token cache),
and an unprotected path (the router answers "pass" at once). Not a test: prints per-request
times and the overhead.

    pip install ./python -r python/requirements-bench.txt
    python python/bench/bench_asgi.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from typing import Any

import libmcpauth
from libmcpauth.testing import TestKey, jwks_of

BASE = "https://mcp.bench.example"
ISSUER = "https://issuer.bench.example"


async def bare_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def auth_app(scope: Any, receive: Any, send: Any) -> None:
    assert libmcpauth.current_auth() is not None
    await bare_app(scope, receive, send)


async def per_request(cases: list[tuple[Any, dict[str, Any]]], seconds: float, rounds: int = 10) -> list[float]:
    """CPU seconds per request of each (app, scope), measured in interleaved slices: `rounds`
    rounds giving every case one slice of seconds/rounds of CPU time (the order rotating), so
    a change of load during the run weighs on every case alike; a case's figure is its best
    slice (the least disturbed). The loop does no I/O, so on an idle machine this is the wall
    time too; on a shared one it leaves out the time the process waited for a CPU."""
    body = {"type": "http.request", "body": b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', "more_body": False}

    async def receive() -> dict[str, Any]:
        return body

    async def send(msg: Any) -> None:
        return None

    for app, scope in cases:
        for _ in range(200):  # warm-up (caches, memo)
            await app(dict(scope), receive, send)
    best = [float("inf")] * len(cases)
    for r in range(rounds):
        for k in range(len(cases)):
            j = (k + r) % len(cases)
            app, scope = cases[j]
            n = 0
            t0 = time.process_time()
            end = t0 + seconds / rounds
            while True:
                for _ in range(100):
                    await app(dict(scope), receive, send)
                n += 100
                t = time.process_time()
                if t >= end:
                    break
            best[j] = min(best[j], (t - t0) / n)
    return best


async def main_async(seconds: float) -> None:
    key = TestKey.rsa("rsa-bench")
    provider = libmcpauth.jwks_verifier(jwks=jwks_of(key), issuer=ISSUER, base_url=BASE, use_env=False)
    now = int(time.time())
    tok = key.mint({"iss": ISSUER, "aud": BASE + "/mcp", "sub": "bench-user", "iat": now, "exp": now + 3600,
                    "scope": "mcp:read", "email": "bench@example.com"})
    headers = [(b"host", b"mcp.bench.example"), (b"content-type", b"application/json"),
               (b"accept", b"application/json, text/event-stream"), (b"mcp-protocol-version", b"2025-06-18"),
               (b"authorization", b"Bearer " + tok.encode()), (b"user-agent", b"bench/1.0")]
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                             "scheme": "https", "path": "/mcp", "raw_path": b"/mcp", "query_string": b"",
                             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 443)}
    mw = libmcpauth.McpAuthMiddleware(auth_app, provider)
    mw_open = libmcpauth.McpAuthMiddleware(bare_app, provider)
    open_scope = {**scope, "path": "/health", "raw_path": b"/health"}

    bare, prot, bare_open, unprot = await per_request(
        [(bare_app, scope), (mw, scope), (bare_app, open_scope), (mw_open, open_scope)], seconds)
    try:
        import mcp  # noqa: F401
        sdk = "mcp installed: scope['user'] is the SDK's AuthenticatedUser"
    except ImportError:
        sdk = "mcp not installed"
    print(f"libmcpauth {libmcpauth.__version__} (core {libmcpauth.core_version()}), Python "
          f"{platform.python_version()}, {sdk}, load average {_load()}")
    # the core's share: mcpauth_route alone on the same request JSON (CPU µs)
    from libmcpauth.asgi import request_dict
    from libmcpauth.engine import _json_bytes

    data = _json_bytes(request_dict(scope))
    flags = 3  # MCPAUTH_ROUTE_NONBLOCK | MCPAUTH_ROUTE_WITH_TOKEN, as the middleware calls it
    for _ in range(200):
        provider._route_raw(data, flags)
    core = float("inf")
    for _ in range(10):
        n = 0
        t0 = time.process_time()
        while time.process_time() - t0 < seconds / 20:
            for _ in range(100):
                provider._route_raw(data, flags)
            n += 100
        core = min(core, (time.process_time() - t0) / n)
    head = f"{'request':<40} {'bare app µs':>12} {'middleware µs':>14} {'overhead µs':>12}"
    print(head)
    print("-" * len(head))
    for name, b, m in (("POST /mcp, repeated valid token (RS256)", bare, prot),
                       ("GET /health (not protected)", bare_open, unprot)):
        print(f"{name:<40} {b * 1e6:>12.2f} {m * 1e6:>14.2f} {(m - b) * 1e6:>12.2f}")
    print(f"of which mcpauth_route (the core, same request, ctypes call included): {core * 1e6:.2f} µs; "
          f"the binding's own share of the protected request: {(prot - bare - core) * 1e6:.2f} µs")
    print(f"load average at the end: {_load()}")


def _load() -> str:
    """The 1/5/15-minute load averages (figures are comparable only at a similar load)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time per scenario (default 2.0)")
    args = ap.parse_args()
    asyncio.run(main_async(args.seconds))


if __name__ == "__main__":
    main()
