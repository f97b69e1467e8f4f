// e2e-fastmcp.test.mjs - the fastmcp framework's `authenticate` hook: provider.fastmcp() runs
// the core's router on each MCP request; a good token becomes the session's auth (a tool reads
// it), a bad one gets the core's challenge verbatim (thrown as a Response).
import assert from 'node:assert/strict';
import http from 'node:http';
import test from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FastMCP } from 'fastmcp';
import { jwksVerifier } from 'libmcpauth';

import { claims, ISSUER, jwksOf, makeKey, sign } from './helpers.mjs';

const key = makeKey('RS256');

async function freePort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

test('fastmcp: authenticate: provider.fastmcp()', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const resource = `${base}/mcp`;
  const provider = jwksVerifier({ jwks: jwksOf(key), issuer: ISSUER, baseUrl: base, requiredScopes: ['mcp:read'], useEnv: false });
  const server = new FastMCP({ name: 'fastmcp-e2e', version: '1.0.0', authenticate: provider.fastmcp() });
  server.addTool({ name: 'whoami', description: 'the caller', execute: async (_args, { session }) => JSON.stringify({ userId: session.user.userId, scopes: session.scopes }) });
  await server.start({ transportType: 'httpStream', httpStream: { port, host: '127.0.0.1', endpoint: '/mcp' } });
  try {
    const good = sign(claims({ aud: resource, sub: 'fm-user', scope: 'mcp:read' }), key);
    const transport = new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${good}` } } });
    const client = new Client({ name: 'fastmcp-e2e', version: '0.0.0' });
    await client.connect(transport);
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    assert.deepEqual(JSON.parse(r.content[0].text), { userId: 'fm-user', scopes: ['mcp:read'] });

    const post = async (token) => {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(resource, { method: 'POST', headers, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}' });
      return { status: res.status, www: res.headers.get('www-authenticate'), body: await res.text() };
    };
    const core = (token) => provider.decide({ method: 'POST', path: '/mcp', query: '', headers: token ? { authorization: `Bearer ${token}` } : {} });
    for (const tok of [undefined, sign(claims({ aud: resource, exp: 1000 }), key), sign(claims({ aud: resource, scope: 'x' }), key)]) {
      const got = await post(tok);
      const want = await core(tok);
      assert.equal(got.status, want.status);
      assert.equal(got.www, want.headers.find(([k]) => k === 'WWW-Authenticate')[1]);
      assert.equal(got.body, want.body);
    }
  } finally {
    await server.stop();
    provider.close();
  }
});
