// e2e-router.test.mjs - the core's router through every adapter, over real sockets on
// 127.0.0.1: provider.express() on Express 4 and 5 (before and after express.json()),
// provider.nodeHandler() on node:http, provider.route() in front of a fetch handler. The
// adapters carry the core's decisions out verbatim (compared with provider.decide()), read the
// body only when the core asks (routeScopes keyed by MCP method) and leave it readable for the
// handler after them, and run a host verifyToken when the core asks for one.
import assert from 'node:assert/strict';
import http from 'node:http';
import test from 'node:test';

import express5 from 'express';
import express4 from 'express4';
import { authOf, jwksVerifier, oauthCustomProvider } from 'libmcpauth';
import { toNodeHandler } from 'mcp-use/node';

import { claims, ISSUER, jwksOf, makeKey, sign } from './helpers.mjs';

const key = makeKey('ES256');

async function start(listener) {
  const server = http.createServer(listener);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

// The handler behind the router: echoes what it got (auth, body as the handler reads it).
function echo(req, res, body) {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ user: req.mcpauth?.user?.userId ?? null, sdkUser: req.auth?.extra?.user?.userId ?? null, token: req.auth?.token === undefined ? null : 'present', body }));
}
function readAll(req) {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });
}

const MCP = (method) => JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: method === 'tools/call' ? { name: 'x', arguments: {} } : {} });

function providerFor(base) {
  return jwksVerifier({
    jwks: jwksOf(key), issuer: ISSUER, baseUrl: base, requiredScopes: ['mcp:read'], scopesSupported: ['mcp:read', 'mcp:write'],
    routeScopes: { 'tools/call': ['mcp:write'] }, useEnv: false,
  });
}

// Every adapter must answer these exactly as the core decides.
async function contract(base, provider, label) {
  const resource = `${base}/mcp`;
  const reader = sign(claims({ aud: resource, sub: 'reader', scope: 'mcp:read' }), key);
  const writer = sign(claims({ aud: resource, sub: 'writer', scope: 'mcp:read mcp:write' }), key);
  const expired = sign(claims({ aud: resource, exp: 1000 }), key);
  const req = async (method, path, { token, body, headers = {} } = {}) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = h['content-type'] || 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers: h, body });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  // what the core decides for the same request, to compare byte for byte
  const core = async (method, path, { token, body } = {}) => {
    const headers = { host: new URL(base).host };
    if (token) headers.authorization = `Bearer ${token}`;
    return provider.decide({ method, path, query: '', headers }, async () => (body === undefined ? { body: '' } : { body }));
  };

  // metadata, answered by the router
  let r = await req('GET', '/.well-known/oauth-protected-resource/mcp');
  assert.equal(r.status, 200, label);
  assert.equal(JSON.parse(r.text).resource, resource);
  let d = await core('GET', '/.well-known/oauth-protected-resource/mcp');
  assert.equal(r.text, d.body, `${label}: metadata body verbatim`);

  // no token: 401 without error=, exactly the core's challenge
  r = await req('POST', '/mcp', { body: MCP('tools/list') });
  d = await core('POST', '/mcp', { body: MCP('tools/list') });
  assert.equal(r.status, 401, label);
  assert.equal(d.status, 401);
  assert.equal(r.headers.get('www-authenticate'), d.headers.find(([k]) => k.toLowerCase() === 'www-authenticate')[1]);
  assert.doesNotMatch(r.headers.get('www-authenticate'), /error=/);
  assert.match(r.headers.get('www-authenticate'), /resource_metadata="/);
  assert.equal(r.text, d.body);

  // expired: 401 invalid_token
  r = await req('POST', '/mcp', { token: expired, body: MCP('tools/list') });
  assert.equal(r.status, 401, label);
  assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/);

  // a reader may list (the body is read: routeScopes by method) and the handler gets the body
  r = await req('POST', '/mcp', { token: reader, body: MCP('tools/list') });
  assert.equal(r.status, 200, `${label}: ${r.text}`);
  let got = JSON.parse(r.text);
  assert.equal(got.user, 'reader');
  assert.equal(got.sdkUser, 'reader');
  assert.equal(got.token, 'present');
  assert.deepEqual(typeof got.body === 'string' ? JSON.parse(got.body) : got.body, JSON.parse(MCP('tools/list')), `${label}: the body after the router`);

  // ... but not call a tool: 403 insufficient_scope naming mcp:write, as the core renders it
  r = await req('POST', '/mcp', { token: reader, body: MCP('tools/call') });
  d = await core('POST', '/mcp', { token: reader, body: MCP('tools/call') });
  assert.equal(r.status, 403, label);
  assert.equal(d.status, 403);
  assert.equal(r.headers.get('www-authenticate'), d.headers.find(([k]) => k.toLowerCase() === 'www-authenticate')[1]);
  assert.match(r.headers.get('www-authenticate'), /error="insufficient_scope"/);
  assert.match(r.headers.get('www-authenticate'), /mcp:write/);

  // a writer may
  r = await req('POST', '/mcp', { token: writer, body: MCP('tools/call') });
  assert.equal(r.status, 200, `${label}: ${r.text}`);
  assert.equal(JSON.parse(r.text).user, 'writer');

  // a body longer than the core's cap: every method scope applies (fail closed) -> 403 for a reader
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1100000) } });
  r = await req('POST', '/mcp', { token: reader, body: big });
  assert.equal(r.status, 403, `${label}: oversized body`);

  // an unprotected path passes without a token
  r = await req('GET', '/health');
  assert.equal(r.status, 200, label);
  assert.equal(JSON.parse(r.text).user, null);

  // attacks: the token in the query string is refused, two Authorization headers are not a
  // bearer token, and spellings of the protected path are still protected (raw request-targets:
  // the adapter forwards them as they came, the core normalizes)
  r = await req('POST', `/mcp?access_token=${writer}`, { body: MCP('tools/list') });
  assert.equal(r.status, 400, `${label}: token in the query`);
  assert.ok(!r.text.includes(writer));
  const raw = (path, headers = {}) =>
    new Promise((resolve, reject) => {
      const u = new URL(base);
      const q = http.request({ host: u.hostname, port: u.port, method: 'POST', path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      q.on('error', reject);
      q.end(MCP('tools/list'));
    });
  for (const p of ['/MCP', '/%6dcp', '/mcp/', '/x/../mcp', '/mcp/./', '/./mcp', '/mcp%2F']) {
    assert.equal(await raw(p), 401, `${label}: ${p} without a token`);
  }
  // (a fetch Request is built by the host: mcp-use's toNodeHandler keeps Node's first copy)
  if (label !== 'fetch') {
    assert.equal(await raw('/mcp', { authorization: [`Bearer ${reader}`, `Bearer ${writer}`] }), 401, `${label}: two Authorization headers`);
  }
}

for (const [name, express] of [['Express 4', express4], ['Express 5', express5]]) {
  test(`${name}: app.use(provider.express()) before express.json()`, async () => {
    let provider;
    const app = express();
    app.use((req, res, next) => provider.express()(req, res, next));
    app.use(express.json({ limit: '4mb' }));
    app.all(name === 'Express 4' ? '*' : '/{*rest}', (req, res) => echo(req, res, req.body ?? null));
    const s = await start(app);
    provider = providerFor(s.base);
    try {
      await contract(s.base, provider, `${name} before json`);
    } finally {
      await s.close();
    }
  });
  test(`${name}: express.json() first, then provider.express()`, async () => {
    let provider;
    const app = express();
    app.use(express.json({ limit: '4mb' }));
    app.use((req, res, next) => provider.express()(req, res, next));
    app.all(name === 'Express 4' ? '*' : '/{*rest}', (req, res) => echo(req, res, req.body ?? null));
    const s = await start(app);
    provider = providerFor(s.base);
    try {
      await contract(s.base, provider, `${name} after json`);
    } finally {
      await s.close();
    }
  });
}

test('node:http: provider.nodeHandler(inner); inner reads the body from the stream', async () => {
  let handler;
  const s = await start((req, res) => handler(req, res));
  const provider = providerFor(s.base);
  handler = provider.nodeHandler(async (req, res) => echo(req, res, await readAll(req)));
  try {
    await contract(s.base, provider, 'node:http');
  } finally {
    await s.close();
  }
});

test('fetch: (await provider.route(request)) ?? next(request), next reads the body', async () => {
  let provider;
  const next = async (request) => {
    const auth = authOf(request);
    return Response.json({ user: auth?.user?.userId ?? null, sdkUser: auth?.user?.userId ?? null, token: auth?.accessToken ? 'present' : null, body: await request.text() });
  };
  const s = await start(toNodeHandler({ fetch: async (request) => (await provider.route(request)) ?? next(request) }));
  provider = providerFor(s.base);
  try {
    await contract(s.base, provider, 'fetch');
  } finally {
    await s.close();
  }
});

test('a host verifyToken runs when the core asks (host_verify), and the core completes the decision', async () => {
  const calls = [];
  let provider;
  const s = await start((req, res) => provider.nodeHandler((rq, rs) => echo(rq, rs, null))(req, res));
  const resource = `${s.base}/mcp`;
  provider = oauthCustomProvider({
    issuer: ISSUER, authEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, baseUrl: s.base, requiredScopes: ['mcp:read'], useEnv: false,
    verifyToken: async (token) => {
      calls.push(token);
      if (!token.startsWith('opaque-')) throw new Error('unknown token');
      const now = Math.floor(Date.now() / 1000);
      return { payload: { sub: token.slice(7), iss: ISSUER, aud: resource, scope: token.endsWith('ro') ? 'profile' : 'mcp:read', exp: now + 60 } };
    },
    getUserInfo: (p) => ({ userId: `host:${p.sub}` }),
  });
  const post = async (token) => {
    const res = await fetch(`${s.base}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: MCP('tools/list') });
    return { status: res.status, www: res.headers.get('www-authenticate'), text: await res.text() };
  };
  try {
    let r = await post('opaque-alice');
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).user, 'host:alice');
    r = await post('forged');
    assert.equal(r.status, 401);
    assert.match(r.www, /error="invalid_token"/);
    r = await post('opaque-bob-ro');
    assert.equal(r.status, 403);
    assert.match(r.www, /error="insufficient_scope"/);
    assert.deepEqual(calls, ['opaque-alice', 'forged', 'opaque-bob-ro']);
  } finally {
    await s.close();
  }
});

test('a body already consumed by someone else: the router fails closed instead of waiting', async () => {
  let provider;
  const s = await start(async (req, res) => {
    await readAll(req); // a handler in front read the stream and kept nothing
    provider.nodeHandler((rq, rs) => echo(rq, rs, null))(req, res);
  });
  provider = providerFor(s.base);
  try {
    const reader = sign(claims({ aud: `${s.base}/mcp`, sub: 'reader', scope: 'mcp:read' }), key);
    const ac = AbortSignal.timeout(10000);
    const res = await fetch(`${s.base}/mcp`, { method: 'POST', signal: ac, headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' }, body: MCP('tools/list') });
    assert.equal(res.status, 403, 'every method scope applies');
  } finally {
    await s.close();
  }
});
