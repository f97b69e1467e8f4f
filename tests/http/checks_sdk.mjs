// checks_sdk.mjs - the official MCP TypeScript SDK's client discovery against `mcpauth serve`
// (local-keys configuration). Env: PROXY (http://127.0.0.1:PORT), ISSUER, TOKEN_READ
// (scope mcp:read), TOKEN_ALL (scopes mcp:read mcp:tools).
import {
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { assert, check, done, env } from './lib.mjs';

const proxy = env('PROXY');
const issuer = env('ISSUER');
const mcpUrl = `${proxy}/mcp`;
const prmPath = `${proxy}/.well-known/oauth-protected-resource/mcp`;
const prmRoot = `${proxy}/.well-known/oauth-protected-resource`;

function recordingFetch(seen) {
  return async (url, init) => {
    const res = await fetch(url, init);
    seen.push([String(url), res.status]);
    return res;
  };
}

function rpc(method, params, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
}

await check('sdk: extractWWWAuthenticateParams reads resource_metadata and scope from the 401', async () => {
  const res = await rpc('initialize', {});
  assert.equal(res.status, 401);
  const p = extractWWWAuthenticateParams(res);
  assert.equal(p.resourceMetadataUrl?.href, prmPath);
  assert.equal(p.scope, 'mcp:read');
  assert.equal(p.error, undefined);
});

await check('sdk: discoverOAuthProtectedResourceMetadata via the challenge URL', async () => {
  const res = await rpc('initialize', {});
  const { resourceMetadataUrl } = extractWWWAuthenticateParams(res);
  const prm = await discoverOAuthProtectedResourceMetadata(mcpUrl, { resourceMetadataUrl });
  assert.equal(prm.resource, mcpUrl);
  assert.deepEqual(prm.authorization_servers, [issuer]);
  assert.deepEqual(prm.bearer_methods_supported, ['header']);
  assert.deepEqual(prm.scopes_supported, ['mcp:read', 'mcp:tools']);
  assert.equal(prm.resource_name, 'mcpauth HTTP test');
});

await check('sdk: discoverOAuthProtectedResourceMetadata finds the path-inserted form', async () => {
  const seen = [];
  const prm = await discoverOAuthProtectedResourceMetadata(mcpUrl, {}, recordingFetch(seen));
  assert.equal(prm.resource, mcpUrl);
  assert.deepEqual(seen[0], [prmPath, 200]);
});

await check('sdk: discoverOAuthProtectedResourceMetadata finds the root form', async () => {
  const seen = [];
  const prm = await discoverOAuthProtectedResourceMetadata(`${proxy}/`, {}, recordingFetch(seen));
  assert.equal(prm.resource, mcpUrl);
  assert.deepEqual(seen[seen.length - 1], [prmRoot, 200]);
});

await check('sdk: 403 insufficient_scope names the scopes the call needs', async () => {
  const res = await rpc('tools/call', { name: 'whoami', arguments: {} }, env('TOKEN_READ'));
  assert.equal(res.status, 403);
  const p = extractWWWAuthenticateParams(res);
  assert.equal(p.error, 'insufficient_scope');
  assert.equal(p.scope, 'mcp:read mcp:tools');
  assert.equal(p.resourceMetadataUrl?.href, prmPath);
});

await check('sdk: Client connects, lists and calls tools through the proxy with a bearer token', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${env('TOKEN_ALL')}` } },
  });
  const client = new Client({ name: 'mcpauth-http-test', version: '0.0.0' });
  await client.connect(transport);
  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name), ['whoami']);
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  const who = JSON.parse(r.content[0].text);
  assert.equal(who.user, 'user-1');
  assert.equal(who.auth.user.userId, 'user-1');
  assert.deepEqual(who.auth.scopes, ['mcp:read', 'mcp:tools']);
  assert.equal(who.authorization, null, 'the bearer token must not reach the upstream');
  await client.close();
});

done();
