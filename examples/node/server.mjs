// server.mjs - a Node MCP server (mcp-use 2.x) protected by libmcpauth in OAuth proxy mode.
//
// The identity provider behind it does not let MCP clients register themselves. The server
// holds one pre-registered confidential client there, and libmcpauth becomes the authorization
// server the MCP clients see:
//   - libmcpauth's router runs in front of mcp-use (the documented recipe: toNodeHandler around
//     `(await provider.route(request)) ?? server.fetch(request)`): it answers the discovery
//     documents, /register, /authorize (consent page), /oauth/callback, /token and the exact
//     401/403 challenges, and lets good requests through;
//   - mcp-use gets the same provider as `oauth:` and hands the tool the seed's ctx.auth.
//
//   node server.mjs --port 8000 --idp-issuer http://127.0.0.1:4000 --client-id mcp-demo-proxy
//     (env: OAUTH_CLIENT_SECRET, MCPAUTH_SEALING_SECRET (32+ bytes), MCP_URL)
import crypto from 'node:crypto';
import http from 'node:http';
import process from 'node:process';
import { parseArgs } from 'node:util';

import { coreVersion, jwksVerifier, oauthProxy } from 'libmcpauth';
import { MCPServer, object } from 'mcp-use';
import { toNodeHandler } from 'mcp-use/node';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8000' },
    'base-url': { type: 'string', default: process.env.MCP_URL },
    'idp-issuer': { type: 'string', default: process.env.IDP_ISSUER },
    'client-id': { type: 'string', default: process.env.OAUTH_CLIENT_ID },
  },
});
const port = Number(args.port);
const baseUrl = (args['base-url'] || `http://localhost:${port}`).replace(/\/+$/, '');
if (!args['idp-issuer'] || !args['client-id']) {
  console.error('server: --idp-issuer and --client-id are required');
  process.exit(2);
}
let sealingSecret = process.env.MCPAUTH_SEALING_SECRET;
if (!sealingSecret) {
  sealingSecret = crypto.randomBytes(48).toString('base64url');
  console.error('server: MCPAUTH_SEALING_SECRET is not set; using a random one (registrations do not survive a restart)');
}

// the provider's endpoints and keys
const issuer = args['idp-issuer'];
const idp = await (await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json();
if (idp.issuer !== issuer) throw new Error(`server: the provider names issuer ${idp.issuer}, expected ${issuer}`);

// the upstream tokens that come back through the proxy: JWTs signed with the provider's keys,
// issued for this server's MCP resource (baseUrl + /mcp), carrying mcp:read
const verifier = jwksVerifier({ jwksUrl: idp.jwks_uri, issuer: idp.issuer, baseUrl, requiredScopes: ['mcp:read'] });
const provider = oauthProxy({
  authEndpoint: idp.authorization_endpoint,
  tokenEndpoint: idp.token_endpoint,
  issuer: idp.issuer,
  clientId: args['client-id'],
  clientSecret: process.env.OAUTH_CLIENT_SECRET,
  scopes: ['openid', 'email', 'profile', 'mcp:read'],
  sealingSecret,
  serverName: 'libmcpauth demo server (Node)',
  verifyToken: verifier,
  baseUrl,
});

const server = new MCPServer({ name: 'libmcpauth-demo-node', version: '1.0.0', oauth: provider });
server.tool({ name: 'get-profile', description: 'The profile of the signed-in user' }, async (_args, ctx) =>
  object({ userId: ctx.auth.user.userId, email: ctx.auth.user.email, name: ctx.auth.user.name, scopes: ctx.auth.scopes }),
);

http
  .createServer(toNodeHandler({ fetch: async (request) => (await provider.route(request)) ?? server.fetch(request) }))
  .listen(port, args.host, () => {
    console.error(`server: MCP endpoint ${baseUrl}/mcp (mcp-use), OAuth proxy for ${idp.issuer}, libmcpauth ${coreVersion()}, Node ${process.version}`);
  });
