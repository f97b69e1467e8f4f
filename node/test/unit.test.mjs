// unit.test.mjs - the package itself: entries, factories and zero-config, verify/verifySync,
// errors, the non-blocking fast path and the worker hop, close and finalizers.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

import * as esm from 'libmcpauth';
import lib, { AuthError, Code, ConfigError, decodeUnverified, jwksVerifier, McpAuthError, OAuthProvider } from 'libmcpauth';

import { claims, ISSUER, jwksOf, jwksServer, makeKey, RESOURCE, sign } from './helpers.mjs';

const require = createRequire(import.meta.url);
const rs = makeKey('RS256');
const es = makeKey('ES256');
const inline = () => jwksVerifier({ jwks: jwksOf(rs, es), issuer: ISSUER, resource: RESOURCE, useEnv: false });

test('CommonJS and ESM entries export the same API', () => {
  const cjs = require('libmcpauth');
  for (const name of ['oauthAuth0Provider', 'oauthBetterAuthProvider', 'oauthClerkProvider', 'oauthWorkOSProvider', 'oauthSupabaseProvider',
    'oauthKeycloakProvider', 'oauthCustomProvider', 'jwksVerifier', 'oauthProxy', 'OAuthProvider', 'AuthError', 'ConfigError', 'Code']) {
    assert.equal(typeof cjs[name], name === 'Code' ? 'object' : 'function', name);
    assert.equal(esm[name], cjs[name], name);
  }
  assert.equal(lib, cjs);
  assert.match(cjs.coreVersion(), /^\d+\.\d+\.\d+$/);
});

test('factories: a missing required option is a ConfigError naming the option (and its variable only when the environment is read)', () => {
  const cases = [
    ['oauthAuth0Provider', {}, /domain/, /MCP_USE_OAUTH_AUTH0_DOMAIN/],
    ['oauthClerkProvider', {}, /frontendApiUrl/, /MCP_USE_OAUTH_CLERK_FRONTEND_API_URL/],
    ['oauthWorkOSProvider', {}, /subdomain/, /MCP_USE_OAUTH_WORKOS_SUBDOMAIN/],
    ['oauthSupabaseProvider', {}, /projectId/, /MCP_USE_OAUTH_SUPABASE_PROJECT_ID/],
    ['oauthKeycloakProvider', {}, /serverUrl|realm/, /MCP_USE_OAUTH_KEYCLOAK_/],
    ['oauthBetterAuthProvider', {}, /authURL/, /MCP_USE_OAUTH_BETTER_AUTH_URL/],
    ['jwksVerifier', { jwksUrl: 'https://idp.example.com/jwks' }, /issuer/, null],
  ];
  const saved = { ...process.env };
  try {
    for (const k of Object.keys(process.env)) if (k.startsWith('MCP_USE_OAUTH_')) delete process.env[k];
    for (const [fn, opts, re, envRe] of cases) {
      assert.throws(() => lib[fn]({ ...opts, useEnv: false }), (e) => {
        assert.ok(e instanceof ConfigError, `${fn}: ${e}`);
        assert.ok(e instanceof McpAuthError);
        assert.equal(e.code, Code.CONFIG);
        assert.equal(e.codeName, 'MCPAUTH_E_CONFIG');
        assert.match(e.message, re, fn);
        assert.doesNotMatch(e.message, /MCP_USE_OAUTH_/, fn); // the environment is not read
        return true;
      });
      if (envRe) assert.throws(() => lib[fn]({ ...opts }), (e) => { assert.match(e.message, envRe, fn); return true; });
    }
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  assert.throws(() => lib.oauthCustomProvider({ issuer: ISSUER, useEnv: false }), ConfigError);
});

test('factories: zero-config from MCP_USE_OAUTH_* (explicit options win)', () => {
  const saved = { ...process.env };
  try {
    process.env.MCP_URL = 'https://mcp.acme.test'; // tokens are bound to this server's resource
    process.env.MCP_USE_OAUTH_AUTH0_DOMAIN = 'acme.us.auth0.com';
    process.env.MCP_USE_OAUTH_AUTH0_AUDIENCE = 'https://api.acme.test';
    const a = lib.oauthAuth0Provider();
    assert.equal(a.config.issuer, 'https://acme.us.auth0.com/');
    assert.equal(a.name, 'auth0');
    const b = lib.oauthAuth0Provider({ domain: 'other.eu.auth0.com' });
    assert.equal(b.config.issuer, 'https://other.eu.auth0.com/');
    process.env.MCP_USE_OAUTH_KEYCLOAK_SERVER_URL = 'https://kc.acme.test';
    process.env.MCP_USE_OAUTH_KEYCLOAK_REALM = 'demo';
    assert.equal(lib.oauthKeycloakProvider().config.issuer, 'https://kc.acme.test/realms/demo');
    process.env.MCP_USE_OAUTH_WORKOS_SUBDOMAIN = 'acme';
    assert.ok(lib.oauthWorkOSProvider().config.issuer);
    process.env.MCP_USE_OAUTH_CLERK_FRONTEND_API_URL = 'https://clerk.acme.test';
    assert.ok(lib.oauthClerkProvider().config.issuer);
    process.env.MCP_USE_OAUTH_SUPABASE_PROJECT_ID = 'abcd';
    assert.ok(lib.oauthSupabaseProvider().config.issuer);
    assert.throws(() => lib.oauthAuth0Provider({ useEnv: false }), ConfigError);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  }
});

test('verify and verifySync: the seed ctx.auth shape', async () => {
  const p = inline();
  const t = sign(claims({ permissions: ['notes:write'] }), rs);
  const a = await p.verify(t);
  assert.equal(a.user.userId, 'user-1');
  assert.equal(a.user.email, 'ada@example.com');
  assert.equal(a.user.name, 'Ada');
  assert.deepEqual([...a.scopes], ['mcp:read']);
  assert.deepEqual([...a.permissions], ['notes:write']);
  assert.equal(a.accessToken, t);
  assert.equal(a.clientId, 'client-1');
  assert.equal(typeof a.expiresAt, 'number');
  assert.equal(a.payload.sub, 'user-1');
  const b = p.verifySync(t);
  assert.deepEqual(b, a);
  const e = await p.verify(sign(claims(), es));
  assert.equal(e.user.userId, 'user-1');
});

test('the addon sends a result with accessToken emptied only when it is the very token given', async () => {
  const native = (await import('../lib/native.js')).default;
  const p = inline();
  const t = sign(claims(), rs);
  for (const flags of [0, 4]) {
    const raw = native.verify(p._engine, t, flags);
    assert.ok(raw.startsWith('{"accessToken":"",'), raw.slice(0, 40));
    assert.ok(!raw.includes(t));
  }
  const a = p.verifySync(t);
  assert.equal(a.accessToken, t);
  assert.equal(Object.keys(a)[0], 'accessToken', 'the key keeps its place');
  // a token longer than the addon's 4 KiB stack buffer (read into the heap)
  const big = sign(claims({ note: 'x'.repeat(5000) }), rs);
  assert.ok(big.length > 4096);
  assert.ok(!native.verify(p._engine, big, 0).includes(big));
  assert.equal(p.verifySync(big).accessToken, big);
  assert.equal((await p.verify(big, { noCache: true })).accessToken, big);
  assert.equal(JSON.stringify(a), JSON.stringify({ ...JSON.parse(native.verify(p._engine, t, 0)), accessToken: t }));
  // the router's pass carries the token it read from the header; a repeated decision is the
  // same frozen object, a different token's is another one
  const req = (tok) => ({ method: 'POST', path: '/mcp', query: '', headers: { authorization: `Bearer ${tok}` } });
  const r = await p.decide(req(t));
  assert.equal(r.action, 'pass');
  assert.equal(r.auth.accessToken, t);
  assert.ok(Object.isFrozen(r.auth) && Object.isFrozen(r.auth.payload));
  const again = await p.decide(req(t));
  assert.equal(again.auth, r.auth);
  const t2 = sign(claims({ sub: 'user-2' }), rs);
  const other = await p.decide(req(t2));
  assert.equal(other.auth.accessToken, t2);
  assert.equal(other.auth.user.userId, 'user-2');
  assert.equal((await p.decide(req(`${t}x`))).status, 401, 'a tampered token is refused, whatever was memoized');
});

test('a valid token followed by a non-ASCII character is refused whatever its length (no silent cut at the addon\'s 4 KiB buffer)', async () => {
  const p = inline();
  const seen = new Set();
  for (let n = 1500; n < 2800 && seen.size < 6; n++) {
    const t = sign(claims({ note: 'x'.repeat(n) }), rs);
    if (t.length < 4088 || t.length > 4096 || seen.has(t.length)) continue;
    seen.add(t.length);
    assert.equal(p.verifySync(t).accessToken, t);
    for (const tail of ['\u00e9', '\u20ac', '\u{1F600}']) {
      assert.throws(() => p.verifySync(t + tail), (e) => e instanceof AuthError && e.code === Code.TOKEN_MALFORMED, `length ${t.length} + ${tail}`);
      await assert.rejects(p.verify(t + tail), (e) => e instanceof AuthError && e.code === Code.TOKEN_MALFORMED);
    }
  }
  assert.ok(seen.size >= 4, `token lengths tried: ${[...seen]}`);
});

test('a rejected token is an AuthError with code, oauthError, httpStatus and a detail without the token', async () => {
  const p = inline();
  const bad = [
    [sign(claims({ exp: 1000 }), rs), Code.EXPIRED, 401],
    [sign(claims({ aud: 'https://other.test/mcp' }), rs), Code.AUDIENCE_MISMATCH, 401],
    [sign(claims({ iss: `${ISSUER}.evil` }), rs), Code.ISSUER_MISMATCH, 401],
    [`${sign(claims(), rs).slice(0, -4)}AAAA`, Code.BAD_SIGNATURE, 401],
    ['not.a.jwt', Code.TOKEN_MALFORMED, 401],
    [sign(claims(), makeKey('RS256', 'unknown')), Code.KEY_NOT_FOUND, 401],
  ];
  for (const [tok, code, status] of bad) {
    await assert.rejects(p.verify(tok), (e) => {
      assert.ok(e instanceof AuthError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.oauthError, 'invalid_token');
      assert.equal(e.httpStatus, status);
      assert.ok(!e.detail.includes(tok), 'no token in the detail');
      assert.ok(!e.message.includes(tok));
      return true;
    });
    assert.throws(() => p.verifySync(tok), (e) => e instanceof AuthError && e.code === code);
  }
  const scoped = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, requiredScopes: ['admin'], useEnv: false });
  await assert.rejects(scoped.verify(sign(claims(), rs)), (e) => e.code === Code.INSUFFICIENT_SCOPE && e.oauthError === 'insufficient_scope' && e.httpStatus === 403);
  const r = await p.tryVerify('x');
  assert.ok(r.error instanceof AuthError);
  await assert.rejects(p.verify(42), TypeError);
});

test('a repeated token is served from the core cache; the objects are frozen', async () => {
  const p = inline();
  const t = sign(claims(), rs);
  const a = await p.verify(t);
  const b = await p.verify(t);
  assert.equal(a, b, 'the same object for the same answer');
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.user) && Object.isFrozen(a.scopes));
  // still the core's decision each time: an engine whose token expires is asked every time
  const short = sign(claims({ exp: Math.floor(Date.now() / 1000) + 1 }), rs);
  const quick = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, leewaySeconds: 0, useEnv: false });
  await quick.verify(short);
  await new Promise((r) => setTimeout(r, 2100));
  await assert.rejects(quick.verify(short), (e) => e.code === Code.EXPIRED);
});

test('getUserInfo maps the payload to ctx.auth.user (sync and async)', async () => {
  const p = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, useEnv: false, getUserInfo: (pl) => ({ userId: `u:${pl.sub}`, email: pl.email, roles: ['r'] }) });
  const a = await p.verify(sign(claims(), rs));
  assert.equal(a.user.userId, 'u:user-1');
  assert.deepEqual(a.user.roles, ['r']);
  assert.equal(p.verifySync(sign(claims(), rs)).user.userId, 'u:user-1');
  const q = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, resource: RESOURCE, useEnv: false, getUserInfo: async (pl) => ({ userId: pl.sub.toUpperCase() }) });
  assert.equal((await q.verify(sign(claims(), rs))).user.userId, 'USER-1');
  assert.throws(() => q.verifySync(sign(claims(), rs)), TypeError);
});

test('oauthCustomProvider with a host verifyToken (sync or async): the core maps and checks the claims', async () => {
  const seen = [];
  const mk = (fn) => lib.oauthCustomProvider({ issuer: ISSUER, authEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, resource: RESOURCE, requiredScopes: ['mcp:read'], verifyToken: fn, useEnv: false });
  const sync = mk((t) => {
    seen.push(t);
    if (t === 'bad') throw new Error('nope');
    return { payload: { sub: 'h1', email: 'h@example.com', scope: t === 'noscope' ? 'other' : 'mcp:read', exp: Math.floor(Date.now() / 1000) + 60 } };
  });
  const a = await sync.verify('good');
  assert.equal(a.user.userId, 'h1');
  assert.equal(a.user.email, 'h@example.com');
  assert.equal(sync.verifySync('good').user.userId, 'h1');
  await assert.rejects(sync.verify('bad'), (e) => e instanceof AuthError && e.oauthError === 'invalid_token' && /verifyToken rejected/.test(e.message));
  await assert.rejects(sync.verify('noscope'), (e) => e.code === Code.INSUFFICIENT_SCOPE);
  const asyncP = mk(async (t) => ({ sub: 'h2', scope: 'mcp:read', token_len: t.length }));
  assert.equal((await asyncP.verify('abc')).user.userId, 'h2');
  assert.throws(() => asyncP.verifySync('abc'), TypeError);
  assert.deepEqual(seen.slice(0, 1), ['good']);
});

test('remote JWKS: the first verify moves to the pool (event loop free), later ones stay on the JS thread', async () => {
  const srv = await jwksServer(jwksOf(rs));
  srv.state.delayMs = 300;
  try {
    const p = jwksVerifier({ jwksUrl: srv.url, issuer: ISSUER, resource: RESOURCE, useEnv: false });
    const t = sign(claims(), rs);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 20);
    const a = await p.verify(t);
    clearInterval(iv);
    assert.equal(a.user.userId, 'user-1');
    assert.equal(a.accessToken, t, 'the pool path puts the token back too');
    assert.ok(ticks >= 5, `the event loop kept running during the fetch (${ticks} ticks)`);
    assert.equal(srv.state.hits, 1);
    // keys cached now: another token verifies synchronously (no await needed for the core)
    const b = p.verifySync(sign(claims({ sub: 'user-2' }), rs));
    assert.equal(b.user.userId, 'user-2');
    assert.equal(srv.state.hits, 1);
    // many concurrent first verifications on a fresh engine: one fetch, all resolve
    const q = jwksVerifier({ jwksUrl: srv.url, issuer: ISSUER, resource: RESOURCE, useEnv: false });
    srv.state.delayMs = 100;
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => q.verify(sign(claims({ sub: `c${i}` }), rs))));
    assert.deepEqual(all.map((x) => x.user.userId), Array.from({ length: 20 }, (_, i) => `c${i}`));
    assert.ok(all.every((x) => x.accessToken.length > 100 && decodeUnverified(x.accessToken).payload.sub === x.user.userId));
    assert.ok(srv.state.hits <= 3, `JWKS fetched ${srv.state.hits} times`);
  } finally {
    await srv.close();
  }
});

test('keys unavailable: 503 temporarily_unavailable, not invalid_token', async () => {
  const p = jwksVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks', issuer: ISSUER, resource: RESOURCE, httpConnectTimeoutMs: 200, httpTimeoutMs: 300, useEnv: false });
  await assert.rejects(p.verify(sign(claims(), rs)), (e) => e instanceof AuthError && e.code === Code.KEYS_UNAVAILABLE && e.httpStatus === 503);
});

test('close(): later calls throw; a close during a call in flight waits for it', async () => {
  const srv = await jwksServer(jwksOf(rs));
  srv.state.delayMs = 200;
  try {
    const p = jwksVerifier({ jwksUrl: srv.url, issuer: ISSUER, resource: RESOURCE, useEnv: false });
    const pending = p.verify(sign(claims(), rs));
    await new Promise((r) => setTimeout(r, 20));
    p.close();
    const a = await pending;
    assert.equal(a.user.userId, 'user-1');
    await assert.rejects(p.verify(sign(claims(), rs)), /closed/);
    assert.throws(() => p.verifySync('x'), /closed/);
    p.close();
  } finally {
    await srv.close();
  }
});

test('metadata, challenges and the resolved configuration', async () => {
  const p = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, baseUrl: 'https://mcp.node.test', requiredScopes: ['mcp:read'], useEnv: false });
  assert.equal(p.resource, RESOURCE);
  const prm = p.protectedResourceMetadata();
  assert.equal(prm.resource, RESOURCE);
  assert.deepEqual(prm.authorization_servers, [ISSUER]);
  // no upstream to mirror and no endpoints to synthesize from: an error, not a hang
  await assert.rejects(p.authorizationServerMetadata(), (e) => e instanceof McpAuthError);
  const ch = p.challenge(Code.TOKEN_MISSING);
  assert.match(ch, /^Bearer resource_metadata="https:\/\/mcp\.node\.test\/\.well-known\/oauth-protected-resource\/mcp"/);
  assert.doesNotMatch(ch, /error=/);
  assert.match(p.challenge(Code.EXPIRED), /error="invalid_token"/);
  assert.equal(p.config.provider, 'jwks');
  assert.ok(!JSON.stringify(p.config).includes('secret'));
});

test('OAuthProvider from a raw core configuration; bad JSON types are TypeErrors', () => {
  const p = new OAuthProvider({ provider: 'jwks', issuer: ISSUER, audience: 'api', jwks: jwksOf(rs) }, { useEnv: false });
  assert.equal(p.name, 'jwks');
  assert.throws(() => new OAuthProvider(null), TypeError);
  assert.throws(() => jwksVerifier('x'), TypeError);
});

test('oauthProxy: the seed and core proxy options go into the core\'s "proxy" object', () => {
  const v = jwksVerifier({ jwks: jwksOf(rs), issuer: ISSUER, baseUrl: 'https://mcp.node.test', useEnv: false });
  const p = lib.oauthProxy({
    authEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, issuer: ISSUER, clientId: 'c', clientSecret: 's',
    scopes: ['openid', 'mcp:read'], allowedScopes: ['openid', 'mcp:read', 'offline_access'], sealingSecret: 'x'.repeat(32),
    serverName: 'Unit', consent: true, verifyToken: v, baseUrl: 'https://mcp.node.test', useEnv: false,
  });
  assert.equal(p.options.proxy.clientId, 'c');
  assert.deepEqual(p.options.proxy.allowedScopes, ['openid', 'mcp:read', 'offline_access']);
  assert.equal(p.options.provider, 'jwks');
  assert.equal(p.options.baseUrl, 'https://mcp.node.test');
  assert.equal(p.options.proxy.baseUrl, undefined);
  assert.ok(!JSON.stringify(p.config).includes('"s"'), 'no client secret in the resolved configuration');
  assert.throws(() => lib.oauthProxy({ clientId: 'c', verifyToken: 42 }), TypeError);
  assert.throws(() => lib.oauthProxy({ clientId: 'c', verifyToken: v, useEnv: false, sealingSecret: 'short' }), ConfigError);
});
