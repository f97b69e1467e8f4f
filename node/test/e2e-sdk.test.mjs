// e2e-sdk.test.mjs - the verifiers through real servers and a real client (the MCP TypeScript
// SDK's streamable HTTP client) on 127.0.0.1: SDK v1 (Express + requireBearerAuth +
// sdkVerifier), SDK v2 (createMcpHandler + the fetch requireBearerAuth gate + serverVerifier)
// and mcp-use 2.x (new MCPServer({ oauth: provider }), a tool reading ctx.auth).
import assert from 'node:assert/strict';
import http from 'node:http';
import test from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { requireBearerAuth as requireBearerAuthV1 } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpHandler, McpServer as McpServerV2, requireBearerAuth as requireBearerAuthV2, verifyBearerToken } from '@modelcontextprotocol/server';
import express from 'express';
import { jwksVerifier } from 'libmcpauth';
import { MCPServer, object } from 'mcp-use';
import { toNodeHandler } from 'mcp-use/node';

import { claims, ISSUER, jwksOf, makeKey, sign } from './helpers.mjs';

const key = makeKey('RS256');

async function freePort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function serve(listener, port) {
  const server = http.createServer(listener);
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

async function whoami(url, token) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'libmcpauth-node-e2e', version: '0.0.0' });
  await client.connect(transport);
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  assert.ok(!r.isError, JSON.stringify(r));
  return JSON.parse(r.content[0].text);
}

async function post(url, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  await res.text();
  return res;
}

function setup(base, extra = {}) {
  const provider = jwksVerifier({ jwks: jwksOf(key), issuer: ISSUER, baseUrl: base, requiredScopes: ['mcp:read'], useEnv: false, ...extra });
  const resource = `${base}/mcp`;
  return {
    provider,
    resource,
    good: sign(claims({ aud: resource, sub: 'sdk-user', email: 'sdk@example.com', name: 'Sdk User', scope: 'mcp:read mcp:write', permissions: ['notes:read'] }), key),
    expired: sign(claims({ aud: resource, exp: 1000 }), key),
    otherResource: sign(claims({ aud: 'http://127.0.0.1:1/mcp' }), key),
    noScope: sign(claims({ aud: resource, scope: 'profile' }), key),
  };
}

test('SDK v1: requireBearerAuth({ verifier: provider.sdkVerifier() }) on Express 5, tool sees authInfo', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const s = setup(base);
  const app = express();
  app.use(express.json());
  app.post('/mcp', requireBearerAuthV1({ verifier: s.provider.sdkVerifier(), resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp` }), async (req, res) => {
    const server = new McpServerV1({ name: 'v1', version: '1.0.0' });
    server.registerTool('whoami', { description: 'the caller' }, async (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ clientId: extra.authInfo.clientId, scopes: extra.authInfo.scopes, resource: String(extra.authInfo.resource), user: extra.authInfo.extra.user }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => transport.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const srv = await serve(app, port);
  try {
    const who = await whoami(`${base}/mcp`, s.good);
    assert.equal(who.user.userId, 'sdk-user');
    assert.equal(who.user.email, 'sdk@example.com');
    assert.deepEqual(who.scopes, ['mcp:read', 'mcp:write']);
    assert.equal(who.resource, s.resource);
    for (const [tok, status, err] of [[s.expired, 401, 'invalid_token'], [s.otherResource, 401, 'invalid_token'], [s.noScope, 403, 'insufficient_scope'], ['garbage', 401, 'invalid_token']]) {
      const r = await post(`${base}/mcp`, tok);
      assert.equal(r.status, status, tok.slice(0, 20));
      assert.match(r.headers.get('www-authenticate'), new RegExp(`error="${err}"`));
    }
    assert.equal((await post(`${base}/mcp`)).status, 401);
  } finally {
    await srv.close();
  }
});

test('SDK v1 from a CommonJS host: sdkVerifier(require(".../errors.js")) gives the CJS classes', async () => {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { requireBearerAuth } = require('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js');
  const errors = require('@modelcontextprotocol/sdk/server/auth/errors.js');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const s = setup(base);
  const app = require('express4')();
  app.post('/mcp', requireBearerAuth({ verifier: s.provider.sdkVerifier(errors) }), (req, res) => res.json({ user: req.auth.extra.user.userId }));
  const srv = await serve(app, port);
  try {
    const ok = await fetch(`${base}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${s.good}` } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).user, 'sdk-user');
    for (const [tok, status] of [[s.expired, 401], [s.noScope, 403]]) {
      const r = await post(`${base}/mcp`, tok);
      assert.equal(r.status, status);
    }
  } finally {
    await srv.close();
  }
});

test('SDK v2: the fetch gate requireBearerAuth({ verifier: provider.serverVerifier() }) + createMcpHandler, tool sees ctx.http.authInfo', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const s = setup(base);
  const verifier = s.provider.serverVerifier();
  const gate = requireBearerAuthV2({ verifier, resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp` });
  const handler = createMcpHandler(() => {
    const server = new McpServerV2({ name: 'v2', version: '1.0.0' });
    server.registerTool('whoami', { description: 'the caller' }, async (ctx) => {
      const a = ctx.http.authInfo;
      return { content: [{ type: 'text', text: JSON.stringify({ clientId: a.clientId, scopes: a.scopes, resource: String(a.resource), user: a.extra.user }) }] };
    });
    return server;
  });
  const fetchApp = async (request) => {
    const auth = await gate(request);
    if (auth instanceof Response) return auth;
    return handler.fetch(request, { authInfo: auth });
  };
  const srv = await serve(toNodeHandler({ fetch: fetchApp }), port);
  try {
    const who = await whoami(`${base}/mcp`, s.good);
    assert.equal(who.user.userId, 'sdk-user');
    assert.equal(who.clientId, 'client-1');
    assert.equal(who.resource, s.resource);
    for (const [tok, status, err] of [[s.expired, 401, 'invalid_token'], [s.otherResource, 401, 'invalid_token'], [s.noScope, 403, 'insufficient_scope']]) {
      const r = await post(`${base}/mcp`, tok);
      assert.equal(r.status, status);
      assert.match(r.headers.get('www-authenticate'), new RegExp(`error="${err}"`));
    }
    // verifyBearerToken with the same verifier
    const info = await verifyBearerToken(`Bearer ${s.good}`, { verifier });
    assert.equal(info.extra.user.userId, 'sdk-user');
    await assert.rejects(verifyBearerToken(`Bearer ${s.expired}`, { verifier }), (e) => e.code === 'invalid_token');
  } finally {
    await srv.close();
  }
});

for (const form of ['the provider', 'await provider.mcpUse()']) test(`mcp-use 2.x: new MCPServer({ oauth: ${form} }); a tool reads the seed ctx.auth`, async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const s = setup(base, { authEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, scopesSupported: ['mcp:read', 'mcp:write'] });
  const oauth = form === 'the provider' ? s.provider : await s.provider.mcpUse();
  const server = new MCPServer({ name: 'mcp-use-e2e', version: '1.0.0', oauth });
  server.tool({ name: 'whoami', description: 'the caller' }, async (_args, ctx) =>
    object({ userId: ctx.auth.user.userId, email: ctx.auth.user.email, name: ctx.auth.user.name, scopes: ctx.auth.scopes, permissions: ctx.auth.permissions, clientId: ctx.auth.clientId, sub: ctx.auth.payload.sub, tokenMatches: ctx.auth.accessToken === s.good, resource: String(ctx.auth.resource) }),
  );
  const srv = await serve(toNodeHandler(server), port);
  try {
    const who = await whoami(`${base}/mcp`, s.good);
    assert.equal(who.userId, 'sdk-user');
    assert.equal(who.email, 'sdk@example.com');
    assert.equal(who.name, 'Sdk User');
    assert.deepEqual(who.scopes, ['mcp:read', 'mcp:write']);
    assert.deepEqual(who.permissions, ['notes:read']);
    assert.equal(who.clientId, 'client-1');
    assert.equal(who.sub, 'sdk-user');
    assert.equal(who.tokenMatches, true);
    assert.equal(who.resource, s.resource);
    const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json();
    assert.equal(prm.resource, s.resource);
    assert.deepEqual(prm.authorization_servers, [ISSUER]);
    for (const [tok, status] of [[s.expired, 401], [s.otherResource, 401], [s.noScope, 403], [undefined, 401]]) {
      const r = await post(`${base}/mcp`, tok);
      assert.equal(r.status, status, String(tok).slice(0, 16));
      assert.match(r.headers.get('www-authenticate'), /^Bearer /);
    }
  } finally {
    await srv.close();
  }
});

test('mcp-use 2.x with a provider that has no resource: mcp-use names it (MCP_URL) and the core binds tokens to it', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const resource = `${base}/mcp`;
  // no resource until mcp-use names one: the engine itself opts out of the audience requirement
  // (allowAnyAudience); the twin mcp-use gets is bound to the resource
  const provider = jwksVerifier({ jwks: jwksOf(key), issuer: ISSUER, authEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, allowAnyAudience: true, useEnv: false });
  assert.equal(provider.resource, undefined);
  const saved = process.env.MCP_URL;
  process.env.MCP_URL = base;
  let server;
  try {
    server = new MCPServer({ name: 'mcp-use-twin', version: '1.0.0', oauth: provider });
  } finally {
    if (saved === undefined) delete process.env.MCP_URL;
    else process.env.MCP_URL = saved;
  }
  server.tool({ name: 'whoami', description: 'the caller' }, async (_args, ctx) => object({ userId: ctx.auth.user.userId, resource: String(ctx.auth.resource) }));
  const srv = await serve(toNodeHandler(server), port);
  try {
    const who = await whoami(resource, sign(claims({ aud: resource, sub: 'twin-user' }), key));
    assert.equal(who.userId, 'twin-user');
    assert.equal(who.resource, resource);
    const r = await post(resource, sign(claims({ aud: 'http://127.0.0.1:1/mcp' }), key));
    assert.equal(r.status, 401, 'a token for another resource');
  } finally {
    await srv.close();
    provider.close();
  }
});
