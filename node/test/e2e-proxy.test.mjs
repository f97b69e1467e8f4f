// e2e-proxy.test.mjs - the OAuth proxy (oauthProxy) end to end from Node: a local OpenID
// provider (tests/idp/idp.mjs, oidc-provider, registration disabled, one pre-registered
// confidential client), an mcp-use server behind libmcpauth's router (the README recipe), and
// the MCP TypeScript SDK's OAuth client: 401 -> discovery -> dynamic registration at the proxy
// -> consent page (approved like a browser: form POST with the CSRF field and cookies) -> sign-in
// at the provider -> /oauth/callback -> /token -> a tool call that sees the provider's user.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { jwksVerifier, oauthProxy } from 'libmcpauth';
import { MCPServer, object } from 'mcp-use';
import { toNodeHandler } from 'mcp-use/node';

import { browse, drive, isConsentPage, Jar, MemoryProvider, parseConsent } from '../../tests/proxy/lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const IDP = path.join(HERE, '..', '..', 'tests', 'idp', 'idp.mjs');

async function freePort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

test('oauthProxy: the SDK OAuth client registers, consents, signs in at oidc-provider, gets a token and calls a tool (mcp-use behind the router)', async (t) => {
  const port = await freePort();
  const base = `http://localhost:${port}`; // localhost: a secure context for the __Host- cookies
  const clientId = 'mcp-node-proxy';
  const clientSecret = crypto.randomBytes(24).toString('base64url');
  const idp = spawn(process.execPath, [IDP, '--port', '0', '--mcp-url', `${base}/mcp`, '--redirect-uri', `${base}/oauth/callback`, '--client-id', clientId, '--account', 'node-user'], {
    env: { ...process.env, IDP_NODE_MODULES: path.join(HERE, 'node_modules'), IDP_CLIENT_SECRET: clientSecret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let idpErr = '';
  idp.stderr.on('data', (c) => (idpErr += c));
  t.after(() => idp.kill());
  const info = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: idp.stdout });
    rl.once('line', (l) => resolve(JSON.parse(l)));
    idp.once('exit', (c) => reject(new Error(`the IdP exited with ${c}: ${idpErr}`)));
    setTimeout(() => reject(new Error(`the IdP did not start: ${idpErr}`)), 20000);
  });
  const doc = await (await fetch(`${info.issuer}/.well-known/openid-configuration`)).json();

  const verifier = jwksVerifier({ jwksUrl: doc.jwks_uri, issuer: doc.issuer, baseUrl: base, requiredScopes: ['mcp:read'], useEnv: false });
  const provider = oauthProxy({
    authEndpoint: doc.authorization_endpoint, tokenEndpoint: doc.token_endpoint, issuer: doc.issuer, clientId, clientSecret,
    scopes: ['openid', 'email', 'profile', 'mcp:read'], sealingSecret: crypto.randomBytes(32).toString('base64url'),
    serverName: 'Node E2E', verifyToken: verifier, baseUrl: base, useEnv: false,
  });
  const server = new MCPServer({ name: 'node-proxy-e2e', version: '1.0.0', oauth: provider });
  server.tool({ name: 'get-profile', description: 'the signed-in user' }, async (_a, ctx) =>
    object({ userId: ctx.auth.user.userId, email: ctx.auth.user.email, scopes: ctx.auth.scopes, aud: ctx.auth.payload.aud }),
  );
  const httpServer = http.createServer(toNodeHandler({ fetch: async (r) => (await provider.route(r)) ?? server.fetch(r) }));
  await new Promise((r) => httpServer.listen(port, '127.0.0.1', r));
  t.after(() => new Promise((r) => { httpServer.closeAllConnections(); httpServer.close(r); }));

  // the discovery documents name the proxy as the authorization server
  const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json();
  assert.equal(prm.resource, `${base}/mcp`);
  assert.deepEqual(prm.authorization_servers, [base]);
  const as = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
  assert.equal(as.registration_endpoint, `${base}/register`);

  // the SDK: 401 -> discovery -> registration -> a redirect to /authorize
  const redirectUrl = 'http://127.0.0.1:43119/callback';
  const oauth = new MemoryProvider(redirectUrl, 'Node E2E Desktop');
  const client = new Client({ name: 'node-proxy-e2e', version: '0.0.0' });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: oauth })), UnauthorizedError);
  assert.equal(oauth.registrations, 1);
  assert.equal(oauth.authUrl.origin + oauth.authUrl.pathname, `${base}/authorize`);

  // the browser: consent page, approve, sign in at the provider, back to the client
  const jar = new Jar();
  const page = await browse(jar, oauth.authUrl);
  assert.ok(isConsentPage(page), `consent page expected, got ${page.status}`);
  assert.equal(parseConsent(page.text).clientName, 'Node E2E Desktop');
  assert.match(page.headers.get('content-security-policy') || page.headers.get('x-frame-options') || '', /frame-ancestors 'none'|DENY/i);
  const cb = await drive(jar, oauth.authUrl, redirectUrl);
  assert.equal(cb.params.get('state'), oauth.lastState);
  assert.ok(cb.steps.some((s) => s.location && s.location.startsWith(`${info.issuer}/auth`)), 'went to the provider');

  // the code for a token at the proxy, then the tool
  await new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: oauth }).finishAuth(cb.params.get('code'));
  assert.ok(oauth.stored.access_token);
  const c2 = new Client({ name: 'node-proxy-e2e', version: '0.0.0' });
  await c2.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: oauth }));
  const r = await c2.callTool({ name: 'get-profile', arguments: {} });
  await c2.close();
  const profile = r.structuredContent ?? JSON.parse(r.content[0].text);
  assert.equal(profile.userId, 'node-user');
  assert.deepEqual(profile.scopes, ['mcp:read']);
  assert.equal(profile.aud, `${base}/mcp`);

  // the same token, tampered: refused by the router with the core's challenge
  const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${oauth.stored.access_token}x`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
  provider.close();
  verifier.close();
});
