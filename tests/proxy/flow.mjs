// flow.mjs - the whole OAuth proxy flow driven by the official MCP TypeScript SDK client:
// 401 -> protected resource metadata -> the proxy's AS metadata -> dynamic registration at the
// proxy's /register -> /authorize -> consent page (GET, then POST #approve with the CSRF
// field and the cookies, like a browser) -> the upstream OpenID provider (oidc-provider,
// pre-registered client, registration disabled, automatic login) -> /oauth/callback -> the
// SDK's /token call -> an authenticated MCP call through `mcpauth serve` (the upstream MCP
// server sees the user) -> the SDK's refresh_token grant -> another call with the new token.
// Then the same flow across three stateless replicas (authorize on R1, callback on R2, token
// on R3).
// Env (from run.sh): M, R, ISS, PR1, PR2, PR3.
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { assert, browse, check, done, drive, env, isConsentPage, Jar, mcpCall, MemoryProvider, parseConsent, payloadOf, withPort } from './lib.mjs';

const M = env('M');
const R = env('R');
const ISS = env('ISS');
const [PR1, PR2, PR3] = ['PR1', 'PR2', 'PR3'].map(env);

async function whoami(mcpUrl, provider) {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'mcpauth-proxy-e2e', version: '0.0.0' });
  await client.connect(transport);
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  return JSON.parse(r.content[0].text);
}

// ---- 1. the SDK flow against proxy M --------------------------------------------------------

const mcpUrl = `${M}/mcp`;
const redirectUrl = 'http://127.0.0.1:43117/callback';
const provider = new MemoryProvider(redirectUrl, 'Proxy E2E Desktop');

await check('flow: proxy metadata names the proxy as authorization server with /register', async () => {
  const prm = await (await fetch(`${M}/.well-known/oauth-protected-resource/mcp`)).json();
  assert.equal(prm.resource, mcpUrl);
  assert.deepEqual(prm.authorization_servers, [M]);
  const as = await (await fetch(`${M}/.well-known/oauth-authorization-server`)).json();
  assert.equal(as.issuer, M);
  assert.equal(as.authorization_endpoint, `${M}/authorize`);
  assert.equal(as.token_endpoint, `${M}/token`);
  assert.equal(as.registration_endpoint, `${M}/register`);
  assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(as.token_endpoint_auth_methods_supported, ['none']);
  assert.equal(as.client_id_metadata_document_supported, true);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
});

await check('flow: upstream IdP has registration disabled (no registration_endpoint, /reg 404)', async () => {
  const doc = await (await fetch(`${ISS}/.well-known/openid-configuration`)).json();
  assert.equal(doc.registration_endpoint, undefined);
  const res = await fetch(`${ISS}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 404);
});

let steps;
await check('flow: SDK connect -> 401 -> discovery -> dynamic registration at the proxy -> authorization redirect', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'mcpauth-proxy-e2e', version: '0.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  assert.equal(provider.registrations, 1, 'the SDK registered once');
  assert.ok(provider.info.client_id.length > 40, 'a sealed client_id');
  assert.equal(provider.info.token_endpoint_auth_method, 'none');
  assert.equal(provider.info.client_secret, undefined, 'no secret is handed out');
  const u = provider.authUrl;
  assert.ok(u, 'the SDK asked for a browser redirect');
  assert.equal(u.origin + u.pathname, `${M}/authorize`);
  assert.equal(u.searchParams.get('client_id'), provider.info.client_id);
  assert.equal(u.searchParams.get('resource'), mcpUrl);
  assert.equal(u.searchParams.get('scope'), 'mcp:read');
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(u.searchParams.get('state'), provider.lastState);
});

let callback;
await check('flow: browser: consent page -> approve (form POST with CSRF field + cookies) -> IdP login -> /oauth/callback -> client redirect', async () => {
  const jar = new Jar();
  const page = await browse(jar, provider.authUrl);
  assert.ok(isConsentPage(page), `consent page expected, got ${page.status}`);
  const f = parseConsent(page.text);
  assert.equal(f.clientName, 'Proxy E2E Desktop');
  assert.equal(f.redirectUri, redirectUrl);
  assert.equal(f.redirectHost, '127.0.0.1:43117');
  assert.deepEqual(f.scopes, ['mcp:read']);
  assert.ok(jar.get('localhost', '__Host-mcpauth-csrf'), 'CSRF cookie set');
  const r = await drive(jar, provider.authUrl, redirectUrl);
  steps = r.steps;
  callback = r.params;
  assert.ok(callback.get('code'));
  assert.equal(callback.get('state'), provider.lastState);
  assert.equal(callback.get('iss'), M);
  assert.equal(callback.get('error'), null);
  // the consent cookie is remembered for this client
  assert.ok(jar.names('localhost').some((n) => n.startsWith('__Host-mcpauth-consent-')));
  // the binding cookie was cleared at the callback
  assert.ok(!jar.names('localhost').some((n) => n.startsWith('__Host-mcpauth-bind-')));
});

await check('flow: the upstream redirect uses the pre-registered client, the proxy callback and the proxy PKCE', async () => {
  const up = steps.find((s) => s.location && s.location.startsWith(`${ISS}/auth?`));
  assert.ok(up, JSON.stringify(steps));
  const q = new URL(up.location).searchParams;
  assert.equal(q.get('client_id'), 'mcp-test-client');
  assert.equal(q.get('redirect_uri'), `${M}/oauth/callback`);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.notEqual(q.get('code_challenge'), provider.authUrl.searchParams.get('code_challenge'));
  assert.equal(q.get('resource'), mcpUrl);
  assert.equal(q.get('scope'), 'mcp:read');
  assert.notEqual(q.get('state'), provider.lastState, 'the upstream state is the proxy sealed state');
  const cb = steps.find((s) => s.url.startsWith(`${M}/oauth/callback?`));
  assert.ok(cb, 'the IdP returned to the proxy callback');
  assert.equal(new URL(cb.url).searchParams.get('iss'), ISS);
});

await check('flow: SDK finishAuth -> proxy /token -> JWT access token for the MCP resource + refresh token', async () => {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await transport.finishAuth(callback.get('code'));
  const t = provider.stored;
  assert.ok(t.access_token);
  assert.ok(t.refresh_token, 'refresh token issued');
  assert.equal(t.token_type.toLowerCase(), 'bearer');
  const c = payloadOf(t.access_token);
  assert.equal(c.iss, ISS);
  assert.equal(c.aud, mcpUrl);
  assert.equal(c.sub, 'test-user');
  assert.equal(c.client_id, 'mcp-test-client');
  assert.equal(c.scope, 'mcp:read');
});

await check('flow: authenticated MCP call through mcpauth serve; the upstream MCP server sees the user', async () => {
  const who = await whoami(mcpUrl, provider);
  assert.equal(who.user, 'test-user');
  assert.equal(who.auth.user.email, 'test@example.com');
  assert.deepEqual(who.auth.scopes, ['mcp:read']);
  assert.equal(who.auth.resource, mcpUrl);
  assert.equal(who.authorization, null, 'the bearer token is not forwarded upstream');
});

await check('flow: SDK refresh_token grant through the proxy -> new access token that works', async () => {
  const before = provider.stored;
  const result = await auth(provider, { serverUrl: mcpUrl });
  assert.equal(result, 'AUTHORIZED');
  const after = provider.stored;
  assert.notEqual(after.access_token, before.access_token);
  assert.equal(payloadOf(after.access_token).aud, mcpUrl);
  const who = await whoami(mcpUrl, provider);
  assert.equal(who.user, 'test-user');
  // an unknown refresh token: the upstream refuses it and the proxy forwards the OAuth error
  const res = await fetch(`${M}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: `${before.refresh_token}x`, client_id: provider.info.client_id }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'invalid_grant');
  assert.equal(res.headers.get('cache-control'), 'no-store');
});

await check('flow: a second authorization of the same client skips the consent page (remembered approval)', async () => {
  const jar = new Jar();
  const first = await drive(jar, provider.authUrl, redirectUrl);
  assert.ok(first.steps.some((s) => s.url.startsWith('POST ')), 'first time: consent posted');
  const again = await drive(jar, provider.authUrl, redirectUrl);
  assert.ok(!again.steps.some((s) => s.url.startsWith('POST ')), 'second time: no consent page');
  assert.equal(again.steps[0].status, 302);
  assert.ok(again.steps[0].location.startsWith(`${ISS}/auth?`));
  assert.ok(again.params.get('code'));
});

// ---- 2. three stateless replicas ----------------------------------------------------------

// The replicas share one public base URL (R = http://localhost:PR1); a load balancer would
// pick the instance. The test picks it by rewriting the port: register + metadata on R1 and
// R2, /authorize (consent GET and POST) on R1, /oauth/callback on R2, /token on R3.
const routeTo = (url, port) => withPort(url, port);
const sdkFetch = (input, init) => {
  const u = new URL(typeof input === 'string' ? input : input.url ?? String(input));
  let port = PR2;
  if (u.pathname === '/register') port = PR1;
  if (u.pathname === '/token') port = PR3;
  return fetch(routeTo(u.href, port), init);
};

await check('replicas: SDK registers on R1, authorize + consent on R1, callback on R2, token on R3: flow succeeds', async () => {
  const rp = new MemoryProvider('http://127.0.0.1:43118/callback', 'Replica Client');
  const first = await auth(rp, { serverUrl: `${R}/mcp`, fetchFn: sdkFetch });
  assert.equal(first, 'REDIRECT');
  assert.equal(rp.authUrl.origin, R);
  const jar = new Jar();
  const r = await drive(jar, routeTo(rp.authUrl.href, PR1), rp.redirectUrl, {
    rewrite: (u) => (u.startsWith(`${R}/oauth/callback`) ? routeTo(u, PR2) : u),
  });
  const cbStep = r.steps.find((s) => s.url.includes('/oauth/callback'));
  assert.equal(new URL(cbStep.url).port, PR2, 'the callback went to R2');
  const consentPost = r.steps.find((s) => s.url.startsWith('POST '));
  assert.equal(new URL(consentPost.url.slice(5)).port, PR1, 'the consent POST went to R1');
  assert.equal(r.params.get('iss'), R);
  const second = await auth(rp, { serverUrl: `${R}/mcp`, authorizationCode: r.params.get('code'), fetchFn: sdkFetch });
  assert.equal(second, 'AUTHORIZED');
  assert.equal(payloadOf(rp.stored.access_token).aud, `${R}/mcp`);
  // the token works on every replica
  for (const port of [PR1, PR2, PR3]) {
    const res = await mcpCall(routeTo(`${R}/mcp`, port), rp.stored.access_token, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'whoami', arguments: {} },
    });
    assert.equal(res.status, 200, `replica ${port}`);
    assert.equal(JSON.parse(res.json.result.content[0].text).user, 'test-user');
  }
  // refresh on R1
  const before = rp.stored.access_token;
  const res = await fetch(routeTo(`${R}/token`, PR1), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rp.stored.refresh_token, client_id: rp.info.client_id }),
  });
  assert.equal(res.status, 200);
  const t = await res.json();
  assert.notEqual(t.access_token, before);
});

await check('replicas: consent page served by R2 is approved by a POST to R3', async () => {
  const rp = new MemoryProvider('http://127.0.0.1:43119/callback', 'Replica Client 2');
  assert.equal(await auth(rp, { serverUrl: `${R}/mcp`, fetchFn: sdkFetch }), 'REDIRECT');
  const jar = new Jar();
  const r = await drive(jar, routeTo(rp.authUrl.href, PR2), rp.redirectUrl, {
    consentPostTo: () => routeTo(R, PR3),
    origin: R,
    rewrite: (u) => (u.startsWith(`${R}/oauth/callback`) ? routeTo(u, PR1) : u),
  });
  assert.ok(r.steps.some((s) => s.url.startsWith('POST ') && new URL(s.url.slice(5)).port === PR3));
  assert.ok(r.params.get('code'));
});

done();
