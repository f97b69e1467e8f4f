"""A Python MCP server (official SDK, streamable HTTP) protected by libmcpauth in OAuth proxy mode.

The identity provider behind it does not let MCP clients register themselves. The server holds
one pre-registered confidential client at that provider, and libmcpauth (through the libmcpauth
package's ASGI middleware) becomes the authorization server the MCP clients see:

- it answers the 401 challenges and publishes the discovery documents
  (/.well-known/oauth-protected-resource/mcp, /.well-known/oauth-authorization-server);
- it registers MCP clients (/register), shows them a consent page (/authorize), sends the user
  to the provider with its own client, takes the provider's answer (/oauth/callback) and
  redeems the code for the MCP client (/token);
- it verifies the provider's JWT access tokens on every /mcp request (JWKS, issuer, audience =
  this server's MCP resource, scope mcp:read) and hands the user to the tools.

Run it (see README.md; scripts/demo.sh does all of this):

    python server.py --port 8000 --idp-issuer http://127.0.0.1:4000 \
        --client-id mcp-demo-proxy --client-secret ...   # + MCPAUTH_SEALING_SECRET in the env

Options fall back to environment variables: MCP_URL, IDP_ISSUER, OAUTH_CLIENT_ID,
OAUTH_CLIENT_SECRET, MCPAUTH_SEALING_SECRET (32+ bytes; the same on every replica).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import Any

import httpx
import uvicorn

import libmcpauth


def make_server() -> Any:
    """The MCP server with its one tool. mcp 2.x calls it MCPServer, mcp 1.x FastMCP."""
    try:
        from mcp.server.mcpserver import MCPServer as Server
    except ImportError:  # mcp 1.x
        from mcp.server.fastmcp import FastMCP as Server  # type: ignore[attr-defined,no-redef]

    server = Server("libmcpauth-demo")

    @server.tool(name="get-profile", description="The profile of the signed-in user")
    def get_profile() -> dict[str, Any]:
        auth = libmcpauth.require_auth()  # set by McpAuthMiddleware for this request
        return {
            "userId": auth.user.user_id,
            "email": auth.user.email,
            "name": auth.user.name,
            "scopes": list(auth.scopes),
        }

    return server


def discover(issuer: str) -> dict[str, Any]:
    """The provider's OpenID configuration (its endpoints and key set)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    r = httpx.get(url, timeout=10)
    r.raise_for_status()
    doc: dict[str, Any] = r.json()
    if doc.get("issuer") != issuer:
        raise SystemExit(f"server: {url} names issuer {doc.get('issuer')!r}, expected {issuer!r}")
    return doc


def build_app(base_url: str, idp: dict[str, Any], client_id: str, client_secret: str,
              sealing_secret: str) -> Any:
    # the upstream tokens that come back through the proxy: JWTs signed with the provider's keys,
    # issued for this server's MCP resource (base_url + /mcp), carrying mcp:read
    verifier = libmcpauth.jwks_verifier(
        jwks_url=idp["jwks_uri"],
        issuer=idp["issuer"],
        base_url=base_url,
        required_scopes=["mcp:read"],
    )
    provider = libmcpauth.oauth_proxy(
        auth_endpoint=idp["authorization_endpoint"],
        token_endpoint=idp["token_endpoint"],
        issuer=idp["issuer"],
        client_id=client_id,
        client_secret=client_secret,
        scopes=["openid", "email", "profile", "mcp:read"],
        sealing_secret=sealing_secret,
        server_name="libmcpauth demo server",
        verify_token=verifier,
        base_url=base_url,
    )
    host = base_url.split("://", 1)[1].split(":", 1)[0].split("/", 1)[0]
    return libmcpauth.McpAuthMiddleware(make_server().streamable_http_app(host=host), provider)


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--base-url", default=env.get("MCP_URL"),
                    help="public origin of this server (default http://localhost:PORT)")
    ap.add_argument("--idp-issuer", default=env.get("IDP_ISSUER"), required="IDP_ISSUER" not in env)
    ap.add_argument("--client-id", default=env.get("OAUTH_CLIENT_ID"), required="OAUTH_CLIENT_ID" not in env)
    ap.add_argument("--client-secret", default=env.get("OAUTH_CLIENT_SECRET"))
    args = ap.parse_args(argv)

    base_url = (args.base_url or f"http://localhost:{args.port}").rstrip("/")
    sealing = env.get("MCPAUTH_SEALING_SECRET")
    if not sealing:
        sealing = secrets.token_urlsafe(48)
        print("server: MCPAUTH_SEALING_SECRET is not set; using a random one (registrations do not "
              "survive a restart)", file=sys.stderr)
    idp = discover(args.idp_issuer)
    app = build_app(base_url, idp, args.client_id, args.client_secret, sealing)
    print(f"server: MCP endpoint {base_url}/mcp, OAuth proxy for {idp['issuer']}, "
          f"libmcpauth {libmcpauth.core_version()}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
