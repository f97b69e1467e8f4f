// go-flow.mjs - the MCP TypeScript SDK's OAuth client against a Go MCP server (the go-sdk behind
// go/mcpauth/mcpsdk.Handler, libmcpauth in OAuth proxy mode, oidc-provider upstream). Driven by
// go/mcpauth/mcpsdk/tsclient_test.go, which starts the IdP and the server.
// 401 -> metadata -> dynamic registration at the proxy -> consent page -> the IdP -> the
// proxy's callback -> /token -> tools/call get-profile (the go-sdk tool sees the user) -> a
// second user's token on the first user's session is refused by the go-sdk (403), the first
// user's own token on it is not.
// Env: M (server origin), ISS (IdP issuer), USER (the IdP's account), OTHER (a token of another
// user, valid for this server).

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { assert, check, done, drive, env, Jar, MemoryProvider } from './lib.mjs';

const M = env('M');
const ISS = env('ISS');
const USER = env('USER_ID');
const OTHER = env('OTHER');
const mcpUrl = `${M}/mcp`;
const redirectUrl = 'http://127.0.0.1:43119/callback';

const provider = new MemoryProvider(redirectUrl, 'Go server e2e');

await check('go: the proxy metadata of the Go server', async () => {
  const prm = await (await fetch(`${M}/.well-known/oauth-protected-resource/mcp`)).json();
  assert.equal(prm.resource, mcpUrl);
  assert.deepEqual(prm.authorization_servers, [M]);
  const as = await (await fetch(`${M}/.well-known/oauth-authorization-server`)).json();
  assert.equal(as.registration_endpoint, `${M}/register`);
});

await check('go: SDK connect -> 401 -> discovery -> registration -> authorization redirect', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'go-e2e', version: '0.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  assert.ok(provider.info?.client_id, 'registered');
  assert.equal(provider.authUrl.origin + provider.authUrl.pathname, `${M}/authorize`);
});

let code;
await check('go: consent page -> IdP sign-in -> /oauth/callback -> code', async () => {
  const r = await drive(new Jar(), provider.authUrl, redirectUrl);
  code = r.params.get('code');
  assert.ok(code);
  assert.equal(r.params.get('state'), provider.lastState);
  assert.equal(r.params.get('iss'), M);
});

await check('go: SDK finishAuth -> /token -> an access token of the IdP for this server', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await transport.finishAuth(code);
  assert.ok(provider.stored?.access_token);
});

let client;
let transport;
await check('go: tools/call get-profile: the go-sdk tool sees the signed-in user', async () => {
  transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  client = new Client({ name: 'go-e2e', version: '0.0.0' });
  await client.connect(transport);
  const r = await client.callTool({ name: 'get-profile', arguments: {} });
  const p = r.structuredContent ?? JSON.parse(r.content[0].text);
  assert.equal(p.userId, USER);
  assert.deepEqual(p.scopes, ['mcp:read']);
});

const call = JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'get-profile', arguments: {} } });
async function onSession(token) {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': transport.sessionId,
      'mcp-protocol-version': '2025-06-18',
    },
    body: call,
  });
}

await check("go: another user's valid token on this user's session is refused (go-sdk session binding)", async () => {
  assert.ok(transport.sessionId, 'a session id');
  const other = await onSession(OTHER);
  assert.equal(other.status, 403, await other.text());
  const own = await onSession(provider.stored.access_token);
  const text = await own.text();
  assert.equal(own.status, 200, text);
  assert.match(text, new RegExp(`"userId":"${USER}"`));
});

await check("go: the other user's token works on a session of its own", async () => {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${OTHER}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
  });
  assert.equal(res.status, 200, await res.text());
  assert.ok(res.headers.get('mcp-session-id'));
});

await client?.close();
void ISS;
done();
