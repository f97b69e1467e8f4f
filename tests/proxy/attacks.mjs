// attacks.mjs - named attacks on the OAuth proxy over real HTTP: `mcpauth serve` processes, the
// oidc-provider upstream, a loopback server for client ID metadata documents, and cookie jars
// that stand for browsers. The C suite (tests/c/check_proxy.c) covers the same rules on the
// engine directly; these check them on the wire, across processes, with a real upstream.
// Env (from run.sh): M (proxy, loopback CIMD allowed), R + PR1..PR3 (replicas, another
// sealing secret, CIMD loopback off), PF (M's config with the clock one hour ahead), ISS.
import http from 'node:http';

import {
  assert,
  authorizeUrl,
  browse,
  check,
  done,
  drive,
  env,
  isConsentPage,
  Jar,
  mcpCall,
  parseConsent,
  pkce,
  register,
  submitConsent,
  token,
  withPort,
} from './lib.mjs';

const M = env('M');
const P = env('P'); // allowedRedirectUris: https://*.example.com/callback, http://127.0.0.1:*/callback
const R = env('R');
const ISS = env('ISS');
const PF = env('PF');
const PR2 = env('PR2');
const PR3 = env('PR3');
const MCP_M = `${M}/mcp`;
const CB = 'http://127.0.0.1:45001/callback';
const CB2 = 'http://127.0.0.1:45002/cb';

// ---- a loopback server for client ID metadata documents --------------------------------------

const cimdHits = [];
let cimdConnections = 0;
const cimd = http.createServer((req, res) => {
  cimdHits.push(req.url);
  const base = `http://127.0.0.1:${cimd.address().port}`;
  const docs = {
    '/good.json': { client_id: `${base}/good.json`, client_name: 'Metadata Client', redirect_uris: [CB2] },
    '/mismatch.json': { client_id: `${base}/other.json`, client_name: 'Impostor', redirect_uris: [CB2] },
    '/pattern-evil.json': { client_id: `${base}/pattern-evil.json`, client_name: 'Pattern', redirect_uris: ['https://evil.test/?.example.com/callback'] },
    '/pattern-ok.json': { client_id: `${base}/pattern-ok.json`, client_name: 'Pattern', redirect_uris: ['https://app.example.com/callback'] },
  };
  const doc = docs[req.url];
  if (!doc) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(doc));
});
cimd.on('connection', () => cimdConnections++);
await new Promise((r) => cimd.listen(0, '127.0.0.1', r));
const CIMD = `http://127.0.0.1:${cimd.address().port}`;

// ---- helpers ---------------------------------------------------------------------------------

async function newClient(base, redirect = CB, name = 'Attack Test Client') {
  const r = await register(base, { client_name: name, redirect_uris: [redirect], token_endpoint_auth_method: 'none' });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.client_id;
}

function authParams(clientId, p, extra = {}) {
  return {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CB,
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    state: 'client-state-1',
    scope: 'mcp:read',
    resource: MCP_M,
    ...extra,
  };
}

const isCallback = (base) => (loc) => loc.startsWith(`${base}/oauth/callback`);

// Authorize + approve in `jar`; returns the upstream authorization URL (not followed).
async function upstreamUrl(jar, base, params) {
  const page = await browse(jar, authorizeUrl(base, params));
  assert.ok(isConsentPage(page), `consent page expected, got ${page.status} ${page.text.slice(0, 200)}`);
  const r = await submitConsent(jar, page);
  assert.equal(r.status, 302, r.text.slice(0, 300));
  assert.ok(r.location.startsWith(`${ISS}/auth?`), r.location);
  return r.location;
}

// Authorize, approve, log in upstream; returns the proxy callback URL the IdP redirected to
// (not yet fetched).
async function callbackUrl(jar, base, params) {
  const up = await upstreamUrl(jar, base, params);
  const r = await drive(jar, up, 'http://never/', { stopBefore: isCallback(base) });
  assert.ok(r.pending, 'stopped before the callback');
  return r.url;
}

// The whole flow in `jar`: returns {code, verifier, clientId} of a proxy code for CB.
async function proxyCode(base = M, extra = {}) {
  const clientId = extra.clientId ?? (await newClient(base));
  const p = pkce();
  const jar = new Jar();
  const r = await drive(jar, authorizeUrl(base, authParams(clientId, p, extra.params ?? {})), extra.redirect ?? CB);
  assert.ok(r.params.get('code'), r.url);
  return { code: r.params.get('code'), verifier: p.verifier, clientId, jar };
}

function errorRedirect(r, error) {
  assert.equal(r.status, 302, r.text.slice(0, 300));
  const u = new URL(r.location);
  assert.equal(u.origin + u.pathname, CB, 'the error goes back to the registered redirect URI');
  assert.equal(u.searchParams.get('error'), error);
  assert.equal(u.searchParams.get('state'), 'client-state-1');
  assert.equal(u.searchParams.get('iss'), M);
  return u;
}

function errorPage(r, status, text) {
  assert.equal(r.status, status, r.text.slice(0, 300));
  assert.equal(r.location, null, 'no redirect');
  assert.match(r.headers.get('content-type'), /^text\/html/);
  if (text) assert.match(r.text, text);
}

// ---- wire format of the consent page ---------------------------------------------------------

await check('wire: consent page has CSP frame-ancestors none, X-Frame-Options DENY, no-store, __Host- cookie', async () => {
  const cid = await newClient(M);
  const jar = new Jar();
  const r = await browse(jar, authorizeUrl(M, authParams(cid, pkce())));
  assert.ok(isConsentPage(r));
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /script-src/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  // not no-referrer: under it browsers send "Origin: null" with the consent POST
  assert.equal(r.headers.get('referrer-policy'), 'same-origin');
  assert.doesNotMatch(r.text, /<script/i);
  const c = r.setCookies.find((s) => s.startsWith('__Host-mcpauth-csrf='));
  assert.ok(c, r.setCookies.join(' | '));
  assert.match(c, /; Path=\/;/);
  assert.match(c, /; Secure;/);
  assert.match(c, /; HttpOnly;/);
  assert.match(c, /; SameSite=Lax/);
  assert.doesNotMatch(c, /Domain=/i);
  const f = parseConsent(r.text);
  assert.equal(f.action, '/authorize');
  assert.match(r.text, />unverified</);
});

await check('wire: consent approval sets __Host- consent + binding cookies (Secure, HttpOnly, SameSite=Lax)', async () => {
  const cid = await newClient(M);
  const jar = new Jar();
  const page = await browse(jar, authorizeUrl(M, authParams(cid, pkce())));
  const r = await submitConsent(jar, page);
  assert.equal(r.status, 302);
  const names = r.setCookies.map((s) => s.split('=')[0]);
  assert.ok(names.some((n) => /^__Host-mcpauth-consent-[A-Za-z0-9_-]{16}$/.test(n)), names.join(','));
  assert.ok(names.some((n) => /^__Host-mcpauth-bind-[A-Za-z0-9_-]{16}$/.test(n)), names.join(','));
  for (const s of r.setCookies) {
    assert.match(s, /; Path=\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Lax$/);
  }
});

// ---- registration ----------------------------------------------------------------------------

for (const [name, uri] of [
  ['javascript: URI', 'javascript:alert(document.cookie)//'],
  ['JavaScript: URI (mixed case)', 'JaVaScRiPt:alert(1)'],
  ['data: URI', 'data:text/html,<script>alert(1)</script>'],
  ['vbscript: URI', 'vbscript:msgbox(1)'],
  ['file: URI', 'file:///etc/passwd'],
  ['http URI on a non-loopback host', 'http://evil.example/cb'],
  ['URI with a fragment', 'https://app.example/cb#frag'],
  ['URI with userinfo', 'https://user:pw@app.example/cb'],
]) {
  await check(`attack: ${name} at /register -> 400 invalid_redirect_uri`, async () => {
    const r = await register(M, { client_name: 'x', redirect_uris: ['http://127.0.0.1:1/ok', uri] });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_redirect_uri');
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });
}

await check('attack: allowedRedirectUris "*" never spans a host boundary, "/" or "?" (registration and CIMD)', async () => {
  for (const uri of [
    'https://evil.test/?.example.com/callback',
    'https://evil.test/x.example.com/callback',
    'https://a.b.example.com/callback',
    'https://app.example.com.evil.test/callback',
    'https://app.example.com/callback/../../evil',
    'http://127.0.0.1:4567@evil.test/callback',
    'http://127.0.0.1/callback',
  ]) {
    const r = await register(P, { client_name: 'x', redirect_uris: [uri] });
    assert.equal(r.status, 400, `${uri}: ${r.status} ${r.text}`);
    assert.equal(r.json.error, 'invalid_redirect_uri');
  }
  for (const uri of ['https://app.example.com/callback', 'http://127.0.0.1:45001/callback']) {
    const r = await register(P, { client_name: 'x', redirect_uris: [uri] });
    assert.equal(r.status, 201, `${uri}: ${r.text}`);
  }
  const jar = new Jar();
  const p = pkce();
  const bad = await browse(jar, authorizeUrl(P, { ...authParams(`${CIMD}/pattern-evil.json`, p), redirect_uri: 'https://evil.test/?.example.com/callback' }));
  assert.equal(bad.status, 400, bad.text.slice(0, 300));
  assert.equal(bad.location, null);
  const good = await browse(jar, authorizeUrl(P, { ...authParams(`${CIMD}/pattern-ok.json`, p), redirect_uri: 'https://app.example.com/callback' }));
  assert.ok(good.status === 200 || good.status === 302, `${good.status} ${good.text.slice(0, 300)}`);
});

await check('attack: /register answers no upstream secret and only auth method none', async () => {
  const r = await register(M, { client_name: 'x', redirect_uris: [CB], token_endpoint_auth_method: 'client_secret_basic' });
  assert.equal(r.status, 201);
  assert.equal(r.json.token_endpoint_auth_method, 'none');
  assert.equal(r.json.client_secret, undefined);
  assert.ok(!JSON.stringify(r.json).includes('mcp-test-secret'));
  assert.ok(!JSON.stringify(r.json).includes('mcp-test-client'));
});

// ---- /authorize ------------------------------------------------------------------------------

await check('attack: redirect URI mismatch at /authorize -> 400 page, never a redirect', async () => {
  const cid = await newClient(M);
  for (const ru of ['https://evil.example/callback', 'http://127.0.0.1:45001/callback/../evil', 'http://127.0.0.1:45001/callbackx', 'http://localhost:45001/callback']) {
    const r = await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce(), { redirect_uri: ru })));
    errorPage(r, 400, /Invalid redirect URI/);
  }
  // RFC 8252: a loopback redirect URI may change only its port
  const ok = await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce(), { redirect_uri: 'http://127.0.0.1:9/callback' })));
  assert.ok(isConsentPage(ok));
});

await check('attack: unknown / forged client_id at /authorize -> 400 page', async () => {
  const cid = await newClient(M);
  const forged = cid.slice(0, -4) + (cid.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  errorPage(await browse(new Jar(), authorizeUrl(M, authParams(forged, pkce()))), 400, /Unknown application/);
  errorPage(await browse(new Jar(), authorizeUrl(M, authParams('mcp-test-client', pkce()))), 400, /Unknown application/);
});

await check('attack: client registered on another deployment (other sealing secret) -> 400 at /authorize and 401 at /token', async () => {
  const cidR = await newClient(R);
  errorPage(await browse(new Jar(), authorizeUrl(M, authParams(cidR, pkce()))), 400, /Unknown application/);
  const t = await token(M, { grant_type: 'authorization_code', client_id: cidR, code: 'x', redirect_uri: CB, code_verifier: pkce().verifier });
  assert.equal(t.status, 401);
  assert.equal(t.json.error, 'invalid_client');
});

await check('attack: PKCE missing -> error redirect invalid_request', async () => {
  const cid = await newClient(M);
  const p = authParams(cid, pkce());
  delete p.code_challenge;
  delete p.code_challenge_method;
  const u = errorRedirect(await browse(new Jar(), authorizeUrl(M, p)), 'invalid_request');
  assert.match(u.searchParams.get('error_description'), /S256/);
});

await check('attack: PKCE plain -> error redirect invalid_request', async () => {
  const cid = await newClient(M);
  const p = pkce();
  errorRedirect(await browse(new Jar(), authorizeUrl(M, authParams(cid, p, { code_challenge: p.verifier, code_challenge_method: 'plain' }))), 'invalid_request');
  // a challenge without a method is plain by RFC 7636 and refused the same way
  const q = authParams(cid, p);
  delete q.code_challenge_method;
  errorRedirect(await browse(new Jar(), authorizeUrl(M, q)), 'invalid_request');
  // S256 named but the value is not a SHA-256 challenge
  errorRedirect(await browse(new Jar(), authorizeUrl(M, authParams(cid, p, { code_challenge: 'short' }))), 'invalid_request');
});

await check('attack: resource mismatch at /authorize -> error redirect invalid_target', async () => {
  const cid = await newClient(M);
  for (const rs of [`${R}/mcp`, 'https://evil.example/mcp', `${M}/mcp/../other`]) {
    errorRedirect(await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce(), { resource: rs }))), 'invalid_target');
  }
});

await check('attack: scopes and audience outside the allow-list -> invalid_scope / invalid_target, never forwarded', async () => {
  const cid = await newClient(M);
  for (const [extra, error] of [
    [{ scope: 'mcp:read admin:all' }, 'invalid_scope'],
    [{ scope: 'offline_access' }, 'invalid_scope'],
    [{ audience: 'https://other-api.example' }, 'invalid_target'],
  ]) {
    const jar = new Jar();
    const r = await browse(jar, authorizeUrl(M, authParams(cid, pkce(), extra)));
    const u = errorRedirect(r, error);
    assert.ok(!r.location.startsWith(ISS), 'not sent upstream');
    assert.ok(u.searchParams.get('error_description'));
  }
  const ok = await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce(), { scope: 'openid mcp:read mcp:write' })));
  assert.ok(isConsentPage(ok), `allowed scopes reach the consent page: ${ok.status}`);
  const t = await token(M, { grant_type: 'refresh_token', client_id: cid, refresh_token: 'x', scope: 'mcp:read admin:all' });
  assert.equal(t.status, 400, t.text);
  assert.equal(t.json.error, 'invalid_scope');
});

await check('attack: response_type token (implicit) -> error redirect unsupported_response_type', async () => {
  const cid = await newClient(M);
  errorRedirect(await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce(), { response_type: 'token' }))), 'unsupported_response_type');
});

await check('attack: duplicated parameter at /authorize -> 400 page', async () => {
  const cid = await newClient(M);
  const u = new URL(authorizeUrl(M, authParams(cid, pkce())));
  u.search += `&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
  errorPage(await browse(new Jar(), u.href), 400, /more than once/);
});

// ---- consent ---------------------------------------------------------------------------------

async function consentPage(jar, base = M) {
  const cid = await newClient(base);
  const page = await browse(jar, authorizeUrl(base, authParams(cid, pkce())));
  assert.ok(isConsentPage(page));
  return { page, form: parseConsent(page.text), cid };
}

await check('attack: consent CSRF: cross-site POST without the CSRF cookie -> 403', async () => {
  const jar = new Jar();
  const { form } = await consentPage(jar);
  const r = await browse(new Jar(), `${M}/authorize`, { form: { tx: form.tx, csrf_token: form.csrf_token, decision: 'approve' } });
  errorPage(r, 403, /CSRF/);
});

await check('attack: consent CSRF: POST with a foreign Origin -> 403', async () => {
  const jar = new Jar();
  const { page } = await consentPage(jar);
  errorPage(await submitConsent(jar, page, 'approve', { origin: 'https://evil.example' }), 403);
  errorPage(await submitConsent(jar, page, 'approve', { origin: 'null' }), 403);
});

await check('attack: consent CSRF: Sec-Fetch-Site cross-site / same-site -> 403', async () => {
  const jar = new Jar();
  const { page } = await consentPage(jar);
  errorPage(await submitConsent(jar, page, 'approve', { headers: { 'sec-fetch-site': 'cross-site' } }), 403);
  errorPage(await submitConsent(jar, page, 'approve', { headers: { 'sec-fetch-site': 'same-site' } }), 403);
});

await check('attack: consent CSRF: form without csrf_token -> 400, with a garbage token -> 403', async () => {
  const jar = new Jar();
  const { form } = await consentPage(jar);
  errorPage(await browse(jar, `${M}/authorize`, { form: { tx: form.tx, decision: 'approve' }, origin: M }), 400);
  errorPage(await browse(jar, `${M}/authorize`, { form: { tx: form.tx, csrf_token: 'x', decision: 'approve' }, origin: M }), 403);
});

await check("attack: consent CSRF: attacker's own tx + csrf_token posted from the victim's browser -> 403", async () => {
  const attacker = new Jar();
  const { form } = await consentPage(attacker);
  const victim = new Jar();
  await consentPage(victim); // the victim has a CSRF cookie of her own
  const r = await browse(victim, `${M}/authorize`, { form: { tx: form.tx, csrf_token: form.csrf_token, decision: 'approve' }, origin: M });
  errorPage(r, 403);
});

await check('attack: consent CSRF: csrf_token of one consent page with the tx of another -> 403', async () => {
  const jar = new Jar();
  const a = await consentPage(jar);
  const b = await consentPage(jar);
  const r = await browse(jar, `${M}/authorize`, { form: { tx: a.form.tx, csrf_token: b.form.csrf_token, decision: 'approve' }, origin: M });
  errorPage(r, 403);
});

await check('attack: tampered consent tx -> 400 page', async () => {
  const jar = new Jar();
  const { form } = await consentPage(jar);
  const tx = form.tx.slice(0, 20) + (form.tx[20] === 'A' ? 'B' : 'A') + form.tx.slice(21);
  errorPage(await browse(jar, `${M}/authorize`, { form: { tx, csrf_token: form.csrf_token, decision: 'approve' }, origin: M }), 400);
});

await check('attack: expired consent form (POST to a replica whose clock is 1 h ahead) -> 400 page', async () => {
  const jar = new Jar();
  const { page } = await consentPage(jar);
  errorPage(await submitConsent(jar, page, 'approve', { postTo: withPort(M, PF), origin: M }), 400, /expired/);
});

await check('consent: deny -> access_denied back to the client with state and iss', async () => {
  const jar = new Jar();
  const { page } = await consentPage(jar);
  errorRedirect(await submitConsent(jar, page, 'deny'), 'access_denied');
});

await check("attack: confused deputy: one client's remembered approval does not cover another client", async () => {
  const jar = new Jar();
  const a = await newClient(M);
  await upstreamUrl(jar, M, authParams(a, pkce()));
  const again = await browse(jar, authorizeUrl(M, authParams(a, pkce())));
  assert.equal(again.status, 302, 'approved client: straight upstream');
  const b = await newClient(M, CB, 'Evil Twin');
  const other = await browse(jar, authorizeUrl(M, authParams(b, pkce())));
  assert.ok(isConsentPage(other), 'another client: the consent page again');
  assert.equal(parseConsent(other.text).clientName, 'Evil Twin');
  const more = await browse(jar, authorizeUrl(M, authParams(a, pkce(), { scope: 'mcp:read mcp:write' })));
  assert.ok(isConsentPage(more), 'more scopes: the consent page again');
});

await check('attack: consent cookie copied to another client_id cookie name is refused', async () => {
  const jar = new Jar();
  const a = await newClient(M);
  await upstreamUrl(jar, M, authParams(a, pkce()));
  const b = await newClient(M);
  const aCookie = jar.names('localhost').find((n) => n.startsWith('__Host-mcpauth-consent-'));
  const value = jar.get('localhost', aCookie).value;
  // learn b's cookie name from its own approval in a scratch jar, then plant a's value under it
  const scratch = new Jar();
  await upstreamUrl(scratch, M, authParams(b, pkce()));
  const bName = scratch.names('localhost').find((n) => n.startsWith('__Host-mcpauth-consent-'));
  assert.notEqual(bName, aCookie);
  const evil = new Jar();
  evil.store(M, [`${bName}=${value}; Path=/`]);
  const r = await browse(evil, authorizeUrl(M, authParams(b, pkce())));
  assert.ok(isConsentPage(r), 'the planted approval is not accepted');
});

// ---- /oauth/callback -------------------------------------------------------------------------

await check('attack: tampered state at /oauth/callback -> 400', async () => {
  const jar = new Jar();
  const cid = await newClient(M);
  const cb = new URL(await callbackUrl(jar, M, authParams(cid, pkce())));
  const st = cb.searchParams.get('state');
  cb.searchParams.set('state', st.slice(0, 30) + (st[30] === 'A' ? 'B' : 'A') + st.slice(31));
  errorPage(await browse(jar, cb.href), 400, /not valid/);
  cb.searchParams.delete('state');
  errorPage(await browse(jar, cb.href), 400, /no state/);
});

await check('attack: expired state (callback on a replica whose clock is 1 h ahead) -> 400 expired', async () => {
  const jar = new Jar();
  const cid = await newClient(M);
  const cb = await callbackUrl(jar, M, authParams(cid, pkce()));
  errorPage(await browse(jar, withPort(cb, PF)), 400, /expired/);
});

await check('attack: replayed state (second callback in the same browser) -> 403, the binding cookie is gone', async () => {
  const jar = new Jar();
  const cid = await newClient(M);
  const cb = await callbackUrl(jar, M, authParams(cid, pkce()));
  const first = await browse(jar, cb);
  assert.equal(first.status, 302);
  assert.ok(new URL(first.location).searchParams.get('code'));
  errorPage(await browse(jar, cb), 403, /not started in this browser/);
});

await check('attack: replayed callback with a stolen binding cookie: second proxy code fails upstream (single use)', async () => {
  const jar = new Jar();
  const cid = await newClient(M);
  const p = pkce();
  const cb = await callbackUrl(jar, M, authParams(cid, p));
  const stolen = jar.clone();
  const a = await browse(jar, cb);
  const b = await browse(stolen, cb); // stateless: the proxy cannot tell, the upstream code can
  assert.equal(a.status, 302);
  assert.equal(b.status, 302);
  const codeA = new URL(a.location).searchParams.get('code');
  const codeB = new URL(b.location).searchParams.get('code');
  const form = (code) => ({ grant_type: 'authorization_code', client_id: cid, code, redirect_uri: CB, code_verifier: p.verifier });
  const t1 = await token(M, form(codeA));
  assert.equal(t1.status, 200, t1.text);
  const t2 = await token(M, form(codeB));
  assert.equal(t2.status, 400, t2.text);
  assert.equal(t2.json.error, 'invalid_grant');
});

await check('attack: approve in one browser, complete the callback in another -> 403', async () => {
  const attacker = new Jar();
  const cid = await newClient(M);
  const up = await upstreamUrl(attacker, M, authParams(cid, pkce()));
  const victim = new Jar(); // the victim follows the attacker's sign-in link
  const r = await drive(victim, up, 'http://never/', { stopBefore: isCallback(M) });
  errorPage(await browse(victim, r.url), 403, /not started in this browser/);
});

await check('attack: mix-up: callback with another issuer (iss) -> 400', async () => {
  const jar = new Jar();
  const cid = await newClient(M);
  const cb = new URL(await callbackUrl(jar, M, authParams(cid, pkce())));
  cb.searchParams.set('iss', 'https://evil.example');
  errorPage(await browse(jar, cb.href), 400, /unexpected issuer/);
});

await check('callback: upstream error is forwarded to the client (access_denied, state, iss)', async () => {
  const jar = new Jar();
  const cid = await newClient(M);
  const cb = new URL(await callbackUrl(jar, M, authParams(cid, pkce())));
  cb.searchParams.delete('code');
  cb.searchParams.set('error', 'access_denied');
  cb.searchParams.set('error_description', 'user said no');
  const u = errorRedirect(await browse(jar, cb.href), 'access_denied');
  assert.equal(u.searchParams.get('error_description'), 'user said no');
});

// ---- /token ----------------------------------------------------------------------------------

await check('attack: code redeemed by another client -> invalid_grant (then the right client succeeds)', async () => {
  const { code, verifier, clientId } = await proxyCode();
  const other = await newClient(M);
  const t = await token(M, { grant_type: 'authorization_code', client_id: other, code, redirect_uri: CB, code_verifier: verifier });
  assert.equal(t.status, 400);
  assert.equal(t.json.error, 'invalid_grant');
  assert.match(t.json.error_description, /another client/);
  const ok = await token(M, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB, code_verifier: verifier });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
});

await check('attack: code redeemed with another redirect_uri -> invalid_grant', async () => {
  const { code, verifier, clientId } = await proxyCode();
  for (const ru of ['http://127.0.0.1:45009/callback', 'https://evil.example/callback']) {
    const t = await token(M, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: ru, code_verifier: verifier });
    assert.equal(t.status, 400);
    assert.equal(t.json.error, 'invalid_grant');
    assert.match(t.json.error_description, /redirect_uri/);
  }
});

await check('attack: code with a wrong or missing code_verifier -> invalid_grant / invalid_request', async () => {
  const { code, clientId } = await proxyCode();
  const t = await token(M, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB, code_verifier: pkce().verifier });
  assert.equal(t.status, 400);
  assert.equal(t.json.error, 'invalid_grant');
  assert.match(t.json.error_description, /PKCE/);
  const t2 = await token(M, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB });
  assert.equal(t2.status, 400);
  assert.equal(t2.json.error, 'invalid_request');
});

await check('attack: resource mismatch at /token -> invalid_target', async () => {
  const { code, verifier, clientId } = await proxyCode();
  const t = await token(M, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB, code_verifier: verifier, resource: `${R}/mcp` });
  assert.equal(t.status, 400);
  assert.equal(t.json.error, 'invalid_target');
});

await check('attack: token issued for another MCP server (replica deployment) is refused at /mcp -> 401', async () => {
  const cid = await newClient(R);
  const p = pkce();
  const jar = new Jar();
  const r = await drive(jar, authorizeUrl(R, { ...authParams(cid, p), resource: `${R}/mcp` }), CB);
  const t = await token(withPort(R, PR3), { grant_type: 'authorization_code', client_id: cid, code: r.params.get('code'), redirect_uri: CB, code_verifier: p.verifier });
  assert.equal(t.status, 200, t.text);
  const call = { jsonrpc: '2.0', id: 1, method: 'ping' };
  assert.equal((await mcpCall(withPort(`${R}/mcp`, PR2), t.json.access_token, call)).status, 200);
  const res = await mcpCall(MCP_M, t.json.access_token, call);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
});

await check('attack: code redeemed twice -> second time invalid_grant (upstream code is single use)', async () => {
  const { code, verifier, clientId } = await proxyCode();
  const form = { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB, code_verifier: verifier };
  assert.equal((await token(M, form)).status, 200);
  const t = await token(M, form);
  assert.equal(t.status, 400);
  assert.equal(t.json.error, 'invalid_grant');
});

await check('attack: expired code (redeemed at a replica whose clock is 1 h ahead) -> invalid_grant', async () => {
  const { code, verifier, clientId } = await proxyCode();
  const t = await token(withPort(M, PF), { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB, code_verifier: verifier });
  assert.equal(t.status, 400);
  assert.equal(t.json.error, 'invalid_grant');
  assert.match(t.json.error_description, /invalid or expired/);
});

await check('attack: forged code / upstream code presented directly -> invalid_grant, never forwarded', async () => {
  const cid = await newClient(M);
  for (const code of ['x', 'A'.repeat(200), 'eyJhbGciOiJub25lIn0.e30.']) {
    const t = await token(M, { grant_type: 'authorization_code', client_id: cid, code, redirect_uri: CB, code_verifier: pkce().verifier });
    assert.equal(t.status, 400);
    assert.equal(t.json.error, 'invalid_grant');
  }
});

await check('attack: leaked refresh token: redeemed by another client, a CIMD URL client_id or as the raw upstream token -> refused; its own client rotates it', async () => {
  const { code, verifier, clientId } = await proxyCode();
  const t = await token(M, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CB, code_verifier: verifier });
  assert.equal(t.status, 200, t.text);
  const rt = t.json.refresh_token;
  assert.ok(rt, 'a refresh token was issued');
  const other = await newClient(M);
  const o = await token(M, { grant_type: 'refresh_token', client_id: other, refresh_token: rt });
  assert.equal(o.status, 400, o.text);
  assert.equal(o.json.error, 'invalid_grant');
  assert.match(o.json.error_description, /another client/);
  for (const cid of [`${CIMD}/good.json`, 'https://cimd.invalid/client.json']) {
    const c = await token(M, { grant_type: 'refresh_token', client_id: cid, refresh_token: rt });
    assert.ok(c.status === 400 || c.status === 401, `${cid}: ${c.status} ${c.text}`);
    assert.ok(['invalid_grant', 'invalid_client'].includes(c.json.error), c.text);
  }
  const g = await token(M, { grant_type: 'refresh_token', client_id: clientId, refresh_token: `${rt}x` });
  assert.equal(g.json.error, 'invalid_grant', g.text);
  const ok = await token(M, { grant_type: 'refresh_token', client_id: clientId, refresh_token: rt });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.access_token);
  if (ok.json.refresh_token) {
    const again = await token(M, { grant_type: 'refresh_token', client_id: clientId, refresh_token: ok.json.refresh_token });
    assert.equal(again.status, 200, `the rotated refresh token works: ${again.text}`);
  }
});

await check('attack: /token grant types other than code and refresh -> unsupported_grant_type', async () => {
  const cid = await newClient(M);
  for (const gt of ['client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
    const t = await token(M, { grant_type: gt, client_id: cid, username: 'u', password: 'p' });
    assert.equal(t.status, 400);
    assert.equal(t.json.error, 'unsupported_grant_type');
  }
});

// ---- client ID metadata documents ------------------------------------------------------------

await check('cimd: a loopback metadata document (allowLoopbackClientMetadata on) -> consent page names it', async () => {
  const cid = `${CIMD}/good.json`;
  const r = await browse(new Jar(), authorizeUrl(M, { ...authParams(cid, pkce()), redirect_uri: CB2 }));
  assert.ok(isConsentPage(r), `${r.status} ${r.text.slice(0, 200)}`);
  const f = parseConsent(r.text);
  assert.equal(f.clientName, 'Metadata Client');
  assert.equal(f.redirectUri, CB2);
  assert.ok(r.text.includes(`>127.0.0.1:${cimd.address().port}<`), 'the document host is shown');
  assert.ok(cimdHits.includes('/good.json'));
});

await check('cimd: whole flow with a metadata-document client (authorize, consent, upstream, token)', async () => {
  const cid = `${CIMD}/good.json`;
  const p = pkce();
  const jar = new Jar();
  const r = await drive(jar, authorizeUrl(M, { ...authParams(cid, p), redirect_uri: CB2 }), CB2);
  const t = await token(M, { grant_type: 'authorization_code', client_id: cid, code: r.params.get('code'), redirect_uri: CB2, code_verifier: p.verifier });
  assert.equal(t.status, 200, t.text);
  // the same code cannot be claimed by a registered client
  const other = await newClient(M, CB2);
  const t2 = await token(M, { grant_type: 'authorization_code', client_id: other, code: r.params.get('code'), redirect_uri: CB2, code_verifier: p.verifier });
  assert.equal(t2.json.error, 'invalid_grant');
});

await check('attack: CIMD document whose client_id differs from its URL -> 400 page', async () => {
  const cid = `${CIMD}/mismatch.json`;
  const r = await browse(new Jar(), authorizeUrl(M, { ...authParams(cid, pkce()), redirect_uri: CB2 }));
  errorPage(r, 400, /Unknown application/);
  assert.ok(cimdHits.includes('/mismatch.json'), 'the document was fetched and refused');
});

await check('attack: CIMD redirect_uri not in the document -> 400 page', async () => {
  const cid = `${CIMD}/good.json`;
  errorPage(await browse(new Jar(), authorizeUrl(M, authParams(cid, pkce()))), 400, /Invalid redirect URI/);
});

await check('attack: CIMD URL on a private / loopback address (option off) -> 400, nothing fetched', async () => {
  const port = cimd.address().port;
  const before = cimdConnections;
  for (const cid of [
    `https://127.0.0.1:${port}/good.json`,
    `https://localhost:${port}/good.json`,
    `https://[::1]:${port}/good.json`,
    'https://10.11.12.13/client.json',
    'https://192.168.0.10/client.json',
    'https://169.254.169.254/latest/meta-data/client.json',
    'https://[fd00::1]/client.json',
  ]) {
    const r = await browse(new Jar(), authorizeUrl(R, { ...authParams(cid, pkce()), redirect_uri: CB2, resource: `${R}/mcp` }));
    errorPage(r, 400, /non-public address/);
  }
  assert.equal(cimdConnections, before, 'no connection reached the metadata server');
  // with the option off an http loopback client_id is not a metadata URL at all
  const h = await browse(new Jar(), authorizeUrl(R, { ...authParams(`${CIMD}/good.json`, pkce()), redirect_uri: CB2 }));
  errorPage(h, 400, /Unknown application/);
  assert.equal(cimdConnections, before);
});

cimd.close();
done();
