"""Helpers for the end-to-end tests: serve an ASGI app with uvicorn on 127.0.0.1 in a thread,
and call an MCP tool through the official SDK's streamable HTTP client."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any


try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as SdkServer
    MCP_MAJOR = 2
except ImportError:  # mcp 1.x
    try:
        from mcp.server.fastmcp import FastMCP as SdkServer  # type: ignore[assignment,no-redef]
        MCP_MAJOR = 1
    except ImportError:  # no mcp at all
        SdkServer = None  # type: ignore[assignment,misc]
        MCP_MAJOR = 0

try:  # the HTTP client the installed SDK uses (mcp 2.x: httpx2, mcp 1.x: httpx)
    import httpx2 as sdk_httpx
except ImportError:
    import httpx as sdk_httpx  # type: ignore[no-redef]


def sdk_server(name: str, **kw: Any) -> Any:
    """The official SDK's high-level server: MCPServer (mcp 2.x) or FastMCP (mcp 1.x)."""
    if SdkServer is None:
        raise RuntimeError("mcp is not installed")
    if MCP_MAJOR == 1:
        kw.setdefault("host", "127.0.0.1")
    return SdkServer(name, **kw)


def sdk_http_app(server: Any) -> Any:
    """The streamable HTTP app of an sdk_server()."""
    if MCP_MAJOR == 1:
        return server.streamable_http_app()
    return server.streamable_http_app(host="127.0.0.1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Runs ``app`` on http://127.0.0.1:<port> until the block ends; yields the origin."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def call_tool(url: str, token: str | None, tool: str, args: dict[str, Any] | None = None) -> Any:
    """Initializes an MCP session with a bearer token and calls ``tool``; returns its result
    as parsed JSON (structured content, else the first text block)."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with sdk_httpx.AsyncClient(headers=headers, timeout=sdk_httpx.Timeout(20.0)) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            read, write = streams[0], streams[1]  # mcp 1.x adds a session-id getter
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(tool, args or {})
    is_error = getattr(result, "is_error", None)
    if is_error is None:
        is_error = getattr(result, "isError", False)
    if is_error:
        raise RuntimeError(f"tool error: {result.content}")
    sc = getattr(result, "structured_content", None)
    if sc is None:
        sc = getattr(result, "structuredContent", None)
    if sc is not None:
        return sc.get("result", sc) if isinstance(sc, dict) and set(sc) == {"result"} else sc
    return json.loads(result.content[0].text)  # type: ignore[union-attr]
